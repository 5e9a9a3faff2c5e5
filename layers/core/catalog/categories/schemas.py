"""Pydantic models of categories."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from catalog.core.text import clean_line
from catalog.core.types import Timestamp
from catalog.products.schemas import Slug

CategoryName = Annotated[
    str, AfterValidator(clean_line), StringConstraints(min_length=1, max_length=100)
]


class CategoryCreate(BaseModel):
    """Body of `POST /v1/categories`."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug = Field(description="Its id, as products name it in `category`.")
    name: CategoryName
    parent: Slug | None = None


class CategoryPatch(BaseModel):
    """Body of `PATCH /v1/categories/{slug}`: a new name and/or parent (null: top level)."""

    model_config = ConfigDict(extra="forbid")

    name: CategoryName | None = None
    parent: Slug | None = None

    @model_validator(mode="after")
    def _has_changes(self) -> CategoryPatch:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        return self


class Category(BaseModel):
    slug: str
    name: str
    parent: str | None
    product_count: int
    child_count: int
    created_at: Timestamp
    updated_at: Timestamp
    version: int


class CategoryList(BaseModel):
    items: list[Category]
