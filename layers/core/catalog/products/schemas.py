"""Pydantic models of the products API: what clients send and what they get back."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StringConstraints,
    Tag,
    WithJsonSchema,
)

from catalog.core.currencies import (
    ISO_4217,
    exact_amount,
    query_amount,
)
from catalog.core.patch import Patch
from catalog.core.text import TextRule, clean_line, clean_multiline
from catalog.core.types import WHOLE_NUMBER, Timestamp
from catalog.images.schemas import ProductImage

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# A price as a string, as the API takes it: 0.01 to 1000000, at most 2 places, leading
# zeros allowed (exact_amount reads "007.50" as 7.50).
POSITIVE_AMOUNT_PATTERN = (
    r"^0*(?:[1-9][0-9]{0,5}(?:\.[0-9]{1,2})?|0\.(?:0[1-9]|[1-9][0-9]?)|1000000(?:\.00?)?)$"
)
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
PRODUCT_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"  # a ULID: time-sortable, 26 Crockford chars
MAX_PRICE = Decimal("1000000")
CENT = Decimal("0.01")
_QUERY_INTEGER = re.compile(r"[0-9]{1,10}")  # more digits are out of every range anyway


def _query_flag(value: Any) -> Any:
    """A query string's boolean: exactly `true` or `false`, lower case as in JSON."""
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise ValueError("must be true or false")
        return value == "true"
    return value


def _query_integer(value: Any) -> Any:
    """A query string's whole number: ASCII digits only (no sign, "_", spaces or "1e3")."""
    if isinstance(value, str):
        if not _QUERY_INTEGER.fullmatch(value):
            raise ValueError("must be a whole number of at most 10 digits 0-9")
        return int(value)
    return value


def _currency(value: str) -> str:
    if value not in ISO_4217:
        raise ValueError("must be an ISO 4217 currency code such as 'EUR' or 'USD'")
    return value


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("must not repeat a tag")
    return values


def _two_places(value: Decimal) -> str:
    return str(value.quantize(CENT))


Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=1, max_length=64)]
Sku = Annotated[
    str,
    BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v),
    StringConstraints(pattern=SKU_PATTERN),
    # The constraint after a validator is not in pydantic's JSON schema: say it there.
    WithJsonSchema({"type": "string", "pattern": SKU_PATTERN, "minLength": 1, "maxLength": 64}),
]
Name = Annotated[
    str,
    AfterValidator(clean_line),
    StringConstraints(min_length=1, max_length=200),
    TextRule(required=True),
]
Description = Annotated[
    str,
    AfterValidator(clean_multiline),
    StringConstraints(max_length=5000),
    TextRule(multiline=True),
]
_PRICE_SCHEMA = {
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": 1000000, "multipleOf": 0.01},
        # Digits as written: more than 0, at most 1000000, at most 2 places.
        {"type": "string", "pattern": POSITIVE_AMOUNT_PATTERN},
    ]
}
# A price as clients send it (create, patch, batch operations)...
Price = Annotated[
    Decimal,
    BeforeValidator(exact_amount),
    Field(gt=0, le=MAX_PRICE, decimal_places=2, allow_inf_nan=False),
    PlainSerializer(_two_places, return_type=str, when_used="json"),
    WithJsonSchema(_PRICE_SCHEMA, mode="validation"),
]
# ...and as stored and returned: the value the service wrote, always two places in JSON.
StoredPrice = Annotated[
    Decimal,
    Field(gt=0, le=MAX_PRICE, decimal_places=2, allow_inf_nan=False),
    PlainSerializer(_two_places, return_type=str, when_used="json"),
]
Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    AfterValidator(_currency),
    WithJsonSchema({"type": "string", "enum": sorted(ISO_4217)}),
]
Tags = Annotated[
    list[Slug],
    Field(max_length=20, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_unique),
]
Stock = Annotated[StrictInt, Field(ge=0, le=1_000_000_000), WHOLE_NUMBER]
Status = Literal["draft", "active", "archived"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=5000)


class ProductCreate(_Strict):
    """Body of `POST /v1/products`."""

    sku: Sku = Field(description="Stock keeping unit, unique regardless of case.")
    name: Name
    description: Description = ""
    price: Price = Field(description="Exact decimal, at most 2 places, as number or string.")
    currency: Currency
    category: Slug
    tags: Tags = Field(default_factory=list)
    stock: Stock = 0
    status: Status = "draft"


class ProductPatch(Patch):
    """Body of `PATCH /v1/products/{id}`: the fields to change; absent fields stay as they are."""

    sku: Sku | None = None
    name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    currency: Currency | None = None
    category: Slug | None = None
    tags: Tags | None = None
    stock: Stock | None = None
    status: Status | None = None


