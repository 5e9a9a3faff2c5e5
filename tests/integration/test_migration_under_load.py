"""1,000 products migrated to the new search words while editors keep writing: no write is
lost, no item is left behind, and listings and search answer as on a catalog written fresh
with the new code. And while a migration runs, search reads products of both layouts."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from catalog.core import cursor, settings
from catalog.migrations import ProgressEvent, registry, state, upgrade
from catalog.products.items import SCHEMA_VERSION
from catalog.products.repository import ProductRepository
from catalog.products.schemas import Product, ProductCreate, ProductPatch, ProductQuery
from catalog.products.service import ProductService
from tests.migration_tables import (
    ADMIN,
    MotoEndpoint,
    create_table,
    data_items,
    fresh_category_item,
    fresh_items,
    make_products,
    moto_endpoint,
    old_category_item,
    old_layout_items,
    use_table,
    write_raw,
)

CATEGORIES = ["home", "garden", "office"]
PRODUCTS = 1_000
pytestmark = [pytest.mark.xdist_group("migrations"), pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MotoEndpoint]:
    """moto, and cursors signed with a key from the environment (no Secrets Manager)."""
    with pytest.MonkeyPatch.context() as patch, moto_endpoint() as endpoint:
        patch.delenv("CURSOR_SECRET_ID", raising=False)
        patch.setenv("CURSOR_SIGNING_KEY", "migration-test-key")
        settings.settings.cache_clear()
        cursor._signing_key.cache_clear()
        yield endpoint
    settings.settings.cache_clear()
    cursor._signing_key.cache_clear()


def at_layout_1(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**item, "schema_version": {"N": "1"}} for item in items]


def record_baseline(endpoint: MotoEndpoint, table: str) -> None:
    """The baseline's record, as a run of it leaves it (its stamping is tested on its own in
    test_migrations.py; here the catalog is given at layout 1)."""
    baseline = registry.discover()[0]
    endpoint.client.put_item(
        TableName=table,
        Item={
            **state.record_key(1),
            "id": {"S": baseline.id},
            "kind": {"S": state.KIND},
            "checksum": {"S": baseline.checksum},
            "description": {"S": baseline.description},
            "started_at": {"S": "2026-12-01T00:00:00Z"},
            "finished_at": {"S": "2026-12-01T00:00:01Z"},
            "runner": {"S": "earlier"},
            "scanned": {"N": "0"},
            "changed": {"N": "0"},
        },
    )


def categories_for(products: list[Product]) -> list[dict[str, Any]]:
    return at_layout_1([old_category_item(slug, products) for slug in CATEGORIES])


class Editor(threading.Thread):
    """Writes through the product service while the migration runs: renames, new
    descriptions and tags, deletions and creations; remembers what it wrote last."""

    def __init__(self, seed: int, products: list[Product], running: threading.Event) -> None:
        super().__init__()
        self.service = ProductService(ProductRepository())
        self.random = random.Random(seed)
        self.products = products
        self.running = running
        self.written: dict[str, Product] = {}
        self.deleted: set[str] = set()
        self.during_migration = 0
        self.error: BaseException | None = None
        self.seed = seed

    def run(self) -> None:
        try:
            for n in range(60):
                self.write_one(n)
                if self.running.is_set():
                    self.during_migration += 1
        except BaseException as error:
            self.error = error

    def write_one(self, n: int) -> None:
        choice = self.random.random()
        if choice < 0.15:
            product = self.service.create(
                ProductCreate(
                    sku=f"NEW-{self.seed}-{n}",
                    name=f"fresh thing {n}",
                    description=f"written during the migration, quokka{self.seed}",
                    price=Decimal("5.00"),
                    currency="EUR",
                    category=CATEGORIES[n % 3],
                    tags=["new"],
                    stock=1,
                    status="active",
                ),
                ADMIN,
            )
            self.written[product.id] = product
            return
        target = self.random.choice(self.products)
        if target.id in self.deleted:
            return
        if choice < 0.25:
            self.service.delete(target.id, ADMIN)
            self.deleted.add(target.id)
            self.written.pop(target.id, None)
            return
        changes: dict[str, Any] = {"description": f"now in walnut{n} and zebra{self.seed}"}
        if choice < 0.5:
            changes["name"] = f"renamed {n} {target.name}"[:200]
        if choice > 0.8:
            changes["tags"] = ["edited", *target.tags[:1]]
        if choice > 0.9:
            changes["status"] = "active"
        patch = ProductPatch.model_validate(changes)
        self.written[target.id] = self.service.update(target.id, patch, ADMIN)


def page_through(service: ProductService, query: ProductQuery) -> list[Product]:
    found: list[Product] = []
    while True:
        page = service.list(query, ADMIN)
        found += page.items
        if page.next_cursor is None:
            return found
        query = query.model_copy(update={"cursor": page.next_cursor})


# A few listings of each kind (moto reads a whole index per Query, so each costs): the
# stored items are compared one by one above, so these check reading, not storage.
QUERIES = [
    ProductQuery(category="home", sort="price", limit=100),
    ProductQuery(tags=("edited",), limit=100),
    ProductQuery(q="brass", limit=100),  # a description word
    ProductQuery(q="zebra", limit=100),  # a description word only concurrent edits wrote
]


def test_a_catalog_migrated_under_concurrent_writes_equals_one_written_fresh(
    endpoint: MotoEndpoint,
) -> None:
    # Given 1,000 products (tags, search words, images, three categories) at layout 1
    table = create_table(endpoint, "under-load")
    products = make_products(PRODUCTS, CATEGORIES)
    write_raw(
        endpoint.client,
        table,
        at_layout_1([i for p in products for i in old_layout_items(p)]) + categories_for(products),
    )
    record_baseline(endpoint, table)
    # And two editors who start writing once the migration is under way
    running = threading.Event()
    editors = [Editor(seed, products[seed::2], running) for seed in (0, 1)]

    def started(event: ProgressEvent) -> None:
        if not running.is_set():
            running.set()
            for editor in editors:
                editor.start()

    # When the migrations run meanwhile
    result = upgrade(runner="under-load", progress=started)
    running.clear()
    for editor in editors:
        editor.join(120)
    assert not any(editor.is_alive() for editor in editors), "an editor is still writing"
    assert all(editor.error is None for editor in editors), [e.error for e in editors]
    assert result.done
    assert result.applied == ("0002_search_words_v2", "0003_category_active_counts")
    assert sum(editor.during_migration for editor in editors) > 0

    # Then the table holds exactly the items the new code writes for the products as their
    # last writer left them: no write lost or undone, no copy of the old layout left
    # behind, none missing, every one at the latest schema_version
    expected = {p.id: p for p in products}
    for editor in editors:
        for product_id in editor.deleted:
            expected.pop(product_id, None)
        expected.update(editor.written)
    assert any(editor.deleted for editor in editors)
    repository = ProductRepository()
    for product_id in list(editors[0].written)[:5]:
        assert repository.get(product_id) == expected[product_id]
    final = list(expected.values())
    stored = data_items(endpoint.client, table)
    products_stored = {k: v for k, v in stored.items() if not k[0].startswith("CATEGORY#")}
    fresh = {(i["pk"]["S"], i["sk"]["S"]): i for p in final for i in fresh_items(p)}
    assert products_stored.keys() == fresh.keys()
    assert products_stored == fresh
    assert {
        item["schema_version"]["N"]
        for item in products_stored.values()
        if item["kind"]["S"] != "sku"
    } == {str(SCHEMA_VERSION)}
    # And the categories count what is there, the active products included (counted by
    # the migration while the editors' writes added to and took from the counts)
    for slug in CATEGORIES:
        assert stored[(f"CATEGORY#{slug}", "CATEGORY")] == fresh_category_item(slug, final)

    # And listings and search answer as on a catalog written fresh with the new code
    service = ProductService(ProductRepository())
    migrated = {str(q): page_through(service, q) for q in QUERIES}
    fresh_table = create_table(endpoint, "fresh")
    write_raw(
        endpoint.client,
        fresh_table,
        [i for p in final for i in fresh_items(p)]
        + [fresh_category_item(slug, final) for slug in CATEGORIES],
    )
    written_fresh = {str(q): page_through(service, q) for q in QUERIES}
    use_table(table)
    assert migrated == written_fresh
    assert all(migrated.values())  # none of the listings is empty


def test_search_reads_products_of_both_layouts_while_a_migration_runs(
    endpoint: MotoEndpoint,
) -> None:
    # Given ten mugs described as "Made of ...": half still at the old layout (copies of
    # name and SKU words only), half migrated, so "m" matches "made" first in the new
    # layout and "mug" first in the old one
    table = create_table(endpoint, "mixed")
    products = [
        p.model_copy(update={"name": f"mug {n}", "description": "Made of clay."})
        for n, p in enumerate(make_products(10, CATEGORIES, unique="x"))
    ]
    products = [p.model_copy(update={"status": "active"}) for p in products]
    old, new = products[::2], products[1::2]
    write_raw(
        endpoint.client,
        table,
        [i for p in old[:2] for i in old_layout_items(p)]  # not even stamped by the baseline
        + at_layout_1([i for p in old[2:] for i in old_layout_items(p)])
        + [i for p in new for i in fresh_items(p)]
        + categories_for(products),
    )
    service = ProductService(ProductRepository())
    # When a client pages through a search three at a time
    found = page_through(service, ProductQuery(q="m", limit=3))
    # Then every mug is listed exactly once, whatever its layout
    assert sorted(p.id for p in found) == sorted(p.id for p in products)
    # And a description word finds the migrated ones (the others once migrated)
    assert {p.id for p in page_through(service, ProductQuery(q="made"))} == {p.id for p in new}
    upgrade(runner="mixed")
    assert {p.id for p in page_through(service, ProductQuery(q="made"))} == {p.id for p in products}
