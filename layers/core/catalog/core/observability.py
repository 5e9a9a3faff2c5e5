"""One Logger, one Metrics and a lazily built Tracer for every function.

The X-Ray SDK costs 100-250 ms to import, so the Tracer is only created when tracing is
on (in Lambda with X-Ray active); otherwise handlers run undecorated.

The logger's filter (RedactSecrets) masks secrets in every record: fields by name (their
JSON escapes decoded, any case), JSON text inside strings (a request's body, logged at
DEBUG), and tokens and presigned signatures by shape. It runs on every record written, so
the common one (a short message, a few ids) costs a few `in` tests per string.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import warnings
from collections.abc import Callable
from functools import cache, lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

# Routes that record no metric are normal (reads); Powertools would warn on each of them.
warnings.filterwarnings("ignore", message="No application metrics to publish")

SECRET_FIELDS = frozenset(
    {"password", "authorization", "access_token", "id_token", "refresh_token", "token", "code"}
    # A webhook's signing secret, and the usual names of other shared secrets and cookies.
    | {"secret", "client_secret", "api_key", "x-api-key", "cookie", "set-cookie"}
    # Presigned S3 requests: the signature (and a session token) let anyone holding them in.
    | {"x-amz-signature", "x-amz-security-token"}
)
REDACTED = "[REDACTED]"
# Nesting deeper than this is masked whole rather than walked: a request body of 100,000
# brackets must not turn the log filter into a RecursionError.
MAX_DEPTH = 32


_SENSITIVE = frozenset(name.lower().replace("_", "-") for name in SECRET_FIELDS)
# new_password, webhook_secret, session-token...: never "-code" (status_code) or "-key"
# (an S3 object's key is logged on purpose).
_SENSITIVE_ENDINGS = ("-password", "-secret", "-token")
# JSON's escapes (and Python's \xNN), decoded before a name is matched: {"p\u0061ssword": 1}
# is a password to the API's JSON parser, so it is one to the filter.
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescaped(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2)
    if code:
        return chr(int(code, 16))
    return _SIMPLE_ESCAPES.get(match.group(3), match.group(3))


def sensitive(name: object) -> bool:
    """Whether a field of this name holds a secret: escapes decoded, case and _/- ignored."""
    return _sensitive_name(name if isinstance(name, str) else str(name))


@lru_cache(maxsize=4096)  # a record's few names recur on every line; bounded for bodies'
def _sensitive_name(text: str) -> bool:
    if "\\" in text:
        text = _decoded(text)
    normal = text.lower().replace("_", "-")
    return normal in _SENSITIVE or normal.endswith(_SENSITIVE_ENDINGS)


def _decoded(text: str) -> str:
    for _ in range(3):  # JSON in a JSON string escapes twice (\\u0061); three levels at most
        text = _ESCAPE.sub(_unescaped, text)
        if "\\" not in text:
            break
    return text


# Secrets recognised by their shape in any text: JWTs, bearer tokens, presigned URLs'
# signature and session token (also in a URL percent-encoded inside another URL).
_SHAPES = re.compile(
    r"(?P<jwt>eyJ[\w-]+\.[\w-]+\.[\w-]*)"
    r"|(?P<bearer>[Bb][Ee][Aa][Rr][Ee][Rr])\s+[^\s\"'\\]+"
    r"|(?P<param>\b(?i:x-amz-signature|x-amz-security-token|signature))(?P<eq>=|%3[Dd])"
    r"[^&\s\"'\\]+"
)


def _shape(match: re.Match[str]) -> str:
    if match.group("jwt"):
        return REDACTED
    if match.group("bearer"):
        return f"Bearer {REDACTED}"
    return f"{match.group('param')}{match.group('eq')}{REDACTED}"


# A form or query field (name=value; its name percent-decoded before it is matched):
# ?code=... of a callback URL, or a form-encoded body logged before it is refused.
_FORM_FIELD = re.compile(r"(?<![\w%.-])([\w.%-]{1,64})=([^&\s\"'\\]*)")


def _form_field(match: re.Match[str]) -> str:
    if sensitive(unquote_plus(match.group(1))):
        return f"{match.group(1)}={REDACTED}"
    return match.group(0)


# A quoted name and its colon, as in JSON, Python reprs, or JSON inside a JSON string
# (\"name\": escaped once more per level): text that is not JSON as a whole.
_PAIR_KEY = re.compile(r"""(\\*)(["'])([^"'\r\n]{1,100}?)\1\2\s*:\s*""")
_SCALAR = re.compile(r"[^\s,{}\[\]\"'\\]+")
_CLOSERS: dict[str, re.Pattern[str]] = {}


def _value_end(text: str, start: int, quote: str) -> int:
    """Where the value starting at `start` ends; `quote` is its key's quote, escapes included."""
    if text.startswith(quote, start):
        closer = _CLOSERS.get(quote)
        if closer is None:  # the same quote, escaped exactly as often as the key's
            closer = _CLOSERS.setdefault(quote, re.compile(r"(?<!\\)" + re.escape(quote)))
        found = closer.search(text, start + len(quote))
        return found.end() if found else len(text)
    if text[start : start + 1] in ("[", "{"):
        ends = [i for i in (text.find("]", start), text.find("}", start)) if i >= 0]
        return min(ends) + 1 if ends else len(text)
    scalar = _SCALAR.match(text, start)
    return scalar.end() if scalar else start


def _mask_pairs(text: str) -> str:
    # Names are matched one by one and a value is skipped only when masked, so the pairs
    # of a JSON text nested in another value's string are found too.
    kept: list[str] = []
    position = scan = 0
    while (key := _PAIR_KEY.search(text, scan)) is not None:
        scan = key.end()
        if sensitive(key.group(3)):
            quote = key.group(1) + key.group(2)
            kept += [text[position:scan], quote, REDACTED, quote]
            position = scan = _value_end(text, scan, quote)
    return "".join(kept) + text[position:] if kept else text


def _mask_json(text: str, depth: int) -> str:
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        try:
            parsed = json.loads(stripped)
        except (ValueError, RecursionError):
            pass
        else:
            masked = redact(parsed, depth + 1)
            if masked == parsed:
                return text
            return json.dumps(masked, ensure_ascii=False, separators=(",", ":"))
    return _mask_pairs(text)


def _scrub(text: str, depth: int = 0) -> str:
    # The common record (a short message, ids) has no quote, no colon, none of the shapes'
    # words: a few `in` tests instead of regular expressions tried at every character.
    if ":" in text and ('"' in text or "'" in text):
        text = _mask_json(text, depth)
    if "=" in text:
        text = _FORM_FIELD.sub(_form_field, text)
    lowered = text.lower()
    if "eyj" in lowered or "bearer" in lowered or "signature" in lowered or "-token" in lowered:
        text = _SHAPES.sub(_shape, text)
    return text


def redact(value: Any, depth: int = 0) -> Any:
    """A copy of `value` with secrets masked: by name anywhere in it, by shape in any text,
    and in JSON text inside its strings (a request's body)."""
    if isinstance(value, str):
        return _scrub(value, depth)
    if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
        return REDACTED
    if isinstance(value, dict):
        return {k: REDACTED if sensitive(k) else redact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, depth + 1) for v in value]
    return value


# What logging sets on every record from the code (msg and args are handled apart). A
# call's `extra` is added after them, so the walk starts past their count; a name of them
# found later (a record factory's order) is still skipped.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"taskName", "message"}
_FIRST_EXTRA = len(vars(logging.LogRecord("", 0, "", 0, "", (), None)))


class RedactSecrets(logging.Filter):
    """Masks tokens, passwords and Authorization values in every record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg
        if isinstance(msg, str):
            record.msg = _scrub(msg)
        elif isinstance(msg, dict | list):
            record.msg = redact(msg)
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(redact(a) if isinstance(a, str | dict | list) else a for a in args)
        elif isinstance(args, dict):
            record.args = redact(args)
        for name in ("exc_text", "stack_info"):  # None, unless a handler filled them in
            text = getattr(record, name, None)
            if isinstance(text, str):
                setattr(record, name, _scrub(text))
        values = vars(record)
        for key in [k for k in islice(values, _FIRST_EXTRA, None) if k not in _RECORD_ATTRIBUTES]:
            value = values[key]
            if sensitive(key):
                values[key] = REDACTED
            elif isinstance(value, str | dict | list | tuple):
                values[key] = redact(value)  # structured `extra` values, nested
        return True


logger = Logger(use_rfc3339=True)
logger.addFilter(RedactSecrets())
metrics = Metrics()
_flushing = threading.Lock()

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def tracing_enabled() -> bool:
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true")
    return not disabled and "AWS_LAMBDA_FUNCTION_NAME" in os.environ


@cache
def tracer() -> Tracer | None:
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer()


def flush_metrics() -> None:
    """Write the metrics recorded so far as one EMF line, if any were.

    What `metrics.log_metrics` does, less the warning it issues on every request that
    recorded no metric (a read records none): ~1.5% of a warm GET's profile. Under a lock:
    the local runner's in-process functions share `metrics`, and a flush between another's
    check and its flush raised "at least one metric".
    """
    with _flushing:
        if metrics.metric_set:
            metrics.flush_metrics()


def instrument_api(handler: Handler) -> Handler:
    """Wrap an API Gateway proxy handler with logging context, metrics and tracing.

    The correlation id is API Gateway's request id. It is read here rather than through
    `correlation_id_path`, whose JMESPath query took ~6% of a warm request (make bench).
    """

    def correlated(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        try:
            return handler(event, context)
        finally:
            flush_metrics()

    wrapped = logger.inject_lambda_context(clear_state=True)(correlated)
    active = tracer()
    if active is not None:
        wrapped = active.capture_lambda_handler(wrapped, capture_response=False)
    return wrapped
