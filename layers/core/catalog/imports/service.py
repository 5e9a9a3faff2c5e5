"""Import rules: handing out upload forms, reading jobs, and the worker's three steps.

The worker (functions/import_worker) runs, for each job:

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

No HTTP and no boto here: the bucket, the queue and the stores are ports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import ValidationError
from ulid import ULID

from catalog.core.cursor import page_cursor, position_after
from catalog.core.errors import (
    PROBLEM_TYPE_PREFIX,
    BadRequest,
    CatalogError,
    Conflict,
    DuplicateSku,
    Forbidden,
    InternalError,
    NotFound,
    ValidationFailed,
)
from catalog.core.types import iso_millis
from catalog.identity.principal import Principal
from catalog.images.schemas import UploadForm
from catalog.images.service import UPLOAD_FORM_TTL
from catalog.imports.parsing import (
    Chunk,
    CsvLayout,
    FileRefused,
    Row,
    RowProblem,
    known_columns,
    plan,
    read_row,
    records,
)
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
    MAX_IMPORT_ROWS,
    ImportCreated,
    ImportJob,
    ImportPage,
    ImportRequest,
)
from catalog.imports.storage import file_key, job_of_upload, part_key, report_key, upload_key
from catalog.products.columns import ID_COLUMN, neutralize
from catalog.products.items import SCHEMA_VERSION, copy_keys, layout_of, sku_key
from catalog.products.repository import Change, TooManyItems
from catalog.products.schemas import Product, ProductCreate, ProductPatch
from catalog.products.service import ProductService

CHUNK_ROWS = 500  # rows per chunk message: a chunk takes seconds, far within the timeout
# Deliveries of a message of the import queues before it goes to the dead-letter queue (the
# queues' max_receives); on the last, a chunk that still fails is given up (give_up_chunk).
CHUNK_ATTEMPTS = 5
# Products per transaction: as many as fit DynamoDB's 100 items (a product is its item, its
# SKU guard and a copy per tag and word; a change also deletes what it no longer has).
MAX_WRITE_ITEMS = 100
MAX_WRITE_GROUP = 25
REPORT_LINK_TTL_S = 15 * 60
REPORT_COLUMNS = ("row", "sku", "field", "type", "detail")
# A pending job whose form expired this long ago will never get its file.
ABANDONED_AFTER = timedelta(minutes=15)
_JOB_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")

Outcome = Literal["created", "updated", "unchanged"]


def _now() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def row_product_id(job_id: str, row: int) -> str:
    """The id a job gives the product it creates from `row`: a ULID of the job's moment and
    of a hash of (job, row), so every attempt at that row creates the same product."""
    moment = ULID.from_str(job_id).milliseconds.to_bytes(6, "big")
    digest = hashlib.sha256(f"{job_id}:{row}".encode()).digest()[:10]
    return str(ULID.from_bytes(moment + digest))


def report_csv(problems: Sequence[RowProblem], header: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(REPORT_COLUMNS)
    for p in sorted(problems, key=lambda p: p.row):
        writer.writerow([str(p.row), *(neutralize(v) for v in (p.sku, p.field, p.type, p.detail))])
    return out.getvalue()


class Files(Protocol):
    """The imports bucket (`catalog.imports.storage.ImportFiles`)."""

    def presigned_post(
        self, key: str, content_type: str, max_bytes: int, expires_s: int, min_bytes: int = 1
    ) -> UploadForm: ...
    def presigned_get(self, key: str, expires_s: int, filename: str) -> str: ...
    def copy(self, source: str, target: str, if_match: str) -> bool: ...
    def stream(self, key: str, start: int = 0, end: int | None = None) -> Any: ...
    def put_text(self, key: str, text: str) -> None: ...
    def read_text(self, key: str) -> str: ...
    def delete(self, keys: list[str]) -> None: ...


class Queue(Protocol):
    def send(self, messages: list[dict[str, Any]]) -> None: ...


class Store(Protocol):
    """What the worker needs of the products repository."""

    def write_all(self, changes: Sequence[Change]) -> dict[int, Exception]: ...
    def ids_by_sku(self, skus: Sequence[str]) -> dict[str, str]: ...
    def get_many(self, product_ids: Sequence[str]) -> dict[str, Product]: ...


def _problem_json(problem: CatalogError) -> str:
    return json.dumps(problem.to_problem(), separators=(",", ":"))


class ImportService:
    """The API's side: request an import, read one job, list jobs."""

    def __init__(
        self, repository: ImportRepository, files: Files, clock: Callable[[], datetime] = _now
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
        item = self._repository.find(job_id) if _JOB_ID.match(job_id) else None
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


@dataclass
class _Entry:
    row: int
    sku: str
    change: Change
    outcome: Outcome


class ImportWorker:
    """The worker's side: accept an upload, run a chunk, finish the job."""

    def __init__(
        self,
        repository: ImportRepository,
        products: ProductService,
        store: Store,
        files: Files,
        queue: Queue,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._repository = repository
        self._products = products
        self._store = store
        self._files = files
        self._queue = queue
        self._clock = clock

    # --- 1. the upload ------------------------------------------------------------------

    def accept_upload(self, key: str, etag: str, size: int) -> str:
        """Start the job whose form stored `key`; what happened, for the log."""
        job_id = job_of_upload(key)
        job = self._repository.find(job_id) if job_id and _JOB_ID.match(job_id) else None
        if job_id is None or job is None:
            self._files.delete([key])
            return "no such job"
        if job.status == "pending":
            if size != job.content_length:  # S3 enforces the form's range; never trust it alone
                detail = f"The file has {size} bytes; {int(job.content_length)} were declared."
                self._fail_pending(job_id, BadRequest(detail))
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
        self._queue.send([_message(job_id, chunk, layout) for chunk in cut.chunks])
        self._repository.set_plan(job_id, cut.rows_total, len(cut.chunks), self._clock())
        self._files.delete([upload_key(job_id)])

    def fail(self, job_id: str, problem: CatalogError) -> None:
        """End a running job as failed: nothing of it was written."""
        self._repository.transition(
            job_id,
            "failed",
            when=ImportJobItem.status == "running",
            now=self._clock(),
            problem=_problem_json(problem),
        )

    def _fail_pending(self, job_id: str, problem: CatalogError) -> None:
        self._repository.transition(
            job_id,
            "failed",
            when=ImportJobItem.status == "pending",
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
                        _row_problem(
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
                        problems += _validation_problems(row.number, row.sku, error)
                        continue
                    if given_id is not None and not isinstance(given_id, str):
                        problems.append(
                            _row_problem(
                                row.number,
                                row.sku,
                                ID_COLUMN,
                                ValidationFailed("The id must be a string.", errors=[]),
                            )
                        )
                        continue
                    valid.append((row.number, row.sku, data, given_id))
        outcomes, write_problems = self._write(job, valid)
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
        problems = [_row_problem(n, sku, "", lost) for n, sku in self._rows_of(message)]
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
        layout = _layout(message)
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

    def _write(
        self, job: ImportJobItem, valid: list[tuple[int, str, ProductCreate, str | None]]
    ) -> tuple[dict[int, Outcome], list[RowProblem]]:
        """Each row created or changed. A row's `id` (an export's column) names the product
        its SKU must be: it is checked, never written."""
        by = Principal(sub=job.owner, role=job.owner_role)
        problems: list[RowProblem] = []
        entries: list[_Entry] = []
        existing: dict[str, Product] = {}
        if job.mode == "upsert" and valid:
            ids = self._store.ids_by_sku([data.sku for _, _, data, _ in valid])
            found = self._store.get_many(list(ids.values()))
            existing = {key: found[i] for key, i in ids.items() if i in found}
        started = datetime.fromisoformat(job.started_at) if job.started_at else self._clock()
        outcomes: dict[int, Outcome] = {}
        for number, sku, data, given_id in valid:
            current = existing.get(sku_key(data.sku))
            if given_id is not None and (current is None or current.id != given_id):
                problems.append(
                    _row_problem(number, sku, ID_COLUMN, _not_its_id(data.sku, given_id, job.mode))
                )
                continue
            if current is None:
                product = self._products.new_product(data, by).model_copy(
                    update={"id": row_product_id(job.id, number)}
                )
                entries.append(_Entry(number, sku, Change(None, product), "created"))
                continue
            if not (by.is_admin or (by.role == "editor" and current.owner == by.sub)):
                problems.append(_row_problem(number, sku, "sku", _forbidden(current.sku)))
                continue
            fields = data.model_fields_set
            if all(getattr(current, f) == getattr(data, f) for f in fields):
                # Equal already: unchanged, unless this job's earlier attempt at the chunk
                # (a crash, then redelivery) is what made it so.
                outcomes[number] = "updated" if current.updated_at >= started else "unchanged"
                continue
            patch = ProductPatch.model_validate(data.model_dump(include=fields))
            entries.append(
                _Entry(
                    number, sku, Change(current, self._products.changed(current, patch)), "updated"
                )
            )
        for group in _groups(entries):
            self._write_group(group, outcomes, problems)
        return outcomes, problems

    def _write_group(
        self, group: list[_Entry], outcomes: dict[int, Outcome], problems: list[RowProblem]
    ) -> None:
        """Write `group` in one transaction; a row that cannot be written is reported and
        the rest written without it (a transaction is all or nothing)."""
        pending = list(group)
        while pending:
            try:
                errors = self._store.write_all([e.change for e in pending])
            except TooManyItems:
                if len(pending) == 1:
                    raise
                half = len(pending) // 2
                self._write_group(pending[:half], outcomes, problems)
                self._write_group(pending[half:], outcomes, problems)
                return
            if not errors:
                outcomes.update({e.row: e.outcome for e in pending})
                return
            for index, error in errors.items():
                entry = pending[index]
                if entry.outcome == "created" and self._created_before(entry):
                    outcomes[entry.row] = "created"
                else:
                    problems.append(_write_problem(entry, error))
            pending = [e for i, e in enumerate(pending) if i not in errors]

    def _created_before(self, entry: _Entry) -> bool:
        """Whether an earlier attempt of this chunk created the entry's product already."""
        after = entry.change.after
        assert after is not None
        return self._store.ids_by_sku([after.sku]).get(sku_key(after.sku)) == after.id

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


def _items(change: Change) -> int:
    """The transaction items `change` takes, besides its category counts."""
    before, after = change.before, change.after
    count = 0
    for product in (before, after):
        if product is not None:
            count += 2 + len(copy_keys(product, layout_of(SCHEMA_VERSION)))
    return count


def _groups(entries: list[_Entry]) -> Iterator[list[_Entry]]:
    """The entries cut into groups that each fit one transaction."""
    group: list[_Entry] = []
    size = 0
    categories: set[str] = set()
    for entry in entries:
        product = entry.change.after or entry.change.before
        assert product is not None
        extra = _items(entry.change) + (product.category not in categories)
        if group and (size + extra > MAX_WRITE_ITEMS or len(group) == MAX_WRITE_GROUP):
            yield group
            group, size, categories = [], 0, set()
            extra = _items(entry.change) + 1
        group.append(entry)
        size += extra
        categories.add(product.category)
        if entry.change.before is not None:
            categories.add(entry.change.before.category)
            size += 1
    if group:
        yield group


def _layout(message: dict[str, Any]) -> CsvLayout | None:
    """A chunk message's CSV layout (None: JSON Lines)."""
    data = message.get("layout")
    return None if data is None else CsvLayout(data["delimiter"], tuple(data["columns"]))


def _message(job_id: str, chunk: Chunk, layout: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "job": job_id,
        "first": chunk.first,
        "last": chunk.last,
        "start": chunk.start,
        "end": chunk.end,
        "layout": layout,
        "duplicates": {str(k): v for k, v in chunk.duplicates.items()},
    }


def _not_its_id(sku: str, given_id: str, mode: str) -> CatalogError:
    if mode == "create":
        return Conflict(
            f"The row names the product {given_id}; a create import makes new products "
            "(leave the id column empty, or import with mode upsert)."
        )
    return Conflict(f"The product of SKU {sku} is not {given_id} (or there is none).")


def _forbidden(sku: str) -> CatalogError:
    return Forbidden(
        f"The product with the SKU {sku} is another user's; only its owner or an admin may "
        "change it."
    )


def _row_problem(row: int, sku: str, field: str, problem: CatalogError) -> RowProblem:
    return RowProblem(row, sku, field, problem.type, problem.detail)


def _validation_problems(row: int, sku: str, error: ValidationError) -> Iterator[RowProblem]:
    kind = PROBLEM_TYPE_PREFIX + ValidationFailed.slug
    for e in error.errors(include_input=False):
        field = ".".join(str(p) for p in e["loc"])
        detail = e["msg"]
        if e["type"] == "extra_forbidden":
            detail += f"; the known fields are: {', '.join(known_columns())}"
        yield RowProblem(row, sku, field, kind, detail)


def _write_problem(entry: _Entry, error: Exception) -> RowProblem:
    if isinstance(error, CatalogError):
        field = "category" if isinstance(error, ValidationFailed) else "sku"
        return _row_problem(entry.row, entry.sku, field, error)
    return _row_problem(
        entry.row,
        entry.sku,
        "",
        Conflict("The product changed while it was imported; import the row again."),
    )
