"""Import jobs in DynamoDB: the job record, one record per finished chunk, their listing.

A job is `pk=IMPORT#<id>, sk=IMPORT` in the products table (beside the catalog it writes,
so one table holds a job and what it did). Each chunk, once written, is recorded as
`sk=CHUNK#<first row>` in the same transaction that adds its counts to the job: a chunk
done twice (a redelivered message) finds its record and adds nothing. Listings: the
caller's jobs in gsi1 (`IMPORTS#<owner>`), everyone's in gsi2 (`IMPORTS`), newest first.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from catalog.core.dynamo import TableModel, TableName, Transaction, string_index
from catalog.core.errors import NotFound
from catalog.core.types import iso_millis
from catalog.imports.schemas import ImportJob, ImportStatus

JOB_SK = "IMPORT"
ALL_IMPORTS = "IMPORTS"


def job_key(job_id: str) -> str:
    return f"IMPORT#{job_id}"


def chunk_sk(first_row: int) -> str:
    return f"CHUNK#{first_row:07d}"


class ImportJobItem(TableModel):
    """An import job: what was asked, where it is, what it did."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "import": {
            "pk": "IMPORT#<id>",
            "sk": "IMPORT",
            "gsi1pk": "IMPORTS#<owner>",
            "gsi1sk": "<id>",
            "gsi2pk": "IMPORTS",
            "gsi2sk": "<id>",
        }
    }

    class Meta:
        table_name = TableName("products")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default=JOB_SK)
    kind = UnicodeAttribute(default="import")
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(default=ALL_IMPORTS)
    gsi2sk = UnicodeAttribute()
    id = UnicodeAttribute()
    owner = UnicodeAttribute()
    owner_role = UnicodeAttribute()  # the role it was requested with: the rows' ownership rule
    format = UnicodeAttribute()
    mode = UnicodeAttribute()
    content_length = NumberAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    upload_expires_at = UnicodeAttribute()
    started_at = UnicodeAttribute(null=True)
    file_etag = UnicodeAttribute(null=True)  # of the upload accepted (a reused form's is not)
    rows_total = NumberAttribute(null=True)
    chunks_total = NumberAttribute(null=True)
    chunks_done = NumberAttribute(default=0)
    rows_done = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    problem = UnicodeAttribute(null=True)  # the problem+json object, as JSON
    report_key = UnicodeAttribute(null=True)

    by_owner = string_index("gsi1", "gsi1pk", "gsi1sk")
    everyone = string_index("gsi2", "gsi2pk", "gsi2sk")


class ImportChunkItem(TableModel):
    """A chunk of a job that is written and counted (its rows' report part is in S3)."""

    KEYS: ClassVar[dict[str, dict[str, str]]] = {
        "import-chunk": {"pk": "IMPORT#<id>", "sk": "CHUNK#<first row, 7 digits>"}
    }

    class Meta:
        table_name = TableName("products")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(default="import-chunk")
    first_row = NumberAttribute()
    last_row = NumberAttribute()
    rows = NumberAttribute()
    failed = NumberAttribute()
    report_key = UnicodeAttribute(null=True)
    done_at = UnicodeAttribute()


COUNTERS = ("created", "updated", "unchanged", "failed")


def owner_partition(owner: str) -> str:
    return f"IMPORTS#{owner}"


def to_job(item: ImportJobItem, report_url: str | None = None) -> ImportJob:
    return ImportJob(
        id=item.id,
        owner=item.owner,
        format=item.format,  # type: ignore[arg-type]
        mode=item.mode,  # type: ignore[arg-type]
        content_length=int(item.content_length),
        status=item.status,  # type: ignore[arg-type]
        rows_total=None if item.rows_total is None else int(item.rows_total),
        rows_done=int(item.rows_done),
        created=int(item.created),
        updated=int(item.updated),
        unchanged=int(item.unchanged),
        failed=int(item.failed),
        created_at=datetime.fromisoformat(item.created_at),
        updated_at=datetime.fromisoformat(item.updated_at),
        problem=json.loads(item.problem) if item.problem is not None else None,
        report_url=report_url,
    )


