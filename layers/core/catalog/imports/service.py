"""Import rules of the API's side: handing out upload forms, reading jobs (`ImportService`).

A job's file is accepted, cut into chunks, run and reported by the worker (`worker.py`).
No HTTP and no boto here: the bucket is a port (`ports.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ulid import ULID

from catalog.core.cursor import page_cursor, position_after
from catalog.core.errors import BadRequest, NotFound
from catalog.core.types import iso_millis, now_millis
from catalog.identity.principal import Principal
from catalog.images.service import UPLOAD_FORM_TTL
from catalog.imports.ports import JOB_ID, Files
from catalog.imports.records import (
    JOB_SK,
    ImportJobItem,
    ImportRepository,
    job_key,
    owner_partition,
    to_job,
)
from catalog.imports.schemas import (
    CONTENT_TYPES,
    ImportCreated,
    ImportJob,
    ImportPage,
    ImportRequest,
)
from catalog.imports.storage import upload_key

REPORT_LINK_TTL_S = 15 * 60
# A pending job whose form expired this long ago will never get its file.
ABANDONED_AFTER = timedelta(minutes=15)


class ImportService:
    """The API's side: request an import, read one job, list jobs."""

    def __init__(
        self, repository: ImportRepository, files: Files, clock: Callable[[], datetime] = now_millis
    ) -> None:
        self._repository = repository
        self._files = files
        self._clock = clock

    def request_import(self, request: ImportRequest, by: Principal) -> ImportCreated:
        """A pending job and the presigned form that uploads its file: of the declared
        media type and exactly `content_length` bytes, for 5 minutes."""
        now = self._clock()
        job_id = str(ULID.from_datetime(now))
        expires_at = now + UPLOAD_FORM_TTL
        item = ImportJobItem(
            pk=job_key(job_id),
            sk=JOB_SK,
            gsi1pk=owner_partition(by.sub),
            gsi1sk=job_id,
            gsi2sk=job_id,
            id=job_id,
            owner=by.sub,
            owner_role=by.role,
            format=request.format,
            mode=request.mode,
            content_length=request.content_length,
            status="pending",
            created_at=iso_millis(now),
            updated_at=iso_millis(now),
            upload_expires_at=iso_millis(expires_at),
        )
        self._repository.create(item)
        form = self._files.presigned_post(
            upload_key(job_id),
            CONTENT_TYPES[request.format],
            request.content_length,
            int(UPLOAD_FORM_TTL.total_seconds()),
            min_bytes=request.content_length,
        )
        return ImportCreated(job=self._shown(item), upload=form, expires_at=expires_at)

    def get(self, job_id: str, by: Principal) -> ImportJob:
        """A job of the caller's (any job, for an admin); others do not exist for them."""
        item = self._repository.find(job_id) if JOB_ID.match(job_id) else None
        if item is None or not (by.is_admin or item.owner == by.sub):
            raise NotFound(f"No import job has the id {job_id}.")
        return self._shown(item)

    def list(self, by: Principal, limit: int, cursor: str | None) -> ImportPage:
        """The caller's jobs (an admin: everyone's), newest first."""
        listing = "imports:*" if by.is_admin else f"imports:{by.sub}"
        after = position_after(cursor, listing)
        items, last = self._repository.page(None if by.is_admin else by.sub, limit, after)
        return ImportPage(
            items=[self._shown(i) for i in items],
            next_cursor=page_cursor(listing, last) if last else None,
        )

    def _shown(self, item: ImportJobItem) -> ImportJob:
        job = to_job(item)
        if job.status == "done" and item.report_key:
            url = self._files.presigned_get(
                item.report_key, REPORT_LINK_TTL_S, f"import-{item.id}-report.csv"
            )
            return job.model_copy(update={"report_url": url})
        expired = datetime.fromisoformat(item.upload_expires_at) + ABANDONED_AFTER
        if job.status == "pending" and self._clock() > expired:
            # Shown as it is: no file came through the form, and none can come any more.
            problem = BadRequest("The file was not uploaded before the upload form expired.")
            return job.model_copy(update={"status": "failed", "problem": problem.to_problem()})
        return job
