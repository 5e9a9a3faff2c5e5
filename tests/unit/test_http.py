"""The shared HTTP entry point: what every function answers before and around its routes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catalog.core.errors import Conflict
from catalog.http.api import Api
from catalog.http.routes import Route
from catalog.identity.access import PUBLIC

app = Api(
    [
        Route("GET", "/things", "test", "list_things", PUBLIC),
        Route("POST", "/things", "test", "create_thing", PUBLIC),
        Route("GET", "/boom", "test", "boom", PUBLIC),
        Route("GET", "/wrong-shape", "test", "wrong_shape", PUBLIC),
        Route("GET", "/where", "test", "where", PUBLIC),
    ]
)


@app.operation()
def where() -> dict[str, Any]:
    return {"location": app.location("/things/1")}


@app.operation()
def list_things() -> dict[str, Any]:
    return {"items": []}


@app.operation()
def create_thing() -> dict[str, Any]:
    raise Conflict("already there")


@app.operation()
def boom() -> dict[str, Any]:
    raise RuntimeError("table catalog-prod-products in account 123456789012 is gone")


@app.operation()
def wrong_shape() -> dict[str, int]:
    return "not a mapping"  # type: ignore[return-value]


handler = app.handler()


class Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"


def call(method: str, path: str, body: str | None = None, **headers: str) -> dict[str, Any]:
    event = {
        "httpMethod": method,
        "path": path,
        "resource": path,
        "headers": headers,
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {"requestId": "req-1", "path": path, "stage": "test"},
    }
    response: dict[str, Any] = handler(event, Context())
    return response


def header(response: dict[str, Any], name: str) -> str:
    return str(response["multiValueHeaders"][name][0])


def problem(response: dict[str, Any]) -> dict[str, Any]:
    assert header(response, "Content-Type") == "application/problem+json"
    body: dict[str, Any] = json.loads(response["body"])
    return body


def test_a_domain_error_becomes_its_problem() -> None:
    response = call("POST", "/things", "{}", **{"content-type": "application/json"})
    assert response["statusCode"] == 409
    assert problem(response)["type"] == "urn:catalog:problem:conflict"


def test_an_unexpected_error_is_500_without_internals() -> None:
    response = call("GET", "/boom")
    assert response["statusCode"] == 500
    assert problem(response)["type"] == "urn:catalog:problem:internal-error"
    assert "catalog-prod" not in response["body"] and "123456789012" not in response["body"]


def test_a_wrong_method_is_405_with_allow_before_the_media_type_is_checked() -> None:
    response = call("DELETE", "/things")
    assert response["statusCode"] == 405
    assert header(response, "Allow") == "GET, POST, OPTIONS"


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
def test_a_body_that_is_not_json_is_415(content_type: str) -> None:
    response = call("POST", "/things", "x", **{"content-type": content_type})
    assert response["statusCode"] == 415


def test_a_body_over_the_limit_is_413() -> None:
    response = call(
        "POST", "/things", "x" * (1024 * 1024 + 1), **{"content-type": "application/json"}
    )
    assert response["statusCode"] == 413


def test_an_unknown_path_is_404() -> None:
    assert call("GET", "/nothing")["statusCode"] == 404


def test_preflight_lists_the_path_methods() -> None:
    response = call("OPTIONS", "/things", Origin="https://a.example")
    assert response["statusCode"] == 204
    assert header(response, "Access-Control-Allow-Methods") == "GET, POST, OPTIONS"


def test_every_response_carries_security_headers() -> None:
    for response in (call("GET", "/things"), call("GET", "/nothing"), call("GET", "/boom")):
        assert header(response, "X-Content-Type-Options") == "nosniff"
        assert header(response, "Strict-Transport-Security").startswith("max-age=")


def test_authenticated_responses_are_never_stored() -> None:
    response = call("GET", "/things", Authorization="Bearer token")
    assert header(response, "Cache-Control") == "no-store"


@pytest.mark.parametrize("name", ["Authorization", "authorization", "AUTHORIZATION"])
def test_a_route_s_public_cache_control_is_kept_only_for_anonymous_callers(name: str) -> None:
    # The edge cache (infra/stack/cdn.py) stores what the API marks public; it keeps
    # Authorization in its key but relies on this for never storing a signed-in answer.
    from catalog.http.pipeline import add_headers

    def answer() -> dict[str, Any]:
        return {"statusCode": 200, "multiValueHeaders": {"Cache-Control": ["public, max-age=10"]}}

    # Given a route's answer marked public
    anonymous, signed_in = answer(), answer()
    # When it answers an anonymous request and one carrying Authorization (any case)
    add_headers(anonymous, {"headers": {}})
    add_headers(signed_in, {"headers": {name: "Bearer token"}})
    # Then the anonymous answer stays public, and the signed-in one is never stored
    assert anonymous["multiValueHeaders"]["Cache-Control"] == ["public, max-age=10"]
    assert signed_in["multiValueHeaders"]["Cache-Control"] == ["no-store"]


@pytest.mark.parametrize(
    ("called", "headers", "expected"),
    [
        ("/where", {}, "/things/1"),  # a custom domain: no stage in the URL
        ("/prod/where", {}, "/prod/things/1"),  # the default endpoint: the stage first
        ("/prod/where", {"x-catalog-edge": "x"}, "/things/1"),  # CloudFront maps / to /prod
    ],
)
def test_locations_name_the_path_the_client_called(
    called: str, headers: dict[str, str], expected: str
) -> None:
    # Given a request as API Gateway hands it on, called at `called`
    event = {
        "httpMethod": "GET",
        "path": "/where",
        "resource": "/where",
        "headers": headers,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {"requestId": "req-1", "path": called, "stage": "prod"},
    }
    # When the operation builds a location
    response = handler(event, Context())
    # Then it is relative to what the client called
    assert json.loads(response["body"]) == {"location": expected}


def test_a_response_that_breaks_its_schema_is_a_500_not_a_client_error() -> None:
    response = call("GET", "/wrong-shape")
    assert response["statusCode"] == 500
    assert problem(response)["type"] == "urn:catalog:problem:internal-error"
    assert "not a mapping" not in response["body"]


class SpyLogger:
    """Records which level each message was logged at."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def __getattr__(self, level: str) -> Any:
        return lambda message, *args, **kwargs: self.lines.append((level, str(message)))


