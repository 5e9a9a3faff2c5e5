"""Product imports end to end: the API's job, a real multipart POST to the presigned form,
S3's event through the queues to the worker, and the catalog and report it leaves."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from catalog.imports import worker as import_worker, writing as import_writing
from tests.e2e.conftest import Api, queue_depth
from tests.imports import (
    csv_bytes,
    jsonl_bytes,
    product_row,
    report_rows,
    run_import,
    settled,
    start,
    unique_prefix,
    upload,
)
from tests.users import demo_user, new_user


def test_a_small_csv_is_imported_and_its_products_are_listed(api: Api) -> None:
    # Given a CSV of three products, one of them with a price the API refuses
    prefix = unique_prefix()
    rows = [
        product_row(f"{prefix}-1"),
        product_row(f"{prefix}-2", price="abc"),
        product_row(f"{prefix}-3", name='=HYPERLINK("http://x")'),
    ]
    # When it is imported
    job = run_import(api, csv_bytes(rows))
    # Then two products are written and the third row is in the report
    assert job["status"] == "done", job
    assert (job["rows_total"], job["created"], job["failed"]) == (3, 2, 1)
    report = report_rows(job)
    assert [(r["row"], r["sku"], r["field"]) for r in report] == [("3", f"{prefix}-2", "price")]
    assert report[0]["type"] == "urn:catalog:problem:validation-error"
    listed = api.get("/v1/products", params={"q": prefix, "limit": 10}).json()["items"]
    assert sorted(p["sku"] for p in listed) == [f"{prefix}-1", f"{prefix}-3"]
    injected = next(p for p in listed if p["sku"] == f"{prefix}-3")
    assert injected["name"] == '=HYPERLINK("http://x")'
    assert injected["tags"] == ["enamel", "blue"]


# --- modes and formats --------------------------------------------------------------------


def test_json_lines_upsert_updates_your_products_and_leaves_equal_ones_unchanged(api: Api) -> None:
    # Given two products of the editor's, imported once
    prefix = unique_prefix("UPS")
    first = [
        {**product_row(f"{prefix}-1"), "tags": ["enamel"], "stock": 4},
        {**product_row(f"{prefix}-2"), "tags": [], "stock": 1},
    ]
    created = run_import(api, jsonl_bytes(first), fmt="jsonl")
    assert (created["status"], created["created"]) == ("done", 2), created
    # When a JSON Lines file changes one's stock, repeats the other, and adds a third
    second = [
        {
            "sku": f"{prefix}-1",
            "name": "Imported mug",
            "price": "12.50",
            "currency": "EUR",
            "category": "kitchen",
            "stock": 40,
        },
        first[1],
        {**product_row(f"{prefix}-3"), "tags": [], "stock": 0},
    ]
    job = run_import(api, jsonl_bytes(second), fmt="jsonl", mode="upsert")
    # Then one is updated (only the fields the row has), one unchanged, one created
    assert job["status"] == "done", job
    assert (job["created"], job["updated"], job["unchanged"], job["failed"]) == (1, 1, 1, 0)
    listed = {p["sku"]: p for p in api.get("/v1/products", params={"q": prefix}).json()["items"]}
    assert listed[f"{prefix}-1"]["stock"] == 40 and listed[f"{prefix}-1"]["tags"] == ["enamel"]
    assert listed[f"{prefix}-1"]["version"] == 2 and listed[f"{prefix}-2"]["version"] == 1


def test_upsert_refuses_rows_of_another_editors_products(api: Api, local_system: Any) -> None:
    # Given a product of the demo editor's
    prefix = unique_prefix("OWN")
    assert run_import(api, csv_bytes([product_row(f"{prefix}-1")]))["created"] == 1
    # When another editor upserts a row with its SKU
    other = api.as_user(new_user(local_system.url, "editor", tag="importer"))
    job = run_import(other, csv_bytes([product_row(f"{prefix}-1", stock="99")]), mode="upsert")
    # Then the row fails as forbidden and the product is unchanged
    assert (job["status"], job["failed"], job["updated"]) == ("done", 1, 0)
    [row] = report_rows(job)
    assert row["type"] == "urn:catalog:problem:forbidden" and row["sku"] == f"{prefix}-1"
    product = api.get("/v1/products", params={"q": prefix}).json()["items"][0]
    assert product["stock"] == 4


# --- bad input ----------------------------------------------------------------------------


def failed_with(api: Api, data: bytes, fmt: str = "csv") -> dict[str, Any]:
    job = run_import(api, data, fmt=fmt)
    assert job["status"] == "failed", job
    assert (job["created"], job["rows_done"]) == (0, 0)
    assert job["report_url"] is None
    return dict(job["problem"])


@pytest.mark.parametrize(
    ("data", "fmt", "problem_type", "words"),
    [
        (b"\n\n", "csv", "bad-request", "empty"),
        (csv_bytes([]), "csv", "bad-request", "header row but no rows"),
        (jsonl_bytes([{"sku": "A"}]), "csv", "unsupported-media-type", "looks like JSON"),
        (csv_bytes([product_row("X-1")]), "jsonl", "unsupported-media-type", "not JSON Lines"),
        (
            gzip.compress(csv_bytes([product_row("X-1")]) * 2000),
            "csv",
            "unsupported-media-type",
            "gzip",
        ),
        (bytes(range(256)) * 64, "csv", "unsupported-media-type", "binary"),
        (b"sku,name,colour\nA,b,red\n", "csv", "validation-error", "Unknown columns"),
    ],
    ids=["empty", "header-only", "json-as-csv", "csv-as-jsonl", "gzip", "binary", "columns"],
)
def test_a_file_that_cannot_be_imported_fails_the_job_with_a_problem(
    api: Api, data: bytes, fmt: str, problem_type: str, words: str
) -> None:
    problem = failed_with(api, data, fmt)
    assert problem["type"] == f"urn:catalog:problem:{problem_type}"
    assert words in problem["detail"]


def test_a_10_mb_row_fails_alone_and_the_rows_around_it_are_imported(api: Api) -> None:
    # Given a file whose second row is 10 MB (a name of ten million letters)
    prefix = unique_prefix("HUGE")
    rows = [product_row(f"{prefix}-{n}") for n in range(3)]
    rows[1]["name"] = "n" * (10 * 2**20)
    # When it is imported
    job = run_import(api, csv_bytes(rows))
    # Then the two other rows are written and the big one is reported, unread
    assert (job["status"], job["created"], job["failed"]) == ("done", 2, 1), job
    [row] = report_rows(job)
    assert (row["row"], row["type"]) == ("3", "urn:catalog:problem:payload-too-large")


def test_a_chunk_failing_on_every_delivery_is_reported_row_by_row_and_the_job_ends(
    api: Api, local_system: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a file of two chunks, and a worker that fails on every write of the second
    prefix = unique_prefix("LOST")
    # (small drafts, of a category the README tour does not export: 600 are the editor's)
    rows = [
        product_row(
            f"{prefix}-{n:03d}",
            name="Mug",
            tags="",
            description="",
            status="draft",
            category="lighting",
        )
        for n in range(600)
    ]
    second = import_worker.CHUNK_ROWS + 2  # the header is row 1
    real_write = import_writing.ChunkWriter._write_group

    def write_group(self: Any, group: list[Any], *args: Any) -> None:
        if group and group[0].row >= second:
            raise RuntimeError("injected: the table refuses this chunk")
        real_write(self, group, *args)

    monkeypatch.setattr(import_writing.ChunkWriter, "_write_group", write_group)
    dead_before = queue_depth(local_system, "import-chunks-dlq")
    # When it is imported, the second chunk failing on each of its deliveries
    job = run_import(api, csv_bytes(rows), timeout=240)
    # Then the job still ends: the first chunk's rows created, the second's failed
    assert job["status"] == "done", job
    assert (job["rows_total"], job["created"], job["failed"]) == (600, 500, 100)
    # And the report names every row of the second chunk, with what to do about it
    report = report_rows(job)
    assert [int(r["row"]) for r in report] == list(range(second, 602))
    assert {r["sku"] for r in report} == {f"{prefix}-{n:03d}" for n in range(500, 600)}
    assert {r["type"] for r in report} == {"urn:catalog:problem:internal-error"}
    assert "mode upsert" in report[0]["detail"]
    # And the chunk's message goes on to the dead-letter queue, for the alarm
    local_system.events.wait_until(
        lambda: queue_depth(local_system, "import-chunks-dlq") == dead_before + 1, timeout=120
    )
    # (its 500 products' change events are delivered here, not during the next tests)
    local_system.drain_events(300)


def test_more_than_100000_rows_fail_the_job_before_any_row_is_written(api: Api) -> None:
    # Given a file of 100,001 short rows (their SKUs new to the catalog)
    prefix = unique_prefix("MANY")
    lines = [b"sku,name,price,currency,category"]
    lines += [f"{prefix}-{n},M,1,EUR,kitchen".encode() for n in range(100_001)]
    # When it is imported, then the job fails as too large, and nothing of it was written
    problem = failed_with(api, b"\n".join(lines) + b"\n")
    assert problem["type"] == "urn:catalog:problem:payload-too-large"
    assert "more than 100,000 rows" in problem["detail"]
    assert api.get("/v1/products", params={"q": prefix}).json()["items"] == []


def test_the_form_takes_exactly_the_declared_size_and_type(api: Api) -> None:
    # Given a job for a file of 100 bytes
    data = csv_bytes([product_row("SIZE-1")])
    started = start(api, data)
    form = started["upload"]
    # When a larger file, a smaller one, or one of another type is sent, S3 refuses it
    assert upload(form, data + b"x" * 10).status_code == 400
    assert upload(form, data[:-5]).status_code == 400
    fields = {**form["fields"], "Content-Type": "application/x-ndjson"}
    assert upload({**form, "fields": fields}, data).status_code == 403
    # And the job is still waiting for its file
    assert api.get(f"/v1/imports/{started['job']['id']}").json()["status"] == "pending"


def test_a_form_used_again_changes_nothing(api: Api, local_system: Any) -> None:
    # Given an import done through its form
    prefix = unique_prefix("RE")
    data = csv_bytes([product_row(f"{prefix}-1")])
    started = start(api, data)
    assert upload(started["upload"], data).status_code == 204
    job = settled(api, started["job"]["id"])
    assert (job["status"], job["created"]) == ("done", 1)
    # When the same form sends another file of the same size
    other = data.replace(f"{prefix}-1".encode(), f"{prefix}-2".encode())
    assert upload(started["upload"], other).status_code == 204
    local_system.drain_events(120)
    # Then the job and the catalog are as they were
    again = api.get(f"/v1/imports/{job['id']}").json()
    assert {k: v for k, v in again.items() if k != "report_url"} == {
        k: v for k, v in job.items() if k != "report_url"
    }
    assert [p["sku"] for p in api.get("/v1/products", params={"q": prefix}).json()["items"]] == [
        f"{prefix}-1"
    ]


def test_a_request_the_api_cannot_take_is_a_problem(api: Api) -> None:
    too_big = api.post("/v1/imports", json={"format": "csv", "content_length": 100 * 2**20 + 1})
    assert too_big.status_code == 422
    assert too_big.headers["Content-Type"] == "application/problem+json"
    assert api.post("/v1/imports", json={"format": "xlsx", "content_length": 10}).status_code == 422


# --- who sees what ------------------------------------------------------------------------


def test_jobs_are_their_owners_and_admins_and_viewers_may_not_import(
    api: Api, local_system: Any
) -> None:
    # Given a job of the demo editor's
    job = start(api, csv_bytes([product_row(unique_prefix())]))["job"]
    # Then it is listed for its owner, first, and for admins
    assert api.get("/v1/imports", params={"limit": 1}).json()["items"][0]["id"] == job["id"]
    admin = api.as_user(demo_user(local_system.url, "admin"))
    assert job["id"] in [
        j["id"] for j in admin.get("/v1/imports", params={"limit": 100}).json()["items"]
    ]
    assert admin.get(f"/v1/imports/{job['id']}").status_code == 200
    # And another editor does not see it
    other = api.as_user(new_user(local_system.url, "editor", tag="other"))
    assert other.get(f"/v1/imports/{job['id']}").status_code == 404
    assert job["id"] not in [j["id"] for j in other.get("/v1/imports").json()["items"]]
    # And a viewer may not import at all
    viewer = api.as_user(demo_user(local_system.url, "viewer"))
    refused = viewer.post("/v1/imports", json={"format": "csv", "content_length": 10})
    assert refused.status_code == 403


def test_job_pages_follow_their_cursor(api: Api, local_system: Any) -> None:
    # Given three jobs of a fresh editor
    editor = api.as_user(new_user(local_system.url, "editor", tag="pages"))
    ids = [start(editor, csv_bytes([product_row(unique_prefix())]))["job"]["id"] for _ in range(3)]
    # When they are listed two by two
    first = editor.get("/v1/imports", params={"limit": 2}).json()
    second = editor.get("/v1/imports", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    # Then every job is seen once, newest first
    assert [j["id"] for j in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
