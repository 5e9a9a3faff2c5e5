"""Gateway responses: every type installed, with the stage's security and CORS headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import aws_apigateway as apigateway

from catalog.core import settings
from catalog.http import pipeline
from infra import gateway_responses
from infra.stack.api import mapping_expression
from infra.stages import Stage, stage as stage_config

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


def test_no_gateway_response_body_holds_template_syntax() -> None:
    # Given every gateway response body (the stack installs it as a VTL mapping template)
    for response_type in gateway_responses.GATEWAY_RESPONSES:
        body = gateway_responses.body(response_type)
        # Then nothing in it is a VTL reference or directive: API Gateway sends it as written
        assert "$" not in body and "#" not in body, response_type
