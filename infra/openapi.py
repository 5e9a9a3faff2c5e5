"""Generates the API's OpenAPI document from every function's resolver (`make openapi`).

The document is committed at `functions/meta/openapi.json`, served by `GET /v1/openapi.json`,
and a test fails when it no longer matches the handlers.

Powertools writes what each handler declares: its parameters and bodies, its own success and
error responses. What follows from the route itself is added here, from the same data that
drives the runtime (catalog.http.routes, catalog.identity.access, catalog.http.pipeline and
infra.gateway_responses), so that every status an operation can answer is documented:

- every operation: 401 (a bearer token was sent and is invalid, also on public routes: the
  functions verify it), 429 (API Gateway's throttles), 500 (a fault of ours), 502 and 504
  (API Gateway: the function failed or took too long);
- a route that some signed-in role may not call, or only on what it owns: 403;
- an operation with a body: 400 (not JSON), 413, 415 and 422; with parameters: 422;
- a function that administers the user pool (auth, users): 503, when Cognito is
  unreachable or throttles.

Every `cursor` parameter is stated as what the API issues (`catalog.core.cursor`: its
alphabet and length), which `decode_cursor` enforces with 400 invalid-cursor: a schema-valid
cursor can no longer make the URL exceed API Gateway's 10,240 characters (414).

Every error is `application/problem+json` with the one `Problem` schema, through the shared
`components/responses`. Security follows each route's access rule (public routes: a token
is optional). Summaries are the first line of the handler's docstring; examples come from
infra/openapi_examples.py; create operations link to what reads and changes what they made.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import warnings
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

from catalog.core.cursor import CURSOR_PATTERN, MAX_CURSOR_LENGTH
from catalog.core.errors import (
    PROBLEM_TYPES,
    BadGateway,
    BadRequest,
    CatalogError,
    Conflict,
    Forbidden,
    GatewayTimeout,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
)
from catalog.http.problems import internal_error
from catalog.http.routes import Deprecation, Route
from catalog.identity.access import ROLES, Access
from infra import topology

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "functions" / "meta" / "openapi.json"
PROBLEM = "application/problem+json"
# Semantic versioning of the contract: a major is a path prefix (/v1), a minor adds, a patch
# words. Record each release in CHANGELOG.md and copy the document to api/openapi.v<major>.json.
VERSION = "1.1.2"

DESCRIPTION = """\
Products, prices and stock, their categories and images; accounts; webhooks and email
subscriptions.

**Authentication.** Sign in with `POST /v1/auth/login` and send its `access_token` as
`Authorization: Bearer <token>`. Public operations take a token too (an admin sees drafts);
a token that is sent must be valid, or the answer is 401.

**Errors** are `application/problem+json` (RFC 9457) with a stable `type`, one of:
{types}.

