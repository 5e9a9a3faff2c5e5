"""Products in DynamoDB with pynamodb: one table, products plus SKU guard items.

Keys (single-table): a product is `pk=PRODUCT#<id>, sk=PRODUCT`; the guard that makes SKUs
unique regardless of case is `pk=SKU#<SKU upper-cased>, sk=SKU`. A product and its guard are
always written in one transaction, so no write leaves one without the other. DynamoDB
errors become domain errors here and nowhere else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from catalog.categories.repository import count_change, missing_category
from catalog.core.dynamo import DecimalAttribute, TableName, Transaction
from catalog.core.errors import DuplicateSku, NotFound, VersionConflict
from catalog.core.types import iso_millis
from catalog.products.schemas import Product

PRODUCT_SK = "PRODUCT"
SKU_SK = "SKU"


def status_partition(status: str) -> str:
    """The gsi1 partition holding the products of one status, by creation."""
    return f"STATUS#{status}"


def category_partition(category: str, status: str) -> str:
    """The gsi2 partition holding the products of one category and status, by creation."""
    return f"CAT#{category}#{status}"


class ByStatusIndex(GlobalSecondaryIndex["ProductItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ByCategoryIndex(GlobalSecondaryIndex["ProductItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class ProductItem(Model):
    class Meta:
        table_name = TableName("products")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(default="product")
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    id = UnicodeAttribute()
    sku = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    price = DecimalAttribute()
    currency = UnicodeAttribute()
    category = UnicodeAttribute()
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    stock = NumberAttribute()
    status = UnicodeAttribute()
    owner = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = VersionAttribute()

    by_status = ByStatusIndex()
    by_category = ByCategoryIndex()


class SkuGuard(Model):
    class Meta:
        table_name = TableName("products")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(default="sku")
    product_id = UnicodeAttribute()


def product_key(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


def sku_key(sku: str) -> str:
    return f"SKU#{sku.upper()}"


def _to_item(product: Product, stored_version: int | None) -> ProductItem:
    """The item for `product`; `stored_version` is the version it must replace (None: new).

    pynamodb's VersionAttribute turns that into the write condition and writes version + 1.
    """
    item = ProductItem(
        pk=product_key(product.id),
        sk=PRODUCT_SK,
        gsi1pk=status_partition(product.status),
        gsi1sk=product.id,
        gsi2pk=category_partition(product.category, product.status),
        gsi2sk=product.id,
        id=product.id,
        sku=product.sku,
        name=product.name,
        description=product.description,
        price=product.price,
        currency=product.currency,
        category=product.category,
        tags=list(product.tags),
        stock=product.stock,
        status=product.status,
        owner=product.owner,
        created_at=iso_millis(product.created_at),
        updated_at=iso_millis(product.updated_at),
    )
    if stored_version is not None:
        item.version = stored_version
    return item


def _to_product(item: ProductItem) -> Product:
    return Product(
        id=item.id,
        sku=item.sku,
        name=item.name,
        description=item.description,
        price=item.price,
        currency=item.currency,
        category=item.category,
        tags=[str(tag) for tag in item.tags or []],
        stock=int(item.stock),
        status=item.status,  # type: ignore[arg-type]
        owner=item.owner,
        created_at=datetime.fromisoformat(item.created_at),
        updated_at=datetime.fromisoformat(item.updated_at),
        version=int(item.version),
    )


MAX_TRANSACTION_ITEMS = 100  # DynamoDB's limit for one TransactWriteItems


@dataclass(frozen=True)
class Change:
    """One product write: create (no `before`), replace, or delete (no `after`)."""

    before: Product | None
    after: Product | None


class TooManyItems(Exception):
    """The changes need more items than one DynamoDB transaction takes."""

    def __init__(self, items: int) -> None:
        super().__init__(f"{items} items")
        self.items = items


def _product_id(change: Change) -> str:
    product = change.after or change.before
    assert product is not None
    return product.id


def _raise_first(errors: dict[int, Exception]) -> None:
    if errors:
        raise errors[min(errors)]


def _absent() -> Condition:
    return ProductItem.pk.does_not_exist()


def _guard(sku: str, product_id: str) -> SkuGuard:
    return SkuGuard(pk=sku_key(sku), sk=SKU_SK, product_id=product_id)


class ProductRepository:
    """Persistence of products; every multi-item write is one DynamoDB transaction."""

    def get(self, product_id: str) -> Product:
        try:
            item = ProductItem.get(product_key(product_id), PRODUCT_SK, consistent_read=True)
        except DoesNotExist:
            raise NotFound(f"No product has the id {product_id}.") from None
        return _to_product(item)

    def create(self, product: Product) -> None:
        """Store a new product (version 1), claim its SKU and count it in its category, all
        or nothing; `DuplicateSku` or an unknown category (422) otherwise."""
        _raise_first(self.write_all([Change(None, product)]))

    def replace(self, current: Product, updated: Product) -> None:
        """Write `updated` over `current` if nobody changed it meanwhile (else
        `VersionConflict`); move the SKU guard and the category counts along."""
        _raise_first(self.write_all([Change(current, updated)]))

    def delete(self, current: Product) -> None:
        """Remove a product, release its SKU and uncount it, if it is still the version read."""
        _raise_first(self.write_all([Change(current, None)]))

    def write_all(self, changes: Sequence[Change]) -> dict[int, Exception]:
        """Apply every change in one DynamoDB transaction, or none.

        Returns, per change index, why it could not be applied (empty: all written). A new
        SKU claims its guard item; a changed or deleted one releases it (case-only changes
        keep it); category counts move by their net change, so categories that gain products
        must exist. The caller makes sure no item is touched twice.
        """
        tx = Transaction()
        deltas: Counter[str] = Counter()
        gaining: dict[str, list[int]] = {}
        for index, change in enumerate(changes):
            before, after = change.before, change.after
            moves_sku = before is None or after is None or sku_key(before.sku) != sku_key(after.sku)
            if after is not None and moves_sku:
                guard = _guard(after.sku, after.id)
                tx.save(f"{index}:new guard", guard, condition=SkuGuard.pk.does_not_exist())
            if before is not None and moves_sku:
                guard = _guard(before.sku, before.id)
                tx.delete(f"{index}:old guard", guard, condition=SkuGuard.product_id == before.id)
            if after is None:
                assert before is not None
                tx.delete(f"{index}:product", _to_item(before, stored_version=before.version))
            elif before is None:
                tx.save(f"{index}:product", _to_item(after, None), condition=_absent())
            else:
                tx.save(f"{index}:product", _to_item(after, stored_version=before.version))
            if before is not None:
                deltas[before.category] -= 1
            if after is not None:
                deltas[after.category] += 1
                gaining.setdefault(after.category, []).append(index)
        for slug, delta in sorted(deltas.items()):
            if delta:
                count_change(slug, "products", delta, tx, f"category:{slug}")
        if tx.size > MAX_TRANSACTION_ITEMS:
            raise TooManyItems(tx.size)
        errors: dict[int, Exception] = {}
        for label in sorted(tx.commit()):
            if label.startswith("category:"):
                slug = label.removeprefix("category:")
                for index in gaining.get(slug, []):
                    errors.setdefault(index, missing_category(slug))
                continue
            position, what = label.split(":", 1)
            index = int(position)
            change = changes[index]
            if what == "new guard" and change.after is not None:
                sku = change.after.sku
                errors[index] = DuplicateSku(f"Another product already has the SKU {sku}.")
            else:
                errors.setdefault(index, VersionConflict(_product_id(change)))
        return errors

    def list_by_creation(
        self,
        status: str,
        category: str | None,
        newest_first: bool,
        limit: int,
        after_id: str | None,
    ) -> tuple[list[Product], bool]:
        """Up to `limit` products of `status` (and `category`) in creation order, after
        `after_id`; and whether more follow. One Query on a designed index: it reads
        `limit + 1` items so the last page knows it is last (1.05 reads per item at 20).
        """
        if category is None:
            index: Any = ProductItem.by_status
            names, partition = ("gsi1pk", "gsi1sk"), status_partition(status)
        else:
            index = ProductItem.by_category
            names, partition = ("gsi2pk", "gsi2sk"), category_partition(category, status)
        start: dict[str, Any] | None = None
        if after_id is not None:
            start = {
                "pk": {"S": product_key(after_id)},
                "sk": {"S": PRODUCT_SK},
                names[0]: {"S": partition},
                names[1]: {"S": after_id},
            }
        results = index.query(
            partition,
            scan_index_forward=not newest_first,
            limit=limit + 1,
            last_evaluated_key=start,
        )
        items = [_to_product(item) for item in results]
        return items[:limit], len(items) > limit

    def ping(self) -> None:
        """A cheap read proving the table answers (for health checks)."""
        with suppress(DoesNotExist):
            ProductItem.get(product_key("health-check"), PRODUCT_SK)
