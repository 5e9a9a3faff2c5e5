"""`export` and `import`, and `exports` / `imports` (`list`, `show`): the background jobs
of the API, followed with a progress bar.

A job runs on the server: Ctrl-C stops the watching, never the job, and says how to look
at it again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import requests
import typer
from rich.console import Console
from rich.table import Column, Table

from cli.client import Api, Client
from cli.errors import Refused, fail, one_line_errors
from cli.products import (
    Category,
    InStock,
    MaxPrice,
    MinPrice,
    Search,
    Sort,
    Status,
    TagMode,
    Tags,
    filters,
)
from cli.progress import progress_bar

# soft_wrap: a command to copy is never cut across lines, whatever the terminal width
console = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)
exports_app = typer.Typer(help="Export jobs: list them, show one (and fetch its file).")
imports_app = typer.Typer(help="Import jobs: list them, show one.")
FINISHED = ("done", "failed")
INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C


def poll_interval() -> float:
    return float(os.environ.get("CATALOG_POLL_S", "1"))


def follow(
    client: Client,
    path: str,
    label: str,
    counts: Callable[[dict[str, Any]], tuple[int, int | None]],
    look_again: str,
) -> dict[str, Any]:
    """Poll the job at `path` until it is done or failed, showing `counts` (done, total)
    as a progress bar; on Ctrl-C, leave it running and say how to look at it again."""
    job: dict[str, Any] = client.call("GET", path)
    try:
        with progress_bar(stderr, "rows") as progress:
            done, total = counts(job)
            task = progress.add_task(label, total=total, completed=done)
            while job["status"] not in FINISHED:
                time.sleep(poll_interval())
                job = client.call("GET", path)
                done, total = counts(job)
                progress.update(task, completed=done, total=total, description=label)
            if job["status"] == "done":
                progress.update(task, completed=done, total=done if total is None else total)
    except KeyboardInterrupt:
        stderr.print(
            f"stopped watching; the job {job['id']} goes on on the server. "
            f"Look at it with `{look_again}` (GET {path})."
        )
        raise typer.Exit(INTERRUPTED) from None
    return job


# --- export -------------------------------------------------------------------------------


def export(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The file to write (replaced when done).")
    ],
    file_format: Annotated[
        str | None,
        typer.Option("--format", help="csv or jsonl; default from the file's suffix, else csv."),
    ] = None,
    status: Status = "active",
    category: Category = None,
    sort: Sort = None,
    min_price: MinPrice = None,
    max_price: MaxPrice = None,
    tag: Tags = None,
    tag_mode: TagMode = "any",
    in_stock: InStock = False,
    q: Search = None,
    api: Api = None,
) -> None:
    """Export products to a file (admins: any; editors: their own), with GET /v1/products'
    filters; the server writes it, this shows its progress and fetches it."""
    with one_line_errors():
        chosen = file_format or ("jsonl" if output.suffix in (".jsonl", ".ndjson") else "csv")
        body = filters(status, category, sort, min_price, max_price, tag, tag_mode, in_stock, q)
        body["format"] = chosen
        client = Client.of(api)
        job = client.call("POST", "/v1/exports", json=body, ok=(202,))
        console.print(f"export {job['id']} started")
        job = follow(
            client,
            f"/v1/exports/{job['id']}",
            "exporting",
            lambda j: (int(j["rows"]), None),
            f"catalog exports show {job['id']} -o {output}",
        )
        _finish_export(client, job, output)


def _finish_export(client: Client, job: dict[str, Any], output: Path | None) -> None:
    if job["status"] == "failed":
        raise Refused(f"the export {job['id']} failed: {job.get('error') or 'no reason given'}")
    if output is None:
        return
    if job["status"] != "done":
        raise Refused(f"the export {job['id']} is {job['status']}: try again later")
    size = client.download(job["download_url"], output)
    console.print(f"{job['rows']} products, {size} bytes written to {output}")


@exports_app.command("show")
def show_export(
    export_id: Annotated[str, typer.Argument(metavar="ID")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Fetch the file here once done.")
    ] = None,
    api: Api = None,
) -> None:
    """An export job; with -o, its file once it is done."""
    with one_line_errors():
        client = Client.of(api)
        job = client.call("GET", f"/v1/exports/{export_id}")
        shown = {k: v for k, v in job.items() if k not in ("download_url",)}
        console.print_json(json.dumps(shown))
        _finish_export(client, job, output)


def _jobs_table(page: dict[str, Any], columns: tuple[str, ...]) -> None:
    # the id whole, whatever the terminal's width: it is what a user copies
    table = Table(
        *(Column(c, no_wrap=True, min_width=26) if c == "id" else Column(c) for c in columns)
    )
    for job in page["items"]:
        table.add_row(*(str(job.get(column, "")) for column in columns))
    console.print(table)
    if page.get("next_cursor"):
        console.print(f"next page: --cursor {page['next_cursor']}")


Cursor = Annotated[str | None, typer.Option(help="A page's next cursor.")]


@exports_app.command("list")
def list_exports(cursor: Cursor = None, api: Api = None) -> None:
    """Your export jobs, newest first (admins: everyone's)."""
    with one_line_errors():
        params = {"cursor": cursor} if cursor else {}
        page = Client.of(api).call("GET", "/v1/exports", params=params)
        _jobs_table(page, ("id", "status", "format", "rows", "created_at"))


# --- import -------------------------------------------------------------------------------

IMPORT_COUNTS = ("rows_total", "rows_done", "created", "updated", "unchanged", "failed")


def _import_counts(job: dict[str, Any]) -> tuple[int, int | None]:
    total = job.get("rows_total")
    return int(job.get("rows_done") or 0), None if total is None else int(total)


def import_file(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or JSON Lines.")
    ],
    mode: Annotated[
        str,
        typer.Option(
            help="create (new products only) or upsert (a row's SKU updates its product)."
        ),
    ] = "create",
    file_format: Annotated[
        str | None,
        typer.Option("--format", help="csv or jsonl; default from the file's suffix, else csv."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the job until it ends.")] = False,
    api: Api = None,
) -> None:
    """Import products from a file: uploaded to the server, which checks and writes each
    row as POST /v1/products would and reports the rows it refused."""
    with one_line_errors():
        chosen = file_format or ("jsonl" if file.suffix in (".jsonl", ".ndjson") else "csv")
        size = file.stat().st_size
        client = Client.of(api)
        created = client.call(
            "POST",
            "/v1/imports",
            json={"format": chosen, "mode": mode, "content_length": size},
            ok=(201, 202),
        )
        job = created["job"]
        _upload(created["upload"], file)
        console.print(f"import {job['id']} started ({size} bytes uploaded)")
        if not wait:
            console.print(f"follow it with `catalog imports show {job['id']}`")
            return
        job = follow(
            client,
            f"/v1/imports/{job['id']}",
            "importing",
            _import_counts,
            f"catalog imports show {job['id']}",
        )
        _import_summary(job)


def _upload(form: dict[str, Any], file: Path) -> None:
    """POST the file with the presigned form (its fields first, the file last)."""
    with file.open("rb") as content:
        try:
            response = requests.post(
                form["url"],
                data=form["fields"],
                files={"file": (file.name, content)},
                timeout=300,
            )
        except requests.ConnectionError:
            raise Refused("the upload's URL could not be reached") from None
    if response.status_code not in (200, 201, 204):
        raise Refused(f"the upload was refused (HTTP {response.status_code})")


def _import_summary(job: dict[str, Any]) -> None:
    counts = ", ".join(f"{name} {job.get(name)}" for name in IMPORT_COUNTS if name in job)
    console.print(f"import {job['id']} {job['status']}: {counts}")
    if job.get("report_url"):
        console.print(
            f"refused rows: `catalog imports show {job['id']} --report FILE` fetches the report"
        )
    if job["status"] == "failed":
        problem = job.get("problem") or {}
        fail(f"the import {job['id']} failed: {problem.get('detail') or 'no reason given'}")


@imports_app.command("show")
def show_import(
    import_id: Annotated[str, typer.Argument(metavar="ID")],
    report: Annotated[
        Path | None, typer.Option("--report", help="Fetch its report here, once done.")
    ] = None,
    api: Api = None,
) -> None:
    """An import job (and, with --report, its report of refused rows)."""
    with one_line_errors():
        client = Client.of(api)
        job = client.call("GET", f"/v1/imports/{import_id}")
        console.print_json(json.dumps({k: v for k, v in job.items() if k != "report_url"}))
        if report is not None:
            if not job.get("report_url"):
                raise Refused(f"the import {import_id} has no report yet ({job['status']})")
            client.download(job["report_url"], report)
            console.print(f"report written to {report}")


@imports_app.command("list")
def list_imports(cursor: Cursor = None, api: Api = None) -> None:
    """Your import jobs, newest first (admins: everyone's)."""
    with one_line_errors():
        params = {"cursor": cursor} if cursor else {}
        page = Client.of(api).call("GET", "/v1/imports", params=params)
        _jobs_table(page, ("id", "status", *IMPORT_COUNTS, "created_at"))