**Versions.** The major version is in the path (`/v1`); within it, changes only add.
"""

TAGS = [
    {"name": "products", "description": "The catalog: products, their prices, stock, batches"},
    {"name": "images", "description": "Product images: upload forms and removal"},
    {"name": "categories", "description": "The category tree products belong to"},
    {"name": "auth", "description": "Sign-up, sign-in, tokens and passwords"},
    {"name": "users", "description": "Profiles, account administration, email subscriptions"},
    {"name": "webhooks", "description": "Receivers of change events (admins)"},
    {"name": "meta", "description": "Health of the service"},
]

BEARER = "bearer"
SECURITY_SCHEMES = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Cognito access token: `access_token` from `POST /v1/auth/login`.",
    }
}

# Each status answered with a problem: the shared response's name, its description, and the
# problem a client then gets (rendered as the API renders it, for the example).
_INVALID = [
    {
        "in": "body",
        "pointer": "#/price",
        "detail": "Input should be greater than 0",
        "type": "greater_than",
    }
]
PROBLEM_RESPONSES: dict[int, tuple[str, str, CatalogError]] = {
    400: (
        "BadRequest",
        "The request cannot be read: a body that is not JSON, a bad cursor or code",
        BadRequest("The request body is not valid JSON: expecting value at line 1."),
    ),
    401: (
        "Unauthorized",
        "No valid bearer token: missing (where required), malformed, expired or revoked",
        Unauthorized("Sign in and send 'Authorization: Bearer <access token>'."),
    ),
    403: (
        "Forbidden",
        "The caller's role does not allow this, or the resource is not theirs",
        Forbidden("Your role does not allow this."),
    ),
    404: ("NotFound", "No such resource", NotFound("No product 01JC2X3Y4Z5A6B7C8D9E0F1G2H.")),
    409: (
        "Conflict",
        "The request conflicts with the current state (a taken SKU or slug...)",
        Conflict("A product with SKU MUG-ENAMEL-350 exists."),
    ),
    412: (
        "PreconditionFailed",
        "`If-Match` names another version than the current one",
        PreconditionFailed("The product has changed: its version is 4."),
    ),
    413: (
        "PayloadTooLarge",
        "The request body is larger than accepted",
        PayloadTooLarge(f"The request body exceeds {1024 * 1024} bytes."),
    ),
    415: (
        "UnsupportedMediaType",
        "The body is not sent as application/json",
        UnsupportedMediaType("Send the body as application/json."),
    ),
    422: (
        "ValidationFailed",
        "Fields or parameters break the rules; `errors` says which",
        ValidationFailed("The request has invalid or missing fields.", errors=_INVALID),
    ),
    429: (
        "TooManyRequests",
        "Throttled: slow down and retry later",
        TooManyRequests("Too many requests; slow down and retry later."),
    ),
    500: ("InternalError", "A fault of the service (logged)", internal_error()),
    502: (
        "BadGateway",
        "The function failed to answer; retry later",
        BadGateway("The service failed to answer; try again later."),
    ),
    503: (
        "ServiceUnavailable",
        "A service it depends on is unreachable or throttling; retry later",
        ServiceUnavailable("Too many attempts; wait a while and try again."),
    ),
    504: (
        "GatewayTimeout",
        "The function took too long to answer",
        GatewayTimeout("The service took too long to answer."),
    ),
}
EVERY_OPERATION = (401, 429, 500, 502, 504)
WITH_BODY = (400, 413, 415, 422)
# A function that administers the user pool: Cognito unreachable or throttling (503).
DIRECTORY = (503,)

# Create operations and what reads or changes what they made: (operation, its parameter,
# where the created resource's key is in the 201 body).
LINKS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "create_product": (
        ("get_product", "update_product", "delete_product", "request_upload"),
        "id",
        "$response.body#/id",
    ),
    "create_category": (
        ("get_category", "update_category", "delete_category"),
        "slug",
        "$response.body#/slug",
    ),
    "create_webhook": (
        ("get_webhook", "update_webhook", "delete_webhook", "ping_webhook", "list_deliveries"),
        "id",
        "$response.body#/id",
    ),
    "request_import": (("get_import",), "id", "$response.body#/job/id"),
    "start_export": (("get_export",), "id", "$response.body#/id"),
}


def generate() -> dict[str, Any]:
    merge = OpenAPIMerge(
        title="Product catalog API",
        version=VERSION,
        description=DESCRIPTION.format(
            types=", ".join(f"`{error.slug}`" for error in PROBLEM_TYPES)
        ),
        on_conflict="error",
    )
    for function in topology.FUNCTIONS.values():
        if not topology.routes_of(function.name):
            continue  # an event consumer: no resolver, no routes
        merge.add_file(ROOT / function.handler_file, resolver_name="app")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a handler that fails to load must fail the build
        document = merge.get_openapi_json_schema()
    parsed: dict[str, Any] = json.loads(document)
    complete(parsed)
    return mark_deprecations(parsed)


def mark_deprecations(
    document: dict[str, Any], routes: tuple[Route, ...] = topology.ROUTES
) -> dict[str, Any]:
    """Which routes and fields are on their way out (catalog.http.routes): `deprecated`, with
    `x-sunset` and `x-successor`, on the operation, parameter or body property."""
    for route in routes:
        operation = document["paths"].get(route.path, {}).get(route.method.lower())
        if operation is None:
            continue  # left out of the document (include_in_schema=False)
        if route.deprecated is not None:
            _mark(operation, route.deprecated)
        for deprecated in route.deprecated_fields:
            _mark(_field_schema(document, operation, route, deprecated), deprecated)
    return document


def _mark(node: dict[str, Any], deprecation: Deprecation) -> None:
    node["deprecated"] = True
    node["x-sunset"] = deprecation.sunset.isoformat()
    if deprecation.successor is not None:
        node["x-successor"] = deprecation.successor


def _field_schema(
    document: dict[str, Any], operation: dict[str, Any], route: Route, field: Deprecation
) -> dict[str, Any]:
    """Where the document describes a deprecated field: its query parameter, or its
    property in the JSON body's schema. A field the document lacks fails the build."""
    where, _, name = (field.field or "").partition(".")
    if where == "query":
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "query" and parameter.get("name") == name:
                found: dict[str, Any] = parameter
                return found
    else:
        content = operation.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        reference = str(schema.get("$ref", ""))
        if reference.startswith("#/components/schemas/"):
            schema = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
        if name in schema.get("properties", {}):
            property_schema: dict[str, Any] = schema["properties"][name]
            return property_schema
    raise LookupError(f"{route.method} {route.path}: the document has no {field.field}")


