"""How a product is stored: its item, its SKU guard, its index copies, and the mapping.

Keys (single-table): a product is `pk=PRODUCT#<id>, sk=PRODUCT`; the guard that makes SKUs
unique regardless of case is `pk=SKU#<SKU upper-cased>, sk=SKU`. Beside the product, a copy
per tag (`sk=TAG#<tag>`, in the gsi1/3/5 partition `TAG#<tag>#<status>`) and per search word
(`sk=WORD#<word>`, in the gsi1 partition `WORDS#<status>#<first letter>`) make tag listings
and prefix search Queries on designed keys (catalog.products.repository writes them).

Every item carries `schema_version`, the layout it was written in (catalog.migrations moves
stored items from one to the next); the code writes SCHEMA_VERSION. Items written before
versions were recorded have none, and the baseline migration stamps them with 1.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    VersionAttribute,
)

from catalog.core.dynamo import DecimalAttribute, TableModel, TableName, string_index
from catalog.core.types import iso_millis
from catalog.images.records import from_attributes, images_attribute, to_attributes
from catalog.products.listing import (
    WORDS_LAYOUT,
    name_position,
    price_position,
    product_words,
    word_position,
)
from catalog.products.schemas import Product

PRODUCT_SK = "PRODUCT"
SKU_SK = "SKU"
# The layout the code writes products, their copies and SKU guards in: that of the last
# migration touching them (tests/unit/test_migration_steps.py holds the two together).
SCHEMA_VERSION = 2
SKU_SCHEMA_VERSION = 1  # SKU guards: unchanged since the baseline


def layout_of(schema_version: float | None) -> int:
    """The search-word layout of a stored item (no version: written before versions were
    recorded, in layout 1)."""
    return int(schema_version or 1)


def status_partition(status: str) -> str:
    """The gsi1 partition holding the products of one status, by creation."""
    return f"STATUS#{status}"


def category_partition(category: str, status: str) -> str:
    """The gsi2 partition holding the products of one category and status, by creation."""
    return f"CAT#{category}#{status}"


def tag_partition(tag: str, status: str) -> str:
    """The gsi1/3/5 partition holding the copies of the products of one tag and status."""
    return f"TAG#{tag}#{status}"


def words_partition(word: str, status: str) -> str:
    """The gsi1 partition holding the search words (of products of `status`) that start
    with the first letter of `word`, ordered by word, then name."""
    return f"WORDS#{status}#{word[:1]}"


class _ProductAttributes(TableModel):
    """What a product item and each of its copies hold (the indexes project everything)."""

    class Meta:
        table_name = TableName("products")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(default="product")
    schema_version = NumberAttribute(default_for_new=SCHEMA_VERSION, null=True)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    # Absent on copies, so that each copy lands only in the indexes that list by it.
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi5sk = UnicodeAttribute(null=True)
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
    images = images_attribute()


class ProductItem(_ProductAttributes):
    """The product itself (`sk=PRODUCT`); every write of it is conditional on its version."""

    # The stored layout (make layout, docs/item-layout.json): each kind's key shapes, and
    # the functions that compute what the item derives from the product.
    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "product": {
            "pk": "PRODUCT#<id>",
            "sk": "PRODUCT",
            "gsi1pk": "STATUS#<status>",
            "gsi1sk": "<id>",
            "gsi2pk": "CAT#<category>#<status>",
            "gsi2sk": "<id>",
            "gsi3sk": "<price in cents, 10 digits>#<id>",
            "gsi5sk": "<folded name>#<id>",
        }
    }
    DERIVED_BY: ClassVar[tuple[str, ...]] = ("catalog.products.items.item_attributes",)

    class Meta:
        table_name = TableName("products")

    version = VersionAttribute()

    by_status = string_index("gsi1", "gsi1pk", "gsi1sk")
    by_category = string_index("gsi2", "gsi2pk", "gsi2sk")
    by_status_price = string_index("gsi3", "gsi1pk", "gsi3sk")
    by_category_price = string_index("gsi4", "gsi2pk", "gsi3sk")
    by_status_name = string_index("gsi5", "gsi1pk", "gsi5sk")
    by_category_name = string_index("gsi6", "gsi2pk", "gsi5sk")


class ProductCopy(_ProductAttributes):
    """A copy of a product under one of its tags or search words: written unconditionally,
    always in the transaction that writes the product item (whose version guards both)."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "tag": {
            "pk": "PRODUCT#<id>",
            "sk": "TAG#<tag>",
            "gsi1pk": "TAG#<tag>#<status>",
            "gsi1sk": "<id>",
            "gsi3sk": "<price in cents, 10 digits>#<id>",
            "gsi5sk": "<folded name>#<id>",
        },
        "word": {
            "pk": "PRODUCT#<id>",
            "sk": "WORD#<word of the name, then of the SKU>",
            "gsi1pk": "WORDS#<status>#<first letter of the word>",
            "gsi1sk": "<word>#<folded name>#<id>",
        },
    }
    DERIVED_BY: ClassVar[tuple[str, ...]] = ("catalog.products.items.copies",)

    class Meta:
        table_name = TableName("products")

    version = NumberAttribute()


