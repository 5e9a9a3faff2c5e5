"""Deprecated routes (catalog.http.routes.Deprecation): the headers of RFC 9745 and RFC 8594
until the sunset, 410 Gone from then on, and the marks in the OpenAPI document."""

from __future__ import annotations

import json
from datetime import date, timedelta
from email.utils import formatdate
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from catalog.http import pipeline
from catalog.http.api import Api
from catalog.http.routes import Deprecation, Route
from catalog.identity.access import PUBLIC, SIGNED_IN
from infra.openapi import mark_deprecations

RETIRING = Deprecation(since=date(2026, 6, 1), sunset=date(2027, 3, 1), successor="/v2/things")
# Fields on their way out: a query parameter, and a key of a JSON body
MODE = Deprecation(since=date(2026, 9, 1), sunset=date(2027, 1, 1), field="query.mode")
COLOUR = Deprecation(
    since=date(2026, 10, 1), sunset=date(2027, 6, 1), field="body.colour", successor="/v2/items"
)


class ItemCreate(BaseModel):
    name: str
    colour: str | None = None


app = Api(
    [
        Route("GET", "/v1/things", "test", "list_things", PUBLIC, deprecated=RETIRING),
        Route("POST", "/v1/things", "test", "create_thing", SIGNED_IN, deprecated=RETIRING),
        Route("GET", "/v1/others", "test", "list_others", PUBLIC),
        Route("GET", "/v1/items", "test", "list_items", PUBLIC, deprecated_fields=(MODE,)),
        Route("POST", "/v1/items", "test", "create_item", PUBLIC, deprecated_fields=(COLOUR,)),
    ]
)


