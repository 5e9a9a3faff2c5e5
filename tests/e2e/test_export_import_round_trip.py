"""An export imported again with `mode: upsert` changes nothing: every row is `unchanged`,
no product gets a new version, in CSV (cells neutralized against formula injection, read
back as the text they hold) and in JSON Lines."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import requests

from tests.e2e.conftest import Api
from tests.e2e.test_exports import run_export
from tests.factories import product_payload
from tests.imports import run_import
from tests.users import demo_user

# Names a spreadsheet would run (exports neutralize them), one already quoted, one plain
NAMES = [
    '=HYPERLINK("http://x.example")',
    "+1 lamp",
    "-5% mug",
    "@home chair",
    "'=quoted already",
    "Plain brass lamp",
]


@pytest.fixture(scope="module")
def products(local_system: Any) -> tuple[Api, str, list[dict[str, Any]]]:
    """The admin, a fresh category and its products: formula-looking names, no description,
    several tags, none, a draft."""
    admin = Api(local_system.url, demo_user(local_system.url, "admin"))
    category = f"round-{uuid.uuid4().hex[:8]}"
    made = admin.post("/v1/categories", json={"slug": category, "name": "Round trip"})
    assert made.status_code == 201, made.text
    created = []
    for n, name in enumerate(NAMES):
        body = product_payload(
            name=name,
            category=category,
            tags=["brass", "lamp"] if n % 2 else [],
            stock=n,
            price=f"{n + 1}.{n}0",
        )
        if n == 1:
            body.pop("description")
        response = admin.post("/v1/products", json=body)
        assert response.status_code == 201, response.text
        created.append(response.json())
    return admin, category, created


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_imported_again_with_upsert_changes_nothing(
    local_system: Any, products: tuple[Api, str, list[dict[str, Any]]], fmt: str
) -> None:
    admin, category, created = products
    # Given the category exported as a file
    job = run_export(local_system, admin.user, {"category": category, "format": fmt})  # type: ignore[arg-type]
    assert job["rows"] == len(created)
    content = requests.get(job["download_url"], timeout=60).content
    if fmt == "csv":
        assert b"'=HYPERLINK" in content and b"''=quoted already" in content
    # When the file is imported again, as it is, in upsert mode
    imported = run_import(admin, content, fmt=fmt, mode="upsert")
    # Then every row is read and found unchanged: nothing created, updated or refused
    assert imported["status"] == "done", imported
    assert imported["rows_total"] == len(created)
    assert (
        imported["unchanged"],
        imported["updated"],
        imported["created"],
        imported["failed"],
    ) == (
        len(created),
        0,
        0,
        0,
    ), imported
    # And every product is as it was: same fields, same version
    for before in created:
        after = admin.get(f"/v1/products/{before['id']}").json()
        assert after == before


def test_a_row_naming_another_products_id_is_refused(
    products: tuple[Api, str, list[dict[str, Any]]],
) -> None:
    # Given a file whose row names a product by SKU and another product's id
    admin, _, created = products
    first, second = created[0], created[1]
    row = {k: first[k] for k in ("sku", "name", "price", "currency", "category", "stock")}
    line = json.dumps({"id": second["id"], **row}) + "\n"
    # When it is imported in upsert mode
    job = run_import(admin, line.encode(), fmt="jsonl", mode="upsert")
    # Then the row fails on its id, and neither product changes
    assert (job["status"], job["failed"], job["updated"]) == ("done", 1, 0), job
    for before in (first, second):
        assert admin.get(f"/v1/products/{before['id']}").json() == before
