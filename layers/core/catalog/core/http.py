"""HTTP plumbing shared by every API function: the resolver, problem+json, headers, limits.

`make_resolver()` builds a Powertools REST resolver with strict JSON parsing and the one
exception -> problem mapping; `api_handler(app)` turns it into the Lambda entry point that
also answers 404/405/413/415 and CORS preflight before any route runs, and adds the
security and CORS headers to every response, errors included.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from catalog.core.errors import (
    PROBLEM_CONTENT_TYPE,
    CatalogError,
    InternalError,
    MalformedJson,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from catalog.core.jsonutil import dumps, loads_request
from catalog.core.observability import Handler, instrument_api, logger
from catalog.core.settings import settings

JSON = "application/json"
METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
CORS_ALLOW_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key"
CORS_EXPOSE_HEADERS = "ETag, Location, Idempotent-Replayed"
_JSON_MEDIA_TYPE = re.compile(r"^application/json\s*(;.*)?$", re.IGNORECASE)


# --- problem responses --------------------------------------------------------------------


def problem_response(error: CatalogError) -> Response[str]:
    return Response(
        status_code=error.status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=dumps(error.to_problem()),
        headers=error.headers(),
    )


def _proxy_problem(error: CatalogError) -> dict[str, Any]:
    """A problem as a raw REST proxy result, for answers given before the resolver runs."""
    headers = {"Content-Type": [PROBLEM_CONTENT_TYPE]}
    headers.update({name: [value] for name, value in error.headers().items()})
    return {
        "statusCode": error.status,
        "multiValueHeaders": headers,
        "body": dumps(error.to_problem()),
        "isBase64Encoded": False,
    }


def _validation_problem(exc: RequestValidationError) -> CatalogError:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next((e.get("ctx", {}).get("error") for e in errors), None)
        return MalformedJson(f"The request body is not valid JSON: {reason or 'parse error'}.")
    return ValidationFailed(
        "The request has invalid or missing fields.", errors=[_field_error(e) for e in errors]
    )


def _field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """One pydantic error as `{pointer|parameter, in, detail, type}`, without echoing input."""
    location = [str(part) for part in error.get("loc", ())]
    where = location[0] if location else "body"
    rest = location[1:]
    item: dict[str, Any] = {"in": where}
    if where == "body":
        item["pointer"] = "#/" + "/".join(rest)
    else:
        item["parameter"] = rest[0] if rest else ""
    item["detail"] = str(error.get("msg", "invalid value"))
    item["type"] = str(error.get("type", "value_error"))
    return item


def make_resolver() -> APIGatewayRestResolver:
    """A REST resolver with validation, strict JSON and the one error mapping."""
    app = APIGatewayRestResolver(
        enable_validation=True,
        serializer=dumps,
        json_body_deserializer=loads_request,
    )

    @app.exception_handler(CatalogError)
    def _catalog_error(exc: CatalogError) -> Response[str]:
        return problem_response(exc)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response[str]:
        return problem_response(UnsupportedMediaType(f"Send the body as {JSON}."))

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        return problem_response(_validation_problem(exc))

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return problem_response(_internal_error())

    @app.not_found
    def _not_found(exc: Exception) -> Response[str]:
        return problem_response(NotFound("No resource matches this path."))

    return app


def _internal_error() -> InternalError:
    return InternalError("The server failed to handle this request; it has been logged.")


# --- routing knowledge --------------------------------------------------------------------


class RouteTable:
    """Which methods the resolver serves on which paths, for 404 vs 405 and preflight."""

    def __init__(self, app: APIGatewayRestResolver) -> None:
        # Powertools keeps its routes in these two lists; pinned version, covered by tests.
        routes = app._static_routes + app._dynamic_routes
        self._rules: list[tuple[re.Pattern[str], str]] = [(r.rule, r.method) for r in routes]

    def allowed(self, path: str) -> list[str]:
        methods = {method for rule, method in self._rules if rule.match(path)}
        return sorted(methods)


# --- the entry point ----------------------------------------------------------------------


def _header(event: Mapping[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


def _body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return len(base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            return len(body)
    return len(body.encode("utf-8", "surrogatepass"))


def _precheck(event: Mapping[str, Any], routes: RouteTable) -> dict[str, Any] | None:
    """Answer what a gateway would answer before any route runs, in HTTP's order."""
    limit = settings().max_body_bytes
    if _body_size(event) > limit:
        return _proxy_problem(PayloadTooLarge(f"The request body exceeds {limit} bytes."))
    method = str(event.get("httpMethod", "")).upper()
    path = str(event.get("path", ""))
    allowed = routes.allowed(path)
    if not allowed:
        return _proxy_problem(NotFound("No resource matches this path."))
    if method == "OPTIONS":
        return _preflight(event, allowed)
    if method not in allowed:
        error = MethodNotAllowed(f"{method} is not allowed here.", allowed=[*allowed, "OPTIONS"])
        return _proxy_problem(error)
    if method in METHODS_WITH_BODY and event.get("body"):
        content_type = _header(event, "content-type") or ""
        if not _JSON_MEDIA_TYPE.match(content_type.strip()):
            return _proxy_problem(UnsupportedMediaType(f"Send the body as {JSON}."))
    return None