class SkuGuard(TableModel):
    """What makes SKUs unique whatever their case: written with the product, conditionally."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "sku": {"pk": "SKU#<SKU upper-cased>", "sk": "SKU"}
    }

    class Meta:
        table_name = TableName("products")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(default="sku")
    schema_version = NumberAttribute(default_for_new=SKU_SCHEMA_VERSION, null=True)
    product_id = UnicodeAttribute()


def product_key(product_id: str) -> str:
    return f"PRODUCT#{product_id}"


def sku_key(sku: str) -> str:
    return f"SKU#{sku.upper()}"


def item_attributes(product: Product) -> dict[str, Any]:
    return dict(
        pk=product_key(product.id),
        sk=PRODUCT_SK,
        gsi1pk=status_partition(product.status),
        gsi1sk=product.id,
        gsi2pk=category_partition(product.category, product.status),
        gsi2sk=product.id,
        gsi3sk=price_position(product.price, product.id),
        gsi5sk=name_position(product.name, product.id),
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
        images=to_attributes(product.images),
    )


def to_item(product: Product, stored_version: int | None) -> ProductItem:
    """The item for `product`; `stored_version` is the version it must replace (None: new).

    pynamodb's VersionAttribute turns that into the write condition and writes version + 1.
    """
    item = ProductItem(**item_attributes(product))
    if stored_version is not None:
        item.version = stored_version
    return item


def copy_keys(product: Product, layout: int = WORDS_LAYOUT) -> dict[str, dict[str, str | None]]:
    """The sort key of each copy of `product` (per tag, per search word) and its index keys.

    The words of each layout begin with those of the one before, so the copies of the
    current layout include every copy a product stored at an older one can have."""
    keys: dict[str, dict[str, str | None]] = {}
    for tag in product.tags:
        keys[f"TAG#{tag}"] = {
            "gsi1pk": tag_partition(tag, product.status),
            "gsi1sk": product.id,
            "gsi3sk": price_position(product.price, product.id),
            "gsi5sk": name_position(product.name, product.id),
        }
    for word in product_words(product, layout):
        keys[f"WORD#{word}"] = {
            "gsi1pk": words_partition(word, product.status),
            "gsi1sk": word_position(word, product),
        }
    return keys


def copies(product: Product, schema_version: int = SCHEMA_VERSION) -> dict[str, ProductCopy]:
    """The tag and word copies of `product` (as written with its `version`), by sort key,
    in the layout of `schema_version`."""
    unindexed = {"gsi2pk": None, "gsi2sk": None, "gsi3sk": None, "gsi5sk": None}
    return {
        sk: ProductCopy(
            **{
                **item_attributes(product),
                **unindexed,
                **index_keys,
                "sk": sk,
                "kind": sk.split("#", 1)[0].lower(),
                "version": product.version,
                "schema_version": schema_version,
            }
        )
        for sk, index_keys in copy_keys(product, layout_of(schema_version)).items()
    }


def to_product(item: ProductItem | ProductCopy) -> Product:
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
        images=from_attributes(item.images),
    )


def product_from_stream_image(image: dict[str, Any]) -> Product | None:
    """The product a stream image (DynamoDB JSON) holds; None for SKU guards and other items."""
    if image.get("sk", {}).get("S") != PRODUCT_SK:
        return None
    return to_product(ProductItem.from_raw_data(image))
