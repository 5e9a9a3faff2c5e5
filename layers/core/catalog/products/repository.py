"""Products in DynamoDB: writes in one transaction, listings as Queries on designed keys.

A product, its SKU guard and its copies (catalog.products.items) are always written in one
transaction, so no write leaves one without the others. DynamoDB errors become domain
errors here and nowhere else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from catalog.categories.repository import count_change, missing_category
from catalog.core.dynamo import Transaction
from catalog.core.errors import DuplicateSku, InvalidCursor, NotFound, VersionConflict
from catalog.products.items import (
    PRODUCT_SK,
    SKU_SK,
    ProductCopy,
    ProductItem,
    SkuGuard,
    category_partition,
    copies,
    copy_keys,
    layout_of,
    product_key,
    sku_key,
    status_partition,
    tag_partition,
    to_item,
    to_product,
    words_partition,
)
from catalog.products.listing import (
    MAX_EXAMINED,
    POSITION,
    ListingPlan,
    Source,
    first_match,
    position_of,
    price_key,
)
from catalog.products.schemas import Product

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


# (order, within a category?) -> (ProductItem index attribute, its sort key attribute)
LISTING_INDEXES = {
    ("created_at", False): ("by_status", "gsi1sk"),
    ("created_at", True): ("by_category", "gsi2sk"),
    ("price", False): ("by_status_price", "gsi3sk"),
    ("price", True): ("by_category_price", "gsi3sk"),
    ("name", False): ("by_status_name", "gsi5sk"),
    ("name", True): ("by_category_name", "gsi5sk"),
}


def _absent() -> Condition:
    return ProductItem.pk.does_not_exist()


def _guard(sku: str, product_id: str) -> SkuGuard:
    return SkuGuard(pk=sku_key(sku), sk=SKU_SK, product_id=product_id)


def _partition(plan: ListingPlan, source: Source) -> tuple[str, str, Any, str]:
    """The partition key attribute and value, the index and its sort key for `source`."""
    if source.kind == "words":
        assert source.key is not None
        return "gsi1pk", words_partition(source.key, plan.status), ProductItem.by_status, "gsi1sk"
    in_category = source.kind == "category"
    index_name, sort_name = LISTING_INDEXES[(plan.order, in_category)]
    if source.kind == "category":
        assert source.key is not None
        partition_name, partition = "gsi2pk", category_partition(source.key, plan.status)
    elif source.kind == "tag":
        assert source.key is not None
        partition_name, partition = "gsi1pk", tag_partition(source.key, plan.status)
    else:
        partition_name, partition = "gsi1pk", status_partition(plan.status)
    return partition_name, partition, getattr(ProductItem, index_name), sort_name


def _sort_condition(plan: ListingPlan, source: Source) -> Condition | None:
    """The key condition on the sort key: a search prefix, or a price range in price order."""
    if source.kind == "words":
        assert source.key is not None
        return ProductItem.gsi1sk.startswith(source.key)
    if not plan.price_range_by_key or (plan.min_price is None and plan.max_price is None):
        return None
    sort_key = ProductItem.gsi3sk
    low = f"{price_key(plan.min_price)}#" if plan.min_price is not None else None
    high = f"{price_key(plan.max_price)}#~" if plan.max_price is not None else None
    if low is not None and high is not None:
        return sort_key.between(low, high)
    if low is not None:
        return sort_key >= low
    return sort_key <= high


def _item_sk(source: Source, position: str) -> str:
    """The table sort key of the item at `position` in `source`'s partition."""
    if source.kind == "tag":
        return f"TAG#{source.key}"
    if source.kind == "words":
        return f"WORD#{position.split('#', 1)[0]}"
    return PRODUCT_SK


def _start_key(
    after: str | None, source: Source, partition_name: str, partition: str, sort_name: str
) -> dict[str, Any] | None:
    """The ExclusiveStartKey that resumes a listing right after `after` (None: from the top)."""
    if after is None:
        return None
    return {
        "pk": {"S": product_key(after.rsplit("#", 1)[-1])},
        "sk": {"S": _item_sk(source, after)},
        partition_name: {"S": partition},
        sort_name: {"S": after},
    }


def _first_sighting(item: ProductItem, product: Product, source: Source) -> bool:
    """In search, whether `item` is its product's first word starting with the term (so a
    product with two such words is listed once); elsewhere always. The first word among
    the copies of the item's layout: while a migration runs, some are still at the old one."""
    if source.kind != "words":
        return True
    assert source.key is not None
    layout = layout_of(item.schema_version)
    return item.gsi1sk.split("#", 1)[0] == first_match(product, source.key, layout)


