"""Gateway responses: every type installed with the stage's security and CORS headers, and
the local gateway answering with exactly the headers the stack installs."""

from __future__ import annotations

import http.client
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_cdk import aws_apigateway as apigateway

from catalog.core import settings
from catalog.http import pipeline
from infra import gateway_responses
from infra.local.gateway import LocalGateway
from infra.local.gateway.protocol import response_bytes
from infra.local.gateway.request import Request
from infra.stack.api import mapping_expression
from infra.stages import Stage, stage as stage_config
from tests.raw_http import RawResponse, address, exchange, parse_responses, stub_gateway

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

# API Gateway's status for each type (developer guide, "Gateway response types for API
# Gateway"); the two defaults have none of their own.
API_GATEWAY_STATUS = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_PARAMETERS": 400,
    "BAD_REQUEST_BODY": 400,
    "DEFAULT_4XX": None,
    "DEFAULT_5XX": None,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
}
# Where the stack answers another status, on purpose (infra/gateway_responses.py says why).
OVERRIDDEN = {
    "MISSING_AUTHENTICATION_TOKEN": 404,
    "INTEGRATION_FAILURE": 502,
    "DEFAULT_4XX": 400,
    "DEFAULT_5XX": 502,
}
ALLOWED_ORIGIN = {"dev": "'*'", "prod": "'https://shop.example.com'"}
ORIGIN = "https://shop.example.com"
PREFIX = "gatewayresponse.header."
# Headers every HTTP answer of the gateway has besides the gateway response's own.
TRANSPORT = {"date", "content-length", "connection", "x-amzn-requestid"}

# How a client gets each answer the local gateway gives itself, over HTTP (then its Host
# and Origin headers).
TRIGGERS = {
    "MISSING_AUTHENTICATION_TOKEN": (b"GET /v1/nowhere HTTP/1.1\r\n", b""),
    "UNAUTHORIZED": (b"POST /v1/products HTTP/1.1\r\nContent-Length: 2\r\n", b"{}"),
    "REQUEST_TOO_LARGE": (b"POST /v1/products HTTP/1.1\r\nContent-Length: 10485761\r\n", b""),
    "DEFAULT_5XX": (b"GET /v1/products/crash HTTP/1.1\r\n", b""),  # the function crashes
    "DEFAULT_4XX": (b"GET /v1/health HTTP/1.1\r\nContent-Length: -1\r\n", b""),  # malformed
}


def installed(synth: Any) -> dict[str, dict[str, Any]]:
    """Response type -> the properties of its AWS::ApiGateway::GatewayResponse."""
    return {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()
    }


def expected_headers(parameters: dict[str, str], request: dict[str, str]) -> dict[str, str]:
    """What API Gateway sends for these response parameters to a request with `request`'s
    headers: a quoted value as it is, a request header mapping as the request's value."""
    sent: dict[str, str] = {}
    for key, expression in parameters.items():
        name = key.removeprefix(PREFIX)
        if expression.startswith("'") and expression.endswith("'"):
            sent[name] = expression[1:-1]
        else:
            source = expression.removeprefix("method.request.header.")
            if source in request:
                sent[name] = request[source]
    return sent


def sent_headers(response: RawResponse) -> dict[str, str]:
    return {n: v for n, v in response.headers if n.lower() not in TRANSPORT}


@pytest.fixture(scope="module")
def local_gateways() -> Iterator[dict[str, LocalGateway]]:
    """A local gateway per snapshotted stage, with stub functions."""
    with stub_gateway("dev") as (dev, _), stub_gateway("prod") as (prod, _):
        yield {"dev": dev, "prod": prod}


def local_answer(gateway: LocalGateway, response_type: str) -> RawResponse:
    """The local gateway's answer of this type: over HTTP when a client can cause it; else
    as the same writer puts it on the wire (no throttling, WAF or API keys run locally)."""
    if response_type in TRIGGERS:
        start, body = TRIGGERS[response_type]
        request = start + f"Host: x\r\nOrigin: {ORIGIN}\r\n\r\n".encode() + body
        (response,) = parse_responses(exchange(address(gateway), request))
        return response
    request_seen = Request("GET", "/", "HTTP/1.1", [("Host", "x"), ("Origin", ORIGIN)])
    answer = gateway.answer(response_type, request_seen)
    wire = response_bytes(answer.status, answer.headers, answer.body, head=False, close=True)
    (response,) = parse_responses(wire)
    # http.client reads it as any HTTP client would, too.
    parsed = http.client.HTTPResponse(_Socket(wire))  # type: ignore[arg-type]
    parsed.begin()
    assert parsed.status == response.status and parsed.read() == response.body
    return response


class _Socket:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self.data)


def test_every_response_type_has_its_own_gateway_response(dev: Any) -> None:
    # Given every gateway response type CDK knows, which are those API Gateway documents
    known = {
        getattr(apigateway.ResponseType, name).response_type
        for name in dir(apigateway.ResponseType)
        if name.isupper()
    }
    assert known == set(API_GATEWAY_STATUS)
    # When the stack is synthesized
    types = set(installed(dev))
    # Then each type has a response of its own: no API Gateway default body reaches a client
    assert types == known


