"""Generates the API's OpenAPI document from every function's resolver (`make openapi`).

The document is committed at `functions/meta/openapi.json`, served by `GET /v1/openapi.json`,
and a test fails when it no longer matches the handlers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

from catalog.http.routes import Deprecation, Route
from infra import topology

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "functions" / "meta" / "openapi.json"


def generate() -> dict[str, Any]:
    merge = OpenAPIMerge(
        title="Product catalog API",
        version="1.0.0",
        description=(
            "Products, prices and stock. Errors are application/problem+json (RFC 9457) "
            "with a stable `type`."
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
    return from_routes(parsed)


def from_routes(
    document: dict[str, Any], routes: tuple[Route, ...] = topology.ROUTES
) -> dict[str, Any]:
    """What each route's declaration says of its operation (catalog.http.routes): who may
    call it, as the bearer scheme (a public route's token is optional), and whether it is
    on its way out (`deprecated`, with `x-sunset` and `x-successor`)."""
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The access_token of POST /v1/auth/login.",
    }
    for route in routes:
        operation = document["paths"].get(route.path, {}).get(route.method.lower())
        if operation is None:
            continue  # left out of the document (include_in_schema=False)
        operation["security"] = [{}, {"bearer": []}] if route.access.public else [{"bearer": []}]
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