@pytest.mark.parametrize(("path", "level"), [("/things", "debug"), ("/boom", "info")])
def test_the_request_line_is_debug_unless_the_server_failed(
    monkeypatch: pytest.MonkeyPatch, path: str, level: str
) -> None:
    # API Gateway's access log records every request; the function repeats it for 5xx only.
    spy = SpyLogger()
    monkeypatch.setattr("catalog.http.pipeline.logger", spy)
    call("GET", path)
    assert (level, "request served") in spy.lines
    assert ("info" if level == "debug" else "debug", "request served") not in spy.lines


def test_log_lines_carry_the_gateway_request_id_as_correlation_id() -> None:
    from catalog.core.observability import logger

    for request_id in ("req-a", "req-b"):
        event = {
            "httpMethod": "GET",
            "path": "/things",
            "resource": "/things",
            "headers": {},
            "body": None,
            "requestContext": {"requestId": request_id, "path": "/things", "stage": "test"},
        }
        assert handler(event, Context())["statusCode"] == 200
        assert logger.get_correlation_id() == request_id


def test_an_operation_must_name_a_route_of_the_function() -> None:
    # Given a function whose one route is GET /things
    api = Api([Route("GET", "/things", "test", "list_things", PUBLIC)])
    # When a handler function that no route names is bound
    # Then the binding fails at init, naming it
    with pytest.raises(LookupError, match="list_thing"):

        @api.operation()
        def list_thing() -> dict[str, Any]:
            return {}


def test_a_route_without_an_operation_fails_the_init() -> None:
    # Given a function with two routes, one of them served
    api = Api(
        [
            Route("GET", "/things", "test", "list_things", PUBLIC),
            Route("POST", "/things", "test", "create_thing", PUBLIC),
        ]
    )

    @api.operation()
    def list_things() -> dict[str, Any]:
        return {}

    # When its entry point is built, then it refuses, naming the unserved operation
    with pytest.raises(LookupError, match="create_thing"):
        api.handler()


def test_a_bound_operation_serves_its_route_method_and_path() -> None:
    # Given a route with a path parameter, bound to its operation
    api = Api([Route("GET", "/things/{id}", "test", "get_thing", PUBLIC)])

    @api.operation()
    def get_thing(id: str) -> dict[str, Any]:
        return {"id": id}

    served = api.handler()
    event = {
        "httpMethod": "GET",
        "path": "/things/42",
        "resource": "/things/{id}",
        "pathParameters": {"id": "42"},
        "headers": {},
        "body": None,
        "requestContext": {"requestId": "req-1", "path": "/things/42", "stage": "test"},
    }
    # When it is called, then the operation answers with the path's parameter
    response = served(event, Context())
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"id": "42"}
