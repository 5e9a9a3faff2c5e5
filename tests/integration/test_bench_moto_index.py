"""moto's Query shortcuts (infra/local/moto/queries.py: the bench's and moto server's) change
nothing that moto answers: a catalog stored with `put_items` is stored as moto's PutItem stores it,
and every listing of the bench (and the filtered ones) gets, Query by Query, the same items,
counts, `ScannedCount` and `LastEvaluatedKey` with the shortcuts as without them.

The comparison runs in a child process: it needs moto's in-process mock (`mock_aws`), which
resets every moto backend of its process, the moto server of this worker's tests included.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = 120
TABLE = "bench-index-products"
REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"  # moto's default account


def test_the_bench_shortcuts_answer_every_query_as_moto_does() -> None:
    # A clean environment: a worker that started the local system exported its endpoints,
    # table names and cursor secret, and the child must see only its in-process moto.
    env = {
        **{name: os.environ[name] for name in ("PATH", "HOME", "TMPDIR") if name in os.environ},
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [sys.executable, __file__],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,  # three catalogs built and listed (about 25 s of CPU on a quiet machine)
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout)
    plain, fast = report["plain"], report["fast"]

    assert fast["stored"] == plain["stored"]
    assert len(plain["stored"]) > 6 * PRODUCTS  # products, copies and nothing lost
    assert fast["listings"].keys() == plain["listings"].keys()
    for name, listing in plain["listings"].items():
        assert listing["queries"], name
        assert fast["listings"][name] == listing, name
    assert fast["raw"] == plain["raw"]
    # and moto server's permanent shortcuts answer the same
    server = report["server"]
    assert server["stored"] == plain["stored"]
    assert server["listings"] == plain["listings"]
    assert server["raw"] == plain["raw"]
    # what the comparison covers: paged listings, reads past a start key, empty partitions
    paged = [v for k, v in plain["listings"].items() if k.startswith("designed, pages of 5")]
    assert all(listing["pages"] >= 2 for listing in paged)
    assert any(query["LastEvaluatedKey"] for query in plain["raw"]["base table, by two"])
    assert plain["raw"]["base table, descending, tags only"][0]["Count"] == 3
    assert plain["raw"]["an empty partition"][0]["Count"] == 0
    assert len(plain["raw"]["a scan in pages of 97"]) > 5  # Scans read on from start keys
    assert len(plain["raw"]["segment 1 of 3, in pages of 50"]) > 1
    after = plain["raw"]["the partition after a write"]
    assert after[0]["Count"] == plain["raw"]["the partition before a write"][0]["Count"] + 1


# --- the child process -------------------------------------------------------------------


def _stored(table: Any) -> list[Any]:
    """The table's storage: partitions and items in moto's order, each item as moto holds
    it (its keys and every attribute with its type)."""
    rows = []
    for hash_key, hash_set in table.items.items():
        for range_key, item in hash_set.items():
            assert item.hash_key == hash_key and item.range_key == range_key
            rows.append([hash_key.to_json(), range_key.to_json(), item.to_json()])
    return rows


def _raw_queries(client: Any, catalog: Any) -> dict[str, list[dict[str, Any]]]:
    """Queries on the base table and an index, straight through botocore, page by page."""
    product = catalog.products[42]  # three tags and two words: seven items in its partition
    tag_partition = f"TAG#{catalog.tags[0]}#active"

    def pages(**request: Any) -> list[dict[str, Any]]:
        responses = []
        while True:
            response = client.query(TableName=TABLE, **request)
            response.pop("ResponseMetadata", None)
            responses.append(response)
            if "LastEvaluatedKey" not in response or len(responses) > 50:
                return responses
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def by_key(partition: str, **extra: Any) -> dict[str, Any]:
        return {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            **extra,
        }

    raw = {
        "base table, by two": pages(**by_key(f"PRODUCT#{product.id}", Limit=2)),
        "base table, descending, tags only": pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :tag)",
            ExpressionAttributeValues={
                ":pk": {"S": f"PRODUCT#{product.id}"},
                ":tag": {"S": "TAG#"},
            },
            ScanIndexForward=False,
        ),
        "a missing partition": pages(**by_key("PRODUCT#none")),
        "an empty partition": pages(
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "CAT#none#active"}},
        ),
    }
    tag_query: dict[str, Any] = {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": tag_partition}},
        "Select": "COUNT",
    }
    raw["the partition before a write"] = pages(**tag_query)
    client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": "EXTRA#1"},
            "sk": {"S": "EXTRA"},
            "gsi1pk": {"S": tag_partition},
            "gsi1sk": {"S": "0"},
        },
    )
    raw["the partition after a write"] = pages(**tag_query)
    client.delete_item(TableName=TABLE, Key={"pk": {"S": "EXTRA#1"}, "sk": {"S": "EXTRA"}})
    raw["the partition after a delete"] = pages(**tag_query)

    def scan_pages(**request: Any) -> list[dict[str, Any]]:
        responses = []
        while True:
            response = client.scan(TableName=TABLE, **request)
            response.pop("ResponseMetadata", None)
            responses.append(response)
            if "LastEvaluatedKey" not in response or len(responses) > 200:
                return responses
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    raw["a scan in pages of 97"] = scan_pages(Limit=97)
    raw["segment 1 of 3, in pages of 50"] = scan_pages(Limit=50, Segment=1, TotalSegments=3)
    first = client.scan(TableName=TABLE, Limit=10)["LastEvaluatedKey"]
    client.delete_item(TableName=TABLE, Key=first)  # a start key no longer in the table
    raw["a scan from a deleted start key"] = scan_pages(Limit=200, ExclusiveStartKey=first)
    return raw


def _pages_of_5(build: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda catalog: build(catalog).model_copy(update={"limit": 5})


def _measure(catalog: Any, client: Any) -> dict[str, Any]:
    """Each listing paged through to its end: ids, pages, reads, and every Query response."""
    from catalog.products.items import ProductItem
    from tests.scale import DESIGNED, FILTERED, counting_reads, page_through

    responses: list[dict[str, Any]] = []

    def record(parsed: dict[str, Any], **_: Any) -> None:
        responses.append({k: copy.deepcopy(v) for k, v in parsed.items() if k != "Response"})
        responses[-1].pop("ResponseMetadata", None)

    events = ProductItem._get_connection().connection.client.meta.events
    listings: dict[str, Any] = {}
    queries: dict[str, Callable[[Any], Any]] = {
        **{f"designed: {k}": v for k, v in DESIGNED.items()},
        # the same with pages of 5, so that each one reads on from a start key
        **{f"designed, pages of 5: {k}": _pages_of_5(v) for k, v in DESIGNED.items()},
        **{f"filtered: {k}": v for k, v in FILTERED.items()},
    }
    events.register("after-call.dynamodb.Query", record)
    try:
        for name, build in queries.items():
            responses.clear()
            with counting_reads() as reads:
                paged = page_through(catalog.service, build(catalog), reads)
            listings[name] = {
                "ids": paged.ids,
                "pages": paged.pages,
                "reads_per_page": paged.reads_per_page,
                "read": [reads.scanned, reads.returned, reads.queries],
                "queries": list(responses),
            }
    finally:
        events.unregister("after-call.dynamodb.Query", record)
    return {"listings": listings, "raw": _raw_queries(client, catalog)}


def _compare() -> dict[str, Any]:
    os.environ.update(
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # moto's fake credentials
        AWS_EC2_METADATA_DISABLED="true",
        POWERTOOLS_TRACE_DISABLED="true",
        CURSOR_SIGNING_KEY="bench-index-test-key",
        LOG_LEVEL="WARNING",
        TABLE_PRODUCTS=TABLE,
    )
    sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    from infra import topology
    from infra.local.moto import faster_queries, put_items
    from infra.local.moto.queries import apply_for_server
    from infra.local.provision import table_definition
    from tests.scale import build_catalog

    report: dict[str, Any] = {}
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        backend = dynamodb_backends[MOTO_ACCOUNT][REGION]
        definition = table_definition(topology.TABLES["products"], TABLE)
        definition.pop("StreamSpecification", None)  # as the bench creates it
        items: list[dict[str, Any]] = []
        client.create_table(**definition)
        # three categories, so that the partitions listed hold only some of the table
        catalog = build_catalog(
            PRODUCTS,
            "idx",
            ["cat-a", "cat-b", "cat-c"],
            lambda it: items.extend(item.serialize() for item in it),
        )
        for attrs in items:  # as the bench did before: moto's own PutItem
            backend.put_item(TABLE, attrs)
        report["plain"] = {"stored": _stored(backend.get_table(TABLE)), **_measure(catalog, client)}

        client.delete_table(TableName=TABLE)
        client.create_table(**definition)
        with faster_queries():
            put_items(backend.get_table(TABLE), items)
            stored = _stored(backend.get_table(TABLE))
            report["fast"] = {"stored": stored, **_measure(catalog, client)}

        # moto server's shortcuts (for good, from here on in this process), over moto's PutItem
        client.delete_table(TableName=TABLE)
        client.create_table(**definition)
        for attrs in items:
            backend.put_item(TABLE, attrs)
        apply_for_server()
        stored = _stored(backend.get_table(TABLE))
        report["server"] = {"stored": stored, **_measure(catalog, client)}
    return report


if __name__ == "__main__":
    json.dump(_compare(), sys.stdout)
