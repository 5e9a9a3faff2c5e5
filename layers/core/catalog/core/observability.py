"""One Logger, one Metrics and a lazily built Tracer for every function.

The X-Ray SDK costs 100-250 ms to import, so the Tracer is only created when tracing is
on (in Lambda with X-Ray active); otherwise handlers run undecorated.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

# Routes that record no metric are normal (reads); Powertools would warn on each of them.
warnings.filterwarnings("ignore", message="No application metrics to publish")

_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
_BEARER = re.compile(r"(?i)bearer\s+\S+")
SECRET_FIELDS = frozenset(
    {"password", "authorization", "access_token", "id_token", "refresh_token", "token", "code"}
    # Presigned S3 requests: the signature (and a session token) let anyone holding them in.
    | {"x-amz-signature", "x-amz-security-token"}
)
# The same in a presigned URL's query string.
_PRESIGNED = re.compile(r"(?i)\b(X-Amz-Signature|X-Amz-Security-Token|Signature)=[^&\s\"']+")
REDACTED = "[REDACTED]"


_JSON_SECRET = re.compile(
    r'"(' + "|".join(sorted(SECRET_FIELDS)) + r')"(\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE
)


def _scrub(text: str) -> str:
    text = _JSON_SECRET.sub(lambda m: f'"{m.group(1)}"{m.group(2)}"{REDACTED}"', text)
    text = _PRESIGNED.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
    return _BEARER.sub(f"Bearer {REDACTED}", _JWT.sub(REDACTED, text))


def redact(value: Any) -> Any:
    """A copy of `value` with secrets masked: by key anywhere in it, by shape in any text."""
    if isinstance(value, str):
        return _scrub(value)
    if isinstance(value, dict):
        return {
            k: REDACTED if str(k).lower() in SECRET_FIELDS else redact(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


class RedactSecrets(logging.Filter):
    """Masks tokens, passwords and Authorization values in every record before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str | dict | list):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub(a) if isinstance(a, str) else a for a in record.args)
        for key, value in list(vars(record).items()):
            if key in _FROM_CODE:
                continue
            if key.lower() in SECRET_FIELDS:
                setattr(record, key, REDACTED)
            elif isinstance(value, str):
                setattr(record, key, _scrub(value))
            elif isinstance(value, dict | list) and key not in ("msg", "args"):
                setattr(record, key, redact(value))  # structured `extra` values, nested
        return True


# Record attributes that logging fills from the code, never from input: not worth three
# regular expressions each on every log line (msg and args are handled above).
_FROM_CODE = frozenset(
    {
        "msg",
        "message",
        "args",
        "name",
        "levelname",
        "pathname",
        "filename",
        "module",
        "funcName",
        "threadName",
        "processName",
        "taskName",
    }
)


logger = Logger(use_rfc3339=True)
logger.addFilter(RedactSecrets())
metrics = Metrics()

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
            # What `metrics.log_metrics` does, less the warning it issues on every request
            # that recorded no metric (a read records none): ~1.5% of a warm GET's profile.
            if metrics.metric_set:
                metrics.flush_metrics()

    wrapped = logger.inject_lambda_context(clear_state=True)(correlated)
    active = tracer()
    if active is not None:
        wrapped = active.capture_lambda_handler(wrapped, capture_response=False)
    return wrapped
