"""Products in DynamoDB with pynamodb: one table, products plus SKU guard items.

Keys (single-table): a product is `pk=PRODUCT#<id>, sk=PRODUCT`; the guard that makes SKUs
unique regardless of case is `pk=SKU#<SKU upper-cased>, sk=SKU`. A product and its guard are
always written in one transaction, so no write leaves one without the other. DynamoDB
errors become domain errors here and nowhere else.
"""

from __future__ import annotations

from contextlib import suppress
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
    """The gsi1 partition holding the products of one status, newest first."""
    return f"STATUS#{status}"


class ByStatusIndex(GlobalSecondaryIndex["ProductItem"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class ProductItem(Model):
    class Meta:
        table_name = TableName("products")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(default="product")
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
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
        tx = Transaction()
        tx.save("guard", _guard(product.sku, product.id), condition=SkuGuard.pk.does_not_exist())
        tx.save("product", _to_item(product, stored_version=None), condition=_absent())
        count_change(product.category, "products", 1, tx, "category")
        failed = tx.commit()
        if "guard" in failed:
            raise DuplicateSku(f"Another product already has the SKU {product.sku}.")
        if "category" in failed:
            raise missing_category(product.category)
        if failed:
            raise VersionConflict(product.id)

    def replace(self, current: Product, updated: Product) -> None:
        """Write `updated` over `current` if nobody changed it meanwhile; in the same
        transaction move the SKU guard when the SKU changes (case-only changes keep it) and
        the category counts when the category changes."""
        tx = Transaction()
        if sku_key(current.sku) != sku_key(updated.sku):
            tx.save(
                "new guard", _guard(updated.sku, updated.id), condition=SkuGuard.pk.does_not_exist()
            )
            tx.delete(
                "old guard",
                _guard(current.sku, current.id),
                condition=SkuGuard.product_id == current.id,
            )
        if current.category != updated.category:
            count_change(current.category, "products", -1, tx, "old category")
            count_change(updated.category, "products", 1, tx, "category")
        tx.save("product", _to_item(updated, stored_version=current.version))
        failed = tx.commit()
        if "new guard" in failed:
            raise DuplicateSku(f"Another product already has the SKU {updated.sku}.")
        if "category" in failed:
            raise missing_category(updated.category)
        if failed:
            raise VersionConflict(current.id)

    def delete(self, current: Product) -> None:
        """Remove a product, release its SKU and uncount it, if it is still the version read."""
        tx = Transaction()
        tx.delete("product", _to_item(current, stored_version=current.version))
        tx.delete(
            "guard", _guard(current.sku, current.id), condition=SkuGuard.product_id == current.id
        )
        count_change(current.category, "products", -1, tx, "category")
        if tx.commit():
            raise VersionConflict(current.id)

    def list_newest(
        self, status: str, limit: int, after_id: str | None
    ) -> tuple[list[Product], bool]:
        """Up to `limit` products of `status`, newest first, after `after_id`; and whether
        more follow.

        Reads `limit + 1` items so the last page says so (at most 1 extra item per page).
        """
        start: dict[str, Any] | None = None
        if after_id is not None:
            start = {
                "pk": {"S": product_key(after_id)},
                "sk": {"S": PRODUCT_SK},
                "gsi1pk": {"S": status_partition(status)},
                "gsi1sk": {"S": after_id},
            }
        results = ProductItem.by_status.query(
            status_partition(status),
            scan_index_forward=False,
            limit=limit + 1,
            last_evaluated_key=start,
        )
        items = [_to_product(item) for item in results]
        return items[:limit], len(items) > limit

    def ping(self) -> None:
        """A cheap read proving the table answers (for health checks)."""
        with suppress(DoesNotExist):
            ProductItem.get(product_key("health-check"), PRODUCT_SK)
