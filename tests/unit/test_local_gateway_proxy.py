"""The local gateway between the wire and the functions: bodies and paths decoded strictly,
proxy results checked, crashes and faults answered 502, connections kept alive."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.gateway.protocol import Limits
from tests.raw_http import (
    HOST,
    Gateway,
    StubFunction,
    address,
    answer,
    exchange,
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


def login(body: bytes, content_type: bytes = b"application/json") -> bytes:
    return (
        b"POST /v1/auth/login HTTP/1.1\r\n"
        + HOST
        + b"Content-Type: "
        + content_type
        + (b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    )


def test_a_text_body_that_is_not_utf8_is_400_malformed_json(gateway: Gateway) -> None:
    # Given a JSON body with a byte that is not UTF-8
    calls = len(gateway[1].events)
    # When it is posted
    response = answer(gateway, login(b'{"email": "\xff"}'))
    # Then the gateway refuses it, rather than hand the function a U+FFFD it cannot tell
    # from what the client sent
    assert response.status == 400
    assert response.problem()["type"] == "urn:catalog:problem:malformed-json"
    assert len(gateway[1].events) == calls


def test_a_binary_body_reaches_the_function_base64_encoded(gateway: Gateway) -> None:
    # Given bytes that are not UTF-8, sent as a binary media type
    raw = b"\x89PNG\xff\xfe"
    # When they are posted
    response = answer(gateway, login(raw, b"image/png"))
    # Then the function gets them intact, base64-encoded, as from API Gateway
    assert response.status == 200
    event = gateway[1].events[-1]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_a_path_that_is_not_utf8_is_refused_and_one_that_is_decoded_once(
    gateway: Gateway,
) -> None:
    # Given a path whose escape is not UTF-8, and one holding an escaped percent sign
    bad = answer(gateway, get("/v1/products/%ff"))
    good = answer(gateway, get("/v1/products/%2541", b"Connection: close\r\n"))
    # Then the first is refused (the request was read whole: the connection stays open);
    # the second reaches the function decoded once, as `%41`
    refused(bad, closes=False)
    assert good.status == 200
    assert gateway[1].events[-1]["pathParameters"] == {"id": "%41"}


def test_a_function_answering_a_header_line_break_gets_502(gateway: Gateway) -> None:
    # Given a function whose answer would inject a header
    function = gateway[1]
    function.result = {"statusCode": 200, "headers": {"X-Note": "a\r\nSet-Cookie: s=1"}}
    try:
        # When a request reaches it
        response = answer(gateway, get("/v1/health", b"Connection: close\r\n"))
    finally:
        function.result = None
    # Then API Gateway's answer to a malformed proxy result is given: 502, nothing injected
    assert response.status == 502
    assert response.problem()["type"] == "urn:catalog:problem:bad-gateway"
    assert response.header("Set-Cookie") is None


@pytest.mark.parametrize(
    "result",
    [None, "text", {"statusCode": "200"}, {"statusCode": 99}, {"statusCode": True},
     {"statusCode": 200, "body": 5}, {"statusCode": 200, "headers": []},
     {"statusCode": 200, "isBase64Encoded": True, "body": "not base64!"}],
)  # fmt: skip
def test_a_malformed_proxy_result_is_502(gateway: Gateway, result: Any) -> None:
    function = gateway[1]
    function.result = result if result is not None else {}
    try:
        response = answer(gateway, get("/v1/health", b"Connection: close\r\n"))
    finally:
        function.result = None
    assert response.status == 502


def test_a_function_crash_is_502_with_the_gateway_headers(gateway: Gateway) -> None:
    response = answer(gateway, get("/v1/products/crash", b"Connection: close\r\n"))
    assert response.status == 502
    assert response.problem()["type"] == "urn:catalog:problem:bad-gateway"
    assert response.header("Strict-Transport-Security") == "max-age=63072000; includeSubDomains"


def test_one_connection_serves_requests_in_turn(gateway: Gateway) -> None:
    # Given two requests pipelined on one connection, with empty lines between them
    data = get("/v1/health") + b"\r\n" + get("/v1/nowhere")
    # When they are sent
    responses = parse_responses(exchange(gateway[0], data))
    # Then each is answered in order, the connection kept open between them
    assert [r.status for r in responses] == [200, 404]
    assert responses[0].header("Connection") is None


def test_expect_100_continue_gets_its_interim_answer(gateway: Gateway) -> None:
    body = b'{"email": "a@example.com"}'
    request = login(body).replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n", 1)
    interim, final = parse_responses(exchange(gateway[0], request))
    assert (interim.status, final.status) == (100, 200)


def test_no_content_answers_carry_no_length(gateway: Gateway) -> None:
    # RFC 9110 8.6: no Content-Length in a 204 (or 304) answer
    function = gateway[1]
    function.result = {"statusCode": 204, "body": ""}
    try:
        response = answer(gateway, get("/v1/health", b"Connection: close\r\n"))
    finally:
        function.result = None
    assert response.status == 204 and response.header("Content-Length") is None


def test_a_fault_of_the_gateway_itself_is_answered_502_not_a_hang_up() -> None:
    # Given a gateway whose own request handling fails (a bug of ours, say)
    with stub_gateway() as (server, _):

        def broken(request: Any, client_ip: str) -> Any:
            raise RuntimeError("a bug in the gateway")

        server.respond = broken  # type: ignore[method-assign]
        # When a request arrives
        response = answer((address(server), StubFunction()), get("/v1/health"))
    # Then the client still gets an answer: 502 problem+json, and the connection closed
    refused(response, 502, "bad-gateway")
