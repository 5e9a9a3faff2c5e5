"""`catalog import FILE [--mode] [--wait]` against a fake of the import API (the
`responses` library): the job requested with the file's size, the file posted with the
presigned form, the job followed to its end. (Over the real import API: at the merge.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers
from typer.testing import CliRunner, Result

from cli import app, client, jobs
from tests.cli_output import without_metrics

API = "http://catalog.test"
UPLOAD = "http://uploads.test/bucket"
JOB_ID = "01JC00000000000000000000AA"


@pytest.fixture
def signed_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("CATALOG_POLL_S", "0")
    client.store_tokens(API, {"access_token": "t0ken", "expires_in": 3600}, "e@example.com")
    yield


def job(status: str, **counts: Any) -> dict[str, Any]:
    return {"id": JOB_ID, "status": status, "rows_total": None, "rows_done": 0, **counts}


def run(*args: str) -> Result:
    return without_metrics(
        CliRunner(env={"COLUMNS": "200"}).invoke(app, [*args, "--api", API], catch_exceptions=False)
    )


@pytest.fixture
def products_csv(tmp_path: Path) -> Path:
    path = tmp_path / "products.csv"
    path.write_text("sku,name,price,currency,category\nA-1,Mug,1.50,EUR,kitchen\n")
    return path


@responses.activate
def test_import_requests_a_job_uploads_the_file_and_follows_it(
    signed_in: None, products_csv: Path
) -> None:
    size = products_csv.stat().st_size
    # Given an import API that answers the job and its form, then the job as it goes
    requested = responses.post(
        f"{API}/v1/imports",
        status=202,
        json={
            "job": job("pending"),
            "upload": {"url": UPLOAD, "fields": {"key": f"imports/{JOB_ID}", "policy": "p"}},
            "expires_at": "2026-01-01T00:05:00.000Z",
        },
        match=[
            matchers.json_params_matcher(
                {"format": "csv", "mode": "upsert", "content_length": size}
            ),
            matchers.header_matcher({"Authorization": "Bearer t0ken"}),
        ],
    )
    uploaded = responses.post(UPLOAD, status=204)
    for state in (
        job("pending"),
        job("running", rows_total=1, rows_done=0),
        job("done", rows_total=1, rows_done=1, created=0, updated=1, unchanged=0, failed=0),
    ):
        responses.get(f"{API}/v1/imports/{JOB_ID}", json=state)
    # When the file is imported in upsert mode, waiting for the end
    result = run("import", str(products_csv), "--mode", "upsert", "--wait")
    # Then the job was requested for that file, and the file posted with the form's fields
    assert result.exit_code == 0, result.output
    assert requested.call_count == 1
    body = uploaded.calls[0].request.body
    assert b'name="key"' in body and f"imports/{JOB_ID}".encode() in body
    assert b'name="file"' in body and b"A-1,Mug" in body
    assert body.index(b'name="key"') < body.index(b'name="file"')  # the file comes last
    # And the summary gives the counts, and no token
    assert f"import {JOB_ID} done" in result.output and "updated 1" in result.output
    assert "t0ken" not in result.output


@responses.activate
def test_import_without_wait_says_how_to_follow_it(signed_in: None, products_csv: Path) -> None:
    responses.post(
        f"{API}/v1/imports",
        status=201,
        json={"job": job("pending"), "upload": {"url": UPLOAD, "fields": {}}},
    )
    responses.post(UPLOAD, status=204)
    result = run("import", str(products_csv))
    assert result.exit_code == 0, result.output
    assert f"catalog imports show {JOB_ID}" in result.output


@responses.activate
def test_a_refused_import_is_the_problem_in_one_line(signed_in: None, products_csv: Path) -> None:
    responses.post(
        f"{API}/v1/imports",
        status=422,
        json={
            "type": "urn:catalog:problem:validation-error",
            "title": "Unprocessable Content",
            "status": 422,
            "detail": "The body is not valid.",
            "errors": [{"field": "mode", "detail": "must be create or upsert"}],
        },
        content_type="application/problem+json",
    )
    result = run("import", str(products_csv), "--mode", "merge")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: The body is not valid. (mode: must be create or upsert) [422]"
    )


@responses.activate
def test_ctrl_c_while_an_import_runs_leaves_it_running(
    signed_in: None, products_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses.post(
        f"{API}/v1/imports",
        status=202,
        json={"job": job("pending"), "upload": {"url": UPLOAD, "fields": {}}},
    )
    responses.post(UPLOAD, status=204)
    responses.get(f"{API}/v1/imports/{JOB_ID}", json=job("running", rows_total=9))

    def interrupted() -> float:
        raise KeyboardInterrupt

    monkeypatch.setattr(jobs, "poll_interval", interrupted)
    result = run("import", str(products_csv), "--wait")
    assert result.exit_code == 130
    assert f"catalog imports show {JOB_ID}" in result.output
    assert f"GET /v1/imports/{JOB_ID}" in result.output


@responses.activate
def test_a_failed_import_says_why(signed_in: None, products_csv: Path) -> None:
    responses.post(
        f"{API}/v1/imports",
        status=202,
        json={"job": job("pending"), "upload": {"url": UPLOAD, "fields": {}}},
    )
    responses.post(UPLOAD, status=204)
    failed = job("failed", problem={"detail": "The file is not UTF-8."})
    responses.get(f"{API}/v1/imports/{JOB_ID}", json=failed)
    result = run("import", str(products_csv), "--wait")
    assert result.exit_code == 1
    assert "The file is not UTF-8." in result.output
