"""Export rules: who may export what, the job's life, and the worker's run. No HTTP, no boto.

A job is `pending` until a worker takes it, `running` while it writes, then `done` (the
file is complete in S3) or `failed` (no file). The worker reads the products through the
listing `GET /v1/products` serves (same filters, same order, same checks), page by page,
and streams them into a multipart upload; after each uploaded part it records where the
part ends, so a worker that stops (a crash, a timeout, a planned hand-over when its time
runs short) is resumed there by the next delivery of the job's message. The last part's
checkpoint (no position after it) says the file is whole: a worker that stopped after it
completes the upload (again) and records the job done.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal, Protocol

from catalog.core.cursor import page_cursor, position_after
from catalog.core.errors import Conflict, Forbidden, NotFound
from catalog.core.types import now_millis
from catalog.exports.repository import Checkpoint, Job
from catalog.exports.schemas import (
    MEDIA_TYPES,
    ExportFilters,
    ExportJob,
    ExportPage,
    ExportRequest,
)
from catalog.exports.storage import ExportFiles, export_key
from catalog.exports.writer import PART_SIZE, PartWriter, encode, header
from catalog.identity.principal import Principal
from catalog.products.schemas import PRODUCT_ID_PATTERN
from catalog.products.service import ProductStore, check_query, listing_plan

RETENTION_DAYS = 7  # job records and files (the bucket's lifecycle rule says the same)
LINK_EXPIRES_S = 15 * 60  # a download link; GET the job again for a fresh one
# Products per listing read: a designed listing reads one more, about 600 KB of products,
# within one DynamoDB Query page (1 MB); a filtered one examines at most MAX_EXAMINED.
PAGE_SIZE = 1000
PROGRESS_EVERY_S = 1.0  # at most one progress write per second
# A worker hands the job over (a new message) when less time than this is left, so that
# a part being read and uploaded never meets the function's timeout.
HAND_OVER_S = 60.0
# Deliveries of a job's message before it is given up (the queue's max_receives), the n-th
# retry RETRY_AFTER_S * n seconds after a failure.
MAX_ATTEMPTS = 3
RETRY_AFTER_S = 60
FAILED_DETAIL = "The export could not be written; start a new one."
_ID = re.compile(PRODUCT_ID_PATTERN)  # job ids are ULIDs too

Outcome = Literal["done", "handed-over", "skipped"]


class JobStore(Protocol):
    """The persistence port of jobs (catalog.exports.repository; a fake in tests)."""

    def create(self, job: Job) -> None: ...
    def get(self, export_id: str) -> Job: ...
    def delete(self, export_id: str) -> None: ...
    def list_page(
        self, owner: str | None, after: str | None, limit: int
    ) -> tuple[list[Job], str | None]: ...
    def begin(self, job_id: str, upload_id: str, now: datetime) -> None: ...
    def progress(self, job_id: str, rows: int, now: datetime) -> None: ...
    def checkpoint(self, job_id: str, checkpoint: Checkpoint, now: datetime) -> None: ...
    def finish(self, job_id: str, rows: int, size: int, now: datetime) -> None: ...
    def fail(self, job_id: str, error: str, now: datetime) -> None: ...


class JobQueue(Protocol):
    def send(self, job_id: str) -> None: ...


class FileStore(Protocol):
    def start(self, key: str, content_type: str) -> str: ...
    def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> str: ...
    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None: ...
    def abort(self, key: str, upload_id: str) -> None: ...
    def presigned_get(self, key: str, expires_s: int, filename: str) -> str: ...


@dataclasses.dataclass
class _Sink:
    files: FileStore
    key: str
    upload_id: str

    def upload_part(self, number: int, data: bytes) -> str:
        return self.files.upload_part(self.key, self.upload_id, number, data)


class ExportService:
    def __init__(
        self,
        jobs: JobStore,
        products: ProductStore,
        files: FileStore | None = None,
        queue: JobQueue | None = None,
        clock: Callable[[], datetime] = now_millis,
        part_size: int = PART_SIZE,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._jobs = jobs
        self._products = products
        self._files: FileStore = files or ExportFiles()
        self._queue = queue
        self._clock = clock
        self._part_size = part_size
        self._page_size = page_size

    # --- the API ----------------------------------------------------------------------

    def start(self, request: ExportRequest, by: Principal) -> ExportJob:
        """A new job for `request`: admins export any products, editors their own."""
        from ulid import ULID

        check_query(request.query(), in_body=True)
        now = self._clock()
        filters = ExportFilters.model_validate(request.model_dump(mode="json", exclude={"format"}))
        job = Job(
            id=str(ULID.from_datetime(now)),
            owner=by.sub,
            own_only=not by.is_admin,
            format=request.format,
            filters=filters.model_dump(mode="json"),
            status="pending",
            created_at=now,
            updated_at=now,
            expires_at=int((now + timedelta(days=RETENTION_DAYS)).timestamp()),
        )
        self._jobs.create(job)
        try:
            assert self._queue is not None, "starting exports needs the queue"
            self._queue.send(job.id)
        except BaseException:
            self._jobs.delete(job.id)  # a job nobody will run is not left behind
            raise
        return self._view(job)

    def get(self, export_id: str, by: Principal) -> ExportJob:
        """A job, to the user who started it and to admins (403 for anyone else)."""
        if not _ID.match(export_id):
            raise NotFound(f"{export_id!r} is not an export id.")
        job = self._jobs.get(export_id)
        if job.owner != by.sub and not by.is_admin:
            raise Forbidden("Only the user who started an export, or an admin, may read it.")
        return self._view(job)

    def list(self, by: Principal, limit: int = 20, cursor: str | None = None) -> ExportPage:
        """The caller's jobs (an admin's: everyone's), newest first."""
        listing = "exports|all" if by.is_admin else f"exports|owner={by.sub}"
        after = position_after(cursor, listing)
        if after is not None and not _ID.match(after):
            raise NotFound("No such page.")  # a cursor we signed always holds an id
        jobs, next_after = self._jobs.list_page(None if by.is_admin else by.sub, after, limit)
        return ExportPage(
            items=[self._view(job) for job in jobs],
            next_cursor=page_cursor(listing, next_after) if next_after else None,
        )

    def _view(self, job: Job) -> ExportJob:
        link = expires = None
        if job.status == "done":
            link = self._files.presigned_get(
                export_key(job.id, job.format),
                LINK_EXPIRES_S,
                filename=f"products-{job.id}.{job.format}",
            )
            expires = self._clock() + timedelta(seconds=LINK_EXPIRES_S)
        return ExportJob(
            id=job.id,
            status=job.status,  # type: ignore[arg-type]
            format=job.format,  # type: ignore[arg-type]
            filters=ExportFilters.model_validate(job.filters),
            owner=job.owner,
            own_products_only=job.own_only,
            rows=job.rows,
            size=job.size,
            created_at=job.created_at,
            updated_at=job.updated_at,
            download_url=link,
            download_expires_at=expires,
            error=FAILED_DETAIL if job.status == "failed" else None,
        )

    # --- the worker -------------------------------------------------------------------

    def run(self, job_id: str, time_left: Callable[[], float] = lambda: float("inf")) -> Outcome:
        """Write the job's file, from its last checkpoint on; `time_left` in seconds.

        `handed-over`: it stopped at a checkpoint with little time left (the caller sends
        the job's message again); `skipped`: nothing to do (unknown, done or failed).
        """
        try:
            job = self._jobs.get(job_id)
        except NotFound:
            return "skipped"
        if job.status in ("done", "failed"):
            return "skipped"  # a message delivered again after its job ended
        key = export_key(job.id, job.format)
        if job.checkpoint is None:
            upload_id = self._files.start(key, MEDIA_TYPES[job.format])
            try:
                self._jobs.begin(job.id, upload_id, self._clock())
            except Conflict:
                self._files.abort(key, upload_id)  # another delivery began it meanwhile
                raise
            checkpoint = Checkpoint(upload_id=upload_id)
        else:
            checkpoint = job.checkpoint
            if checkpoint.parts and checkpoint.after is None:
                return self._complete(job.id, key, checkpoint)  # every part was uploaded
        sink = _Sink(self._files, key, checkpoint.upload_id)
        writer = PartWriter(sink, checkpoint.parts, self._part_size)
        if not checkpoint.parts:
            writer.write(header(job.format))
        filters = ExportFilters.model_validate(job.filters)
        plan = dataclasses.replace(
            listing_plan(filters.query(), owner=job.owner if job.own_only else None),
            limit=self._page_size,
        )
        after, rows = checkpoint.after, checkpoint.rows
        reported = time.monotonic()
        while True:
            products, after = self._products.list_page(dataclasses.replace(plan, after=after))
            writer.write(encode(job.format, products))
            rows += len(products)
            if after is None:
                break
            if writer.full:
                writer.flush()
                checkpoint = Checkpoint(
                    checkpoint.upload_id,
                    list(writer.parts),
                    after,
                    rows,
                    checkpoint.size + writer.uploaded_bytes,
                )
                self._jobs.checkpoint(job.id, checkpoint, self._clock())
                writer = PartWriter(sink, checkpoint.parts, self._part_size)
                if time_left() < HAND_OVER_S:
                    return "handed-over"
            elif time.monotonic() - reported >= PROGRESS_EVERY_S:
                self._jobs.progress(job.id, rows, self._clock())
                reported = time.monotonic()
        writer.flush()
        size = checkpoint.size + writer.uploaded_bytes
        last = Checkpoint(checkpoint.upload_id, list(writer.parts), None, rows, size)
        self._jobs.checkpoint(job.id, last, self._clock())
        return self._complete(job.id, key, last)

    def _complete(self, job_id: str, key: str, last: Checkpoint) -> Outcome:
        """Make the file of its uploaded parts (again, if a worker stopped after that) and
        record the job done."""
        self._files.complete(key, last.upload_id, last.parts)
        self._jobs.finish(job_id, last.rows, last.size, self._clock())
        return "done"

    def give_up(self, job_id: str) -> None:
        """Mark the job failed (its retries are used up) and drop its unfinished file."""
        try:
            job = self._jobs.get(job_id)
        except NotFound:
            return
        if job.status in ("done", "failed"):
            return
        self._jobs.fail(job.id, FAILED_DETAIL, self._clock())
        if job.checkpoint is not None:
            self._files.abort(export_key(job.id, job.format), job.checkpoint.upload_id)