def test_each_type_keeps_api_gateways_status_unless_overridden(dev: Any) -> None:
    # Given the installed gateway responses
    statuses = {t: int(p["StatusCode"]) for t, p in installed(dev).items()}
    # Then each answers API Gateway's status for its type, but the deliberate exceptions
    assert statuses == {**API_GATEWAY_STATUS, **OVERRIDDEN}


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_every_gateway_response_has_the_stages_security_and_cors_headers(
    synth_stage: Callable[[str], Any], name: str
) -> None:
    # Given a stage's synthesized template and its settings
    synth, stage = synth_stage(name), stage_config(name)
    for response_type, props in installed(synth).items():
        # When its gateway response of each type is read
        parameters = props["ResponseParameters"]
        # Then it has the security headers, HSTS with the stage's max-age
        assert parameters[f"{PREFIX}Strict-Transport-Security"] == (
            f"'max-age={stage.hsts_max_age}; includeSubDomains'"
        ), response_type
        for header, value in gateway_responses.HEADERS.items():
            assert parameters[f"{PREFIX}{header}"] == f"'{value}'", response_type
        # And CORS headers that let the stage's origins read it
        assert parameters[f"{PREFIX}Access-Control-Allow-Origin"] == ALLOWED_ORIGIN[name]
        assert parameters[f"{PREFIX}Access-Control-Expose-Headers"] == (
            f"'{pipeline.CORS_EXPOSE_HEADERS}'"
        )
        assert parameters[f"{PREFIX}Vary"] == "'Origin'"


@pytest.mark.parametrize("name", ["local", "dev", "prod"])
def test_gateway_responses_send_the_headers_the_functions_send(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the settings a stage's functions run with, and a request from an allowed origin
    stage = stage_config(name)
    for variable, value in stage.function_settings().items():
        monkeypatch.setenv(variable, value)
    origin = ORIGIN if "*" in stage.cors_allow_origins else stage.cors_allow_origins[0]
    event = {"headers": {"Origin": origin}}
    # When a function adds its security and CORS headers to an answer
    response: dict[str, Any] = {"statusCode": 404, "multiValueHeaders": {}}
    settings.settings.cache_clear()
    try:
        pipeline.add_headers(response, event)
    finally:
        settings.settings.cache_clear()
    functions = {n: v[0] for n, v in response["multiValueHeaders"].items()}
    assert "Strict-Transport-Security" in functions and "Access-Control-Allow-Origin" in functions
    # Then every gateway response of the stage sends each of them, with the same value
    for response_type in gateway_responses.GATEWAY_RESPONSES:
        parameters = {
            f"{PREFIX}{n}": mapping_expression(v)
            for n, v in gateway_responses.headers(response_type, stage).items()
        }
        gateway = expected_headers(parameters, {"Origin": origin})
        assert {n: gateway.get(n) for n in functions} == functions, response_type


def test_several_origins_are_answered_with_the_requests_origin() -> None:
    # Given a stage that allows two origins
    stage = Stage("several", cors_allow_origins=("https://a.example", "https://b.example"))
    # When the stack renders a gateway response's headers
    headers = gateway_responses.headers("UNAUTHORIZED", stage)
    # Then the allowed origin is the request's Origin header, mapped by API Gateway
    assert mapping_expression(headers["Access-Control-Allow-Origin"]) == (
        "method.request.header.Origin"
    )
    assert headers["Vary"] == "Origin"
    # And the local gateway echoes it, and sends none to a request without one
    with stub_gateway(config=stage) as (gateway, _):
        request = b"GET /v1/users/me HTTP/1.1\r\nHost: x\r\n"
        (echoed,) = parse_responses(
            exchange(address(gateway), request + b"Origin: https://b.example\r\n\r\n")
        )
        (plain,) = parse_responses(exchange(address(gateway), request + b"\r\n"))
    assert echoed.status == plain.status == 401
    assert echoed.header("Access-Control-Allow-Origin") == "https://b.example"
    assert plain.header("Access-Control-Allow-Origin") is None


def test_no_gateway_response_body_holds_template_syntax() -> None:
    # Given every gateway response body (the stack installs it as a VTL mapping template)
    for response_type in gateway_responses.GATEWAY_RESPONSES:
        body = gateway_responses.body(response_type)
        # Then nothing in it is a VTL reference or directive: API Gateway sends it as written
        assert "$" not in body and "#" not in body, response_type


@pytest.mark.parametrize("name", ["dev", "prod"])
@pytest.mark.parametrize("response_type", gateway_responses.GATEWAY_RESPONSES)
def test_the_local_gateway_sends_the_headers_the_stack_installs(
    synth_stage: Callable[[str], Any],
    local_gateways: dict[str, LocalGateway],
    name: str,
    response_type: str,
) -> None:
    # Given the stage's gateway response of this type, as synthesized
    props = installed(synth_stage(name))[response_type]
    # When the local gateway of the same stage gives that answer to a cross-origin client
    response = local_answer(local_gateways[name], response_type)
    # Then it sends exactly the headers API Gateway would, with the same status
    assert sent_headers(response) == expected_headers(
        props["ResponseParameters"], {"Origin": ORIGIN}
    )
    assert response.status == int(props["StatusCode"])
    # And the same problem (a malformed request's says what was wrong with it)
    installed_problem = json.loads(props["ResponseTemplates"]["application/json"])
    problem = response.problem()
    if response_type == "DEFAULT_4XX":
        assert problem["type"] == installed_problem["type"]
    else:
        assert problem == installed_problem
