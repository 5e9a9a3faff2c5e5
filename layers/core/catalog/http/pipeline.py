"""The stages every API request passes, in API Gateway's order, around the function's routes.

1. route: an unknown path is 404; an OPTIONS request is a CORS preflight (answered here); a
   method the path does not serve is 405 with `Allow`; a deprecated route past its sunset,
   or a request sending a deprecated field past its own, is 410 Gone (before access: what
   is retired is gone for everyone);
2. authorize: the caller, from the authorizer's claims or a bearer token verified here, as
   their access record lets them act (catalog.identity.revocation), and the route's access
   rule (401, 403);
3. limits: the body's size (413) and media type (415);
4. resolve: the route itself (Powertools: validation, the handler, its errors);
5. headers: security and CORS headers on every answer, errors included; `Deprecation`,
   `Sunset` and successor `Link` on each answer of a deprecated route, or to a request
   sending a deprecated field.

An error in any stage is answered by the one problem renderer (catalog.http.problems). The
stages read only the function's topology routes: nothing of Powertools' internals.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from catalog.core.errors import (
    CatalogError,
    Forbidden,
    Gone,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from catalog.core.failures import log_unexpected
from catalog.core.observability import logger
from catalog.core.settings import settings
from catalog.http.problems import internal_error, problem
from catalog.http.routes import Deprecation, Route, deprecation_headers
from catalog.identity.access import Access
from catalog.identity.principal import (
    Principal,
    bearer_token,
    principal_from_claims,
    verify_access_token,
)
from catalog.identity.repository import revocations

JSON = "application/json"
METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
CORS_ALLOW_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key"
CORS_EXPOSE_HEADERS = "ETag, Location, Idempotent-Replayed, Deprecation, Sunset, Link"
_JSON_MEDIA_TYPE = re.compile(r"^application/json\s*(;.*)?$", re.IGNORECASE)


class Pipeline:
    """One function's request pipeline: its routes' methods and access rules, and its resolver."""

    def __init__(self, app: APIGatewayRestResolver, routes: Iterable[Route]) -> None:
        self.app = app
        methods: dict[str, set[str]] = {}
        self.rules: dict[tuple[str, str], Access] = {}
        # Only routes with something deprecated: for the others, one failed look-up.
        self.deprecations: dict[
            tuple[str, str], tuple[Deprecation | None, tuple[Deprecation, ...]]
        ] = {}
        for route in routes:
            methods.setdefault(route.path, set()).add(route.method)
            self.rules[(route.method, route.path)] = route.access
            if route.deprecated is not None or route.deprecated_fields:
                self.deprecations[(route.method, route.path)] = (
                    route.deprecated,
                    route.deprecated_fields,
                )
        self.methods = {path: sorted(names) for path, names in methods.items()}

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.debug({"request": event})  # secrets are masked by the logger's filter
        principal: Principal | None = None
        applying: list[Deprecation] = []
        try:
            method = str(event.get("httpMethod", "")).upper()
            resource = str(event.get("resource", ""))
            allowed = self.route(method, resource)
            if method == "OPTIONS":
                response = as_proxy(preflight(allowed))
            else:
                declared = self.deprecations.get((method, resource))
                if declared is not None:
                    applying = applying_deprecations(event, *declared)
                    retire(applying)
                principal = self.authorize(event, method, resource)
                check_limits(event, method)
                self.app.append_context(principal=principal)  # type: ignore[no-untyped-call]
                response = self.app.resolve(event, context)
        except CatalogError as error:
            response = as_proxy(problem(error))
        except Exception as error:
            route = f"{event.get('httpMethod')} {event.get('resource')}"
            log_unexpected("unhandled error outside the resolver", error, route)
            response = as_proxy(problem(internal_error()))
        add_headers(response, event)
        if applying:
            add_deprecation(response, event, applying)
        _log_request(event, response, principal)
        return response

    def route(self, method: str, resource: str) -> list[str]:
        """The methods the path serves; raises 404 (unknown path) or 405 (other method)."""
        allowed = self.methods.get(resource)
        if allowed is None:
            raise NotFound("No resource matches this path.")
        if method != "OPTIONS" and method not in allowed:
            raise MethodNotAllowed(f"{method} is not allowed here.", allowed=[*allowed, "OPTIONS"])
        return allowed

    def authorize(self, event: Mapping[str, Any], method: str, resource: str) -> Principal | None:
        """The caller (None: anonymous), as their access record lets them act (revoked
        sign-ins refused, demotions applied), once the route's access rule lets them in."""
        rule = self.rules[(method, resource)]
        principal = _principal(event)
        if principal is not None:
            principal = revocations()(principal)
        if not rule.public:
            if principal is None:
                raise Unauthorized("Sign in and send 'Authorization: Bearer <access token>'.")
            if not rule.allows(principal.role):
                raise Forbidden("Your role does not allow this.")
        return principal