def _preflight(event: Mapping[str, Any], allowed: list[str]) -> dict[str, Any]:
    headers = {
        "Access-Control-Allow-Methods": [", ".join([*allowed, "OPTIONS"])],
        "Access-Control-Allow-Headers": [CORS_ALLOW_HEADERS],
        "Access-Control-Max-Age": ["600"],
    }
    return {"statusCode": 204, "multiValueHeaders": headers, "body": "", "isBase64Encoded": False}


def _response_headers(event: Mapping[str, Any], route_headers: Mapping[str, str]) -> dict[str, str]:
    """Security and CORS headers for every response; a route's own headers win, except
    that an authenticated response is never cacheable."""
    config = settings()
    headers = {
        "Strict-Transport-Security": f"max-age={config.hsts_max_age}; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
    route_set = {name.lower() for name in route_headers}
    headers = {name: value for name, value in headers.items() if name.lower() not in route_set}
    if _header(event, "authorization") is not None:
        headers["Cache-Control"] = "no-store"
    origin = _header(event, "origin")
    origins = config.cors_allow_origins
    if origin and ("*" in origins or origin in origins):
        headers["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
        headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
        headers["Vary"] = "Origin"
    return headers


def _add_headers(response: dict[str, Any], event: Mapping[str, Any]) -> None:
    multi: dict[str, list[str]] = dict(response.get("multiValueHeaders") or {})
    for name, value in (response.pop("headers", None) or {}).items():
        multi.setdefault(name, [value])
    extra = _response_headers(event, {name: values[0] for name, values in multi.items()})
    lowered = {name.lower() for name in extra}
    multi = {name: values for name, values in multi.items() if name.lower() not in lowered}
    multi.update({name: [value] for name, value in extra.items()})
    response["multiValueHeaders"] = multi


def api_handler(app: APIGatewayRestResolver) -> Handler:
    """The Lambda entry point for a resolver: checks, routing, headers, no leaked errors."""
    table: list[RouteTable] = []

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            if not table:
                table.append(RouteTable(app))
            response = _precheck(event, table[0]) or app.resolve(event, context)
        except Exception:
            logger.exception("unhandled error outside the resolver")
            response = _proxy_problem(_internal_error())
        _add_headers(response, event)
        return response

    return instrument_api(handle)


def location(app: APIGatewayRestResolver, resource_path: str) -> str:
    """`resource_path` as the client must call it: behind a stage or base path when there is one.

    API Gateway's `path` omits the stage (`/v1/...`) while `requestContext.path` is what the
    client called (`/prod/v1/...` on the default endpoint, `/v1/...` on a custom domain).
    """
    event = app.current_event
    called = str(event.request_context.path or "")
    prefix = called[: -len(event.path)] if event.path and called.endswith(event.path) else ""
    return prefix + resource_path
