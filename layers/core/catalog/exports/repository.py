"""Export jobs in their own table: `pk=EXPORT#<id>, sk=EXPORT`.

Every job is in gsi1 under `EXPORTS` (the admins' listing) and in gsi2 under
`OWNER#<sub>` (a user's own), both newest first by id. A running job also records where
its file's last uploaded part ends (the listing position, rows and bytes, and the parts'
ETags), so a worker that stopped resumes there. Records expire by TTL with their files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from catalog.core.dynamo import TableModel, TableName, string_index
from catalog.core.errors import Conflict, NotFound
from catalog.core.types import iso_millis

EXPORT_SK = "EXPORT"
ALL_EXPORTS = "EXPORTS"


def export_key(export_id: str) -> str:
    return f"EXPORT#{export_id}"


def owner_key(sub: str) -> str:
    return f"OWNER#{sub}"


class ExportItem(TableModel):
    """One export job."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "export": {
            "pk": "EXPORT#<id>",
            "sk": "EXPORT",
            "gsi1pk": "EXPORTS",
            "gsi1sk": "<id>",
            "gsi2pk": "OWNER#<sub>",
            "gsi2sk": "<id>",
        }
    }

    class Meta:
        table_name = TableName("exports")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=EXPORT_SK)
    gsi1pk = UnicodeAttribute(default=ALL_EXPORTS)
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute()
    gsi2sk = UnicodeAttribute()
    id = UnicodeAttribute()
    owner = UnicodeAttribute()
    own_only = BooleanAttribute()
    format = UnicodeAttribute()
    filters = UnicodeAttribute()  # the ExportFilters, as JSON
    status = UnicodeAttribute()
    rows = NumberAttribute(default=0)
    size = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    expires_at = NumberAttribute()  # TTL: seconds since the epoch
    # Where the file's uploaded parts end (a running job's checkpoint).
    upload_id = UnicodeAttribute(null=True)
    parts = UnicodeAttribute(null=True)  # [[number, etag], ...] as JSON
    after = UnicodeAttribute(null=True)
    part_rows = NumberAttribute(default=0)
    part_bytes = NumberAttribute(default=0)

    all_exports = string_index("gsi1", "gsi1pk", "gsi1sk")
    by_owner = string_index("gsi2", "gsi2pk", "gsi2sk")


@dataclass
class Checkpoint:
    """Where a running job's uploaded parts end: the next part starts after `after`."""

    upload_id: str
    parts: list[tuple[int, str]] = field(default_factory=list)  # (number, ETag)
    after: str | None = None
    rows: int = 0
    size: int = 0


@dataclass
class Job:
    """An export job as stored."""

    id: str
    owner: str
    own_only: bool
    format: str
    filters: dict[str, Any]
    status: str
    created_at: datetime
    updated_at: datetime
    expires_at: int
    rows: int = 0
    size: int | None = None
    error: str | None = None
    checkpoint: Checkpoint | None = None


def _to_job(item: ExportItem) -> Job:
    checkpoint = None
    if item.upload_id is not None:
        parts = [(int(n), str(etag)) for n, etag in json.loads(item.parts or "[]")]
        checkpoint = Checkpoint(
            upload_id=item.upload_id,
            parts=parts,
            after=item.after,
            rows=int(item.part_rows),
            size=int(item.part_bytes),
        )
    return Job(
        id=item.id,
        owner=item.owner,
        own_only=bool(item.own_only),
        format=item.format,
        filters=json.loads(item.filters),
        status=item.status,
        created_at=datetime.fromisoformat(item.created_at),
        updated_at=datetime.fromisoformat(item.updated_at),
        expires_at=int(item.expires_at),
        rows=int(item.rows),
        size=None if item.size is None else int(item.size),
        error=item.error,
        checkpoint=checkpoint,
    )


def _item(job: Job) -> ExportItem:
    return ExportItem(
        pk=export_key(job.id),
        gsi1sk=job.id,
        gsi2pk=owner_key(job.owner),
        gsi2sk=job.id,
        id=job.id,
        owner=job.owner,
        own_only=job.own_only,
        format=job.format,
        filters=json.dumps(job.filters, separators=(",", ":"), sort_keys=True),
        status=job.status,
        rows=job.rows,
        created_at=iso_millis(job.created_at),
        updated_at=iso_millis(job.updated_at),
        expires_at=job.expires_at,
    )


