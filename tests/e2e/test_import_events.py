"""Imported products publish change events as any write does: the import worker's writes
reach the table's stream, and from there the same publisher, topic and webhooks."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Api
from tests.e2e.receiver import events_for
from tests.imports import csv_bytes, product_row, run_import, unique_prefix


def test_imported_and_upserted_products_reach_the_webhooks_as_their_event_types(
    local_system: Any, api: Api, register: Any
) -> None:
    # Given a registered webhook
    receiver, _ = register()
    # And two active products created by an import
    prefix = unique_prefix("EVT")
    rows = [product_row(f"{prefix}-1"), product_row(f"{prefix}-2")]
    created = run_import(api, csv_bytes(rows))
    assert (created["status"], created["created"]) == ("done", 2), created
    # When an upsert import lowers the first one's price and repeats the second unchanged
    again = run_import(
        api, csv_bytes([product_row(f"{prefix}-1", price="9.90"), rows[1]]), mode="upsert"
    )
    assert (again["updated"], again["unchanged"]) == (1, 1), again
    # And the events have been handled
    local_system.drain_events(120)
    listed = api.get("/v1/products", params={"q": prefix, "limit": 10}).json()["items"]
    ids = {p["sku"]: p["id"] for p in listed}
    # Then each imported product was announced as created and published
    second = events_for(receiver, ids[f"{prefix}-2"])
    assert sorted(e["type"] for e in second) == ["product.created", "product.published"]
    # And the upserted one also as updated, with its price drop
    first = events_for(receiver, ids[f"{prefix}-1"])
    assert sorted(e["type"] for e in first) == [
        "product.created",
        "product.price_changed",
        "product.published",
        "product.updated",
    ]
    drop = next(e for e in first if e["type"] == "product.price_changed")
    assert (drop["previous"]["price"], drop["data"]["price"]) == ("12.50", "9.90")
    # And every event comes from the catalog's products, as for an API write
    assert {e["source"] for e in first + second} == {"catalog.products"}