def complete(document: dict[str, Any]) -> None:
    """Add what each route's data says to what the handlers declared (module docstring)."""
    from infra import openapi_examples

    document["tags"] = TAGS
    components = document.setdefault("components", {})
    components["securitySchemes"] = SECURITY_SCHEMES
    components["responses"] = {
        name: _problem_response(description, error)
        for name, description, error in PROBLEM_RESPONSES.values()
    }

    ids = {route.operation: _operation_id(route.operation) for route in topology.ROUTES}
    for route in topology.ROUTES:
        operation = document["paths"].get(route.path, {}).get(route.method.lower())
        if operation is None:
            continue  # left out of the document by its handler (include_in_schema=False)
        operation["operationId"] = ids[route.operation]
        summary, description = _docstring(
            topology.FUNCTIONS[route.function].handler_file, route.operation
        )
        operation["summary"] = summary
        if description:
            operation["description"] = description
        operation["security"] = _security(route.access)
        operation["x-access"] = _access_note(route.access)
        extra = DIRECTORY if topology.FUNCTIONS[route.function].user_pool == "admin" else ()
        operation["responses"] = _responses(operation, route.access, extra)
        if route.operation in LINKS:
            _add_links(operation, ids, *LINKS[route.operation])
        if route.operation == "health":
            _add_not_ready(operation)
        openapi_examples.add(route.operation, operation)
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] == "cursor":
                parameter["schema"] = _cursor_schema(parameter["schema"])
    schemas = components.get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)


def _cursor_schema(declared: dict[str, Any]) -> dict[str, Any]:
    """A cursor parameter's schema: a string of `CURSOR_PATTERN`, or null (not sent)."""
    cursor = {"type": "string", "maxLength": MAX_CURSOR_LENGTH, "pattern": CURSOR_PATTERN}
    return {**declared, "anyOf": [cursor, {"type": "null"}]}


