"""Each documented listing is one Query on a designed index: items read per item returned.

DynamoDB reports `ScannedCount` (items read) and `Count` (items returned) for every Query;
a botocore hook on pynamodb's client adds them up while the tests page through listings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from catalog.core.auth import Principal
from catalog.products.repository import ProductItem, ProductRepository
from catalog.products.repository import _to_item as to_item
from catalog.products.schemas import ProductCreate, ProductQuery
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


@pytest.fixture(scope="module")
def catalog_of_1000(local_system: Any) -> Iterator[tuple[ProductService, str]]:
    """1,000 products in a fresh category (4 in 5 active).

    Written with BatchWriteItem, not the product transactions: moto copies the table for
    each transaction, which makes 1,000 transactional creates take minutes. The items are
    the ones the repository writes, so the indexes hold exactly what they would.
    """
    from tests.users import demo_user

    admin = demo_user(local_system.url, "admin")
    category = f"scale-{uuid.uuid4().hex[:8]}"
    import requests

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
                    category=category,
                    status="active" if n % 5 else "draft",
                    price=str(Decimal(n % 100) + Decimal("0.99")),  # 0.99 ... 99.99
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
    yield service, category


@pytest.fixture
def reads() -> Iterator[ReadCounter]:
    counter = ReadCounter()
    events = ProductItem._get_connection().connection.client.meta.events
    events.register("after-call.dynamodb.Query", counter)
    yield counter
    events.unregister("after-call.dynamodb.Query", counter)


@pytest.mark.parametrize(
    "query",
    [
        ProductQuery(limit=100),
        ProductQuery(limit=100, sort="created_at"),
        ProductQuery(limit=20, status="draft"),
        ProductQuery(limit=100, sort="price"),
        ProductQuery(limit=50, sort="-price", min_price=Decimal("5"), max_price=Decimal("50")),
        ProductQuery(limit=100, sort="name"),
    ],
    ids=[
        "newest first, pages of 100",
        "oldest first, pages of 100",
        "drafts, pages of 20",
        "cheapest first, pages of 100",
        "dearest first within 5-50, pages of 50",
        "by name, pages of 100",
    ],
)
def test_paging_a_category_reads_at_most_1_25_items_per_item(
    catalog_of_1000: tuple[ProductService, str], reads: ReadCounter, query: ProductQuery
) -> None:
    service, category = catalog_of_1000
    query = query.model_copy(update={"category": category})
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        page = service.list(query, ADMIN)
        seen += [p.id for p in page.items]
        if page.next_cursor is None:
            break
        query = query.model_copy(update={"cursor": page.next_cursor})
    expected = 800 if query.status == "active" else 200
    if query.min_price is not None:
        expected = 360  # prices 5.99 ... 49.99: 45 of every 100, active 4 in 5
    assert len(seen) == len(set(seen)) == expected
    if query.order == "created_at":
        assert seen == sorted(seen, reverse=query.descending)
    # Items DynamoDB read, per item the client got (the extra item a page reads to know
    # whether another follows counts as a read).
    ratio = reads.scanned / len(seen)
    print(f"\n{query.sort} status={query.status} limit={query.limit}: {ratio:.3f} reads/item")
    assert ratio <= MAX_READS_PER_ITEM
    assert reads.queries == pages  # one Query per page, never a scan or a second round
