"""`make bench`, data migrations: a catalog stored in the layout from before migrations is
migrated on moto server, one migration at a time, as `catalog migrate up` does.

Per migration: the time, items per second, items read and written per product, and the
DynamoDB capacity units per product. moto's `ConsumedCapacity` is a fixed 1.0 or 0.5 per
call whatever the size (and none for transactions), so the units are computed from what
each request read and wrote, by DynamoDB's documented rules: a read is 1 unit per 4 KB
(half for an eventually consistent one), a write 1 unit per 1 KB, a transactional read or
write twice that; a Scan's or Query's reads are rounded up over the page's total size.
Item sizes follow DynamoDB's: attribute names plus values (strings and binaries by their
bytes, numbers ~ 1 byte per 2 digits + 1, lists and maps 3 bytes plus 1 per element).

Products: BENCH_MIGRATION_PRODUCTS (default 50,000, the issue's catalog: 70 min 38 s on 2
cores on 2026-12-02, storing the catalog included; `BENCH_MIGRATION_PRODUCTS=1000` is a
quick check, which writes benchmarks/results/migrations.json but leaves
docs/performance.md's recorded figures as they are). moto server's Scan reads on from its
start key (infra/local/moto/queries.py), but a page read after a write sorts the table
again, so moto's items per second drop as the table grows (docs/performance.md, "Data
migrations"); the figures per product do not depend on the catalog's size, and the report
also derives the time 50,000 products take in DynamoDB from them at a stated capacity.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

PRODUCTS = int(os.environ.get("BENCH_MIGRATION_PRODUCTS", "50000"))
RESULTS = ROOT / "benchmarks" / "results"
CATEGORIES = ["lighting", "kitchen", "textiles", "furniture"]
# How long 50,000 products take in DynamoDB, modelled from the figures per product: the
# runner keeps one write in flight per scan segment (4), a transaction taking ~10 ms; and a
# new on-demand table serves up to 4,000 write units per second. The slower bound wins.
MODEL_PRODUCTS = 50_000
MODEL_WRITE_UNITS_PER_S = 4000
MODEL_SEGMENTS = 4
MODEL_WRITE_S = 0.010


def value_size(value: dict[str, Any]) -> int:
    ((kind, data),) = value.items()
    if kind in ("S",):
        return len(data.encode())
    if kind == "B":
        return len(data) if isinstance(data, bytes) else len(str(data))
    if kind == "N":
        digits = len(str(data).lstrip("-").replace(".", ""))
        return math.ceil(digits / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in data.items())
    if kind in ("SS", "BS"):
        return sum(len(str(v).encode()) for v in data)
    if kind == "NS":
        return sum(math.ceil(len(str(v)) / 2) + 1 for v in data)
    raise ValueError(kind)


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def key_of(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item.get("sk", {}).get("S", "")


class Meter:
    """Counts what the migration's DynamoDB client reads and writes, and its units."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sizes: dict[tuple[str, str], int] = {}  # items as last read, by key
        self.reset()

    def reset(self) -> None:
        self.read_items = self.written_items = 0
        self.read_units = self.write_units = 0.0
        self.calls: dict[str, int] = {}

    def size(self, key: dict[str, Any]) -> int:
        return self.sizes.get(key_of(key), 1024)

    def params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            if name == "TransactWriteItems":
                for entry in params["TransactItems"]:
                    ((kind, body),) = entry.items()
                    size = item_size(body["Item"]) if kind == "Put" else self.size(body["Key"])
                    if kind == "ConditionCheck":
                        self.read_units += 2 * math.ceil(size / 4096)
                    else:
                        self.written_items += 1
                        self.write_units += 2 * math.ceil(size / 1024)
            elif name in ("PutItem", "UpdateItem", "DeleteItem"):
                size = item_size(params["Item"]) if name == "PutItem" else self.size(params["Key"])
                self.written_items += 1
                self.write_units += math.ceil(size / 1024)

    def answer(self, parsed: dict[str, Any], model: Any, params: dict[str, Any], **_: Any) -> None:
        name = model.name
        consistent = 1.0 if params.get("ConsistentRead") else 0.5
        with self.lock:
            if name == "Scan":
                items = parsed.get("Items", [])
                for item in items:
                    self.sizes[key_of(item)] = item_size(item)
                scanned = int(parsed.get("ScannedCount", len(items)))
                # A filtered scan is charged for what it scanned, not what it returned: the
                # items left out are counted at the mean size of the items seen so far.
                mean = sum(self.sizes.values()) / max(1, len(self.sizes))
                total = sum(self.sizes[key_of(i)] for i in items) + (scanned - len(items)) * mean
                self.read_items += scanned
                self.read_units += consistent * math.ceil(total / 4096)
            elif name == "Query":
                scanned = int(parsed.get("ScannedCount", 0))
                mean = sum(self.sizes.values()) / max(1, len(self.sizes))
                self.read_items += scanned
                self.read_units += consistent * math.ceil(scanned * mean / 4096)
            elif name == "GetItem":
                item = parsed.get("Item")
                size = item_size(item) if item else 1
                self.read_items += 1 if item else 0
                self.read_units += consistent * math.ceil(size / 4096)


