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
from catalog.core.text import QUOTE_LIMIT, bounded, excerpt

MAX_FIELD_ERRORS = 20  # a body with thousands of unknown keys gets no answer thousands long
# pydantic's messages that quote the input, in our words (the rest quote only our schemas).
_OWN_WORDING = {
    "union_tag_invalid": "is not one of the kinds this field takes",
}


def problem(error: CatalogError) -> Response[str]:
    """The answer to `error`: its status, its headers, its problem document.

    Its `detail` may quote the caller's input (an id from the path...): bounded here, once
    for every error, so no answer hands a long input back.
    """
    document = error.to_problem()
    document["detail"] = bounded(str(document.get("detail", "")))
    return Response(
        status_code=error.status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=dumps(document),
        headers=error.headers(),
    )


def internal_error() -> InternalError:
    """What a client learns of a fault of ours: that it happened, and was logged."""
    return InternalError("The server failed to handle this request; it has been logged.")


def validation_problem(exc: RequestValidationError) -> CatalogError:
    """A request that failed its route's schema: malformed JSON (400) or invalid fields (422)."""
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        # catalog.core.jsonutil words every reason (never the parser's internals).
        reason = next((e.get("ctx", {}).get("error") for e in errors), None)
        reason = excerpt(str(reason), QUOTE_LIMIT) if reason else "parse error"
        return MalformedJson(f"The request body is not valid JSON: {reason}.")
    listed = [_field_error(e) for e in errors[:MAX_FIELD_ERRORS]]
    detail = "The request has invalid or missing fields."
    if len(errors) > MAX_FIELD_ERRORS:
        detail += f" The first {MAX_FIELD_ERRORS} of {len(errors)} are listed."
    return ValidationFailed(detail, errors=listed)


def _field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """One pydantic error as `{pointer|parameter, in, detail, type}`, without echoing input:
    neither `input` nor `ctx`, input-quoting messages in our words, every part bounded (an
    unknown key is the caller's, and may be long)."""
    location = [excerpt(str(part), QUOTE_LIMIT) for part in error.get("loc", ())]
    where = location[0] if location else "body"
    rest = location[1:]
    item: dict[str, Any] = {"in": where}
    if where == "body":
        item["pointer"] = "#/" + "/".join(rest)
    else:
        item["parameter"] = rest[0] if rest else ""
    kind = str(error.get("type", "value_error"))
    item["detail"] = _OWN_WORDING.get(kind) or bounded(str(error.get("msg", "invalid value")))
    item["type"] = kind
    return item
