"""Listings of products: which designed index serves a query, and how cursors say where
a page ends. Pure: shared by the repository, the service and the in-memory test store."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from catalog.products.schemas import Product


@dataclass(frozen=True)
class ListingPlan:
    """Which designed listing to read, and from where."""

    status: str
    category: str | None
    order: str  # "created_at" or "price"
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


def position_of(product: Product, order: str) -> str:
    """Where `product` sits in a listing ordered by `order` (what cursors carry)."""
    return price_position(product.price, product.id) if order == "price" else product.id


POSITION = {
    "created_at": re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$"),
    "price": re.compile(r"^[0-9]{10}#[0-9A-HJKMNP-TV-Z]{26}$"),
}
