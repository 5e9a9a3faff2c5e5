"""Pydantic models of the imports API: the request, the job as shown, its upload form."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from catalog.core.types import WHOLE_NUMBER, Timestamp
from catalog.images.schemas import UploadForm

MiB = 1024 * 1024
MAX_IMPORT_BYTES = 100 * MiB
MAX_IMPORT_ROWS = 100_000

ImportFormat = Literal["csv", "jsonl"]
ImportMode = Literal["create", "upsert"]
ImportStatus = Literal["pending", "running", "done", "failed"]
# The media type the upload form pins, per format.
CONTENT_TYPES: dict[str, str] = {"csv": "text/csv", "jsonl": "application/x-ndjson"}


class ImportRequest(BaseModel):
    """Body of `POST /v1/imports`: the file about to be uploaded."""

    model_config = ConfigDict(extra="forbid")

    format: ImportFormat = Field(
        description="csv (a header row; `,` or `;`; UTF-8, BOM allowed; tags as a|b) or jsonl."
    )
    mode: ImportMode = Field(
        default="create",
        description="create: every row is a new product (an existing SKU is a failed row); "
        "upsert: a row whose SKU exists updates that product (yours, or any as an admin).",
    )
    content_length: Annotated[StrictInt, Field(ge=1, le=MAX_IMPORT_BYTES), WHOLE_NUMBER] = Field(
        description="The file's exact size in bytes (at most 100 MiB); the form takes no other."
    )


class ImportProblem(BaseModel):
    """Why a job failed as a whole: a problem as the API answers them (RFC 9457)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str


class ImportJob(BaseModel):
    """An import job: `pending` until its file arrives, `running`, then `done` or `failed`."""

    id: str
    owner: str = Field(description="The Cognito sub of the user who requested it.")
    format: ImportFormat
    mode: ImportMode
    content_length: int
    status: ImportStatus
    rows_total: int | None = Field(default=None, description="Known once the file is read.")
    rows_done: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = Field(default=0, description="upsert: rows equal to their product.")
    failed: int = Field(default=0, description="Rows not written; each is in the report.")
    created_at: Timestamp
    updated_at: Timestamp
    problem: ImportProblem | None = Field(
        default=None, description="failed only: why nothing was imported."
    )
    report_url: str | None = Field(
        default=None,
        description="done only: a presigned link (15 minutes) to the CSV of failed rows: "
        "row, sku, field, type, detail.",
    )


class ImportCreated(BaseModel):
    """Answer of `POST /v1/imports`: the job, and the form that uploads its file."""

    job: ImportJob
    upload: UploadForm = Field(
        description="POST `fields`, then the file as the last field `file`, to `url`."
    )
    expires_at: Timestamp = Field(description="S3 refuses the form after this moment.")


class ImportPage(BaseModel):
    """A page of import jobs, newest first."""

    items: list[ImportJob]
    next_cursor: str | None = None


def problem_model(problem: dict[str, Any] | None) -> ImportProblem | None:
    return None if problem is None else ImportProblem.model_validate(problem)
