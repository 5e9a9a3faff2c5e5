"""HTTP over raw sockets, for tests of the local gateway's protocol layer: send any bytes,
read what comes back to the end, and parse it strictly (a malformed answer fails)."""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from infra import topology
from infra.local.gateway import LocalGateway
from infra.local.gateway.protocol import Limits
from infra.stages import Stage

_STATUS_LINE = re.compile(rb"HTTP/1\.1 ([1-5][0-9]{2}) ([^\r\n]*)")
_FIELD = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+): ?([^\r\n]*)")


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def problem(self) -> dict[str, Any]:
        """The problem+json document, checked to be one."""
        assert self.header("Content-Type") == "application/problem+json", self.headers
        document: dict[str, Any] = json.loads(self.body)
        assert document["type"].startswith("urn:catalog:problem:"), document
        assert document["status"] == self.status, document
        return document


def parse_responses(data: bytes) -> list[RawResponse]:
    """Every response in `data`, in order; AssertionError unless each is well-formed HTTP/1.1
    (status line, field lines, CRLF, a Content-Length that matches, nothing left over)."""
    responses: list[RawResponse] = []
    rest = data
    while rest:
        head, separator, rest = rest.partition(b"\r\n\r\n")
        assert separator, f"a response without the end of its header block: {head[:200]!r}"
        status_line, *lines = head.split(b"\r\n")
        status = _STATUS_LINE.fullmatch(status_line)
        assert status, f"not a status line: {status_line[:200]!r}"
        headers = []
        for line in lines:
            found = _FIELD.fullmatch(line)
            assert found, f"not a header field line: {line[:200]!r}"
            headers.append((found[1].decode(), found[2].decode("latin-1")))
        code = int(status[1])
        response = RawResponse(code, status[2].decode(), headers, b"")
        if code >= 200 and code not in (204, 304):
            length = response.header("Content-Length")
            assert length is not None and length.isdigit(), f"no Content-Length: {headers}"
            assert len(rest) >= int(length), "the body is shorter than its Content-Length"
            response.body, rest = rest[: int(length)], rest[int(length) :]
        responses.append(response)
    return responses


def exchange(
    address: tuple[str, int], data: bytes, *, half_close: bool = True, timeout: float = 5.0
) -> bytes:
    """Send `data`, then (by default) end the sending side, and read until the server closes.
    Fails if the server neither answers nor closes within `timeout`."""
    with socket.create_connection(address, timeout=timeout) as connection:
        try:
            connection.sendall(data)
            if half_close:
                connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server refused early and closed: what it sent is still to be read
        received = bytearray()
        deadline = time.monotonic() + timeout
        while True:
            connection.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                raise AssertionError(f"no close within {timeout} s: {bytes(received)!r}") from None
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        return bytes(received)


@dataclass
class StubFunction:
    """A function that answers 200 with the body it was sent, or `result` when set, or
    crashes on a path ending in `/crash`."""

    events: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        if event["path"].endswith("/crash"):
            raise RuntimeError("the stub function crashed, as asked")
        if self.result is not None:
            return self.result
        body = json.dumps({"body": event["body"], "base64": event["isBase64Encoded"]})
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}


@contextmanager
def stub_gateway(
    stage: str = "local", *, limits: Limits | None = None, config: Stage | None = None
) -> Iterator[tuple[LocalGateway, StubFunction]]:
    """A local gateway on a free port whose every function is one `StubFunction`."""
    function = StubFunction()
    functions = {name: function for name in topology.FUNCTIONS}
    gateway = LocalGateway(functions, stage, "127.0.0.1", 0, limits=limits, config=config)
    gateway.start()
    try:
        yield gateway, function
    finally:
        gateway.stop()


def address(gateway: LocalGateway) -> tuple[str, int]:
    host, port = gateway.server.server_address[:2]
    return (host.decode() if isinstance(host, bytes) else host, port)


# Helpers of the gateway's protocol tests: a gateway's address and its stub function.
Gateway = tuple[tuple[str, int], StubFunction]
HOST = b"Host: 127.0.0.1\r\n"


def answer(gateway: Gateway, data: bytes) -> RawResponse:
    """The one answer to `data` (the connection then ends)."""
    responses = parse_responses(exchange(gateway[0], data))
    assert len(responses) == 1, responses
    return responses[0]


def refused(
    response: RawResponse, status: int = 400, slug: str = "bad-request", *, closes: bool = True
) -> None:
    """A refusal as the gateway gives it: problem+json, the local stage's gateway headers,
    and (after a request it could not read to its end) a close."""
    assert response.status == status, response
    assert response.problem()["type"] == f"urn:catalog:problem:{slug}"
    assert response.header("Connection") == ("close" if closes else None)
    assert response.header("X-Content-Type-Options") == "nosniff"
    assert response.header("Access-Control-Allow-Origin") == "*"


def get(path: str = "/v1/health", *headers: bytes, body: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\n" + HOST + b"".join(headers) + b"\r\n" + body
