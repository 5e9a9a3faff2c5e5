"""Pydantic models of the exports API: the job a client starts, and what it reads back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from catalog.core.types import Timestamp
from catalog.products.schemas import (
    MAX_QUERY_TAGS,
    ProductQuery,
    QueryAmount,
    SearchText,
    Slug,
    Sort,
    Status,
)

ExportFormat = Literal["csv", "jsonl"]
ExportStatus = Literal["pending", "running", "done", "failed"]
MEDIA_TYPES: dict[str, str] = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl"}


def _written_as_text(value: object) -> object:
    """A price bound in a JSON body is a string, as documented (`"9.99"`): the query
    string's amount type would also take the number 9.99, which the document refuses."""
    if value is not None and not isinstance(value, str):
        raise ValueError('a price bound is a string, like "9.99"')
    return value


BodyAmount = Annotated[QueryAmount, BeforeValidator(_written_as_text)]


class ExportFilters(BaseModel):
    """Which products an export holds, in which order: the filters of `GET /v1/products`
    (`tags` is its repeated `tag`), with the same rules."""

    model_config = ConfigDict(extra="forbid")

    status: Status = Field("active", description="active (default), draft or archived")
    category: Slug | None = None
    sort: Sort | None = Field(
        None, description="As GET /v1/products: default -created_at, or with q the search order"
    )
    min_price: QueryAmount | None = Field(None, description='Lowest price, like "9.99"')
    max_price: QueryAmount | None = Field(None, description='Highest price, like "9.99"')
    tags: Annotated[list[Slug], Field(max_length=MAX_QUERY_TAGS)] = Field(default_factory=list)
    tag_mode: Literal["any", "all"] = "any"
    in_stock: StrictBool = False
    q: SearchText | None = Field(None, description="Words of the name, SKU or description")

    def query(self) -> ProductQuery:
        """The listing query these filters are (its page size is the export's own)."""
        return ProductQuery(
            status=self.status,
            category=self.category,
            sort=self.sort,
            min_price=self.min_price,
            max_price=self.max_price,
            tags=tuple(dict.fromkeys(self.tags)),
            tag_mode=self.tag_mode,
            in_stock=self.in_stock,
            q=self.q,
        )


class ExportRequest(ExportFilters):
    """Body of `POST /v1/exports`: a format and the listing's filters."""

    format: ExportFormat = Field("csv", description="csv (UTF-8, header row) or jsonl")
    # In the JSON body the bounds are strings, as documented (stored jobs keep any form).
    min_price: BodyAmount | None = Field(None, description='Lowest price, like "9.99"')
    max_price: BodyAmount | None = Field(None, description='Highest price, like "9.99"')


class ExportJob(BaseModel):
    """An export job as `GET /v1/exports/{id}` answers it."""

    id: str
    status: ExportStatus = Field(description="pending, running, then done or failed")
    format: ExportFormat
    filters: ExportFilters
    owner: str = Field(description="The Cognito sub of the user who started it.")
    own_products_only: bool = Field(
        description="Whether it holds only its owner's products (an editor's export)."
    )
    rows: int = Field(description="Products written so far (all of them once done).")
    size: int | None = Field(None, description="The file's size in bytes, once done.")
    created_at: Timestamp
    updated_at: Timestamp
    download_url: str | None = Field(
        None,
        description="Once done: a presigned link to the file, valid until download_expires_at.",
    )
    download_expires_at: Timestamp | None = None
    error: str | None = Field(None, description="Once failed: what went wrong.")


class ExportPage(BaseModel):
    """One page of `GET /v1/exports`, newest first."""

    items: list[ExportJob]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )
