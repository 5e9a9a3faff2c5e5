"""`make bench`, past one partition: what one DynamoDB partition key lets the listings and
the product writes sustain, from item sizes and capacity units measured on moto server.

A catalog of BENCH_PARTITION_PRODUCTS products (default 300; 4 categories, tags `two` on
half and `three` on a third of them) is created through `ProductRepository` (the API's own
transactions), a share of them is then updated (stock only, price, name, status) and
deleted, and the designed listings are read through `list_page`, as the API reads them.

Every DynamoDB request is metered on the client: each request asks for
`ReturnConsumedCapacity: INDEXES` and moto's answer is recorded, but moto's figures are not
DynamoDB's (a fixed 1.0 or 0.5 per call, whatever the size; nothing for transactions), so
the units are computed from the items' measured sizes by DynamoDB's rules
(benchmarks/migrations.py: `item_size`):

- a read: 1 unit per 4 KB of the items a Query returns, summed over the page and rounded
  up once; half for an eventually consistent one (every index read is);
- a table write: 1 unit per 1 KB of the larger of the item before and after, twice that in
  a transaction (TransactWriteItems: prepare and commit);
- an index write: after the transaction, each index the item is in before or after gets
  1 unit per 1 KB of the projected item (every index projects everything: the whole item),
  for a write that keeps the index key; a changed index key is a delete from the old
  position and a put at the new one (2 writes, in the old and the new partition).

The model: one partition key gives at most 3,000 read units and 1,000 write units per
second (DynamoDB's per-partition limit; adaptive capacity moves throughput between
partitions but never past that for one key, and "split for heat" divides a key's items by
sort key, which does not spread writes or reads that all land at one end of a time-ordered
sort key). So a listing's sustainable rate is 3,000 / its read units per page, and a
write's is 1,000 / the units it puts on the hottest partition it touches.
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

from benchmarks.migrations import item_size, moto_environment  # noqa: E402

PRODUCTS = int(os.environ.get("BENCH_PARTITION_PRODUCTS", "300"))
CATEGORIES = ["lighting", "kitchen", "textiles", "furniture"]
PARTITION_READ_UNITS = 3000  # per second, one partition key (DynamoDB's limit)
PARTITION_WRITE_UNITS = 1000
TABLE = "table"  # the "index" name of the base table's partitions in the figures


def units(size: int, per: int) -> int:
    return max(1, math.ceil(size / per))


def key_of(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["S"]


def index_keys() -> dict[str, tuple[str, str]]:
    """Each index of the products table: (partition key attribute, sort key attribute)."""
    from infra import topology

    return {
        index.name: (index.partition_key, index.sort_key or "")
        for index in topology.TABLES["products"].indexes
    }


@dataclass
class Writes:
    """What one kind of product write put on each partition, summed over its requests."""

    requests: int = 0
    table_units: float = 0.0
    index_units: float = 0.0
    by_partition: Counter[tuple[str, str]] = field(default_factory=Counter)  # units
    entries: Counter[tuple[str, str]] = field(default_factory=Counter)  # index writes
    touched: Counter[tuple[str, str]] = field(default_factory=Counter)  # requests
    moto_units: float = 0.0


@dataclass
class Reads:
    requests: int = 0
    items: int = 0
    bytes: int = 0
    units: float = 0.0
    moto_units: float = 0.0
    partitions: set[tuple[str, str]] = field(default_factory=set)


class Meter:
    """Meters the DynamoDB client: units by DynamoDB's rules, per partition, per label."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.indexes = index_keys()
        self.stored: dict[tuple[str, str], dict[str, Any]] = {}  # the table as written
        self.label = "setup"
        self.writes: dict[str, Writes] = defaultdict(Writes)
        self.reads: dict[str, Reads] = defaultdict(Reads)
        self.sizes: dict[str, list[int]] = defaultdict(list)  # item sizes by kind

    def positions(self, item: dict[str, Any] | None) -> dict[str, tuple[str, str]]:
        """Where `item` sits in each index it is in: index -> (partition, sort key)."""
        if item is None:
            return {}
        found = {}
        for name, (partition, sort) in self.indexes.items():
            if partition in item and sort in item:
                found[name] = (item[partition]["S"], item[sort]["S"])
        return found

    def write(self, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        record = self.writes[self.label]
        item = after or before
        assert item is not None
        size = max(item_size(before) if before else 0, item_size(after) if after else 0)
        table_units = 2 * units(size, 1024)  # transactional
        record.table_units += table_units
        record.by_partition[(TABLE, item["pk"]["S"])] += table_units
        old, new = self.positions(before), self.positions(after)
        for index in sorted(old.keys() | new.keys()):
            moves = []
            if index in old and index in new and old[index] == new[index]:
                moves.append((old[index][0], item_size(after)))  # type: ignore[arg-type]
            else:
                if index in old:
                    moves.append((old[index][0], item_size(before)))  # type: ignore[arg-type]
                if index in new:
                    moves.append((new[index][0], item_size(after)))  # type: ignore[arg-type]
            for partition, written in moves:
                record.index_units += units(written, 1024)
                record.by_partition[(index, partition)] += units(written, 1024)
                record.entries[(index, partition)] += 1

    def transaction(self, params: dict[str, Any]) -> None:
        record = self.writes[self.label]
        counted = Counter(record.by_partition)
        for entry in params["TransactItems"]:
            ((kind, body),) = entry.items()
            if kind == "ConditionCheck":
                continue
            if kind == "Put":
                after = body["Item"]
                before = self.stored.get(key_of(after))
                self.stored[key_of(after)] = after
            else:
                before = self.stored.get(key_of(body["Key"]))
                if kind == "Delete":
                    after = None
                    self.stored.pop(key_of(body["Key"]), None)
                else:  # Update: the category counters, a few bytes either way
                    after = before
            if before is not None or after is not None:
                self.write(before, after)
        for key, total in record.by_partition.items():
            if total != counted.get(key, 0):
                record.touched[key] += 1

    def params(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "INDEXES"
        if model.name == "TransactWriteItems":
            with self.lock:
                self.writes[self.label].requests += 1
                self.transaction(params)

    def answer(self, parsed: dict[str, Any], model: Any, params: dict[str, Any]) -> None:
        consumed = parsed.get("ConsumedCapacity")
        moto = 0.0
        if isinstance(consumed, dict):
            moto = float(consumed.get("CapacityUnits", 0.0))
        elif isinstance(consumed, list):
            moto = sum(float(c.get("CapacityUnits", 0.0)) for c in consumed)
        with self.lock:
            if model.name == "TransactWriteItems":
                self.writes[self.label].moto_units += moto
            elif model.name == "Query":
                record = self.reads[self.label]
                items = parsed.get("Items", [])
                page = sum(item_size(item) for item in items)
                record.requests += 1
                record.items += len(items)
                record.bytes += page
                record.units += 0.5 * units(page, 4096)  # indexes: eventually consistent
                record.moto_units += moto
                values = params.get("ExpressionAttributeValues", {})
                partition = next(
                    (v["S"] for v in values.values() if "S" in v and "#" in v["S"]), "?"
                )
                record.partitions.add((params.get("IndexName", TABLE), partition))


def meter_client(meter: Meter, client: Any) -> None:
    """Every request of `client` (botocore's) through `meter`."""

    def params(params: dict[str, Any], model: Any, context: Any, **_: Any) -> None:
        context["bench_params"] = params
        meter.params(params, model)

    def answer(parsed: dict[str, Any], model: Any, context: Any, **_: Any) -> None:
        meter.answer(parsed, model, context.get("bench_params", {}))

    client.meta.events.register("provide-client-params.dynamodb.*", params)
    client.meta.events.register("after-call.dynamodb.*", answer)


LISTINGS: list[tuple[str, dict[str, Any]]] = [
    ("default listing (newest active), page of 20", {}),
    ("default listing (newest active), page of 50", {"limit": 50}),
    ("default listing by price, page of 20", {"sort": "price"}),
    ("a big category (1 in 4 products), page of 20", {"category": "lighting"}),
    ("a big category (1 in 4 products), page of 50", {"category": "lighting", "limit": 50}),
    ("a popular tag (1 in 2 products), page of 20", {"tags": ("two",)}),
    ("a popular tag (1 in 2 products), page of 50", {"tags": ("two",), "limit": 50}),
]
PAGES = 1  # the first page of each listing: the one most requests read


def main() -> dict[str, Any]:
    moto_environment()
    from catalog.core import dynamo
    from catalog.products.listing import position_of
    from catalog.products.repository import ProductRepository
    from catalog.products.schemas import ProductQuery
    from catalog.products.service import listing_plan
    from tests.migration_tables import (
        create_table,
        fresh_category_item,
        make_products,
        moto_endpoint,
        write_raw,
    )

    meter = Meter()
    repository = ProductRepository()
    with moto_endpoint() as endpoint:
        # pynamodb's models and transactions all send through this one client.
        meter_client(meter, dynamo.connection().client)
        table = create_table(endpoint, "bench-partitions")
        categories = [fresh_category_item(slug, []) for slug in CATEGORIES]
        write_raw(endpoint.client, table, categories)
        for item in categories:
            meter.stored[key_of(item)] = item
        products = make_products(PRODUCTS, CATEGORIES, unique="p")
        meter.label = "create"
        for product in products:
            repository.create(product)
        for item in meter.stored.values():
            meter.sizes[item.get("kind", {}).get("S", "sku")].append(item_size(item))
        changes: list[tuple[str, Callable[[Any], dict[str, Any]]]] = [
            ("update: stock only", lambda p: {"stock": p.stock + 1}),
            ("update: price", lambda p: {"price": p.price + Decimal("1.00")}),
            ("update: name", lambda p: {"name": f"{p.name} renamed"}),
            ("update: status (active to archived)", lambda p: {"status": "archived"}),
        ]
        active = [p for p in products if p.status == "active"]
        share = max(1, len(active) // 10)
        for n, (label, change) in enumerate(changes):
            meter.label = label
            for product in active[n * share : (n + 1) * share]:
                current = repository.get(product.id)
                updated = current.model_copy(update={**change(current), "version": current.version})
                repository.replace(current, updated)
        meter.label = "delete"
        for product in active[len(changes) * share : (len(changes) + 1) * share]:
            repository.delete(repository.get(product.id))
        for label, arguments in LISTINGS:
            meter.label = label
            query = ProductQuery(**arguments)
            after = None
            for _ in range(PAGES):
                plan = listing_plan(query, after)
                page, after = repository.list_page(plan)
                if after is None:
                    break
                assert page and position_of(page[-1], plan.order) == after
    return report(meter)


def report(meter: Meter) -> dict[str, Any]:
    sizes = {
        kind: {"items": len(s), "mean_bytes": round(sum(s) / len(s)), "max_bytes": max(s)}
        for kind, s in sorted(meter.sizes.items())
    }
    reads = []
    for label, _ in LISTINGS:
        record = meter.reads[label]
        per_page = record.units / record.requests
        reads.append(
            {
                "listing": label,
                "pages": record.requests,
                "items_per_page": round(record.items / record.requests, 1),
                "bytes_per_page": round(record.bytes / record.requests),
                "read_units_per_page": round(per_page, 2),
                "moto_units_per_page": round(record.moto_units / record.requests, 2),
                "partition": ", ".join(f"{i} {p}" for i, p in sorted(record.partitions)),
                "pages_per_s": round(PARTITION_READ_UNITS / per_page),
            }
        )
    writes = []
    for label, record in meter.writes.items():
        if label == "setup" or not record.requests:
            continue
        n = record.requests
        shared = hottest(record)
        writes.append(
            {
                "write": label,
                "requests": n,
                "table_units": round(record.table_units / n, 2),
                "index_units": round(record.index_units / n, 2),
                "index_writes": round(sum(record.entries.values()) / n, 2),
                "moto_units": round(record.moto_units / n, 2),
                "shared": [
                    {
                        "partition": family,
                        "indexes": indexes,
                        "share": round(share, 2),
                        "units": round(per_write, 2),
                        "writes_per_s": round(PARTITION_WRITE_UNITS / per_write),
                    }
                    for family, indexes, per_write, share in shared
                ],
            }
        )
    return {"products": PRODUCTS, "sizes": sizes, "reads": reads, "writes": writes}


FAMILIES = (
    # (how a shared partition key starts, how the report names its kind)
    ("STATUS#", "STATUS#<status>"),
    ("CATEGORIES", "CATEGORIES"),
    ("CATEGORY#", "CATEGORY#<slug> (the category's item)"),
    ("CAT#", "CAT#<category>#<status>"),
    ("TAG#", "TAG#<tag>#<status>"),
    ("WORDS#", "WORDS#<status>#<letter>"),
)


def hottest(record: Writes) -> list[tuple[str, list[str], float, float]]:
    """Per kind of shared partition (never the product's own key): the indexes it is in,
    the most units one write puts on one such partition, and the share of writes that land
    on that partition; hottest first."""
    found: dict[str, tuple[set[str], float, float]] = {}
    for (index, partition), total in record.by_partition.items():
        family = next((name for prefix, name in FAMILIES if partition.startswith(prefix)), None)
        if family is None or not record.touched[(index, partition)]:
            continue
        per_write = total / record.touched[(index, partition)]
        share = record.touched[(index, partition)] / record.requests
        indexes, most, widest = found.get(family, (set(), 0.0, 0.0))
        indexes.add(index)
        if (per_write, share) > (most, widest):
            most, widest = per_write, share
        found[family] = (indexes, most, widest)
    return sorted(
        ((family, sorted(i), most, share) for family, (i, most, share) in found.items()),
        key=lambda row: (-row[2], row[0]),
    )


def markdown(report: dict[str, Any]) -> str:
    out = [
        f"## Past one partition ({report['products']:,} products on moto server)",
        "",
        "`benchmarks/partitions.py`: products created, updated and deleted through the "
        "repository's transactions, listings read through `list_page`; units computed from "
        "the measured item sizes by DynamoDB's rules (moto's `ConsumedCapacity`, shown, is a "
        "fixed figure per call). One partition key: at most "
        f"{PARTITION_READ_UNITS:,} read and {PARTITION_WRITE_UNITS:,} write units per second.",
        "",
        "| item kind | items | mean bytes | max bytes |",
        "|---|---|---|---|",
    ]
    for kind, s in report["sizes"].items():
        out.append(f"| {kind} | {s['items']:,} | {s['mean_bytes']:,} | {s['max_bytes']:,} |")
    out += [
        "",
        "| listing | partition read | items / page | bytes / page | read units / page "
        "| moto's units / page | pages / s one partition sustains |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["reads"]:
        out.append(
            f"| {r['listing']} | {r['partition']} | {r['items_per_page']} "
            f"| {r['bytes_per_page']:,} | {r['read_units_per_page']} "
            f"| {r['moto_units_per_page']} | {r['pages_per_s']:,} |"
        )
    out += [
        "",
        "| write | n | table units | index units | index writes | moto's units "
        "| shared partitions (indexes): units one write puts on one of them "
        "(share of these writes landing on it) -> writes / s it sustains |",
        "|---|---|---|---|---|---|---|",
    ]
    for w in report["writes"]:
        shared = "; ".join(
            f"{s['partition']} ({', '.join(s['indexes'])}): {s['units']} ({s['share']:.0%}) "
            f"-> {s['writes_per_s']:,}"
            for s in w["shared"]
        )
        out.append(
            f"| {w['write']} | {w['requests']} | {w['table_units']} | {w['index_units']} "
            f"| {w['index_writes']} | {w['moto_units']} | {shared} |"
        )
    out += [
        "",
        "Units per request are means over the requests measured; table units are "
        "transactional (twice a plain write's). A shared partition is one that writes of "
        "other products land on too (an index partition, a category's item; `table` is the "
        "base table), never the product's own key. `WORDS#<status>#<letter>` partitions "
        "depend on the catalog's words: here every description starts with *Made of* and "
        "every SKU word of the bench's factory with `p`.",
    ]
    return "\n".join(out) + "\n"


MARKERS = ("<!-- partitions:begin -->", "<!-- partitions:end -->")

if __name__ == "__main__":
    from benchmarks.bench import publish

    result = main()
    print(json.dumps(result, indent=1))
    text = markdown(result)
    print(text)
    publish(text, MARKERS)
