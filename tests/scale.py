"""A synthetic catalog at scale, the listings README's access-pattern table documents, and a
counter of the items DynamoDB reads: shared by `tests/integration/test_listing_reads.py`
(1,000 products) and `benchmarks/read_amplification.py` (1,000 and 50,000 products).

DynamoDB reports `ScannedCount` (items read) and `Count` (items returned) for every Query;
a botocore hook on pynamodb's client adds them up while a listing is paged through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from catalog.identity.principal import Principal
from catalog.products.items import ProductCopy, ProductItem, copies, to_item
from catalog.products.repository import ProductRepository
from catalog.products.schemas import Product, ProductCreate, ProductQuery
from catalog.products.service import ProductService, listing_plan

ADMIN = Principal(sub="admin-sub", role="admin")
MAX_READS_PER_ITEM = 1.25


class ReadCounter:
    """Queries made by the thread that counts: the one DynamoDB client of the process also
    serves the local system's functions, which may be reading in other threads meanwhile."""

    def __init__(self) -> None:
        self.scanned = 0
        self.returned = 0
        self.queries = 0
        self.thread = threading.get_ident()

    def __call__(self, parsed: dict[str, Any], **_: Any) -> None:
        if threading.get_ident() != self.thread:
            return
        self.queries += 1
        self.scanned += int(parsed.get("ScannedCount", 0))
        self.returned += int(parsed.get("Count", 0))


@contextmanager
def counting_reads() -> Iterator[ReadCounter]:
    counter = ReadCounter()
    events = ProductItem._get_connection().connection.client.meta.events
    events.register("after-call.dynamodb.Query", counter)
    try:
        yield counter
    finally:
        events.unregister("after-call.dynamodb.Query", counter)


ADJECTIVES = ["red", "blue", "green", "amber", "ivory"]
NOUNS = ["lamp", "mug", "chair", "rug"]


@dataclass(frozen=True)
class Catalog:
    service: ProductService
    category: str
    tags: tuple[str, str, str]  # unique to this catalog: every 2nd, 3rd, 7th product
    word: str  # a search word unique to this catalog; products carry word + n % 10
    products: list[Product]

    def expected(self, query: ProductQuery) -> list[Product]:
        """What paging through `query` must return, worked out in Python."""
        plan = listing_plan(query)
        return [p for p in self.products if plan.wants(p)]


def stored_items(products: list[Product]) -> Iterator[ProductItem | ProductCopy]:
    """The items the repository stores for `products` (each at version 1)."""
    for product in products:
        item = to_item(product, stored_version=None)
        item.version = 1
        yield item
        yield from copies(product).values()


def _moto_products_table() -> Any:
    import os

    from moto.dynamodb.models import dynamodb_backends

    region = os.environ["AWS_DEFAULT_REGION"]
    return dynamodb_backends["123456789012"][region].get_table(ProductItem.Meta.table_name)


def write_unstreamed(items: Iterator[ProductItem | ProductCopy]) -> None:
    """Store the items straight into the local system's moto (in this process), without
    stream records: a catalog that was there before the test, whose change events nobody
    waits for (10,000 products' events would keep the local pump busy for minutes)."""
    from infra.local.moto import put_items

    put_items(_moto_products_table(), (item.serialize() for item in items), unstreamed=True)


def remove_unstreamed(products: list[Product]) -> None:
    """Take `write_unstreamed`'s products out again (moto sorts a whole table for every
    Query: a module's 10,000 products left behind would slow every later test)."""
    from infra.local.moto import remove_items

    keys = (
        {"pk": item.serialize()["pk"], "sk": item.serialize()["sk"]}
        for item in stored_items(products)
    )
    remove_items(_moto_products_table(), keys)


def batch_write(items: Iterator[ProductItem | ProductCopy]) -> None:
    with ProductItem.batch_write() as batch:
        for item in items:
            batch.save(item)  # same table, same keys