class ProductRepository:
    """Persistence of products; every multi-item write is one DynamoDB transaction."""

    def get(self, product_id: str) -> Product:
        try:
            item = ProductItem.get(product_key(product_id), PRODUCT_SK, consistent_read=True)
        except DoesNotExist:
            raise NotFound(f"No product has the id {product_id}.") from None
        return to_product(item)

    def ids_by_sku(self, skus: Sequence[str]) -> dict[str, str]:
        """The id of the product holding each of these SKUs (by `sku_key`; absent: none)."""
        keys = sorted({sku_key(sku) for sku in skus})
        return {
            guard.pk: guard.product_id
            for guard in SkuGuard.batch_get([(k, SKU_SK) for k in keys], consistent_read=True)
        }

    def get_many(self, product_ids: Sequence[str]) -> dict[str, Product]:
        """The products of these ids that exist, by id (strongly consistent reads)."""
        keys = [(product_key(i), PRODUCT_SK) for i in sorted(set(product_ids))]
        return {
            item.id: to_product(item) for item in ProductItem.batch_get(keys, consistent_read=True)
        }

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
        active: Counter[str] = Counter()  # the active products among them, per category
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
            oldcopies = copy_keys(before) if before is not None else {}
            newcopies = copies(after) if after is not None else {}
            for sk in sorted(oldcopies.keys() - newcopies.keys()):
                assert before is not None
                tx.delete(f"{index}:copy {sk}", ProductCopy(product_key(before.id), sk))
            for sk, copy in sorted(newcopies.items()):
                tx.save(f"{index}:copy {sk}", copy)
            if after is None:
                assert before is not None
                tx.delete(f"{index}:product", to_item(before, stored_version=before.version))
            elif before is None:
                tx.save(f"{index}:product", to_item(after, None), condition=_absent())
            else:
                tx.save(f"{index}:product", to_item(after, stored_version=before.version))
            if before is not None:
                deltas[before.category] -= 1
                active[before.category] -= before.status == "active"
            if after is not None:
                deltas[after.category] += 1
                active[after.category] += after.status == "active"
                gaining.setdefault(after.category, []).append(index)
        for slug in sorted(deltas.keys() | active.keys()):
            if deltas[slug] or active[slug]:
                label = f"category:{slug}"
                count_change(slug, tx, label, products=deltas[slug], active=active[slug])
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

    def list_page(self, plan: ListingPlan) -> tuple[list[Product], str | None]:
        """One page of a listing and the position the next page starts after (None: this
        was the last page), from Queries on the index partition designed for it.

        A designed listing reads `limit + 1` items so the last page knows it is last (1.05
        reads per item returned with pages of 20); a price range in price order is a key
        condition. A listing that must also check items in code (`plan.filtered`) reads on
        until it has its page, but never more than MAX_EXAMINED items: then it returns what
        it found, with the position of the last item read.
        """
        source = plan.source
        partition_name, partition, index, sort_name = _partition(plan, source)
        if plan.after is not None and not POSITION[plan.order].match(plan.after):
            raise InvalidCursor("The cursor is not one this API issued.")
        condition = _sort_condition(plan, source)

        def read(after: str | None, count: int) -> tuple[list[Any], bool]:
            results = index.query(
                partition,
                range_key_condition=condition,
                scan_index_forward=not plan.descending,
                limit=count,
                last_evaluated_key=_start_key(after, source, partition_name, partition, sort_name),
            )
            items = list(results)
            return items, results.last_evaluated_key is None

        if not plan.filtered:
            items, _ = read(plan.after, plan.limit + 1)
            page = [to_product(item) for item in items[: plan.limit]]
            more = len(items) > plan.limit
            return page, position_of(page[-1], plan.order, source.key) if more else None

        # Each product found with its position: the sort key of the item it was found at (in
        # search, the word copy of its own layout, which the latest layout may not place).
        found: list[tuple[Product, str]] = []
        after, examined, count = plan.after, 0, plan.limit + 1
        while examined < MAX_EXAMINED:
            # The first read is one page, as if nothing were filtered out; each later one is
            # twice as large (most of a filtered page's items may fail its checks).
            count = min(MAX_EXAMINED - examined, count)
            items, exhausted = read(after, count)
            count *= 2
            examined += len(items)
            for item in items:
                product = to_product(item)
                if plan.wants(product) and _first_sighting(item, product, source):
                    found.append((product, getattr(item, sort_name)))
                    if len(found) > plan.limit:
                        return [p for p, _ in found[: plan.limit]], found[plan.limit - 1][1]
                after = getattr(item, sort_name)
            if exhausted or not items:
                return [p for p, _ in found], None
        return [p for p, _ in found], after

    def ping(self) -> None:
        """A cheap read proving the table answers (for health checks)."""
        with suppress(DoesNotExist):
            ProductItem.get(product_key("health-check"), PRODUCT_SK)
