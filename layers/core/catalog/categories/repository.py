"""Categories in the products table: `pk=CATEGORY#<slug>, sk=CATEGORY`.

Each category counts its products and its child categories; product writes change the
count in the same transaction as the product, so "delete only when empty" is a single
conditional delete, with no query over products.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from catalog.categories.schemas import Category
from catalog.core.dynamo import TableModel, TableName, Transaction, string_index
from catalog.core.errors import Conflict, NotFound, ValidationFailed, VersionConflict
from catalog.core.types import iso_millis

CATEGORY_SK = "CATEGORY"
# The layout the code writes categories in (see catalog.migrations): that of the last
# migration touching them.
SCHEMA_VERSION = 3
ACTIVE_COUNT_VERSION = 3  # 0003_category_active_counts: active_count is right from here
ALL_CATEGORIES = "CATEGORIES"  # gsi1 partition of every category, by slug


class CategoryItem(TableModel):
    """A category with its counts (changed in the transactions that write its products)."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "category": {
            "pk": "CATEGORY#<slug>",
            "sk": "CATEGORY",
            "gsi1pk": "CATEGORIES",
            "gsi1sk": "<slug>",
        }
    }

    class Meta:
        table_name = TableName("products")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(default="category")
    schema_version = NumberAttribute(default_for_new=SCHEMA_VERSION, null=True)
    gsi1pk = UnicodeAttribute(default=ALL_CATEGORIES)
    gsi1sk = UnicodeAttribute()
    slug = UnicodeAttribute()
    name = UnicodeAttribute()
    parent = UnicodeAttribute(null=True)
    product_count = NumberAttribute(default=0)
    # The active ones among them: what anyone may see listed (drafts and archived are not).
    active_count = NumberAttribute(default=0)
    child_count = NumberAttribute(default=0)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute()

    all_categories = string_index("gsi1", "gsi1pk", "gsi1sk")


def category_key(slug: str) -> str:
    return f"CATEGORY#{slug}"


def category_ref(slug: str) -> CategoryItem:
    """A key-only item, for updates and condition checks inside transactions."""
    return CategoryItem(category_key(slug), CATEGORY_SK)


def exists_condition() -> Condition:
    return CategoryItem.pk.exists()


def count_change(
    slug: str, tx: Transaction, label: str, *, products: int = 0, active: int = 0, children: int = 0
) -> None:
    """Add to a category's counts inside `tx` (it must exist): one update of its item, as a
    transaction takes one operation per item."""
    counts = (
        (CategoryItem.product_count, products),
        (CategoryItem.active_count, active),
        (CategoryItem.child_count, children),
    )
    actions = [attribute.add(delta) for attribute, delta in counts if delta]
    tx.update(label, category_ref(slug), actions, condition=exists_condition())


def missing_category(slug: str, pointer: str = "#/category") -> ValidationFailed:
    return ValidationFailed(
        f"There is no category {slug!r}.",
        errors=[
            {"in": "body", "pointer": pointer, "detail": "unknown category", "type": "unknown"}
        ],
    )


def _to_item(category: Category) -> CategoryItem:
    return CategoryItem(
        pk=category_key(category.slug),
        sk=CATEGORY_SK,
        gsi1sk=category.slug,
        slug=category.slug,
        name=category.name,
        parent=category.parent,
        product_count=category.product_count,
        child_count=category.child_count,
        created_at=iso_millis(category.created_at),
        updated_at=iso_millis(category.updated_at),
        version=category.version,
    )


Counting = Literal["all", "active"]


def _active_count(item: CategoryItem) -> int:
    """The category's active products. A category written before its count was kept (not yet
    migrated by 0003_category_active_counts) has none or a wrong one: they are counted."""
    if (item.schema_version or 0) >= ACTIVE_COUNT_VERSION:
        return int(item.active_count)
    from catalog.products.items import ProductItem, category_partition

    return int(ProductItem.by_category.count(category_partition(item.slug, "active")))


def _to_category(item: CategoryItem, counting: Counting = "all") -> Category:
    """The category as a caller sees it: counting every product, or the active ones."""
    count = item.product_count if counting == "all" else _active_count(item)
    return Category(
        slug=item.slug,
        name=item.name,
        parent=item.parent,
        product_count=int(count),
        child_count=int(item.child_count),
        created_at=datetime.fromisoformat(item.created_at),
        updated_at=datetime.fromisoformat(item.updated_at),
        version=int(item.version),
    )


class CategoryRepository:
    def get(self, slug: str, counting: Counting = "all") -> Category:
        try:
            item = CategoryItem.get(category_key(slug), CATEGORY_SK, consistent_read=True)
        except DoesNotExist:
            raise NotFound(f"There is no category {slug!r}.") from None
        return _to_category(item, counting)

    def list_all(self, counting: Counting = "all") -> list[Category]:
        items = CategoryItem.all_categories.query(ALL_CATEGORIES)
        return [_to_category(item, counting) for item in items]

    def create(self, category: Category) -> None:
        tx = Transaction()
        tx.save("category", _to_item(category), condition=CategoryItem.pk.does_not_exist())
        if category.parent:
            count_change(category.parent, tx, "parent", children=1)
        failed = tx.commit()
        if "category" in failed:
            raise Conflict(f"The category {category.slug!r} exists already.")
        if "parent" in failed:
            raise missing_category(category.parent or "", "#/parent")

    def replace(self, current: Category, updated: Category) -> None:
        """Rename or re-parent, if nobody changed the category meanwhile (counts may have)."""
        tx = Transaction()
        actions = [
            CategoryItem.name.set(updated.name),
            CategoryItem.updated_at.set(iso_millis(updated.updated_at)),
            CategoryItem.version.set(updated.version),
            CategoryItem.parent.set(updated.parent)
            if updated.parent
            else CategoryItem.parent.remove(),
        ]
        tx.update(
            "category",
            category_ref(current.slug),
            actions,
            condition=CategoryItem.version == current.version,
        )
        if updated.parent != current.parent:
            if current.parent:
                count_change(current.parent, tx, "old parent", children=-1)
            if updated.parent:
                count_change(updated.parent, tx, "new parent", children=1)
        failed = tx.commit()
        if "new parent" in failed:
            raise missing_category(updated.parent or "", "#/parent")
        if failed:
            raise VersionConflict(current.slug)

    def delete(self, current: Category) -> None:
        """Delete an empty category (no products, no children), or raise `Conflict`."""
        tx = Transaction()
        tx.delete(
            "category",
            category_ref(current.slug),
            condition=(CategoryItem.product_count == 0) & (CategoryItem.child_count == 0),
        )
        if current.parent:
            count_change(current.parent, tx, "parent", children=-1)
        if tx.commit():
            raise Conflict(f"The category {current.slug!r} still has products or subcategories.")
