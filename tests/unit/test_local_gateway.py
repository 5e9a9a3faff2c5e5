"""The local gateway's HTTP layer: malformed or abusive requests get a problem+json answer
(then a close), never a traceback or a silent hang-up."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from infra import gateway_responses
from infra.local.gateway.protocol import Limits
from infra.local.gateway.request import MAX_HEAD_BYTES, MAX_URL_CHARS
from tests.raw_http import (
    HOST,
    Gateway,
    address,
    answer,
    get,
    parse_responses,
    refused,
    stub_gateway,
)


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    """A local gateway with stub functions and short timeouts."""
    limits = Limits(idle_timeout_s=1.0, header_timeout_s=1.0, body_timeout_s=1.0)
    with stub_gateway(limits=limits) as (server, function):
        yield address(server), function


@pytest.mark.parametrize(
    "length", [b"-1", b"abc", b"1e3", b"+5", b"0x10", b"", b"5 5", "\u0665".encode()]
)
def test_a_content_length_that_is_not_digits_is_refused(gateway: Gateway, length: bytes) -> None:
    # Given a request whose Content-Length is negative, not a number, or not ASCII digits
    request = get("/v1/health", b"Content-Length: " + length + b"\r\n")
    # When it is sent
    response = answer(gateway, request)
    # Then it is refused 400 as problem+json, and the connection closed after the answer
    refused(response)


def test_differing_content_lengths_are_refused_and_identical_ones_read_once(
    gateway: Gateway,
) -> None:
    # Given two requests: one with two different lengths, one repeating the same length
    differing = get("/v1/health", b"Content-Length: 2\r\nContent-Length: 3\r\n", body=b"{}")
    identical = (
        b"POST /v1/auth/login HTTP/1.1\r\n"
        + HOST
        + (b"Content-Length: 2, 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    )
    # When each is sent
    # Then the first is refused (where its body ends is ambiguous), the second served
    refused(answer(gateway, differing))
    assert answer(gateway, identical).status == 200


def test_content_length_with_transfer_encoding_is_refused(gateway: Gateway) -> None:
    # Given a request framed two ways at once (the shape of request smuggling)
    request = get(
        "/v1/health",
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
        body=b"0\r\n\r\n",
    )
    # Then it is refused rather than read either way
    refused(answer(gateway, request))


@pytest.mark.parametrize("coding", [b"gzip", b"chunked, chunked", b"identity", b"chunked, gzip"])
def test_a_transfer_coding_other_than_chunked_is_refused(gateway: Gateway, coding: bytes) -> None:
    refused(answer(gateway, get("/v1/health", b"Transfer-Encoding: " + coding + b"\r\n")))


def test_a_chunked_body_reaches_the_function_whole(gateway: Gateway) -> None:
    # Given a body sent in three chunks, with an extension and a trailer
    chunks = b'5;ext=1\r\n{"a":\r\n3\r\n"b"\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n'
    request = (
        b"POST /v1/auth/login HTTP/1.1\r\n"
        + HOST
        + (b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n" + chunks)
    )
    # When it is sent
    response = answer(gateway, request)
    # Then the function got it joined
    assert response.status == 200
    assert response.body == b'{"body": "{\\"a\\":\\"b\\"}", "base64": false}'


@pytest.mark.parametrize("size", [b"zz", b"123456789", b"-1", b""])
def test_a_malformed_chunk_is_refused(gateway: Gateway, size: bytes) -> None:
    request = get(
        "/v1/health", b"Transfer-Encoding: chunked\r\n", body=size + b"\r\nabc\r\n0\r\n\r\n"
    )
    refused(answer(gateway, request))


def test_a_bare_cr_in_a_header_is_refused_not_split(gateway: Gateway) -> None:
    # Given a header whose value hides a second header behind a bare CR
    calls = len(gateway[1].events)
    request = get("/v1/health", b"X-Note: a\rAuthorization: Bearer forged\r\n")
    # When it is sent
    response = answer(gateway, request)
    # Then it is refused, and no function saw a request (least of all a forged header)
    refused(response)
    assert len(gateway[1].events) == calls


@pytest.mark.parametrize(
    "line",
    [b"X-Note : a", b"No colon here", b" folded: continuation", b"X-Note: a\x00b", b": empty"],
)
def test_a_malformed_header_line_is_refused(gateway: Gateway, line: bytes) -> None:
    refused(answer(gateway, get("/v1/health", line + b"\r\n")))


def test_headers_up_to_api_gateways_quota_pass_and_beyond_it_are_431(gateway: Gateway) -> None:
    # Given a request whose request line and header values add up to exactly the quota
    request_line = b"GET /v1/health HTTP/1.1"
    used = len(request_line) + len(b"127.0.0.1") + len(b"close")
    filler = b"a" * (MAX_HEAD_BYTES - used)

    def request(value: bytes) -> bytes:
        return get("/v1/health", b"Connection: close\r\nX-Filler: " + value + b"\r\n")

    # When it is sent, and again with one byte more
    at_quota = answer(gateway, request(filler))
    over_quota = answer(gateway, request(filler + b"a"))
    # Then the first is served and the second refused 431, as problem+json
    assert at_quota.status == 200
    refused(over_quota, 431)
    assert over_quota.reason == "Request Header Fields Too Large"


def test_a_huge_header_block_is_431_without_being_read_whole(gateway: Gateway) -> None:
    refused(answer(gateway, get("/v1/health", b"X-Filler: " + b"a" * 200_000 + b"\r\n")), 431)


def test_a_url_over_the_quota_is_414(gateway: Gateway) -> None:
    # Given a long request target, and one a character over the URL quota (near the quota,
    # the request line alone already meets the combined quota of line and headers)
    long_path = "/v1/products/" + "a" * 8000
    too_long = "/v1/products/" + "a" * (MAX_URL_CHARS - len("/v1/products/") + 1)
    # When each is requested
    served = answer(gateway, get(long_path, b"Connection: close\r\n"))
    over_quota = answer(gateway, get(too_long))
    # Then the first reaches the function, the second is refused 414
    assert served.status == 200
    refused(over_quota, 414)


def test_a_request_line_without_end_is_414_once_past_the_quota(gateway: Gateway) -> None:
    refused(answer(gateway, b"GET /" + b"a" * (MAX_URL_CHARS + 100)), 414)


@pytest.mark.parametrize("method", [b"TRACE", b"CONNECT", b"FOO", b"PROPFIND", b"get", b"Post"])
@pytest.mark.parametrize(
    "path", [b"/v1/health", b"/v1/products", b"/v1/products/01HX", b"/v1/users/me", b"/v1/nowhere"]
)
def test_a_method_api_gateway_does_not_serve_matches_no_route(
    gateway: Gateway, method: bytes, path: bytes
) -> None:
    # Given a well-formed request whose method is none of API Gateway's seven (methods are
    # case-sensitive), on a public path, a protected one, one with a parameter, an unknown one
    before = len(gateway[1].events)
    request = method + b" " + path + b" HTTP/1.1\r\n" + HOST + b"\r\n"
    # When it is sent
    response = answer(gateway, request)
    # Then it gets API Gateway's answer to a request no method matches (ANY is the seven):
    # the MISSING_AUTHENTICATION_TOKEN response, a 404 problem, not an HTML 501; no function
    # is called, and the connection stays open (the request was read to its end)
    refused(response, 404, "not-found", closes=False)
    assert response.body.decode() == gateway_responses.body("MISSING_AUTHENTICATION_TOKEN")
    assert len(gateway[1].events) == before


def test_connect_to_an_authority_is_a_malformed_request_line(gateway: Gateway) -> None:
    refused(answer(gateway, b"CONNECT 127.0.0.1:443 HTTP/1.1\r\n" + HOST + b"\r\n"))


@pytest.mark.parametrize(
    "line",
    [b"GET /v1/health", b"GET  /v1/health HTTP/1.1", b"GET /v1/health HTTP/2.0", b"GET * HTTP/1.1",
     b"GET http://x/v1/health HTTP/1.1", b"GET /v1/health#top HTTP/1.1", b"\xff\xfe / HTTP/1.1"],
)  # fmt: skip
def test_a_malformed_request_line_is_refused(gateway: Gateway, line: bytes) -> None:
    refused(answer(gateway, line + b"\r\n" + HOST + b"\r\n"))


def test_an_http_1_1_request_needs_exactly_one_host(gateway: Gateway) -> None:
    # Given HTTP/1.1 requests without a Host and with two, and an HTTP/1.0 one without
    none = b"GET /v1/health HTTP/1.1\r\n\r\n"
    two = b"GET /v1/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
    old = b"GET /v1/health HTTP/1.0\r\n\r\n"
    # Then HTTP/1.1's rule refuses the first two (RFC 9112 3.2), and HTTP/1.0 is served
    refused(answer(gateway, none))
    refused(answer(gateway, two))
    assert answer(gateway, old).status == 200


@pytest.mark.parametrize(
    "request_bytes",
    [
        get("/v1/health", b"Connection: close\r\n"),
        get("/v1/nowhere"),
        get("/v1/products/crash"),
        get("/v1/health", b"Content-Length: x\r\n"),
    ],
    ids=["function", "404", "502", "400"],
)
def test_no_answer_names_the_server_software(gateway: Gateway, request_bytes: bytes) -> None:
    # Given any answer: a function's, or one of the gateway's own
    response = answer(gateway, request_bytes)
    # Then no header says what runs the gateway (it said `Python/3.11.7`): API Gateway's
    # answers carry no Server header either
    assert response.header("Server") is None
    assert not any("python" in f"{name}: {value}".lower() for name, value in response.headers)


def test_a_slowloris_header_block_is_cut_off_with_408(gateway: Gateway) -> None:
    # Given a client that starts a request and trickles header lines, each well within a
    # read timeout, the whole never complete
    with socket.create_connection(gateway[0], timeout=5) as slow:
        slow.sendall(b"GET /v1/health HTTP/1.1\r\n" + HOST)
        started = time.monotonic()

        def trickle() -> None:
            for _ in range(20):
                time.sleep(0.2)
                try:
                    slow.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    return  # the gateway gave up on it: the point

        sender = threading.Thread(target=trickle)
        sender.start()
        # When the gateway's header timeout (1 s here, 10 s by default) runs out
        received = b""
        while chunk := slow.recv(65536):
            received += chunk
        elapsed = time.monotonic() - started
        sender.join()
    # Then it answered 408 and closed, in about that time, not after the client's 4 s
    (response,) = parse_responses(received)
    refused(response, 408)
    assert elapsed < 2.5


def test_an_idle_connection_is_closed_without_an_answer(gateway: Gateway) -> None:
    # Given a connection on which nothing is sent
    with socket.create_connection(gateway[0], timeout=5) as idle:
        started = time.monotonic()
        # When the idle timeout (1 s here) runs out
        data = idle.recv(65536)
    # Then the gateway closed it without a word: no request was made, so none is answered
    assert data == b""
    assert 0.8 < time.monotonic() - started < 2.5


def test_a_body_cut_short_is_400_to_a_half_closed_client(gateway: Gateway) -> None:
    request = b"POST /v1/auth/login HTTP/1.1\r\n" + HOST + b"Content-Length: 10\r\n\r\n{}"
    refused(answer(gateway, request))


def test_a_head_cut_short_is_400_to_a_half_closed_client(gateway: Gateway) -> None:
    refused(answer(gateway, b"GET /v1/health HTTP/1.1\r\nHo"))


def test_a_body_over_10_mib_is_413_before_it_is_sent(gateway: Gateway) -> None:
    # Given a request that announces a body one byte over API Gateway's limit, but sends none
    request = b"POST /v1/auth/login HTTP/1.1\r\n" + HOST + b"Content-Length: 10485761\r\n\r\n"
    # Then the gateway answers 413 without waiting for it
    refused(answer(gateway, request), 413, "payload-too-large")


@pytest.mark.parametrize("digits", [20, 5000])
def test_an_enormous_content_length_is_413(gateway: Gateway, digits: int) -> None:
    # 5,000 digits: past what int() accepts from a string, which once was a traceback
    request = get("/v1/health", b"Content-Length: " + b"9" * digits + b"\r\n")
    refused(answer(gateway, request), 413, "payload-too-large")
