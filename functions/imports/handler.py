"""Imports API: start an import of a CSV or JSON Lines file, follow its jobs.

A function of its own: it alone (with the worker) holds the imports bucket's rights, and
its S3 client is created on first use.
"""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit

from catalog.core.observability import metrics
from catalog.http.api import JSON, Api, Cursor
from catalog.http.responses import problems, returns
from catalog.imports.records import ImportRepository
from catalog.imports.schemas import ImportCreated, ImportJob, ImportPage, ImportRequest
from catalog.imports.service import ImportService
from catalog.imports.storage import ImportFiles

app = Api.of("imports", tags=["imports"])
service = ImportService(ImportRepository(), ImportFiles())


@app.operation(
    responses={
        **returns(201, ImportCreated, "The job, pending, and the form that uploads its file"),
        **problems(400, 401, 403, 413, 415, 422),
    },
)
def request_import(body: Annotated[ImportRequest, Body()]) -> Response[str]:
    """Import products from a file (editors and admins): up to 100,000 rows, 100 MiB.

    Answers a job and a presigned S3 form: POST its `fields` and then the file (the last
    field, `file`) as multipart/form-data to `upload.url` before `expires_at`. S3 takes
    only the declared type (`text/csv` or `application/x-ndjson`) and exactly
    `content_length` bytes. The job runs once the file is stored: follow it at
    `GET /v1/imports/{id}`. Each row is validated as `POST /v1/products` validates a body;
    rows that fail are listed in the job's report, the others are written.
    """
    created = service.request_import(body, app.signed_in())
    metrics.add_metric(name="ImportRequested", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=201,
        content_type=JSON,
        body=created.model_dump_json(),
        headers={"Location": app.location(f"/v1/imports/{created.job.id}")},
    )


@app.operation(
    responses={**returns(200, ImportPage, "A page of import jobs"), **problems(400, 401, 403, 422)},
)
def list_imports(
    limit: Annotated[int, Query(ge=1, le=100, description="Jobs per page")] = 20,
    cursor: Cursor = None,
) -> ImportPage:
    """Your import jobs, newest first (admins: everyone's)."""
    return service.list(app.signed_in(), limit, cursor)


@app.operation(responses={**returns(200, ImportJob, "The job"), **problems(401, 403, 404)})
def get_import(id: str) -> Response[str]:
    """One import job: status, counts, and once done a link to the report of failed rows."""
    job = service.get(id, app.signed_in())
    return Response(
        status_code=200,
        content_type=JSON,
        body=job.model_dump_json(),
        headers={"Cache-Control": "no-store"},
    )


lambda_handler = catalog.runtime.ready(app.handler())
