"""HTTP/1.1 on the wire: requests read within API Gateway's limits and in bounded time.

A request that breaks the protocol or a limit raises `Refused` with the problem to answer;
the server answers it as problem+json and closes the connection (after a framing error the
next request's start cannot be found). Limits are a REST API's, regional endpoint:

- 414: a request target over 10,240 characters (the URL quota).
- 431: request line and header values over 10,240 bytes together (the quota), or a raw
  header block over 20,480 bytes.
- 408: the header block not complete `header_timeout_s` after its first byte (slowloris),
  or the body `body_timeout_s` after the headers.
- 413 payload-too-large: a body over 10 MiB, declared or in chunks (REQUEST_TOO_LARGE).
- 400: a malformed request line (a method that is no HTTP token, such as `G<NUL>T`); a
  version other than HTTP/1.0 or 1.1; a target not starting with `/` (CONNECT's
  `host:port` form included); a field line without a colon, with whitespace before it, or
  folded; a bare CR (RFC 9112 2.2: never a line end); a control character in a value; no
  Host or several; Content-Length not digits (negative, `abc`), differing values, or with
  Transfer-Encoding; a transfer coding other than chunked; a malformed chunk; the
  connection ending inside the headers or the body (answered to a half-closed peer).

414, 431 and 408 carry the `bad-request` problem type with the precise status: no problem
type of `catalog.core.errors` names them. API Gateway's front end answers malformed HTTP
itself (no gateway response applies, and it is not documented); these are HTTP's own
statuses for each case. A well-formed method other than API Gateway's seven (TRACE,
CONNECT with a path, PROPFIND, FOO, or `get`: methods are case-sensitive) is no protocol
error: it is read like any request and then matches no method of the API (`ANY` stands for
the seven), so it gets what API Gateway answers an unmatched request, the
MISSING_AUTHENTICATION_TOKEN gateway response (404 not-found here; server.py).

Closed without an answer, as HTTP allows: a connection that ends,
or stays idle `idle_timeout_s`, before the first byte of a request (nothing was asked).
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus

from infra.local.gateway.request import (
    MAX_HEAD_BYTES,
    MAX_RAW_HEAD_BYTES,
    MAX_REQUEST_BYTES,
    MAX_URL_CHARS,
    Ended,
    HeadersTooLarge,
    Refused,
    Request,
    RequestTimeout,
    UriTooLong,
    bad,
    parse_head,
    too_large,
)

_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,8}")


@dataclass
class Limits:
    """How long a client may take: to start a request, to send its headers, its body."""

    idle_timeout_s: float = 60.0
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0


class Reader:
    """Reads requests from one connection, each within `limits`."""

    def __init__(self, connection: socket.socket, limits: Limits) -> None:
        self.connection = connection
        self.limits = limits
        self.buffer = bytearray()

    def _receive(self, deadline: float, what: str) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Refused(RequestTimeout(f"The {what} did not arrive in time."))
        self.connection.settimeout(remaining)
        try:
            return self.connection.recv(65536)
        except TimeoutError:
            raise Refused(RequestTimeout(f"The {what} did not arrive in time.")) from None
        except ConnectionError:
            return b""  # reset by the peer: as good as ended

    def read_head(self) -> Request:
        """The next request's line and headers; `Ended` when none begins."""
        while not self.buffer.lstrip(b"\r\n"):
            # RFC 9112 2.2: empty lines before a request line are ignored.
            self.buffer.clear()
            try:
                chunk = self._receive(time.monotonic() + self.limits.idle_timeout_s, "request")
            except Refused:
                raise Ended from None  # idle: nothing was asked
            if not chunk:
                raise Ended
            self.buffer += chunk
        self.buffer = bytearray(self.buffer.lstrip(b"\r\n"))
        deadline = time.monotonic() + self.limits.header_timeout_s
        while (end := _END_OF_HEAD.search(self.buffer)) is None:
            # The request line alone past the URL quota (with room for method and version).
            line_end = self.buffer.find(b"\n")
            if (line_end if line_end >= 0 else len(self.buffer)) > MAX_URL_CHARS + 32:
                raise Refused(UriTooLong(f"The URL exceeds {MAX_URL_CHARS} characters."))
            if len(self.buffer) > MAX_RAW_HEAD_BYTES:
                raise Refused(
                    HeadersTooLarge(f"The header block exceeds {MAX_RAW_HEAD_BYTES} bytes.")
                )
            chunk = self._receive(deadline, "request's header block")
            if not chunk:
                raise bad("The connection ended inside the request's headers.")
            self.buffer += chunk
        head = bytes(self.buffer[: end.start()])
        del self.buffer[: end.end()]
        return parse_head(head)

    def read_body(self, request: Request) -> bytes:
        deadline = time.monotonic() + self.limits.body_timeout_s
        if request.length is None:
            return self._read_chunked(deadline)
        return self._read_exactly(request.length, deadline)

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        while len(self.buffer) < size:
            chunk = self._receive(deadline, "request body")
            if not chunk:
                raise bad("The connection ended before the whole body arrived.")
            self.buffer += chunk
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _read_line(self, deadline: float, limit: int) -> bytes:
        while (end := _LINE_END.search(self.buffer)) is None:
            if len(self.buffer) > limit + 2:  # the line and its CRLF
                raise bad("A chunk line is too long.")
            chunk = self._receive(deadline, "request body")
            if not chunk:
                raise bad("The connection ended before the whole body arrived.")
            self.buffer += chunk
        line = bytes(self.buffer[: end.start()])
        del self.buffer[: end.end()]
        if b"\r" in line or len(line) > limit:
            raise bad("A malformed chunk line.")
        return line

    def _read_chunked(self, deadline: float) -> bytes:
        body = bytearray()
        while True:
            size_text = self._read_line(deadline, 1024).split(b";", 1)[0].strip(b" \t")
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise bad("A chunk size must be hexadecimal digits.")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > MAX_REQUEST_BYTES:
                raise too_large()
            body += self._read_exactly(size, deadline)
            if self._read_line(deadline, 0) != b"":
                raise bad("A chunk's data must end with CRLF.")
        trailers = 0
        while line := self._read_line(deadline, MAX_HEAD_BYTES):  # trailers: read, ignored
            trailers += len(line)
            if trailers > MAX_HEAD_BYTES:
                raise Refused(HeadersTooLarge(f"The trailers exceed {MAX_HEAD_BYTES} bytes."))
        return bytes(body)


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_HOP_BY_HOP = {"content-length", "connection", "transfer-encoding", "keep-alive", "date"}


def response_bytes(
    status: int, headers: list[tuple[str, str]], body: bytes, *, head: bool, close: bool
) -> bytes:
    """One response on the wire; no body to HEAD, and none nor a length with 1xx/204/304."""
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}"]
    lines += [f"{n}: {v}" for n, v in headers if n.lower() not in _HOP_BY_HOP]
    bodiless = status < 200 or status in (204, 304)
    if not bodiless:
        lines.append(f"Content-Length: {0 if head else len(body)}")
    if close:
        lines.append("Connection: close")
    payload = b"" if head or bodiless else body
    return "\r\n".join([*lines, "", ""]).encode("latin-1") + payload
