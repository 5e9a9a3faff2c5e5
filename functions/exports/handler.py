"""Exports API: start an export job, follow it, list them, under /v1/exports.

The job runs in the export worker (the exports queue); this function only records it and
sends its message. It reads the exports bucket to sign download links, never writes it.
"""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit

from catalog.core.observability import metrics
from catalog.exports.queue import ExportQueue
from catalog.exports.repository import ExportRepository
from catalog.exports.schemas import ExportJob, ExportPage, ExportRequest
from catalog.exports.service import ExportService
from catalog.http.api import JSON, Api, Cursor
from catalog.http.responses import problems, returns
from catalog.products.repository import ProductRepository

app = Api.of("exports", tags=["exports"])
service = ExportService(ExportRepository(), ProductRepository(), queue=ExportQueue())
NO_STORE = {"Cache-Control": "no-store"}  # answers may hold presigned links


@app.operation(
    responses={
        **returns(202, ExportJob, "The job, pending: follow it at Location"),
        **problems(400, 401, 403, 415, 422),
    },
)
def start_export(body: Annotated[ExportRequest, Body()]) -> Response[str]:
    """Export products to a file (CSV or JSON Lines), in the background.

    Takes the filters and order of `GET /v1/products` (`tags` for its repeated `tag`);
    admins export every product they match, editors only their own (of any status). The
    file holds `id` and the fields `POST /v1/products` takes, so importing it again with
    `mode: upsert` changes nothing; in CSV, `tags` are joined by `|` and text a
    spreadsheet would run as a formula starts with `'`. Follow the job at `Location`:
    once `done`, its `download_url` fetches the file.
    """
    job = service.start(body, app.signed_in())
    metrics.add_metric(name="ExportStarted", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=202,
        content_type=JSON,
        body=job.model_dump_json(),
        headers={"Location": app.location(f"/v1/exports/{job.id}"), **NO_STORE},
    )


@app.operation(
    responses={**returns(200, ExportPage, "A page of export jobs"), **problems(400, 401, 403, 422)}
)
def list_exports(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size")] = 20,
    cursor: Cursor = None,
) -> Response[str]:
    """The caller's export jobs, newest first (admins: everyone's)."""
    page = service.list(app.signed_in(), limit, cursor)
    return Response(
        status_code=200, content_type=JSON, body=page.model_dump_json(), headers=NO_STORE
    )


@app.operation(responses={**returns(200, ExportJob, "The job"), **problems(401, 403, 404)})
def get_export(id: str) -> Response[str]:
    """An export job: its status and rows written; once done, a download link (15 minutes;
    read the job again for a fresh one). Its owner's, or any for admins."""
    job = service.get(id, app.signed_in())
    return Response(
        status_code=200, content_type=JSON, body=job.model_dump_json(), headers=NO_STORE
    )


lambda_handler = catalog.runtime.ready(app.handler())