def metered(meter: Meter, create: Callable[..., Any]) -> Callable[..., Any]:
    def client(service: str, *args: Any, **kwargs: Any) -> Any:
        made = create(service, *args, **kwargs)
        if service == "dynamodb":
            made.meta.events.register("provide-client-params.dynamodb.*", _params(meter))
            made.meta.events.register("after-call.dynamodb.*", _answer(meter))
        return made

    return client


def _params(meter: Meter) -> Callable[..., None]:
    def hook(params: dict[str, Any], model: Any, context: Any, **kwargs: Any) -> None:
        context["bench_params"] = dict(params)  # for the answer's hook (consistent reads)
        meter.params(params, model)

    return hook


def _answer(meter: Meter) -> Callable[..., None]:
    def hook(parsed: dict[str, Any], model: Any, context: Any, **kwargs: Any) -> None:
        meter.answer(parsed, model, context.get("bench_params", {}))

    return hook


def moto_environment() -> None:
    """The region and fake credentials a bench's moto server is called with."""
    os.environ.update(
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - moto's fake credentials
        AWS_EC2_METADATA_DISABLED="true",
    )


def main() -> dict[str, Any]:
    moto_environment()
    from catalog import migrations
    from catalog.core import aws
    from tests.migration_tables import (
        create_table,
        make_products,
        moto_endpoint,
        store_old_catalog,
    )

    meter = Meter()
    aws.client = metered(meter, aws.client)  # type: ignore[assignment]
    rows: list[dict[str, Any]] = []
    with moto_endpoint() as endpoint:
        table = create_table(endpoint, "bench-migrations")
        products = make_products(PRODUCTS, CATEGORIES, unique="b")
        began = time.perf_counter()
        store_old_catalog(endpoint.client, table, products, CATEGORIES)
        stored = time.perf_counter() - began
        for status in migrations.status():
            meter.reset()
            began = time.perf_counter()
            result = migrations.upgrade(runner="bench", to=status.id)
            seconds = time.perf_counter() - began
            rows.append(
                {
                    "migration": status.id,
                    "seconds": round(seconds, 1),
                    "scanned": result.scanned,
                    "changed": result.changed,
                    "items_per_s": round(result.scanned / seconds, 1),
                    "read_items_per_product": round(meter.read_items / PRODUCTS, 2),
                    "written_items_per_product": round(meter.written_items / PRODUCTS, 2),
                    "read_units_per_product": round(meter.read_units / PRODUCTS, 2),
                    "write_units_per_product": round(meter.write_units / PRODUCTS, 2),
                    "calls": dict(sorted(meter.calls.items())),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return {"products": PRODUCTS, "stored_s": round(stored, 1), "migrations": rows}


def markdown(report: dict[str, Any]) -> str:
    n = report["products"]
    out = [
        f"## Data migrations ({n:,} products on moto server)",
        "",
        "A catalog in the layout from before migrations, migrated one migration at a time "
        "(`benchmarks/migrations.py`; units computed from the item sizes by DynamoDB's rules, "
        "since moto reports fixed ones).",
        "",
        "| migration | s | items scanned | items changed | items/s (moto) | read items / product "
        "| written items / product | read units / product | write units / product "
        f"| {MODEL_PRODUCTS:,} products in DynamoDB (model) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["migrations"]:
        writes = row["calls"].get("TransactWriteItems", 0) + row["calls"].get("UpdateItem", 0)
        by_units = MODEL_PRODUCTS * row["write_units_per_product"] / MODEL_WRITE_UNITS_PER_S
        by_runner = MODEL_PRODUCTS * writes / n * MODEL_WRITE_S / MODEL_SEGMENTS
        model_s = max(by_units, by_runner)
        out.append(
            f"| {row['migration']} | {row['seconds']} | {row['scanned']:,} | {row['changed']:,} "
            f"| {row['items_per_s']:,} | {row['read_items_per_product']} "
            f"| {row['written_items_per_product']} | {row['read_units_per_product']} "
            f"| {row['write_units_per_product']} | {model_s:,.0f} s |"
        )
    out += [
        "",
        "The last column is a model, not a measurement: the slower of the runner's own pace "
        f"({MODEL_SEGMENTS} segments, one write of ~{MODEL_WRITE_S * 1000:.0f} ms in flight "
        f"each) and {MODEL_WRITE_UNITS_PER_S:,} write units per second (a new on-demand "
        "table's starting ceiling), from the writes and units per product measured above. "
        "moto's own rate is no guide to DynamoDB's.",
    ]
    return "\n".join(out) + "\n"


MARKERS = ("<!-- migrations:begin -->", "<!-- migrations:end -->")

if __name__ == "__main__":
    from benchmarks.bench import publish

    result = main()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "migrations.json").write_text(json.dumps(result, indent=2) + "\n")
    text = markdown(result)
    print(text)
    if PRODUCTS >= MODEL_PRODUCTS:  # a quick run does not replace the recorded figures
        publish(text, MARKERS)
