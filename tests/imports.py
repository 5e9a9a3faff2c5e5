"""Import files for tests, and the steps of an import over HTTP and the presigned form."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from typing import Any

import requests

from tests.e2e.conftest import Api

COLUMNS = ("sku", "name", "description", "price", "currency", "category", "tags", "stock", "status")


def unique_prefix(tag: str = "IMP") -> str:
    # One 12-character random word: a search reads the partition of its longest word, and
    # the pid (in every factory product's SKU) must never be that word
    return f"{tag}-{uuid.uuid4().hex[:12]}"


def product_row(sku: str, **overrides: Any) -> dict[str, str]:
    row = {
        "sku": sku,
        "name": "Imported mug",
        "description": "From a spreadsheet.",
        "price": "12.50",
        "currency": "EUR",
        "category": "kitchen",
        "tags": "enamel|blue",
        "stock": "4",
        "status": "active",
    }
    row.update(overrides)
    return row


def csv_bytes(
    rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS, delimiter: str = ","
) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def jsonl_bytes(products: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(p).encode() + b"\n" for p in products)


def start(api: Api, data: bytes, fmt: str = "csv", mode: str = "create") -> dict[str, Any]:
    """Ask for an import of `data` (201 expected): the job and its form."""
    response = api.post(
        "/v1/imports", json={"format": fmt, "mode": mode, "content_length": len(data)}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def upload(form: dict[str, Any], data: bytes, filename: str = "products.csv") -> requests.Response:
    """POST the form's fields and then the file as multipart/form-data, as curl -F does."""
    fields = dict(form["fields"])
    return requests.post(
        form["url"],
        data=fields,
        files={"file": (filename, data, fields["Content-Type"])},
        timeout=120,
    )


def settled(api: Api, job_id: str, timeout: float = 120) -> dict[str, Any]:
    """The job once it is done or failed (or as it is after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        job = api.get(f"/v1/imports/{job_id}").json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.5)


def run_import(
    api: Api, data: bytes, fmt: str = "csv", mode: str = "create", timeout: float = 120
) -> dict[str, Any]:
    started = start(api, data, fmt, mode)
    sent = upload(started["upload"], data)
    assert sent.status_code == 204, sent.text
    return settled(api, started["job"]["id"], timeout)


def report_rows(job: dict[str, Any]) -> list[dict[str, str]]:
    """The job's error report, read through its presigned link."""
    response = requests.get(job["report_url"], timeout=30)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
