"""Product rules: creation, partial update, deletion and listing. No HTTP, no boto."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from ulid import ULID

from catalog.core.cursor import decode_cursor, encode_cursor
from catalog.core.errors import Conflict, InvalidCursor, NotFound, VersionConflict
from catalog.products.schemas import (
    PRODUCT_ID_PATTERN,
    Product,
    ProductCreate,
    ProductPage,
    ProductPatch,
)

MAX_WRITE_ATTEMPTS = 3  # re-reads when a concurrent writer got there first
_ID = re.compile(PRODUCT_ID_PATTERN)
_LIST_ALL = "products:newest"  # what a listing cursor is bound to


class ProductStore(Protocol):
    """The persistence port the service needs (DynamoDB in production, a fake in tests)."""

    def get(self, product_id: str) -> Product: ...
    def create(self, product: Product) -> None: ...
    def replace(self, current: Product, updated: Product) -> None: ...
    def delete(self, current: Product) -> None: ...
    def list_newest(self, limit: int, after_id: str | None) -> tuple[list[Product], bool]: ...


def _now() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class ProductService:
    def __init__(self, store: ProductStore, clock: Callable[[], datetime] = _now) -> None:
        self._store = store
        self._clock = clock

    def create(self, data: ProductCreate) -> Product:
        now = self._clock()
        product = Product(
            id=str(ULID.from_datetime(now)),
            created_at=now,
            updated_at=now,
            version=1,
            **data.model_dump(),
        )
        self._store.create(product)
        return product

    def get(self, product_id: str) -> Product:
        if not _ID.match(product_id):
            raise NotFound(f"{product_id!r} is not a product id.")
        return self._store.get(product_id)

    def update(self, product_id: str, patch: ProductPatch) -> Product:
        for _ in range(MAX_WRITE_ATTEMPTS):
            current = self.get(product_id)
            updated = current.model_copy(
                update={
                    **patch.changes(),
                    "updated_at": max(self._clock(), current.updated_at),
                    "version": current.version + 1,
                }
            )
            try:
                self._store.replace(current, updated)
            except VersionConflict:
                continue
            return updated
        raise Conflict("The product kept changing while being updated; try again.")

    def delete(self, product_id: str) -> None:
        for _ in range(MAX_WRITE_ATTEMPTS):
            current = self.get(product_id)
            try:
                self._store.delete(current)
            except VersionConflict:
                continue
            return
        raise Conflict("The product kept changing while being deleted; try again.")

    def list(self, limit: int, cursor: str | None) -> ProductPage:
        after_id = None
        if cursor is not None:
            position = decode_cursor(cursor)
            after_id = position.get("after")
            if position.get("q") != _LIST_ALL or not isinstance(after_id, str):
                raise InvalidCursor("This cursor belongs to another listing.")
            if not _ID.match(after_id):
                raise InvalidCursor("The cursor is not one this API issued.")
        items, more = self._store.list_newest(limit, after_id)
        next_cursor = encode_cursor({"q": _LIST_ALL, "after": items[-1].id}) if more else None
        return ProductPage(items=items, next_cursor=next_cursor)
