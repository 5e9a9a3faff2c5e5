"""A bounded fuzz of the local gateway's raw HTTP layer, in front of the real functions.

300 seeded cases (about 10-20 s), each a malformed request over a raw socket: random bytes
in the request line or a header, bit flips, truncations (the client then half-closes, so
the gateway sees the end), bad Content-Length values with or without Transfer-Encoding,
bad chunks, huge headers and URLs, odd methods, pure noise. Each must get well-formed
HTTP/1.1 answers, every error a problem+json document, and no 5xx (a 5xx would be a
crash of the gateway or of a function). The one silence HTTP allows: a client that sends
nothing but empty lines asked nothing, and gets only the close. After the cases the
gateway still serves a normal request.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from infra import gateway_responses
from tests.raw_http import exchange, parse_responses

SEED = 20261201
CASES = 300

HOST = b"Host: 127.0.0.1\r\n"
VALID = [
    b"GET /v1/health HTTP/1.1\r\n" + HOST + b"\r\n",
    b"GET /v1/products?limit=2 HTTP/1.1\r\n" + HOST + b"Accept: application/json\r\n\r\n",
    b"POST /v1/auth/login HTTP/1.1\r\n" + HOST
    + b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
    b"PATCH /v1/products/01HX HTTP/1.1\r\n" + HOST + b"Content-Length: 2\r\n\r\n{}",
    b"OPTIONS /v1/products HTTP/1.1\r\n" + HOST
    + b"Origin: https://a.example\r\nAccess-Control-Request-Method: POST\r\n\r\n",
]  # fmt: skip
BAD_LENGTHS = [b"-1", b"abc", b"1e3", b"+2", b"0x2", b"", b" ", b"2, 3", b"9" * 30, b"9" * 5000]
METHODS = [b"get", b"Get", b"FOO", b"PROPFIND", b"TRACE", b"CONNECT", b"G\x00T", b"GET GET"]

Case = Callable[[random.Random], bytes]


def _first_line_end(request: bytes) -> int:
    return request.index(b"\r\n")


def random_bytes_in_request_line(rng: random.Random) -> bytes:
    request = rng.choice(VALID)
    end = _first_line_end(request)
    start = rng.randrange(end)
    stop = min(end, start + rng.randint(1, 8))
    return request[:start] + rng.randbytes(rng.randint(1, 20)) + request[stop:]


def random_bytes_in_a_header(rng: random.Random) -> bytes:
    request = rng.choice(VALID)
    end = _first_line_end(request) + 2
    noise = bytes(rng.choice(b"\r\n\x00\t :;,\x7f\xff" + bytes(range(32, 127))) for _ in range(30))
    return request[:end] + b"X-Fuzz: " + noise + b"\r\n" + request[end:]


def bit_flips(rng: random.Random) -> bytes:
    request = bytearray(rng.choice(VALID))
    for _ in range(rng.randint(1, 3)):
        request[rng.randrange(len(request))] ^= 1 << rng.randrange(8)
    return bytes(request)


def truncated(rng: random.Random) -> bytes:
    request = rng.choice(VALID)
    return request[: rng.randint(1, len(request) - 1)]


def bad_length(rng: random.Random) -> bytes:
    request = rng.choice(VALID[:2])  # no length of their own
    extra = b"Content-Length: " + rng.choice(BAD_LENGTHS) + b"\r\n"
    if rng.random() < 0.3:
        extra += b"Transfer-Encoding: chunked\r\n"
    if rng.random() < 0.3:
        extra += b"Content-Length: 2\r\n"
    return request[:-2] + extra + b"\r\n{}"


def bad_chunks(rng: random.Random) -> bytes:
    size = rng.choice([b"zz", b"-1", b"fffffffff", b"", b"2;", b"2\r\nabc", b"ffffff"])
    body = size + b"\r\n" + rng.randbytes(rng.randint(0, 10)) + rng.choice([b"", b"\r\n0\r\n\r\n"])
    return b"POST /v1/auth/login HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n" + body


def huge_header(rng: random.Random) -> bytes:
    request = rng.choice(VALID)
    size = rng.choice([9_000, 10_300, 12_000, 25_000, 100_000])
    end = _first_line_end(request) + 2
    return request[:end] + b"X-Big: " + b"a" * size + b"\r\n" + request[end:]


def long_url(rng: random.Random) -> bytes:
    path = b"/v1/products/" + b"a" * rng.randint(9_000, 12_000)
    return b"GET " + path + b" HTTP/1.1\r\n" + HOST + b"\r\n"


def odd_method(rng: random.Random) -> bytes:
    request = rng.choice(VALID)
    return rng.choice(METHODS) + request[request.index(b" ") :]


def noise(rng: random.Random) -> bytes:
    return rng.randbytes(rng.randint(1, 200))


def empty_lines(rng: random.Random) -> bytes:
    return rng.choice([b"", b"\r\n", b"\n", b"\r\n\r\n\n"])


GENERATORS: list[Case] = [
    random_bytes_in_request_line,
    random_bytes_in_a_header,
    bit_flips,
    truncated,
    bad_length,
    bad_chunks,
    huge_header,
    long_url,
    odd_method,
    noise,
    empty_lines,
]


def check(request: bytes, received: bytes) -> None:
    """Well-formed answers, errors as problems, no 5xx; silence only when nothing was asked."""
    responses = parse_responses(received)
    if not request.lstrip(b"\r\n"):
        assert responses == [], "an answer to a request never made"
        return
    # Several answers are right where bytes left over read as a further request.
    assert responses, "no answer"
    for response in responses:
        assert response.status < 500, response
        if response.status >= 400:
            response.problem()


def test_malformed_requests_get_answers_and_the_gateway_keeps_serving(
    local_system: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    # Given the local system's gateway, and a seeded generator of malformed requests
    host, port = local_system.url.removeprefix("http://").split(":")
    rng = random.Random(SEED)
    started = time.monotonic()
    for index in range(CASES):
        generate = rng.choice(GENERATORS)
        request = generate(rng)
        # When each is sent over a raw socket (then the sending side closed)
        received = exchange((host, int(port)), request, timeout=10)
        # Then it gets well-formed answers, or the close HTTP allows
        try:
            check(request, received)
        except AssertionError as failure:
            where = f"case {index} (seed {SEED}, {generate.__name__})"
            raise AssertionError(f"{where}: {request[:300]!r} -> {received[:600]!r}") from failure
    elapsed = time.monotonic() - started
    # And the gateway printed no traceback of its own
    assert "infra/local/gateway" not in capfd.readouterr().err
    # And it still serves a normal request afterwards
    health = requests.get(f"{local_system.url}/v1/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    print(f"{CASES} malformed requests in {elapsed:.1f} s")


@pytest.mark.parametrize("method", [b"TRACE", b"CONNECT", b"MADE-UP"])
def test_odd_methods_get_api_gateways_answer_on_every_kind_of_path(
    local_system: Any, method: bytes
) -> None:
    # Given the local system, and paths served by several functions (public, protected,
    # with a parameter, health and the docs page) and two served by none
    host, port = local_system.url.removeprefix("http://").split(":")
    paths = [
        b"/v1/health",
        b"/v1/docs",
        b"/v1/docs/docs.js",
        b"/v1/products",
        b"/v1/products/01HX",
        b"/v1/users",
        b"/v1/nowhere",
        b"/",
    ]
    for path in paths:
        # When a method API Gateway does not serve is sent there over raw HTTP
        request = method + b" " + path + b" HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
        (response,) = parse_responses(exchange((host, int(port)), request))
        # Then it is what the stack's gateway response answers to an unmatched request
        assert response.status == 404, (path, response)
        assert response.problem()["type"] == "urn:catalog:problem:not-found"
        assert response.body.decode() == gateway_responses.body("MISSING_AUTHENTICATION_TOKEN")
        assert response.header("X-Content-Type-Options") == "nosniff"