class Product(BaseModel):
    """A product as stored and as returned to clients."""

    model_config = ConfigDict(extra="forbid")

    id: str
    sku: str
    name: str
    description: str
    price: StoredPrice
    currency: str
    category: str
    tags: list[str]
    stock: int
    status: Status
    owner: str = Field(description="The Cognito sub of the user who created it.")
    created_at: Timestamp
    updated_at: Timestamp
    version: int
    images: list[ProductImage] = Field(
        default_factory=list, description="Its images, oldest first (see /images)."
    )


MAX_QUERY_TAGS = 10  # tags one listing may ask for
SearchText = Annotated[
    str,
    AfterValidator(clean_line),
    StringConstraints(min_length=1, max_length=100),
    TextRule(required=True),
]
# Query parameters arrive as strings: these take exactly the spellings the API documents.
QueryAmount = Annotated[
    Decimal,
    BeforeValidator(query_amount),
    Field(ge=0, le=MAX_PRICE),
    # The digits QUERY_AMOUNT_PATTERN takes, within 0 and MAX_PRICE.
    WithJsonSchema(
        {"type": "string", "pattern": r"^0*(?:[0-9]{1,6}(?:\.[0-9]{1,2})?|1000000(?:\.00?)?)$"}
    ),
]
QueryFlag = Annotated[StrictBool, BeforeValidator(_query_flag), WithJsonSchema({"type": "boolean"})]
PageSize = Annotated[
    int,
    BeforeValidator(_query_integer),
    Field(ge=1, le=100),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 100}),
]
Sort = Literal["created_at", "-created_at", "price", "-price", "name", "-name"]


class ProductQuery(BaseModel):
    """What `GET /v1/products` asks for (`docs`: which combinations are designed listings)."""

    status: Status = "active"
    category: str | None = None
    sort: Sort | None = None  # default: -created_at, or the search order with `q`
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    tags: tuple[str, ...] = ()
    tag_mode: Literal["any", "all"] = "any"
    in_stock: bool = False
    q: str | None = None
    limit: int = 20
    cursor: str | None = None

    @property
    def order(self) -> str:
        if self.sort is None:
            return "match" if self.q is not None else "created_at"
        return self.sort.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-") if self.sort is not None else self.q is None

    def listing(self) -> str:
        """What a cursor of this query is bound to: every filter and the order."""
        return (
            f"products|status={self.status}|category={self.category or '*'}"
            f"|sort={self.sort or ''}|price={self.min_price or ''}..{self.max_price or ''}"
            f"|tags={','.join(self.tags)}|mode={self.tag_mode}|in_stock={self.in_stock}"
            f"|q={self.q or ''}"
        )


class ProductPage(BaseModel):
    """One page of `GET /v1/products`."""

    items: list[Product]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


MAX_BATCH = 100
Version = Annotated[StrictInt, Field(ge=1), WHOLE_NUMBER]
# Ids in a batch are echoed in their results' errors: bounded (a product id has 26).
OperationId = Annotated[str, StringConstraints(max_length=64)]


class CreateOperation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Literal["create"]
    product: ProductCreate


class UpdateOperation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Literal["update"]
    id: OperationId
    changes: ProductPatch
    if_match: Version | None = Field(
        None, description="Apply only to this version (as If-Match does)."
    )


class DeleteOperation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    op: Literal["delete"]
    id: OperationId
    if_match: Version | None = None


def _kind(operation: Any) -> Any:
    return operation.get("op") if isinstance(operation, dict) else getattr(operation, "op", None)


# A callable discriminator, for an error of our wording: pydantic's own quotes the unknown
# `op` whole, however long.
Operation = Annotated[
    Annotated[CreateOperation, Tag("create")]
    | Annotated[UpdateOperation, Tag("update")]
    | Annotated[DeleteOperation, Tag("delete")],
    Discriminator(
        _kind,
        custom_error_type="unknown_operation",
        custom_error_message="op must be one of 'create', 'update', 'delete'",
    ),
]


class BatchRequest(BaseModel):
    """Body of `POST /v1/products/batch`. Each operation is checked on its own, so one bad
    operation does not hide the others' results."""

    model_config = ConfigDict(extra="forbid")

    atomic: StrictBool = Field(False, description="All operations succeed, or none is applied.")
    operations: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_BATCH)]


class BatchResult(BaseModel):
    index: int
    status: int
    product: Product | None = None
    error: dict[str, Any] | None = None


class BatchResponse(BaseModel):
    atomic: bool
    applied: int
    results: list[BatchResult]
