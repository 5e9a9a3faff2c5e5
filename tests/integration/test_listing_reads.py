"""Each documented listing is one Query on a designed index: items read per item returned
(at 1,000 products here; `make bench` also measures 50,000). Other combinations check in
code, but no request reads more than MAX_EXAMINED items."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from catalog.products.listing import MAX_EXAMINED
from catalog.products.schemas import Product, ProductQuery
from tests.scale import (
    DESIGNED,
    FILTERED,
    MAX_READS_PER_ITEM,
    Catalog,
    Paged,
    ReadCounter,
    build_catalog,
    counting_reads,
    page_through,
    remove_unstreamed,
    write_unstreamed,
)

PRODUCTS = 1_000
# The module's first test also builds the 1,000-product catalog (7,000 items in moto).
# One worker builds it, once: the tests share the module fixture (--dist loadgroup).
pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("listing-reads")]


@pytest.fixture(scope="module")
def catalog_of_1000(local_system: Any) -> Iterator[Catalog]:
    """1,000 products in a fresh category, with tags and search words of their own, so that
    its category, tag and word partitions hold exactly these products."""
    from tests.users import fresh_category

    unique = uuid.uuid4().hex[:8]
    category = fresh_category(local_system.url, "scale")
    # Stored without stream records, and removed after the module: 1,800 change events and
    # 1,000 products left on the worker's system would reach later tests' webhooks/listings
    catalog = build_catalog(PRODUCTS, unique, [category], write=write_unstreamed)
    yield catalog
    remove_unstreamed(catalog.products)


@pytest.fixture
def reads() -> Iterator[ReadCounter]:
    with counting_reads() as counter:
        yield counter


def page_through_completely(
    catalog: Catalog, query: ProductQuery, reads: ReadCounter
) -> tuple[Paged, list[Product]]:
    """Page through `query`; it must return each expected product exactly once."""
    paged = page_through(catalog.service, query, reads)
    expected = catalog.expected(query)
    assert len(paged.ids) == len(set(paged.ids))
    assert set(paged.ids) == {p.id for p in expected}
    return paged, expected


@pytest.mark.parametrize("build", DESIGNED.values(), ids=DESIGNED.keys())
def test_each_designed_listing_reads_at_most_1_25_items_per_item(
    catalog_of_1000: Catalog, reads: ReadCounter, build: Any
) -> None:
    # Given a designed listing over the 1,000-product catalog
    query: ProductQuery = build(catalog_of_1000)
    # When a client pages through it to the end, getting each expected product once
    paged, expected = page_through_completely(catalog_of_1000, query, reads)
    # Then the listing is large enough to measure
    assert len(expected) >= 40
    # And a listing by creation time comes back in that order
    if query.order == "created_at":
        assert paged.ids == sorted(paged.ids, reverse=query.descending)
    # And DynamoDB read at most 1.25 items per item returned
    # Items DynamoDB read, per item the client got (the extra item a page reads to know
    # whether another follows counts as a read).
    ratio = reads.scanned / len(paged.ids)
    print(f"\n{query.listing()} limit={query.limit}: {ratio:.3f} reads/item")
    assert ratio <= MAX_READS_PER_ITEM
    # And it took about one Query per page
    assert reads.queries <= paged.pages + 1  # a page is one Query (search: maybe two)


@pytest.mark.parametrize("build", FILTERED.values(), ids=FILTERED.keys())
def test_a_filtered_listing_finds_everything_and_reads_a_bounded_number_per_request(
    catalog_of_1000: Catalog, reads: ReadCounter, build: Any
) -> None:
    # Given a filtered listing that no index is designed for
    query: ProductQuery = build(catalog_of_1000)
    # When a client pages through it to the end, getting each expected product once
    paged, expected = page_through_completely(catalog_of_1000, query, reads)
    # Then the filter matched products
    assert expected
    # And no request read more than MAX_EXAMINED items
    assert max(paged.reads_per_page) <= MAX_EXAMINED


def test_a_sparse_filter_returns_short_pages_with_cursors_instead_of_reading_on(
    catalog_of_1000: Catalog, reads: ReadCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a bound of 150 items, a filter that matches about 1 product in 14 cannot fill
    pages of 50: each request stops at the bound and hands back a cursor, and paging on
    still finds every product exactly once."""
    # Given a bound of 150 items read per request
    monkeypatch.setattr("catalog.products.repository.MAX_EXAMINED", 150)
    # And a sparse filter, matching about 1 product in 14, asked in pages of 50
    query = ProductQuery(
        category=catalog_of_1000.category,
        min_price=Decimal(20),
        max_price=Decimal(30),
        in_stock=True,
        limit=50,
    )
    # When a client pages through it to the end
    paged = page_through(catalog_of_1000.service, query, reads)
    # Then every matching product is found exactly once
    expected = catalog_of_1000.expected(query)
    assert set(paged.ids) == {p.id for p in expected}
    assert len(paged.ids) == len(expected)
    # And each request stopped at the bound and handed back a cursor
    assert max(paged.reads_per_page) <= 150
    assert paged.pages >= 800 // 150  # the 800 active products, 150 at a time