def applying_deprecations(
    event: Mapping[str, Any], route: Deprecation | None, fields: tuple[Deprecation, ...]
) -> list[Deprecation]:
    """The route's deprecation, and those of the deprecated fields the request sends."""
    applying = [route] if route is not None else []
    if fields:
        query = event.get("multiValueQueryStringParameters") or event.get("queryStringParameters")
        sent = {f"query.{name}" for name in query or {}}
        sent |= {f"body.{key}" for key in _body_keys(event)}
        applying += [field for field in fields if field.field in sent]
    return applying


def _body_keys(event: Mapping[str, Any]) -> list[str]:
    """The top-level keys of a JSON object body; none for anything else (the resolver
    answers a body that is not JSON)."""
    body = event.get("body")
    if not body:
        return []
    try:
        text = base64.b64decode(body) if event.get("isBase64Encoded") else body
        parsed = json.loads(text)
    except (ValueError, binascii.Error):
        return []
    return list(parsed) if isinstance(parsed, dict) else []


def retire(applying: list[Deprecation]) -> None:
    """410 Gone when any of them is past its sunset."""
    now = time.time()
    for deprecation in applying:
        if now >= deprecation.sunset_at:
            what = f"The field '{deprecation.name}'" if deprecation.field else "This operation"
            successor = f" Use {deprecation.successor}." if deprecation.successor else ""
            sunset = deprecation.sunset.isoformat()
            raise Gone(f"{what} was retired on {sunset}.{successor}")


def add_deprecation(
    response: dict[str, Any], event: Mapping[str, Any], applying: list[Deprecation]
) -> None:
    """The deprecations' headers, beside (never instead of) the answer's own links."""
    context = event.get("requestContext") or {}
    called, path = str(context.get("path") or ""), str(event.get("path") or "")
    prefix = called[: -len(path)] if path and called.endswith(path) else ""
    multi = response.setdefault("multiValueHeaders", {})
    for name, values in deprecation_headers(applying, prefix).items():
        multi.setdefault(name, []).extend(values)


def _principal(event: Mapping[str, Any]) -> Principal | None:
    """The caller: from the authorizer's claims, else from a bearer token verified here."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims")
    if claims:
        return principal_from_claims(claims)
    token = bearer_token(event.get("headers"))
    return principal_from_claims(verify_access_token(token)) if token else None


def check_limits(event: Mapping[str, Any], method: str) -> None:
    """The body's size (413) and, when a method carries one, its media type (415)."""
    limit = settings().max_body_bytes
    if _body_size(event) > limit:
        raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
    if method in METHODS_WITH_BODY and event.get("body"):
        content_type = _header(event, "content-type") or ""
        if not _JSON_MEDIA_TYPE.match(content_type.strip()):
            raise UnsupportedMediaType(f"Send the body as {JSON}.")


def _body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return len(base64.b64decode(body, validate=True))
        except (binascii.Error, ValueError):
            return len(body)
    return len(body.encode("utf-8", "surrogatepass"))


def preflight(allowed: list[str]) -> Response[str]:
    """The answer to a CORS preflight: the path's methods and the headers clients may send."""
    return Response(
        status_code=204,
        body="",
        headers={
            "Access-Control-Allow-Methods": ", ".join([*allowed, "OPTIONS"]),
            "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
            "Access-Control-Max-Age": "600",
        },
    )


def as_proxy(response: Response[str]) -> dict[str, Any]:
    """A response as a REST proxy result, for answers given outside the resolver."""
    headers = {
        name: [str(v) for v in value] if isinstance(value, list) else [str(value)]
        for name, value in response.headers.items()
    }
    return {
        "statusCode": response.status_code,
        "multiValueHeaders": headers,
        "body": response.body or "",
        "isBase64Encoded": False,
    }


def _header(event: Mapping[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return str(value)
    return None


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


def add_headers(response: dict[str, Any], event: Mapping[str, Any]) -> None:
    """Stage 5: the security and CORS headers, merged into the proxy result's own."""
    multi: dict[str, list[str]] = dict(response.get("multiValueHeaders") or {})
    for name, value in (response.pop("headers", None) or {}).items():
        multi.setdefault(name, [value])
    extra = _response_headers(event, {name: values[0] for name, values in multi.items()})
    lowered = {name.lower() for name in extra}
    multi = {name: values for name, values in multi.items() if name.lower() not in lowered}
    multi.update({name: [value] for name, value in extra.items()})
    response["multiValueHeaders"] = multi


def _log_request(
    event: Mapping[str, Any], response: Mapping[str, Any], principal: Principal | None
) -> None:
    # API Gateway's JSON access log records every request (method, resource, status,
    # latency, the authorizer's principal); this line repeats it with the user a handler
    # verified itself. Formatting it is a large share of a warm request, so it is written
    # for server errors, and otherwise at DEBUG (POWERTOOLS_LOG_LEVEL or
    # POWERTOOLS_LOGGER_SAMPLE_RATE turn it on).
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