class ImportRepository:
    """Persistence of import jobs and their chunk records."""

    def create(self, item: ImportJobItem) -> None:
        item.save(condition=ImportJobItem.pk.does_not_exist())

    def get(self, job_id: str) -> ImportJobItem:
        try:
            return ImportJobItem.get(job_key(job_id), JOB_SK, consistent_read=True)
        except DoesNotExist:
            raise NotFound(f"No import job has the id {job_id}.") from None

    def find(self, job_id: str) -> ImportJobItem | None:
        try:
            return self.get(job_id)
        except NotFound:
            return None

    def page(
        self, owner: str | None, limit: int, after: str | None
    ) -> tuple[list[ImportJobItem], str | None]:
        """Newest first: `owner`'s jobs (None: everyone's); the id the next page starts after."""
        if owner is None:
            index, partition, names = ImportJobItem.everyone, ALL_IMPORTS, ("gsi2pk", "gsi2sk")
        else:
            index, partition = ImportJobItem.by_owner, owner_partition(owner)
            names = ("gsi1pk", "gsi1sk")
        start = None
        if after is not None:
            start = {
                "pk": {"S": job_key(after)},
                "sk": {"S": JOB_SK},
                names[0]: {"S": partition},
                names[1]: {"S": after},
            }
        results = index.query(
            partition, scan_index_forward=False, limit=limit + 1, last_evaluated_key=start
        )
        items = list(results)
        more = len(items) > limit
        page = items[:limit]
        return page, page[-1].id if more and page else None

    def transition(
        self,
        job_id: str,
        to: ImportStatus,
        *,
        when: Condition,
        now: datetime,
        **values: Any,
    ) -> bool:
        """Set the job's status (and `values`) if `when` holds; False if it did not."""
        item = ImportJobItem(pk=job_key(job_id), sk=JOB_SK)
        actions: list[Action] = [
            ImportJobItem.status.set(to),
            ImportJobItem.updated_at.set(iso_millis(now)),
        ]
        actions += [getattr(ImportJobItem, name).set(value) for name, value in values.items()]
        try:
            item.update(actions=actions, condition=ImportJobItem.pk.exists() & when)
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def set_plan(self, job_id: str, rows_total: int, chunks_total: int, now: datetime) -> None:
        """Record how many rows and chunks the running job has (once: a re-split agrees)."""
        item = ImportJobItem(pk=job_key(job_id), sk=JOB_SK)
        item.update(
            actions=[
                ImportJobItem.rows_total.set(rows_total),
                ImportJobItem.chunks_total.set(chunks_total),
                ImportJobItem.updated_at.set(iso_millis(now)),
            ],
            condition=ImportJobItem.status == "running",
        )

    def chunk_done(self, job_id: str, first_row: int) -> bool:
        try:
            ImportChunkItem.get(job_key(job_id), chunk_sk(first_row), consistent_read=True)
        except DoesNotExist:
            return False
        return True

    def record_chunk(
        self,
        job_id: str,
        first_row: int,
        last_row: int,
        counts: dict[str, int],
        report_key: str | None,
        now: datetime,
    ) -> bool:
        """Record the chunk and add its counts to the job, in one transaction; False if it
        was recorded already (nothing is added twice)."""
        rows = sum(counts.values())
        chunk = ImportChunkItem(
            pk=job_key(job_id),
            sk=chunk_sk(first_row),
            first_row=first_row,
            last_row=last_row,
            rows=rows,
            failed=counts["failed"],
            report_key=report_key,
            done_at=iso_millis(now),
        )
        job = ImportJobItem(pk=job_key(job_id), sk=JOB_SK)
        actions: list[Action] = [
            ImportJobItem.chunks_done.add(1),
            ImportJobItem.rows_done.add(rows),
        ]
        actions += [getattr(ImportJobItem, c).add(counts[c]) for c in COUNTERS if counts[c]]
        actions.append(ImportJobItem.updated_at.set(iso_millis(now)))
        tx = Transaction()
        tx.save("chunk", chunk, condition=ImportChunkItem.pk.does_not_exist())
        tx.update("job", job, actions, condition=ImportJobItem.status == "running")
        failed = tx.commit()
        return not failed

    def chunks(self, job_id: str) -> list[ImportChunkItem]:
        """The job's chunk records, in row order."""
        return list(
            ImportChunkItem.query(
                job_key(job_id), ImportChunkItem.sk.startswith("CHUNK#"), consistent_read=True
            )
        )
