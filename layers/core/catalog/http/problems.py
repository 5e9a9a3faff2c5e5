"""Every error answer of the API, rendered once: a domain error -> an RFC 9457 problem.

`problem()` is the one renderer: the resolver's exception handlers (catalog.http.api) and
the request pipeline's early answers (catalog.http.pipeline) both answer with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from catalog.core.errors import (
    PROBLEM_CONTENT_TYPE,
    CatalogError,
    InternalError,
    MalformedJson,
    ValidationFailed,
)
from catalog.core.jsonutil import dumps


def problem(error: CatalogError) -> Response[str]:
    """The answer to `error`: its status, its headers, its problem document."""
    return Response(
        status_code=error.status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=dumps(error.to_problem()),
        headers=error.headers(),
    )


def internal_error() -> InternalError:
    """What a client learns of a fault of ours: that it happened, and was logged."""
    return InternalError("The server failed to handle this request; it has been logged.")


def validation_problem(exc: RequestValidationError) -> CatalogError:
    """A request that failed its route's schema: malformed JSON (400) or invalid fields (422)."""
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
