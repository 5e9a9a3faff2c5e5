"""The import worker's three steps (`ImportWorker`); functions/import_worker runs, per job:

1. `accept_upload`: S3 says the form stored `uploads/<job>`. The pending job becomes
   running; the upload is copied to `files/<job>` (if it is still the object S3 announced,
   so a form used again changes nothing), read once to refuse a bad file or cut it into
   chunks, and one queue message per chunk is sent.
2. `run_chunk`: a chunk's rows are read again by byte range, each validated as
   `POST /v1/products` validates a body (`ProductCreate`, then the service's rules: SKU
   uniqueness, the category exists, ownership in upsert), and written in transactions
   through the products repository, so the table's stream publishes their change events
   as for any write. Its failed rows go to a report part; the chunk record and its counts
   are one transaction. A chunk run again (redelivery after a crash) writes each product
   once: a created product's id is derived from the job and the row, so a second create
   of it finds its own SKU guard and counts as created.
3. `finish_if_complete`: once every chunk is recorded, the parts become the report and
   the job is done.

A chunk's rows are written by `writing.py`, which also words the report; a file is read by
`reading.py`, `rows.py` and `chunks.py`. No HTTP and no boto here: the bucket, the queue
and the stores are ports (`ports.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from catalog.core.errors import (
    BadRequest,
    CatalogError,
    Conflict,
    DuplicateSku,
    InternalError,
    ValidationFailed,
)
from catalog.core.types import iso_millis, now_millis
from catalog.imports.chunks import chunk_message, message_layout, plan
from catalog.imports.ports import JOB_ID, Files, Queue, Store
from catalog.imports.reading import FileRefused, records
from catalog.imports.records import ImportJobItem, ImportRepository
from catalog.imports.rows import Row, RowProblem, read_row
from catalog.imports.schemas import MAX_IMPORT_ROWS
from catalog.imports.storage import file_key, job_of_upload, part_key, report_key, upload_key
from catalog.imports.writing import ChunkWriter, report_csv, row_problem, validation_problems
from catalog.products.columns import ID_COLUMN
from catalog.products.schemas import ProductCreate
from catalog.products.service import ProductService

CHUNK_ROWS = 500  # rows per chunk message: a chunk takes seconds, far within the timeout
# Deliveries of a message of the import queues before it goes to the dead-letter queue (the
# queues' max_receives); on the last, a chunk that still fails is given up (give_up_chunk).
CHUNK_ATTEMPTS = 5


def _problem_json(problem: CatalogError) -> str:
    return json.dumps(problem.to_problem(), separators=(",", ":"))


class ImportWorker:
    """The worker's side: accept an upload, run a chunk, finish the job."""

    def __init__(
        self,
        repository: ImportRepository,
        products: ProductService,
        store: Store,
        files: Files,
        queue: Queue,
        clock: Callable[[], datetime] = now_millis,
    ) -> None:
        self._repository = repository
        self._writer = ChunkWriter(products, store, clock)
        self._files = files
        self._queue = queue
        self._clock = clock

    # --- 1. the upload ------------------------------------------------------------------

    def accept_upload(self, key: str, etag: str, size: int) -> str:
        """Start the job whose form stored `key`; what happened, for the log."""
        job_id = job_of_upload(key)
        job = self._repository.find(job_id) if job_id and JOB_ID.match(job_id) else None
        if job_id is None or job is None:
            self._files.delete([key])
            return "no such job"
        if job.status == "pending":
            if size != job.content_length:  # S3 enforces the form's range; never trust it alone
                detail = f"The file has {size} bytes; {int(job.content_length)} were declared."
                self.fail(job_id, BadRequest(detail), was="pending")
                return "size differs"
            self._repository.transition(
                job_id,
                "running",
                when=ImportJobItem.status == "pending",
                now=self._clock(),
                started_at=iso_millis(self._clock()),
                file_etag=etag,
            )
            job = self._repository.get(job_id)
        if job.status != "running" or job.file_etag != etag or job.chunks_total is not None:
            return "already started"  # a form used again, or this event delivered again
        self._split(job)
        return "split"

    def _split(self, job: ImportJobItem) -> None:
        job_id = job.id
        if not self._files.copy(upload_key(job_id), file_key(job_id), if_match=job.file_etag or ""):
            self.fail(job_id, Conflict("The upload was replaced or removed while it was read."))
            return
        try:
            with self._files.stream(file_key(job_id)) as body:
                cut = plan(body.read, job.format, chunk_rows=CHUNK_ROWS, max_rows=MAX_IMPORT_ROWS)
        except FileRefused as refusal:
            self.fail(job_id, refusal.problem)
            return
        layout = (
            None
            if cut.layout is None
            else {"delimiter": cut.layout.delimiter, "columns": list(cut.layout.columns)}
        )
        self._queue.send([chunk_message(job_id, chunk, layout) for chunk in cut.chunks])
        self._repository.set_plan(job_id, cut.rows_total, len(cut.chunks), self._clock())
        self._files.delete([upload_key(job_id)])

    def fail(self, job_id: str, problem: CatalogError, was: str = "running") -> None:
        """End a job that is still `was` (running, or pending) as failed: nothing of it
        was written."""
        self._repository.transition(
            job_id,
            "failed",
            when=ImportJobItem.status == was,
            now=self._clock(),
            problem=_problem_json(problem),
        )

    # --- 2. a chunk ---------------------------------------------------------------------

    def run_chunk(self, message: dict[str, Any]) -> str:
        """Write one chunk's good rows and report its bad ones, once; what happened."""
        job_id, first, last = message["job"], int(message["first"]), int(message["last"])
        job, settled = self._chunk_to_run(job_id, first)
        if job is None:
            return settled
        duplicates = {int(k): int(v) for k, v in message.get("duplicates", {}).items()}
        problems: list[RowProblem] = []
        valid: list[tuple[int, str, ProductCreate, str | None]] = []
        with self._chunk_rows(message) as rows:
            for row in rows:
                if row.values is None:
                    problems += row.problems
                elif row.number in duplicates:
                    earlier = duplicates[row.number]
                    problems.append(
                        row_problem(
                            row.number,
                            row.sku,
                            "sku",
                            DuplicateSku(
                                f"Row {earlier} of the file has the SKU {row.sku} already."
                            ),
                        )
                    )
                else:
                    values = dict(row.values)
                    given_id = values.pop(ID_COLUMN, None)
                    try:
                        data = ProductCreate.model_validate(values)
                    except ValidationError as error:
                        problems += validation_problems(row.number, row.sku, error)
                        continue
                    if given_id is not None and not isinstance(given_id, str):
                        problems.append(
                            row_problem(
                                row.number,
                                row.sku,
                                ID_COLUMN,
                                ValidationFailed("The id must be a string.", errors=[]),
                            )
                        )
                        continue
                    valid.append((row.number, row.sku, data, given_id))
        outcomes, write_problems = self._writer.write(job, valid)
        problems += write_problems
        counts = {
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "failed": len({p.row for p in problems}),
        }
        for outcome in outcomes.values():
            counts[outcome] += 1
        self._record(job_id, first, last, counts, problems)
        return "chunk written"

    def give_up_chunk(self, message: dict[str, Any]) -> str:
        """After the chunk failed on its last delivery: every row of it is reported as not
        imported and the chunk recorded, so the job still ends and no row is lost silently.
        Some of its rows may have been written by an attempt: the detail says to import the
        file again with mode upsert, which finishes them."""
        job_id, first, last = message["job"], int(message["first"]), int(message["last"])
        job, settled = self._chunk_to_run(job_id, first)
        if job is None:
            return settled
        lost = InternalError(
            f"Rows {first} to {last} could not be imported after {CHUNK_ATTEMPTS} attempts "
            "(the failure is logged). Some may be in the catalog: import the file again "
            "with mode upsert to finish them."
        )
        problems = [row_problem(n, sku, "", lost) for n, sku in self._rows_of(message)]
        counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": len(problems)}
        self._record(job_id, first, last, counts, problems)
        return "chunk given up"

    def _chunk_to_run(self, job_id: str, first: int) -> tuple[ImportJobItem | None, str]:
        """The running job, if its chunk at row `first` is still to run; else None and why
        (a chunk recorded already may have been the last: the job is finished if so)."""
        job = self._repository.find(job_id)
        if job is None or job.status != "running":
            return None, "job not running"
        if self._repository.chunk_done(job_id, first):
            self.finish_if_complete(job_id)
            return None, "chunk done already"
        return job, ""

    def _record(
        self,
        job_id: str,
        first: int,
        last: int,
        counts: dict[str, int],
        problems: list[RowProblem],
    ) -> None:
        """The chunk's report part (if any row failed) and its record; the job finished
        if it was the last."""
        part = None
        if problems:
            part = part_key(job_id, first)
            self._files.put_text(part, report_csv(problems, header=False))
        self._repository.record_chunk(job_id, first, last, counts, part, self._clock())
        self.finish_if_complete(job_id)

    def _rows_of(self, message: dict[str, Any]) -> list[tuple[int, str]]:
        """(row number, SKU) of each row of the chunk, as run_chunk reads them; every number
        of its range, without SKUs, if the file cannot be read."""
        first, last = int(message["first"]), int(message["last"])
        try:
            with self._chunk_rows(message) as rows:
                return [(row.number, row.sku) for row in rows]
        except Exception:  # the rows are reported either way
            return [(n, "") for n in range(first, last + 1)]

    @contextmanager
    def _chunk_rows(self, message: dict[str, Any]) -> Iterator[Iterator[Row]]:
        """The chunk's rows (blank lines skipped), read from its byte range of the file."""
        layout = message_layout(message)
        with self._files.stream(file_key(message["job"]), message["start"], message["end"]) as body:
            yield (
                read_row(record, layout)
                for record in records(
                    body.read,
                    quoted=layout is not None,
                    start=message["start"],
                    first_number=int(message["first"]),
                )
                if not record.blank
            )

    # --- 3. the end ---------------------------------------------------------------------

    def finish_if_complete(self, job_id: str) -> bool:
        """Once every chunk is recorded: write the report and mark the job done."""
        job = self._repository.get(job_id)
        if job.status != "running" or job.chunks_total is None:
            return False
        if int(job.chunks_done) < int(job.chunks_total):
            return False
        parts = [c.report_key for c in self._repository.chunks(job_id) if c.report_key]
        text = report_csv([], header=True) + "".join(self._files.read_text(k) for k in parts)
        key = report_key(job_id)
        self._files.put_text(key, text)
        return self._repository.transition(
            job_id,
            "done",
            when=ImportJobItem.status == "running",
            now=self._clock(),
            report_key=key,
        )
