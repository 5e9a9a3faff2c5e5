"""Read amplification of each documented listing: items DynamoDB reads per item returned.

Not a test (the 1,000-product bound is asserted in tests/integration/test_listing_reads.py):
`make bench` runs it at 1,000 and 50,000 products and writes
benchmarks/results/read_amplification.{md,json}. DynamoDB is moto, in this process; the
figure is DynamoDB's own `ScannedCount` over the items returned, which does not depend on
how fast moto is. Two shortcuts keep the run within minutes, neither touching what is
measured: the catalog's items are put straight into moto's table (not through its HTTP
parser, and without moto's per-attribute item-size check, which is quadratic: these items
are under 2 KB), and at 50,000 products each listing is followed for its first
`BENCH_PAGES` pages (5 by default), because moto sorts a whole index partition in Python
for every Query. The Queries themselves go through pynamodb and botocore as in Lambda.
"""

from __future__ import annotations

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
PAGES_AT_SCALE = int(os.environ.get("BENCH_PAGES", "5"))
CATEGORIES = 10  # at 50,000 products: 5,000 per category
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
    from moto.dynamodb.models import dynamo_type, dynamodb_backends

    from infra import topology
    from infra.local.provision import table_definition
    from tests.scale import DESIGNED, build_catalog, counting_reads, page_through

    rows: list[dict[str, Any]] = []
    for size in sizes:
        with mock_aws():
            name = f"bench-products-{size}"
            os.environ["TABLE_PRODUCTS"] = name
            from catalog.core import dynamo, settings

            settings.settings.cache_clear()
            dynamo.connection.cache_clear()
            definition = table_definition(topology.TABLES["products"], name)
            definition.pop("StreamSpecification", None)  # no reader: don't keep records
            boto3.client("dynamodb").create_table(**definition)
            table = dynamodb_backends[MOTO_ACCOUNT][os.environ["AWS_DEFAULT_REGION"]]

            def put_directly(items: Any, table: Any = table, name: str = name) -> None:
                for item in items:
                    table.put_item(name, item.serialize())

            started = time.perf_counter()
            categories = [f"c{n}" for n in range(CATEGORIES)]
            size_check = dynamo_type.LimitedSizeDict.__setitem__
            dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign]
            try:
                catalog = build_catalog(size, "bench", categories, put_directly)
            finally:
                dynamo_type.LimitedSizeDict.__setitem__ = size_check  # type: ignore[method-assign]
            print(f"{size} products written in {time.perf_counter() - started:.0f} s", flush=True)
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
