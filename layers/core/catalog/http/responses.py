"""OpenAPI pieces shared by the routes: the problem schema and per-status descriptions."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catalog.core.errors import PROBLEM_CONTENT_TYPE


# Both models only describe responses in the OpenAPI document (errors are built as dicts):
# `defer_build` spares every cold start their validators, built if the document is asked for.
class FieldProblem(BaseModel):
    model_config = ConfigDict(defer_build=True)

    in_: str = Field(alias="in", description="body, query, path or header")
    pointer: str | None = Field(None, description="JSON pointer into the body, e.g. #/price")
    parameter: str | None = Field(None, description="Name of the failing parameter")
    detail: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of this API is sent."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    type: str = Field(description="Stable identifier of the problem, urn:catalog:problem:<slug>")
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = Field(None, description="Failing fields (422 only)")


def problems(*statuses: int) -> dict[int, Any]:
    """OpenAPI `responses` entries for the given error statuses."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_CONTENT_TYPE: {"model": Problem}},
        }
        for status in statuses
    }


def returns(status: int, model: type[BaseModel], description: str) -> dict[int, Any]:
    """An OpenAPI `responses` entry for a JSON body the route builds itself."""
    return {status: {"description": description, "content": {"application/json": {"model": model}}}}


def empty(status: int, description: str) -> dict[int, Any]:
    """An OpenAPI `responses` entry for an answer without a body (204, 202, 304); an empty
    `content` keeps Powertools from describing the handler's return type there."""
    return {status: {"description": description, "content": {}}}
