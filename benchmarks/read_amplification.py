"""Read amplification of each documented listing: items DynamoDB reads per item returned.

Not a test (the 1,000-product bound is asserted in tests/integration/test_listing_reads.py):
`make bench` runs it at 1,000 and 50,000 products and writes
benchmarks/results/read_amplification.{md,json}. DynamoDB is moto, in this process; the
figure is DynamoDB's own `ScannedCount` over the items returned, which does not depend on
how fast moto is. Three shortcuts keep the run within minutes, none touching what is
measured: the catalog's items are put straight into moto's table (not through its HTTP
parser, and without moto's per-attribute item-size check, which is quadratic: these items
are under 2 KB); moto's attribute comparisons take a fast path for two strings (comparing
their values, as moto does after converting them); and at 50,000 products each listing is
followed for its first `BENCH_PAGES` pages (3 by default), because moto reads its whole
table in Python for every index Query. The Queries themselves go through pynamodb and
botocore as in Lambda.
"""

from __future__ import annotations

import json
import operator
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def faster_moto() -> Iterator[None]:
    """moto without its quadratic item-size check and with string comparisons by value."""
    from moto.dynamodb.models import dynamo_type

    cls: Any = dynamo_type.DynamoType
    saved = {name: getattr(cls, name) for name in ("__eq__", "__ne__", "__lt__", "__gt__")}
    size_check = dynamo_type.LimitedSizeDict.__setitem__

    def fast(name: str, compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
        slow = saved[name]

        def method(self: Any, other: Any) -> bool:
            if self.type == "S" and getattr(other, "type", None) == "S":
                return compare(self.value, other.value)
            return bool(slow(self, other))

        return method

    cls.__eq__ = fast("__eq__", operator.eq)
    cls.__ne__ = fast("__ne__", operator.ne)
    cls.__lt__ = fast("__lt__", operator.lt)
    cls.__gt__ = fast("__gt__", operator.gt)
    dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign]
    try:
        yield
    finally:
        for name, method in saved.items():
            setattr(cls, name, method)
        dynamo_type.LimitedSizeDict.__setitem__ = size_check  # type: ignore[method-assign]


def measure(sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    """One row per (documented listing, catalog size): pattern, products, pages, returned,
    read and ratio (read / returned)."""
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    from infra import topology
    from infra.local.provision import table_definition
    from tests.scale import DESIGNED, build_catalog, counting_reads, page_through

    rows: list[dict[str, Any]] = []
    for size in sizes:
        with mock_aws(), faster_moto():
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
            categories = [f"c{n}" for n in range(max(1, size // PER_CATEGORY))]
            catalog = build_catalog(size, "bench", categories, put_directly)
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
