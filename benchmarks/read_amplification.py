"""Read amplification of each documented listing: items DynamoDB reads per item returned.

Not a test (the 1,000-product bound is asserted in tests/integration/test_listing_reads.py):
`make bench` runs it at 1,000 and 50,000 products and writes
benchmarks/results/read_amplification.{md,json}. DynamoDB is moto, in this process; the
figure is DynamoDB's own `ScannedCount` (as moto computes it) over the items returned. The
catalog is tests/scale.py's, the listings are its `DESIGNED` ones, and their Queries go
through the product service, pynamodb and botocore as in Lambda.

What moto answers does not depend on how fast it is, so these shortcuts keep the run
within minutes (moto alone took 42 minutes at 50,000 products), none touching what is
measured (infra/local/moto/queries.py, checked by tests/integration/test_bench_moto_index.py):

- the catalog's items are stored straight into moto's table, as the same `Item` objects
  moto's PutItem would store, without going through its HTTP parser or re-validating each
  (PutItem through moto took 1,100 s for the 350,000 items of 50,000 products);
- moto's Query, which sorts the whole table in Python for every Query, starts from the
  items of the queried index partition (looked up, kept in moto's order until the next
  write) instead; moto's own code then picks, orders, counts and pages them as before;
- string comparisons take a fast path (their values, as moto compares them), and moto's
  per-attribute item-size check, quadratic in an item's attributes, is off (these items
  are under 2 KB);
- the garbage collector pauses while the catalog is stored (millions of objects that all
  live until the end).

At 50,000 products each listing is followed for its first `BENCH_PAGES` pages (3 by
default), as the published figures were measured: each page of a designed listing reads
its `limit + 1` items wherever it starts.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]
RESULTS = ROOT / "benchmarks" / "results"
SIZES = tuple(int(n) for n in os.environ.get("BENCH_CATALOG_SIZES", "1000,50000").split(","))
PAGES_AT_SCALE = int(os.environ.get("BENCH_PAGES", "3"))
PER_CATEGORY = 5000  # products per category (1,000 products: one category)
MOTO_ACCOUNT = "123456789012"  # moto's default account

os.environ.update(
    AWS_DEFAULT_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 - moto's fake credentials
    AWS_EC2_METADATA_DISABLED="true",
    POWERTOOLS_TRACE_DISABLED="true",
    CURSOR_SIGNING_KEY="bench-only-key",
    LOG_LEVEL="WARNING",
)


def measure(sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    """One row per (documented listing, catalog size): pattern, products, pages, returned,
    read and ratio (read / returned)."""
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    from infra import topology
    from infra.local.moto import faster_queries, put_items
    from infra.local.provision import table_definition
    from tests.scale import DESIGNED, build_catalog, counting_reads, page_through

    rows: list[dict[str, Any]] = []
    for size in sizes:
        with mock_aws(), faster_queries():
            name = f"bench-products-{size}"
            os.environ["TABLE_PRODUCTS"] = name
            from catalog.core import dynamo, settings

            settings.settings.cache_clear()
            dynamo.connection.cache_clear()
            definition = table_definition(topology.TABLES["products"], name)
            definition.pop("StreamSpecification", None)  # no reader: don't keep records
            boto3.client("dynamodb").create_table(**definition)
            backend = dynamodb_backends[MOTO_ACCOUNT][os.environ["AWS_DEFAULT_REGION"]]
            table = backend.get_table(name)

            def put_directly(items: Any, table: Any = table) -> None:
                put_items(table, (item.serialize() for item in items))

            started = time.perf_counter()
            categories = [f"c{n}" for n in range(max(1, size // PER_CATEGORY))]
            # Millions of objects that all live until the end of this size: the cyclic
            # garbage collector would walk them over and over while they are stored.
            gc.disable()
            try:
                catalog = build_catalog(size, "bench", categories, put_directly)
            finally:
                gc.freeze()
                gc.enable()
            print(f"{size} products written in {time.perf_counter() - started:.0f} s", flush=True)
            started = time.perf_counter()
            pages = PAGES_AT_SCALE if size > 1000 else 10**6
            for pattern, build in DESIGNED.items():
                with counting_reads() as reads:
                    paged = page_through(catalog.service, build(catalog), reads, pages)
                returned = len(paged.ids)
                rows.append(
                    {
                        "pattern": pattern,
                        "products": size,
                        "pages": paged.pages,
                        "returned": returned,
                        "read": reads.scanned,
                        "ratio": round(reads.scanned / returned, 3) if returned else None,
                    }
                )
                print(f"  {pattern}: {rows[-1]['ratio']}", flush=True)
            print(f"{size} products listed in {time.perf_counter() - started:.0f} s", flush=True)
        gc.unfreeze()
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| listing | products | pages | returned | read | read per returned |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['pattern']} | {r['products']:,} | {r['pages']} | {r['returned']:,} "
        f"| {r['read']:,} | {r['ratio']} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    rows = measure()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "read_amplification.json").write_text(json.dumps(rows, indent=2) + "\n")
    (RESULTS / "read_amplification.md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
