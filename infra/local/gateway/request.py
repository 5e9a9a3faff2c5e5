"""One request's line and header fields, parsed and checked (see protocol.py's limits)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from catalog.core.errors import BadRequest, CatalogError
from infra import gateway_responses

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
MAX_URL_CHARS = 10240  # REST API quota: URL length, regional endpoint
MAX_HEAD_BYTES = 10240  # REST API quota: request line and header values, combined
MAX_RAW_HEAD_BYTES = 2 * MAX_HEAD_BYTES  # names, separators and line ends on top
# API Gateway's REST methods (ANY stands for these seven; any other matches no method).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET = re.compile(rb"/[\x21-\x22\x24-\x7e]*")  # visible ASCII, no fragment (#)
_VERSION = re.compile(rb"HTTP/1\.[01]")
_CONTROL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # CTLs but HTAB
_LINE_END = re.compile(rb"\r?\n")


# The precise statuses of three refusals; their problem type stays bad-request (protocol.py).
class UriTooLong(BadRequest):
    status = 414


class HeadersTooLarge(BadRequest):
    status = 431


class RequestTimeout(BadRequest):
    status = 408


class Refused(Exception):
    """The request cannot be served: answer `error` with `response_type`'s headers, close."""

    def __init__(self, error: CatalogError, response_type: str = "DEFAULT_4XX") -> None:
        super().__init__(error.detail)
        self.error = error
        self.response_type = response_type


class Ended(Exception):
    """The connection ended or idled before a request began: nothing to answer."""


def bad(detail: str) -> Refused:
    return Refused(BadRequest(detail))


def too_large() -> Refused:
    return Refused(gateway_responses.GATEWAY_RESPONSES["REQUEST_TOO_LARGE"], "REQUEST_TOO_LARGE")


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    length: int | None = 0  # None: chunked
    body: bytes = field(default=b"", repr=False)

    def header(self, name: str) -> str | None:
        """The first value of a header (names are case-insensitive)."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def _tokens(self, name: str) -> set[str]:
        return {
            t.strip().lower() for k, v in self.headers if k.lower() == name for t in v.split(",")
        }

    @property
    def keep_alive(self) -> bool:
        connection = self._tokens("connection")
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection

    @property
    def expects_continue(self) -> bool:
        has_body = self.length is None or self.length > 0
        return self.version == "HTTP/1.1" and has_body and "100-continue" in self._tokens("expect")


def parse_head(head: bytes) -> Request:
    """The request line and header fields of one request (its body not yet read)."""
    lines = _LINE_END.split(head)
    if any(b"\r" in line for line in lines):
        raise bad("A bare CR is not a line end; end lines with CRLF.")
    request_line, fields = lines[0], lines[1:]
    parts = request_line.split(b" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]):
        raise bad("The request line must be: METHOD SP request-target SP HTTP/1.1.")
    method, target, version = (part.decode("latin-1") for part in parts)
    if len(target) > MAX_URL_CHARS:
        raise Refused(UriTooLong(f"The URL exceeds {MAX_URL_CHARS} characters."))
    if not _VERSION.fullmatch(parts[2]):
        raise bad("This API speaks HTTP/1.1 (or HTTP/1.0).")
    if not _TARGET.fullmatch(parts[1]):
        raise bad("The request target must be a path starting with '/', in visible ASCII.")
    headers = [_field(line) for line in fields]
    if len(request_line) + sum(len(value) for _, value in headers) > MAX_HEAD_BYTES:
        raise Refused(
            HeadersTooLarge(f"The request line and headers exceed {MAX_HEAD_BYTES} bytes.")
        )
    request = Request(method, target, version, headers)
    hosts = [v for k, v in headers if k.lower() == "host"]
    if len(hosts) > 1 or (version == "HTTP/1.1" and not hosts):
        raise bad("An HTTP/1.1 request has exactly one Host header.")
    request.length = _framing(request)
    return request


def _field(line: bytes) -> tuple[str, str]:
    if line[:1] in (b" ", b"\t"):
        raise bad("Folded header lines (obs-fold) are not accepted.")
    name, colon, value = line.partition(b":")
    if not colon or not _TOKEN.fullmatch(name):
        raise bad("Each header line is 'Name: value', with no space before the colon.")
    value = value.strip(b" \t")
    if _CONTROL.search(value):
        raise bad(f"The {name.decode()} header holds a control character.")
    return name.decode("ascii"), value.decode("latin-1")


def _framing(request: Request) -> int | None:
    """The body's length, or None for chunked; refuses what could be read two ways."""
    codings = [c.strip().lower() for k, v in request.headers if k.lower() == "transfer-encoding"
               for c in v.split(",")]  # fmt: skip
    lengths = {c.strip() for k, v in request.headers if k.lower() == "content-length"
               for c in v.split(",")}  # fmt: skip
    if codings:
        # Both, or a coding but chunked: the two ends of a proxy chain could disagree on
        # where the body ends (request smuggling), so neither is guessed.
        if lengths:
            raise bad("Send Content-Length or Transfer-Encoding, not both.")
        if codings != ["chunked"] or request.version != "HTTP/1.1":
            raise bad("The only transfer coding accepted is 'chunked', in HTTP/1.1.")
        return None
    if not lengths:
        return 0
    if len(lengths) > 1:
        raise bad("The request has several different Content-Length values.")
    (length,) = lengths
    if not length.isascii() or not length.isdigit():
        raise bad("Content-Length must be a non-negative decimal integer.")
    # Compare the digits' count first: int() refuses strings over 4,300 digits.
    if len(length.lstrip("0")) > len(str(MAX_REQUEST_BYTES)) or int(length) > MAX_REQUEST_BYTES:
        raise too_large()
    return int(length)
