"""Exports over the local system: 10,000 products exported equal the listing, through the
API, the queue, the export worker and S3 (a multipart upload, a presigned link).

moto sorts a whole table for every Query (seconds at tens of thousands of items, on a
shared machine), so the listing the exports are compared with is worked out without
paging through all of it over HTTP: the same `ListingPlan` over the same products in
memory (tests/fakes.py), whose agreement with the DynamoDB listing at scale
tests/integration/test_listing_reads.py proves, and the first page of `GET /v1/products`
itself, which must open the file.
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import requests

from catalog.identity.principal import Principal
from catalog.products.columns import COLUMNS, TAG_SEPARATOR, record, restore
from catalog.products.schemas import Product, ProductCreate, ProductQuery
from catalog.products.service import ProductService
from tests.factories import product_payload
from tests.fakes import InMemoryProductStore
from tests.scale import remove_unstreamed, stored_items, write_unstreamed
from tests.users import User, demo_user, fresh_category

PRODUCTS = 10_000
# The module's first test builds the catalog: one worker, once (--dist loadgroup).
pytestmark = [pytest.mark.timeout(1200), pytest.mark.xdist_group("exports-10000")]


@dataclass
class Catalog:
    category: str
    products: list[Product]

    def listing(self, query: ProductQuery) -> list[dict[str, Any]]:
        """Every product of `query`, as the listing pages through them (in memory)."""
        store = InMemoryProductStore()
        store.products = {p.id: p for p in self.products}
        service = ProductService(store)
        found: list[dict[str, Any]] = []
        query = query.model_copy(update={"limit": 100})
        while True:
            page = service.list(query, Principal("admin", "admin"))
            found += [record(p) for p in page.items]
            if page.next_cursor is None:
                return found
            query = query.model_copy(update={"cursor": page.next_cursor})


@pytest.fixture(scope="module")
def admin(local_system: Any) -> User:
    return demo_user(local_system.url, "admin")


@pytest.fixture(scope="module")
def catalog_of_10000(local_system: Any, admin: User) -> Iterator[Catalog]:
    """10,000 products in a category of their own: 4 in 5 active, some tagged, some named
    like spreadsheet formulas, prices and stock varied; the items the repository writes,
    stored straight into moto without stream records, and taken out after the module."""
    unique = uuid.uuid4().hex[:8]
    category = fresh_category(local_system.url, "export")
    started = time.monotonic()
    service = ProductService(InMemoryProductStore())
    owner = Principal(sub=admin.sub, role="admin")
    products = []
    for n in range(PRODUCTS):
        sku = f"X{unique}{n:05d}"
        body = ProductCreate(
            sku=sku,
            # One search word (the SKU's) for most: few word copies, so moto stays quick.
            name=f"=1+{n}" if n % 500 == 7 else sku,
            price=Decimal(n % 1000) + Decimal("0.25"),
            currency="EUR",
            category=category,
            tags=[f"t{unique}"] if n % 10 == 3 else [],
            stock=n % 4,
            status="active" if n % 5 else "draft",
        )
        products.append(service.new_product(body, owner))
    write_unstreamed(stored_items(products))
    print(f"\n{PRODUCTS:,} products stored in {time.monotonic() - started:.1f} s")
    yield Catalog(category, products)
    remove_unstreamed(products)


def run_export(local_system: Any, user: User, body: dict[str, Any]) -> dict[str, Any]:
    """Start an export and wait for its end; the finished job."""
    response = requests.post(
        local_system.url + "/v1/exports", json=body, headers=user.headers, timeout=30
    )
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    assert response.headers["Location"].endswith(f"/v1/exports/{job['id']}")
    path = f"/v1/exports/{job['id']}"
    deadline = time.monotonic() + 600  # a bound, not a speed: 8,000 rows under a full suite
    while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = requests.get(local_system.url + path, headers=user.headers, timeout=30).json()
    assert job["status"] == "done", job
    return job


def first_page(local_system: Any, user: User, params: dict[str, Any]) -> list[dict[str, Any]]:
    page = requests.get(
        local_system.url + "/v1/products",
        params={**params, "limit": 100},
        headers=user.headers,
        timeout=30,
    )
    assert page.status_code == 200, page.text
    return [{c: p[c] for c in COLUMNS} for p in page.json()["items"]]


def csv_records(content: bytes) -> list[dict[str, Any]]:
    rows = csv.DictReader(io.StringIO(content.decode("utf-8")))
    assert rows.fieldnames == list(COLUMNS)
    return [
        {
            **{column: restore(row[column]) for column in COLUMNS},
            "tags": row["tags"].split(TAG_SEPARATOR) if row["tags"] else [],
            "stock": int(row["stock"]),
        }
        for row in rows
    ]


def test_a_csv_export_of_10000_products_equals_the_listing(
    local_system: Any, admin: User, catalog_of_10000: Catalog
) -> None:
    params = {"category": catalog_of_10000.category}
    # Given the category's listing: 8,000 active products, newest first
    expected = catalog_of_10000.listing(ProductQuery(**params))
    assert len(expected) == PRODUCTS * 4 // 5
    # When an admin exports the same listing as CSV
    started = time.monotonic()
    job = run_export(local_system, admin, {"format": "csv", **params})
    print(f"\nCSV export of {job['rows']:,} products: {time.monotonic() - started:.1f} s")
    # Then every row is counted, and the link fetches a file of exactly that size
    assert job["rows"] == len(expected)
    file = requests.get(job["download_url"], timeout=60)
    assert file.status_code == 200 and len(file.content) == job["size"]
    # And it holds exactly the listing's products, in its order, text as the products hold it
    exported = csv_records(file.content)
    assert exported == expected
    # And it opens with the first page GET /v1/products answers
    assert exported[:100] == first_page(local_system, admin, params)
    # And names a spreadsheet would run are neutralized in the file itself
    raw = list(csv.DictReader(io.StringIO(file.content.decode())))
    formulas = [row["name"] for row in raw if row["name"].startswith("'=")]
    assert formulas and not any(row["name"].startswith("=") for row in raw)


def test_a_jsonl_export_with_filters_and_order_equals_the_listing(
    local_system: Any, admin: User, catalog_of_10000: Catalog
) -> None:
    category = catalog_of_10000.category
    params = {"category": category, "sort": "-price", "min_price": "100", "in_stock": "true"}
    query = ProductQuery(category=category, sort="-price", min_price=Decimal(100), in_stock=True)
    expected = catalog_of_10000.listing(query)
    started = time.monotonic()
    body = {"format": "jsonl", **params, "in_stock": True}
    job = run_export(local_system, admin, body)
    print(f"\nJSONL export of {job['rows']:,} products: {time.monotonic() - started:.1f} s")
    lines = requests.get(job["download_url"], timeout=60).content.decode().splitlines()
    exported = [json.loads(line) for line in lines]
    assert exported == expected and len(expected) > 4000
    assert exported[:100] == first_page(local_system, admin, params)


def test_an_editors_export_holds_only_their_own_products(local_system: Any, admin: User) -> None:
    # Given a category holding a product of the demo editor and one of the admin
    editor = demo_user(local_system.url, "editor")
    category = fresh_category(local_system.url, "mine")
    ids = {}
    for who in (editor, admin):
        created = requests.post(
            local_system.url + "/v1/products",
            json=product_payload(category=category, status="active"),
            headers=who.headers,
            timeout=30,
        )
        assert created.status_code == 201, created.text
        ids[who.email] = created.json()["id"]
    # When the editor exports the category
    job = run_export(local_system, editor, {"category": category, "format": "jsonl"})
    # Then the file holds their product alone, and the job says so
    assert job["own_products_only"] is True
    lines = requests.get(job["download_url"], timeout=60).content.decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [ids[editor.email]]
    # And an admin's export of it holds both
    every = run_export(local_system, admin, {"category": category, "format": "jsonl"})
    assert every["rows"] == 2 and every["own_products_only"] is False
    # And the editor lists their own jobs only; the admin sees the editor's too
    mine = requests.get(f"{local_system.url}/v1/exports", headers=editor.headers, timeout=30)
    assert job["id"] in [j["id"] for j in mine.json()["items"]]
    assert all(j["owner"] == editor.sub for j in mine.json()["items"])
    theirs = requests.get(
        f"{local_system.url}/v1/exports/{job['id']}", headers=admin.headers, timeout=30
    )
    assert theirs.status_code == 200


def test_an_export_with_price_bounds_starts(local_system: Any, admin: User) -> None:
    """Found by the fuzzer: price bounds (strings in the body) made the job's filters fail
    their own check when stored (a 500)."""
    body = {"category": "kitchen", "min_price": "0", "max_price": "9.99", "tags": ["0" * 63]}
    response = requests.post(
        local_system.url + "/v1/exports", json=body, headers=admin.headers, timeout=30
    )
    assert response.status_code == 202, response.text
    assert response.json()["filters"]["min_price"] == "0"
    assert response.json()["filters"]["max_price"] == "9.99"
    # And a number where the document says string is refused
    number = {**body, "min_price": 0}
    refused = requests.post(
        local_system.url + "/v1/exports", json=number, headers=admin.headers, timeout=30
    )
    assert refused.status_code == 422, refused.text
