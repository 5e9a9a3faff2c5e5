"""The big import: 10,000 CSV rows, 5% bad of every kind, over real HTTP and S3, with a
worker crash injected in the middle of a chunk, then the same job delivered again.

One test on purpose: its file, upload and pump run are the expensive part, and every
assertion reads the one outcome. It runs on a system of its own (a child process,
`tests/separate_system.py`, with the crash of `tests/e2e/import_crash.py`) whose pump plays
the import worker's queues alone: the 10,000 imports' change events are not what it tests
(tests/e2e/test_imports.py follows an import's events), and on the shared system their
backlog would keep the other tests on its worker waiting.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from catalog.imports.writing import row_product_id
from tests.e2e import import_crash
from tests.e2e.conftest import Api, queue_depth
from tests.imports import COLUMNS, product_row, report_rows, settled, start, unique_prefix, upload
from tests.separate_system import SeparateSystem, separate_system
from tests.users import demo_user

pytestmark = [pytest.mark.xdist_group("import-10k"), pytest.mark.timeout(1500)]

ROWS = 10_000
KINDS = (
    "price",
    "category",
    "file-duplicate",
    "catalog-duplicate",
    "long-name",
    "short-row",
    "utf8",
)
VALIDATION = "urn:catalog:problem:validation-error"
DUPLICATE = "urn:catalog:problem:duplicate-sku"
BAD_REQUEST = "urn:catalog:problem:bad-request"


def _line(cells: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue().encode("utf-8")


def build_file(
    prefix: str,
) -> tuple[bytes, set[tuple[str, str, str, str]], dict[str, int], list[str]]:
    """The file; the report lines expected (row, sku, field, type); the good SKUs and their
    rows; the SKUs that must already be in the catalog. Every 20th row is bad, the kinds in
    turn."""
    lines = [_line(list(COLUMNS))]
    expected: set[tuple[str, str, str, str]] = set()
    good: dict[str, int] = {}
    in_catalog: list[str] = []
    bad_count = 0
    for index in range(ROWS):
        number = index + 2  # the header is row 1
        sku = f"{prefix}-{index:05d}"
        # Small products (one word in the name, no tags: 4 items each) and drafts (one
        # change event each), so the test is fast
        row = product_row(sku, name="Mug", tags="", description="", status="draft")
        if index % 20 != 19:
            lines.append(_line([row[c] for c in COLUMNS]))
            good[sku] = number
            continue
        kind = KINDS[bad_count % len(KINDS)]
        bad_count += 1
        if kind == "price":
            row["price"] = "12.345"
            expected.add((str(number), sku, "price", VALIDATION))
        elif kind == "category":
            row["category"] = "no-such-category"
            expected.add((str(number), sku, "category", VALIDATION))
        elif kind == "file-duplicate":
            row["sku"] = sku = list(good)[-1]  # an earlier good row has it already
            expected.add((str(number), sku, "sku", DUPLICATE))
        elif kind == "catalog-duplicate":
            in_catalog.append(sku)
            expected.add((str(number), sku, "sku", DUPLICATE))
        elif kind == "long-name":
            row["name"] = "n" * 201
            expected.add((str(number), sku, "name", VALIDATION))
        elif kind == "short-row":
            lines.append(_line([row[c] for c in COLUMNS[:-1]]))
            expected.add((str(number), sku, "status", VALIDATION))
            continue
        else:
            lines.append(_line([row[c] for c in COLUMNS]).replace(b"Mug", b"Mu\xff\xfeg"))
            expected.add((str(number), "", "", BAD_REQUEST))
            continue
        lines.append(_line([row[c] for c in COLUMNS]))
    return b"".join(lines), expected, good, in_catalog


@pytest.fixture
def crashing(tmp_path: Path) -> Iterator[tuple[SeparateSystem, Path]]:
    """A system of its own whose import worker crashes once mid-chunk (import_crash), and
    the file where it says what happened."""
    state = tmp_path / "crash.json"
    with separate_system("tests.e2e.import_crash", env={import_crash.STATE: str(state)}) as system:
        yield system, state


def quiet(system: SeparateSystem, queues: tuple[str, ...], timeout: float) -> None:
    """Wait until `queues` hold no message (visible, in flight or delayed), twice in a row."""
    deadline = time.monotonic() + timeout
    in_a_row = 0
    while in_a_row < 2:
        assert time.monotonic() < deadline, f"{queues} still busy after {timeout}s"
        in_a_row = in_a_row + 1 if not any(queue_depth(system, q) for q in queues) else 0
        time.sleep(1)


def batch_get(system: Any, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The items of these (pk, sk) keys that exist, read with BatchGetItem (no Scan: moto
    walks its whole table for every Scan page)."""
    dynamodb = boto3.client("dynamodb", endpoint_url=system.aws_url, region_name=system.region)
    table = system.names["tables"]["products"]
    found: list[dict[str, Any]] = []
    for start_at in range(0, len(keys), 100):
        wanted: dict[str, Any] = {
            table: {
                "Keys": [
                    {"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys[start_at : start_at + 100]
                ],
                "ConsistentRead": True,
            }
        }
        while wanted:
            answer = dynamodb.batch_get_item(RequestItems=wanted)
            found += answer["Responses"].get(table, [])
            wanted = answer.get("UnprocessedKeys") or {}
    return found


def stored(system: Any, job_id: str) -> dict[int, int]:
    """Row number -> version, of every product in the table with the id the job gives the
    product of that row (every row of the file is asked for)."""
    ids = {row_product_id(job_id, n): n for n in range(2, ROWS + 2)}
    items = batch_get(system, [(f"PRODUCT#{i}", "PRODUCT") for i in ids])
    return {ids[item["id"]["S"]]: int(item["version"]["N"]) for item in items}


def guards(system: Any, skus: list[str]) -> dict[str, str]:
    """SKU -> the id of the product holding it."""
    items = batch_get(system, [(f"SKU#{sku.upper()}", "SKU") for sku in skus])
    return {item["pk"]["S"].removeprefix("SKU#"): item["product_id"]["S"] for item in items}


def test_10000_rows_with_5_percent_bad_crash_and_rerun(
    crashing: tuple[SeparateSystem, Path],
) -> None:
    began = time.monotonic()
    system, state = crashing
    api = Api(system.url, demo_user(system.url, "editor"))
    # Given a 10,000-row file, 5% of its rows bad in seven ways, and the catalog already
    # holding the SKUs of some of them
    prefix = unique_prefix("BIG")
    data, expected, good_rows, in_catalog = build_file(prefix)
    good = list(good_rows)
    assert len(expected) == ROWS // 20 and len(good) == ROWS - ROWS // 20
    for start_at in range(0, len(in_catalog), 100):
        operations = [
            {"op": "create", "product": {**product_row(sku), "tags": [], "stock": 1}}
            for sku in in_catalog[start_at : start_at + 100]
        ]
        answer = api.post("/v1/products/batch", json={"operations": operations})
        assert answer.status_code == 200 and answer.json()["applied"] == len(operations)

    # When it is imported over HTTP and the presigned form, the worker crashing once
    started = start(api, data)
    job_id = started["job"]["id"]
    assert upload(started["upload"], data).status_code == 204
    job = settled(api, job_id, timeout=900)  # a bound, not a speed (see docs/performance.md)
    imported_s = time.monotonic() - began
    crash = json.loads(state.read_text())

    # Then the crash happened, and the job is done with exact counts
    assert crash["crashed"]
    assert job["status"] == "done", job
    assert job["rows_total"] == ROWS
    assert (job["rows_done"], job["created"], job["failed"]) == (ROWS, len(good), len(expected))
    assert (job["updated"], job["unchanged"]) == (0, 0)
    # And exactly the good rows are in the table, each once: a product of the row's id for
    # every good row and for no other row, each holding its SKU, at its first version
    versions = stored(system, job_id)
    bad_rows = {int(row) for row, _, _, _ in expected}
    assert sorted(versions) == [n for n in range(2, ROWS + 2) if n not in bad_rows]
    assert set(versions.values()) == {1}
    holders = guards(system, good)
    assert holders == {sku.upper(): row_product_id(job_id, good_rows[sku]) for sku in good}
    # And the report lists exactly the bad rows, each with its problem
    report = report_rows(job)
    assert {(r["row"], r["sku"], r["field"], r["type"]) for r in report} == expected
    assert len(report) == len(expected)
    assert all(r["detail"] for r in report)

    # When the same job is delivered again: its upload event and every chunk message
    sqs = boto3.client("sqs", endpoint_url=system.aws_url, region_name=system.region)
    queues = system.names["queues"]
    bucket = system.names["buckets"]["imports"]
    notice = {
        "Records": [
            {
                "eventName": "ObjectCreated:Post",
                "s3": {
                    "bucket": {"name": bucket},
                    "object": {"key": f"uploads/{job_id}", "size": len(data), "eTag": "rerun"},
                },
            }
        ]
    }
    sqs.send_message(QueueUrl=queues["import-uploads"], MessageBody=json.dumps(notice))
    assert len(crash["messages"]) == ROWS // 500  # every chunk's message, to send again
    for message in crash["messages"]:
        sqs.send_message(QueueUrl=queues["import-chunks"], MessageBody=json.dumps(message))
    quiet(system, ("import-uploads", "import-chunks"), timeout=600)
    # Then nothing changed: the job, the products, their versions
    again = api.get(f"/v1/imports/{job_id}").json()
    assert {k: v for k, v in again.items() if k != "report_url"} == {
        k: v for k, v in job.items() if k != "report_url"
    }
    assert stored(system, job_id) == versions
    print(
        f"\nimport-10k: {ROWS} rows imported in {imported_s:.1f}s; whole test "
        f"{time.monotonic() - began:.1f}s"
    )