@app.operation()
def list_items(mode: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    return {"mode": mode}


@app.operation()
def create_item(item: ItemCreate) -> dict[str, Any]:
    return item.model_dump()


@app.operation()
def list_things() -> dict[str, Any]:
    return {"items": []}


@app.operation()
def create_thing() -> dict[str, Any]:
    return {}


@app.operation()
def list_others() -> dict[str, Any]:
    return {"items": []}


handler = app.handler()


class Context:
    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "req-1"


def call(
    method: str,
    path: str,
    *,
    called: str | None = None,
    query: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    event = {
        "httpMethod": method,
        "path": path,
        "resource": path,
        "headers": {"Content-Type": "application/json"} if body is not None else {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
        "requestContext": {"requestId": "req-1", "path": called or path, "stage": "test"},
    }
    response: dict[str, Any] = handler(event, Context())
    return response


def headers(response: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = response["multiValueHeaders"]
    return found


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The pipeline's clock, set to a moment in seconds."""

    def set_to(seconds: float) -> None:
        monkeypatch.setattr(pipeline.time, "time", lambda: seconds)

    return set_to


def test_a_deprecated_route_says_so_until_its_sunset(clock: Any) -> None:
    # Given a route deprecated since 2026-06-01 with a sunset on 2027-03-01, a second before it
    clock(RETIRING.sunset_at - 1)
    # When it is called (through a stage: the client's path is /prod/v1/things)
    response = call("GET", "/v1/things", called="/prod/v1/things")
    # Then it answers as usual, with RFC 9745's and RFC 8594's headers and the successor
    assert response["statusCode"] == 200
    sent = headers(response)
    assert sent["Deprecation"] == ["@1780272000"]  # 2026-06-01T00:00:00Z
    assert sent["Sunset"] == ["Mon, 01 Mar 2027 00:00:00 GMT"]
    assert sent["Link"] == ['</prod/v2/things>; rel="successor-version"']
    # And a browser may read them cross-origin
    assert {"Deprecation", "Sunset", "Link"} <= set(pipeline.CORS_EXPOSE_HEADERS.split(", "))


def test_its_errors_carry_the_headers_too_and_other_routes_none(clock: Any) -> None:
    clock(RETIRING.sunset_at - 86400)
    refused = call("POST", "/v1/things")  # no token: 401
    assert refused["statusCode"] == 401
    assert headers(refused)["Deprecation"] == ["@1780272000"]
    other = call("GET", "/v1/others")
    assert other["statusCode"] == 200
    assert not {"Deprecation", "Sunset", "Link"} & set(headers(other))


def test_from_its_sunset_on_the_route_is_gone_for_everyone(clock: Any) -> None:
    # Given the moment of the sunset
    clock(RETIRING.sunset_at)
    # When the route is called, anonymously even where it needs a token
    for method in ("GET", "POST"):
        response = call(method, "/v1/things")
        # Then it is 410 Gone problem+json naming the successor, with the same headers
        assert response["statusCode"] == 410
        problem = json.loads(response["body"])
        assert problem["type"] == "urn:catalog:problem:gone"
        assert "/v2/things" in problem["detail"]
        assert headers(response)["Link"] == ['</v2/things>; rel="successor-version"']
    # And a preflight still lists the path's methods (CORS works; the answer is the 410)
    assert call("OPTIONS", "/v1/things")["statusCode"] == 204


@pytest.mark.parametrize(
    "day", [date(2027, 3, 1), date(2026, 12, 31), date(2028, 2, 29), date(1999, 1, 4)]
)
def test_the_sunset_is_an_http_date(day: date) -> None:
    deprecation = Deprecation(since=day - timedelta(days=1), sunset=day)
    assert deprecation.headers()["Sunset"] == [formatdate(deprecation.sunset_at, usegmt=True)]
    assert "Link" not in deprecation.headers()


def test_a_deprecation_is_declared_sensibly() -> None:
    with pytest.raises(ValueError, match="after"):
        Deprecation(since=date(2027, 1, 1), sunset=date(2027, 1, 1))
    with pytest.raises(ValueError, match="path"):
        Deprecation(since=date(2027, 1, 1), sunset=date(2027, 6, 1), successor="v2/things")


def test_the_document_marks_a_deprecated_operation_with_its_sunset() -> None:
    # Given a document with a deprecated operation and another
    document: dict[str, Any] = {
        "paths": {"/v1/things": {"get": {}, "post": {}}, "/v1/others": {"get": {}}}
    }
    # When the routes' declarations are applied
    marked = mark_deprecations(document, app.routes)
    # Then the deprecated operations are marked, with their sunset and successor
    for method in ("get", "post"):
        operation = marked["paths"]["/v1/things"][method]
        assert operation["deprecated"] is True
        assert operation["x-sunset"] == "2027-03-01"
        assert operation["x-successor"] == "/v2/things"
    assert "deprecated" not in marked["paths"]["/v1/others"]["get"]


def test_a_deprecated_field_is_announced_only_to_requests_that_send_it(clock: Any) -> None:
    # Given a route whose query parameter `mode` and another whose body key `colour` are
    # deprecated, before either sunset
    clock(MODE.sunset_at - 1)
    # When requests leave them out, then their answers say nothing of deprecation
    plain = [call("GET", "/v1/items"), call("POST", "/v1/items", body={"name": "a"})]
    for response in plain:
        assert response["statusCode"] == 200, response
        assert "Deprecation" not in headers(response)
    # When requests send them
    with_mode = call("GET", "/v1/items", query={"mode": "fast"})
    with_colour = call("POST", "/v1/items", body={"name": "a", "colour": "red"})
    # Then they are served, each answer carrying its field's dates (and successor)
    assert with_mode["statusCode"] == 200 and json.loads(with_mode["body"]) == {"mode": "fast"}
    assert headers(with_mode)["Deprecation"] == [f"@{(MODE.since - date(1970, 1, 1)).days * 86400}"]
    assert headers(with_mode)["Sunset"] == ["Fri, 01 Jan 2027 00:00:00 GMT"]
    assert "Link" not in headers(with_mode)
    assert with_colour["statusCode"] == 200
    assert headers(with_colour)["Sunset"] == ["Tue, 01 Jun 2027 00:00:00 GMT"]
    assert headers(with_colour)["Link"] == ['</v2/items>; rel="successor-version"']


def test_a_deprecated_field_past_its_sunset_is_gone_the_rest_of_the_route_served(
    clock: Any,
) -> None:
    # Given the moment the `mode` parameter's sunset comes
    clock(MODE.sunset_at)
    # When a request sends it, then it is 410 Gone naming the field
    response = call("GET", "/v1/items", query={"mode": "fast"})
    assert response["statusCode"] == 410
    assert "'mode'" in json.loads(response["body"])["detail"]
    # And without it the route is served as before
    assert call("GET", "/v1/items")["statusCode"] == 200


def test_the_document_marks_deprecated_fields_where_it_describes_them() -> None:
    # Given the generated document of the routes
    document = json.loads(app.get_openapi_json_schema())
    # When their declarations are applied
    marked = mark_deprecations(document, app.routes)
    # Then the query parameter and the body property are deprecated, with their sunsets
    (mode,) = [p for p in marked["paths"]["/v1/items"]["get"]["parameters"] if p["name"] == "mode"]
    assert mode["deprecated"] is True and mode["x-sunset"] == "2027-01-01"
    colour = marked["components"]["schemas"]["ItemCreate"]["properties"]["colour"]
    assert colour["deprecated"] is True and colour["x-successor"] == "/v2/items"
    assert "deprecated" not in marked["components"]["schemas"]["ItemCreate"]["properties"]["name"]
    assert "deprecated" not in marked["paths"]["/v1/items"]["post"]


def test_a_deprecated_field_the_document_lacks_fails_the_build() -> None:
    document = json.loads(app.get_openapi_json_schema())
    typo = Deprecation(since=date(2026, 9, 1), sunset=date(2027, 1, 1), field="query.mdoe")
    routes = (Route("GET", "/v1/items", "test", "list_items", PUBLIC, deprecated_fields=(typo,)),)
    with pytest.raises(LookupError, match=r"query\.mdoe"):
        mark_deprecations(document, routes)


def test_field_and_route_deprecations_go_where_they_belong() -> None:
    with pytest.raises(ValueError, match=r"query\.<name>"):
        Deprecation(since=date(2026, 9, 1), sunset=date(2027, 1, 1), field="header.x")
    with pytest.raises(ValueError, match="deprecated_fields"):
        Route("GET", "/v1/items", "test", "list_items", PUBLIC, deprecated=MODE)
    with pytest.raises(ValueError, match="names its field"):
        Route("GET", "/v1/items", "test", "list_items", PUBLIC, deprecated_fields=(RETIRING,))