def build_catalog(
    size: int,
    unique: str,
    categories: list[str],
    write: Callable[[Iterator[ProductItem | ProductCopy]], None] | None = None,
) -> Catalog:
    """`size` products spread over `categories` (4 in 5 active, a third out of stock), with
    tags and a search word unique to this catalog; stored with BatchWriteItem.

    Not through the product transactions: moto copies the table for each transaction,
    which makes thousands of transactional creates take minutes. The items are the ones the
    repository writes (products and their copies), so the indexes hold exactly what they would.
    """
    service = ProductService(ProductRepository())
    tags = (f"two-{unique}", f"three-{unique}", f"seven-{unique}")
    word = f"w{unique}"
    products = [
        service.new_product(
            ProductCreate(
                sku=f"S{unique}-{n:06d}",
                name=f"{ADJECTIVES[n % 5]} {NOUNS[n % 4]} {word}{n % 10}"
                + (f" {word}x" if n % 10 == 1 else ""),  # two words with one prefix
                category=categories[(n // 10) % len(categories)],
                status="active" if n % 5 else "draft",
                price=Decimal(n % 100) + Decimal("0.99"),  # 0.99 ... 99.99
                currency="EUR",
                stock=n % 3,  # a third out of stock
                tags=[t for t, every in zip(tags, (2, 3, 7), strict=True) if n % every == 0],
            ),
            ADMIN,
        )
        for n in range(size)
    ]
    (write or batch_write)(stored_items(products))
    return Catalog(service, categories[0], tags, word, products)


@dataclass
class Paged:
    ids: list[str]
    pages: int
    reads_per_page: list[int]


def page_through(
    service: ProductService, query: ProductQuery, reads: ReadCounter, max_pages: int = 10**6
) -> Paged:
    """Follow `query`'s cursors to the end (or for `max_pages` pages)."""
    ids: list[str] = []
    reads_per_page: list[int] = []
    while len(reads_per_page) < max_pages:
        before = reads.scanned
        page = service.list(query, ADMIN)
        reads_per_page.append(reads.scanned - before)
        ids += [p.id for p in page.items]
        if page.next_cursor is None:
            break
        query = query.model_copy(update={"cursor": page.next_cursor})
    return Paged(ids, len(reads_per_page), reads_per_page)


# Each documented (designed) listing of README's access-pattern table, over this catalog.
DESIGNED: dict[str, Callable[[Catalog], ProductQuery]] = {
    "category, newest first, pages of 100": lambda c: ProductQuery(category=c.category, limit=100),
    "category, oldest first, pages of 100": lambda c: ProductQuery(
        category=c.category, sort="created_at", limit=100
    ),
    "category, drafts, pages of 20": lambda c: ProductQuery(
        category=c.category, status="draft", limit=20
    ),
    "category, cheapest first": lambda c: ProductQuery(
        category=c.category, sort="price", limit=100
    ),
    "category, dearest first within 5-50, pages of 50": lambda c: ProductQuery(
        category=c.category, sort="-price", min_price=Decimal(5), max_price=Decimal(50), limit=50
    ),
    "category, by name": lambda c: ProductQuery(category=c.category, sort="name", limit=100),
    "tag, newest first, pages of 20": lambda c: ProductQuery(tags=c.tags[:1], limit=20),
    "tag, cheapest first within 10-60": lambda c: ProductQuery(
        tags=c.tags[1:2], sort="price", min_price=Decimal(10), max_price=Decimal(60), limit=50
    ),
    "tag, by name": lambda c: ProductQuery(tags=c.tags[2:], sort="-name", limit=100),
    "search one word, pages of 20": lambda c: ProductQuery(q=f"{c.word}3", limit=20),
    "search a prefix some products have twice": lambda c: ProductQuery(q=c.word, limit=100),
}


# Combinations no index serves: a page reads on, checking in code, up to MAX_EXAMINED items.
FILTERED: dict[str, Callable[[Catalog], ProductQuery]] = {
    "category, in stock": lambda c: ProductQuery(category=c.category, in_stock=True, limit=50),
    "category, any of two tags": lambda c: ProductQuery(
        category=c.category, tags=c.tags[:2], limit=50
    ),
    "all of two tags, by price": lambda c: ProductQuery(
        tags=c.tags[:2], tag_mode="all", sort="price", limit=20
    ),
    "category, price range, newest first": lambda c: ProductQuery(
        category=c.category, min_price=Decimal(20), max_price=Decimal(30), limit=20
    ),
    "search two words": lambda c: ProductQuery(q=f"amber {c.word}", limit=20),
    "search by price, in stock": lambda c: ProductQuery(
        q=c.word, sort="-price", in_stock=True, category=c.category, limit=100
    ),
}
