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
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
    ResponseValidationError,
)

from catalog.core import coldstart
from catalog.core.errors import (
    PROBLEM_CONTENT_TYPE,
    CatalogError,
    Forbidden,
    InternalError,
    MalformedJson,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from catalog.core.jsonutil import dumps, loads_request
from catalog.core.observability import Handler, instrument_api, logger
from catalog.core.settings import settings
from catalog.identity.principal import (
    Principal,
    bearer_token,
    principal_from_claims,
    verify_access_token,
)

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
        # A response breaking its own schema is our fault: raise it as such (-> 500).
        response_validation_error_http_code=500,
        serializer=dumps,
        json_body_deserializer=loads_request,
    )

    @app.exception_handler(CatalogError)
    def _catalog_error(exc: CatalogError) -> Response[str]:
        return problem_response(exc)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response[str]:
        return problem_response(UnsupportedMediaType(f"Send the body as {JSON}."))

    @app.exception_handler(ResponseValidationError)
    def _bad_response(exc: ResponseValidationError) -> Response[str]:
        # Our own answer broke its declared schema: a server fault, never the client's.
        logger.error("response failed its schema", extra={"errors": exc.errors()})
        return problem_response(_internal_error())

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


class RouteRule(Protocol):
    """A route as the topology declares it: method, API Gateway path template, access."""

    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def access(self) -> AccessRule: ...


class AccessRule(Protocol):
    @property
    def public(self) -> bool: ...
    def allows(self, role: str | None) -> bool: ...


def _principal(event: Mapping[str, Any]) -> Principal | None:
    """The caller: from the authorizer's claims, else from a bearer token verified here."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims")
    if claims:
        return principal_from_claims(claims)
    token = bearer_token(event.get("headers"))
    return principal_from_claims(verify_access_token(token)) if token else None


def _precheck(
    event: Mapping[str, Any], routes: RouteTable, rules: Mapping[tuple[str, str], AccessRule]
) -> dict[str, Any] | Principal | None:
    """Answer what the gateway and authorizer would answer before any route runs, in their
    order: routing, method, authentication and role, then size and media type.

    Returns a ready response, or the caller (a `Principal`, or None when anonymous).
    """
    method = str(event.get("httpMethod", "")).upper()
    path = str(event.get("path", ""))
    allowed = routes.allowed(path)
    if not allowed:
        raise NotFound("No resource matches this path.")
    if method == "OPTIONS":
        return _preflight(event, allowed)
    if method not in allowed:
        raise MethodNotAllowed(f"{method} is not allowed here.", allowed=[*allowed, "OPTIONS"])
    rule = rules.get((method, str(event.get("resource", ""))))
    principal = _principal(event)
    if rule is None or not rule.public:
        if principal is None:
            raise Unauthorized("Sign in and send 'Authorization: Bearer <access token>'.")
        if rule is None or not rule.allows(principal.role):
            raise Forbidden("Your role does not allow this.")
    limit = settings().max_body_bytes
    if _body_size(event) > limit:
        raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
    if method in METHODS_WITH_BODY and event.get("body"):
        content_type = _header(event, "content-type") or ""
        if not _JSON_MEDIA_TYPE.match(content_type.strip()):
            raise UnsupportedMediaType(f"Send the body as {JSON}.")
    return principal


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


def api_handler(app: APIGatewayRestResolver, routes: Iterable[RouteRule]) -> Handler:
    """The Lambda entry point for a resolver serving `routes` (the function's topology
    routes): checks, access rules, routing, headers, and no leaked errors.

    Called last in a handler module, it also ends the function's init (`coldstart.end`)."""
    rules = {(route.method, route.path): route.access for route in routes}
    table: list[RouteTable] = []

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.debug({"request": event})  # secrets are masked by the logger's filter
        principal: Principal | None = None
        try:
            if not table:
                table.append(RouteTable(app))
            checked = _precheck(event, table[0], rules)
            if isinstance(checked, dict):
                response = checked
            else:
                principal = checked
                app.append_context(principal=checked)  # type: ignore[no-untyped-call]
                response = app.resolve(event, context)
        except CatalogError as error:
            response = _proxy_problem(error)
        except Exception:
            logger.exception("unhandled error outside the resolver")
            response = _proxy_problem(_internal_error())
        _add_headers(response, event)
        # API Gateway's JSON access log already records every request (method, resource,
        # status, latency, the authorizer's principal); this line repeats it with the user a
        # handler verified itself. Formatting it took ~45% of a warm request (make bench),
        # so it is written for server errors, and otherwise at DEBUG: POWERTOOLS_LOG_LEVEL
        # or POWERTOOLS_LOGGER_SAMPLE_RATE turn it on.
        status = int(response.get("statusCode") or 500)
        (logger.info if status >= 500 else logger.debug)(
            "request served",
            extra={
                "http_method": event.get("httpMethod"),
                "resource": event.get("resource"),
                "status": status,
                "user": principal.sub if principal else None,
            },
        )
        return response

    instrumented = instrument_api(handle)
    coldstart.end()  # the handler module's last statement: its init is over
    return instrumented


def caller(app: APIGatewayRestResolver) -> Principal | None:
    """The principal of the request being served (None: anonymous)."""
    principal: Principal | None = app.context.get("principal")
    return principal


def signed_in(app: APIGatewayRestResolver) -> Principal:
    """The caller of a route whose access rule requires signing in."""
    principal = caller(app)
    if principal is None:  # the access rules make this unreachable; fail closed anyway
        raise Unauthorized("Sign in first.")
    return principal


def location(app: APIGatewayRestResolver, resource_path: str) -> str:
    """`resource_path` as the client must call it: behind a stage or base path when there is one.

    API Gateway's `path` omits the stage (`/v1/...`) while `requestContext.path` is what the
    client called (`/prod/v1/...` on the default endpoint, `/v1/...` on a custom domain).
    """
    event = app.current_event
    called = str(event.request_context.path or "")
    prefix = called[: -len(event.path)] if event.path and called.endswith(event.path) else ""
    return prefix + resource_path
