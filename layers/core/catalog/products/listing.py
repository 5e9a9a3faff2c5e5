"""Listings of products: which designed index serves a query, and how cursors say where
a page ends. Pure: shared by the repository, the service and the in-memory test store."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from catalog.products.schemas import Product


@dataclass(frozen=True)
class ListingPlan:
    """Which designed listing to read, and from where."""

    status: str
    category: str | None
    order: str  # "created_at", "price" or "name"
    descending: bool
    limit: int
    after: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None


def price_key(price: Decimal) -> str:
    """A price as a sortable string: whole cents, 10 digits (prices are at most 1e6)."""
    return f"{int(price * 100):010d}"


def price_position(price: Decimal, product_id: str) -> str:
    return f"{price_key(price)}#{product_id}"


def name_key(name: str) -> str:
    """A name as it sorts for people: no case, no accents (é ~ e), at most 100 characters.

    '#' and '~' are replaced so the key never reaches past its own `#<id>` suffix.
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("#", " ").replace("~", " ")[:100]


def name_position(name: str, product_id: str) -> str:
    return f"{name_key(name)}#{product_id}"


def position_of(product: Product, order: str) -> str:
    """Where `product` sits in a listing ordered by `order` (what cursors carry)."""
    if order == "price":
        return price_position(product.price, product.id)
    if order == "name":
        return name_position(product.name, product.id)
    return product.id


POSITION = {
    "created_at": re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$"),
    "price": re.compile(r"^[0-9]{10}#[0-9A-HJKMNP-TV-Z]{26}$"),
    "name": re.compile(r"^[^#~]{0,400}#[0-9A-HJKMNP-TV-Z]{26}$"),
}