def _operation_id(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@cache
def _functions_of(handler_file: str) -> dict[str, ast.FunctionDef]:
    tree = ast.parse((ROOT / handler_file).read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _docstring(handler_file: str, operation: str) -> tuple[str, str]:
    """(summary, description) from the first line and the rest of the handler's docstring."""
    text = ast.get_docstring(_functions_of(handler_file)[operation]) or ""
    first, _, rest = text.partition("\n\n")
    summary = " ".join(first.split()).rstrip(".")
    if not summary:
        raise ValueError(f"{handler_file}: {operation} needs a docstring (its summary)")
    return summary, rest.strip()


def _security(access: Access) -> list[dict[str, list[str]]]:
    # Public: anonymous, or with a token (then verified, and the caller's role applies).
    return [{}, {BEARER: []}] if access.public else [{BEARER: []}]


def _access_note(access: Access) -> dict[str, Any]:
    if access.public:
        return {"public": True}
    note: dict[str, Any] = {"public": False, "roles": list(access.roles)}
    if access.own_only:
        note["own_only"] = list(access.own_only)
    return note


def _can_forbid(access: Access) -> bool:
    return not access.public and (set(access.roles) != set(ROLES) or bool(access.own_only))


def _responses(operation: dict[str, Any], access: Access, extra: tuple[int, ...]) -> dict[str, Any]:
    declared = {
        code: response
        for code, response in operation.get("responses", {}).items()
        if not _powertools_own(response)
    }
    statuses = {int(code) for code in declared}
    statuses |= set(EVERY_OPERATION) | set(extra)
    if _can_forbid(access):
        statuses.add(403)
    if "requestBody" in operation:
        statuses |= set(WITH_BODY)
    if operation.get("parameters"):
        statuses.add(422)
    responses: dict[str, Any] = {}
    for status in sorted(statuses):
        code = str(status)
        if status in PROBLEM_RESPONSES and _is_problem(declared.get(code)):
            responses[code] = {"$ref": f"#/components/responses/{PROBLEM_RESPONSES[status][0]}"}
        elif code in declared:
            response = declared[code]
            if response.get("content") == {}:
                del response["content"]  # no body (catalog.http.responses.empty)
            responses[code] = response
        else:
            responses[code] = {"$ref": f"#/components/responses/{PROBLEM_RESPONSES[status][0]}"}
    if not any(200 <= status < 400 for status in statuses):
        raise ValueError(f"{operation['operationId']} documents no success response")
    return responses


def _powertools_own(response: dict[str, Any]) -> bool:
    """Powertools' own 422 and 500 (application/json schemas the API never answers)."""
    content = response.get("content", {}).get("application/json", {})
    ref = str(content.get("schema", {}).get("$ref", ""))
    return ref.endswith(("/HTTPValidationError", "/ResponseValidationError"))


def _is_problem(response: dict[str, Any] | None) -> bool:
    return response is None or PROBLEM in response.get("content", {})


def _add_not_ready(operation: dict[str, Any]) -> None:
    """Health's 503 also as the local runner answers it until its demo data is seeded (the
    local gateway's own answer; a deployed stage never gives it)."""
    from infra.local.gateway.server import STARTING

    unavailable = operation["responses"]["503"]
    unavailable["description"] += (
        "; or, from the local runner until its demo data is seeded, a `not-ready` problem "
        "with `Retry-After`"
    )
    unavailable["content"].update(_problem_response("", STARTING)["content"])
    unavailable.setdefault("headers", {})["Retry-After"] = {
        "description": "Seconds to wait before asking again (`not-ready` only)",
        "schema": {"type": "integer", "minimum": 0},
    }


def _problem_response(description: str, error: CatalogError) -> dict[str, Any]:
    problem = error.to_problem()
    response: dict[str, Any] = {
        "description": description,
        "content": {
            PROBLEM: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": {error.slug: {"value": problem}},
            }
        },
    }
    headers = error.headers()
    if headers.get("WWW-Authenticate"):
        response["headers"] = {
            "WWW-Authenticate": {
                "description": "The scheme to authenticate with",
                "schema": {"type": "string", "example": headers["WWW-Authenticate"]},
            }
        }
    return response


def _add_links(
    operation: dict[str, Any],
    ids: dict[str, str],
    targets: tuple[str, ...],
    parameter: str,
    source: str,
) -> None:
    created = operation["responses"].get("201") or operation["responses"]["202"]
    created["links"] = {
        ids[target][0].upper() + ids[target][1:]: {
            "operationId": ids[target],
            "parameters": {parameter: source},
            "description": f"`{parameter}` of what was created, as the `Location` names it",
        }
        for target in targets
    }
    created["headers"] = {
        "Location": {
            "description": "Where the created resource is read",
            "schema": {"type": "string", "format": "uri-reference"},
        }
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {DOCUMENT.name}")
    args = parser.parse_args()
    # Handlers create their AWS clients at init, which needs a region; generating the
    # document makes no AWS call.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    text = render(generate())
    if args.write:
        DOCUMENT.write_text(text)
        print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
