"""Each documented listing is one Query on a designed index: items read per item returned.

DynamoDB reports `ScannedCount` (items read) and `Count` (items returned) for every Query;
a botocore hook on pynamodb's client adds them up while the tests page through listings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from catalog.core.auth import Principal
from catalog.products.listing import MAX_EXAMINED, ListingPlan, terms_of
from catalog.products.repository import ProductCopy, ProductItem, ProductRepository
from catalog.products.repository import _copies as copies
from catalog.products.repository import _to_item as to_item
from catalog.products.schemas import Product, ProductCreate, ProductQuery
from catalog.products.service import ProductService
from tests.conftest import product_payload

ADMIN = Principal(sub="admin-sub", role="admin")
PRODUCTS = 1_000
MAX_READS_PER_ITEM = 1.25


class ReadCounter:
    def __init__(self) -> None:
        self.scanned = 0
        self.returned = 0
        self.queries = 0

    def __call__(self, parsed: dict[str, Any], **_: Any) -> None:
        self.queries += 1
        self.scanned += int(parsed.get("ScannedCount", 0))
        self.returned += int(parsed.get("Count", 0))


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
        plan = ListingPlan(
            status=query.status,
            category=query.category,
            order=query.order,
            descending=query.descending,
            limit=query.limit,
            min_price=query.min_price,
            max_price=query.max_price,
            tags=query.tags,
            tag_mode=query.tag_mode,
            in_stock=query.in_stock,
            terms=terms_of(query.q or ""),
        )
        return [p for p in self.products if plan.wants(p)]


@pytest.fixture(scope="module")
def catalog_of_1000(local_system: Any) -> Iterator[Catalog]:
    """1,000 products in a fresh category (4 in 5 active), with tags and search words of
    their own, so that tag and word partitions hold exactly these products.

    Written with BatchWriteItem, not the product transactions: moto copies the table for
    each transaction, which makes 1,000 transactional creates take minutes. The items are
    the ones the repository writes (products and their copies), so the indexes hold exactly
    what they would.
    """
    import requests

    from tests.users import demo_user

    admin = demo_user(local_system.url, "admin")
    unique = uuid.uuid4().hex[:8]
    category = f"scale-{unique}"
    tags = (f"two-{unique}", f"three-{unique}", f"seven-{unique}")
    word = f"w{unique}"
    created = requests.post(
        local_system.url + "/v1/categories",
        json={"slug": category, "name": "Scale"},
        headers=admin.headers,
        timeout=30,
    )
    assert created.status_code == 201
    repository = ProductRepository()
    service = ProductService(repository)
    products = [
        service.new_product(
            ProductCreate.model_validate(
                product_payload(
                    sku=f"S{unique}-{n:04d}",
                    name=f"{ADJECTIVES[n % 5]} {NOUNS[n % 4]} {word}{n % 10}"
                    + (f" {word}x" if n % 10 == 1 else ""),  # two words with one prefix
                    category=category,
                    status="active" if n % 5 else "draft",
                    price=str(Decimal(n % 100) + Decimal("0.99")),  # 0.99 ... 99.99
                    stock=n % 3,  # a third out of stock
                    tags=[t for t, every in zip(tags, (2, 3, 7), strict=True) if n % every == 0],
                )
            ),
            ADMIN,
        )
        for n in range(PRODUCTS)
    ]
    with ProductItem.batch_write() as batch:
        for product in products:
            item = to_item(product, stored_version=None)
            item.version = 1
            batch.save(item)
    with ProductCopy.batch_write() as copies_batch:
        for product in products:
            for copy in copies(product).values():
                copies_batch.save(copy)
    yield Catalog(service, category, tags, word, products)


@pytest.fixture
def reads() -> Iterator[ReadCounter]:
    counter = ReadCounter()
    events = ProductItem._get_connection().connection.client.meta.events
    events.register("after-call.dynamodb.Query", counter)
    yield counter
    events.unregister("after-call.dynamodb.Query", counter)


@dataclass
class Paged:
    ids: list[str]
    pages: int
    reads_per_page: list[int]


def page_through(service: ProductService, query: ProductQuery, reads: ReadCounter) -> Paged:
    ids: list[str] = []
    reads_per_page: list[int] = []
    while True:
        before = reads.scanned
        page = service.list(query, ADMIN)
        reads_per_page.append(reads.scanned - before)
        ids += [p.id for p in page.items]
        if page.next_cursor is None:
            return Paged(ids, len(reads_per_page), reads_per_page)
        query = query.model_copy(update={"cursor": page.next_cursor})


# Each documented (designed) listing of README's access-pattern table, over this catalog.
DESIGNED = {
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


@pytest.mark.parametrize("build", DESIGNED.values(), ids=DESIGNED.keys())
def test_each_designed_listing_reads_at_most_1_25_items_per_item(
    catalog_of_1000: Catalog, reads: ReadCounter, build: Any
) -> None:
    query: ProductQuery = build(catalog_of_1000)
    paged = page_through(catalog_of_1000.service, query, reads)
    expected = catalog_of_1000.expected(query)
    assert len(paged.ids) == len(set(paged.ids))
    assert set(paged.ids) == {p.id for p in expected}
    assert len(expected) >= 40
    if query.order == "created_at":
        assert paged.ids == sorted(paged.ids, reverse=query.descending)
    # Items DynamoDB read, per item the client got (the extra item a page reads to know
    # whether another follows counts as a read).
    ratio = reads.scanned / len(paged.ids)
    print(f"\n{query.listing()} limit={query.limit}: {ratio:.3f} reads/item")
    assert ratio <= MAX_READS_PER_ITEM
    assert reads.queries <= paged.pages + 1  # a page is one Query (search: maybe two)


# Combinations no index serves: a page reads on, checking in code, up to MAX_EXAMINED items.
FILTERED = {
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


@pytest.mark.parametrize("build", FILTERED.values(), ids=FILTERED.keys())
def test_a_filtered_listing_finds_everything_and_reads_a_bounded_number_per_request(
    catalog_of_1000: Catalog, reads: ReadCounter, build: Any
) -> None:
    query: ProductQuery = build(catalog_of_1000)
    paged = page_through(catalog_of_1000.service, query, reads)
    expected = catalog_of_1000.expected(query)
    assert len(paged.ids) == len(set(paged.ids))
    assert set(paged.ids) == {p.id for p in expected}
    assert expected
    assert max(paged.reads_per_page) <= MAX_EXAMINED


def test_a_sparse_filter_returns_short_pages_with_cursors_instead_of_reading_on(
    catalog_of_1000: Catalog, reads: ReadCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a bound of 150 items, a filter that matches about 1 product in 14 cannot fill
    pages of 50: each request stops at the bound and hands back a cursor, and paging on
    still finds every product exactly once."""
    monkeypatch.setattr("catalog.products.repository.MAX_EXAMINED", 150)
    query = ProductQuery(
        category=catalog_of_1000.category,
        min_price=Decimal(20),
        max_price=Decimal(30),
        in_stock=True,
        limit=50,
    )
    paged = page_through(catalog_of_1000.service, query, reads)
    expected = catalog_of_1000.expected(query)
    assert set(paged.ids) == {p.id for p in expected}
    assert len(paged.ids) == len(expected)
    assert max(paged.reads_per_page) <= 150
    assert paged.pages >= 800 // 150  # the 800 active products, 150 at a time