class ExportRepository:
    """Persistence of export jobs; state changes are conditional on the state they leave."""

    def create(self, job: Job) -> None:
        _item(job).save(condition=ExportItem.pk.does_not_exist())

    def get(self, export_id: str) -> Job:
        try:
            return _to_job(ExportItem.get(export_key(export_id), EXPORT_SK, consistent_read=True))
        except DoesNotExist:
            raise NotFound(f"No export has the id {export_id}.") from None

    def delete(self, export_id: str) -> None:
        ExportItem(pk=export_key(export_id), sk=EXPORT_SK).delete()

    def list_page(
        self, owner: str | None, after: str | None, limit: int
    ) -> tuple[list[Job], str | None]:
        """Jobs newest first (all of them, or `owner`'s), after the job id `after`."""
        index, partition, partition_name, sort_name = (
            (ExportItem.all_exports, ALL_EXPORTS, "gsi1pk", "gsi1sk")
            if owner is None
            else (ExportItem.by_owner, owner_key(owner), "gsi2pk", "gsi2sk")
        )
        start = None
        if after is not None:
            start = {
                "pk": {"S": export_key(after)},
                "sk": {"S": EXPORT_SK},
                partition_name: {"S": partition},
                sort_name: {"S": after},
            }
        results = index.query(
            partition, scan_index_forward=False, limit=limit + 1, last_evaluated_key=start
        )
        jobs = [_to_job(item) for item in results]
        more = len(jobs) > limit
        return jobs[:limit], jobs[limit - 1].id if more else None

    def _update(self, job_id: str, actions: list[Any], condition: Any, now: datetime) -> None:
        item = ExportItem(pk=export_key(job_id), sk=EXPORT_SK)
        try:
            item.update(
                actions=[*actions, ExportItem.updated_at.set(iso_millis(now))],
                condition=ExportItem.pk.exists() & condition,
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise Conflict(
                    f"The export {job_id} is not in the state this step needs."
                ) from None
            raise

    def begin(self, job_id: str, upload_id: str, now: datetime) -> None:
        """pending -> running, writing into the multipart upload `upload_id`."""
        self._update(
            job_id,
            [
                ExportItem.status.set("running"),
                ExportItem.upload_id.set(upload_id),
                ExportItem.parts.set("[]"),
                ExportItem.rows.set(0),
            ],
            ExportItem.status == "pending",
            now,
        )

    def progress(self, job_id: str, rows: int, now: datetime) -> None:
        self._update(job_id, [ExportItem.rows.set(rows)], ExportItem.status == "running", now)

    def checkpoint(self, job_id: str, checkpoint: Checkpoint, now: datetime) -> None:
        """Record that the parts of `checkpoint` are uploaded, up to its position."""
        parts = json.dumps([list(part) for part in checkpoint.parts], separators=(",", ":"))
        actions = [
            ExportItem.parts.set(parts),
            ExportItem.part_rows.set(checkpoint.rows),
            ExportItem.part_bytes.set(checkpoint.size),
            ExportItem.rows.set(checkpoint.rows),
        ]
        actions.append(
            ExportItem.after.set(checkpoint.after)
            if checkpoint.after is not None
            else ExportItem.after.remove()
        )
        condition = (ExportItem.status == "running") & (
            ExportItem.upload_id == checkpoint.upload_id
        )
        self._update(job_id, actions, condition, now)

    def finish(self, job_id: str, rows: int, size: int, now: datetime) -> None:
        """running -> done: the file is complete."""
        self._update(
            job_id,
            [
                ExportItem.status.set("done"),
                ExportItem.rows.set(rows),
                ExportItem.size.set(size),
                ExportItem.parts.remove(),
                ExportItem.after.remove(),
            ],
            ExportItem.status == "running",
            now,
        )

    def fail(self, job_id: str, error: str, now: datetime) -> None:
        """pending or running -> failed, saying why."""
        self._update(
            job_id,
            [ExportItem.status.set("failed"), ExportItem.error.set(error)],
            ExportItem.status.is_in("pending", "running"),
            now,
        )
