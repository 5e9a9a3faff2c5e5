"""Pydantic models of categories."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from catalog.core.patch import Patch
from catalog.core.text import TextRule, clean_line
from catalog.core.types import Timestamp
from catalog.products.schemas import Slug

CategoryName = Annotated[
    str,
    AfterValidator(clean_line),
    StringConstraints(min_length=1, max_length=100),
    TextRule(required=True),
]


class CategoryCreate(BaseModel):
    """Body of `POST /v1/categories`."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug = Field(description="Its id, as products name it in `category`.")
    name: CategoryName
    parent: Slug | None = None


class CategoryPatch(Patch):
    """Body of `PATCH /v1/categories/{slug}`: a new name and/or parent (null: top level)."""

    nullable: ClassVar[frozenset[str]] = frozenset({"parent"})

    name: CategoryName | None = None
    parent: Slug | None = None


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
