"""In-memory stores with the same contracts as the DynamoDB repositories."""

from __future__ import annotations

import copy
import hashlib
import threading
from datetime import datetime
from typing import Any

from catalog.core.errors import DuplicateSku, InvalidCursor, NotFound, VersionConflict
from catalog.identity.revocation import AccessRecord
from catalog.products.listing import POSITION, ListingPlan, first_match, position_of
from catalog.products.schemas import Product


class InMemoryProductStore:
    def __init__(self) -> None:
        self.products: dict[str, Product] = {}
        self.skus: dict[str, str] = {}
        self.conflicts_to_inject = 0
        self._lock = threading.Lock()

    def get(self, product_id: str) -> Product:
        try:
            return self.products[product_id]
        except KeyError:
            raise NotFound(f"No product has the id {product_id}.") from None

    def create(self, product: Product) -> None:
        with self._lock:
            if product.sku.upper() in self.skus:
                raise DuplicateSku(f"Another product already has the SKU {product.sku}.")
            self.skus[product.sku.upper()] = product.id
            self.products[product.id] = product

    def _check(self, current: Product) -> None:
        if self.conflicts_to_inject:
            self.conflicts_to_inject -= 1
            raise VersionConflict(current.id)
        stored = self.products.get(current.id)
        if stored is None or stored.version != current.version:
            raise VersionConflict(current.id)

    def replace(self, current: Product, updated: Product) -> None:
        with self._lock:
            self._check(current)
            new_key, old_key = updated.sku.upper(), current.sku.upper()
            if new_key != old_key:
                if new_key in self.skus:
                    raise DuplicateSku(f"Another product already has the SKU {updated.sku}.")
                del self.skus[old_key]
                self.skus[new_key] = updated.id
            self.products[updated.id] = updated

    def delete(self, current: Product) -> None:
        with self._lock:
            self._check(current)
            del self.products[current.id]
            del self.skus[current.sku.upper()]

    def list_page(self, plan: ListingPlan) -> tuple[list[Product], str | None]:
        if plan.after is not None and not POSITION[plan.order].match(plan.after):
            raise InvalidCursor("The cursor is not one this API issued.")
        source = plan.source
        term = source.key if source.kind == "words" else None
        chosen = [
            p
            for p in self.products.values()
            if plan.wants(p) and (term is None or first_match(p, term) is not None)
        ]
        ordered = sorted(
            chosen, key=lambda p: position_of(p, plan.order, term), reverse=plan.descending
        )
        if plan.after is not None:
            after = plan.after

            def beyond(product: Product) -> bool:
                position = position_of(product, plan.order, term)
                return position < after if plan.descending else position > after

            ordered = [p for p in ordered if beyond(p)]
        page = ordered[: plan.limit]
        more = len(ordered) > plan.limit
        return page, position_of(page[-1], plan.order, term) if more else None


class MemoryRecords:
    """Access records in a dict, counting reads."""

    def __init__(self, *records: AccessRecord) -> None:
        self.items = {r.sub: r for r in records}
        self.reads = 0

    def get(self, sub: str) -> AccessRecord | None:
        self.reads += 1
        return self.items.get(sub)

    def save(self, record: AccessRecord) -> None:
        self.items[record.sub] = record


class InMemoryExportJobs:
    """Export jobs with the contract of catalog.exports.repository.ExportRepository."""

    def __init__(self) -> None:
        from catalog.exports.repository import Job

        self.jobs: dict[str, Job] = {}
        self.checkpoints = 0
        self.fail_finish = False  # the next `finish` fails once

    def create(self, job: Any) -> None:
        assert job.id not in self.jobs
        self.jobs[job.id] = copy.deepcopy(job)

    def get(self, export_id: str) -> Any:
        try:
            return copy.deepcopy(self.jobs[export_id])
        except KeyError:
            raise NotFound(f"No export has the id {export_id}.") from None

    def delete(self, export_id: str) -> None:
        self.jobs.pop(export_id, None)

    def list_page(
        self, owner: str | None, after: str | None, limit: int
    ) -> tuple[list[Any], str | None]:
        chosen = sorted(
            (j for j in self.jobs.values() if owner is None or j.owner == owner),
            key=lambda j: j.id,
            reverse=True,
        )
        if after is not None:
            chosen = [j for j in chosen if j.id < after]
        page = chosen[:limit]
        return copy.deepcopy(page), page[-1].id if len(chosen) > limit else None

    def _change(self, job_id: str, allowed: tuple[str, ...], now: datetime, **changes: Any) -> None:
        from catalog.core.errors import Conflict

        job = self.jobs.get(job_id)
        if job is None or job.status not in allowed:
            raise Conflict(f"The export {job_id} is not in the state this step needs.")
        for name, value in changes.items():
            setattr(job, name, value)
        job.updated_at = now

    def begin(self, job_id: str, upload_id: str, now: datetime) -> None:
        from catalog.exports.repository import Checkpoint

        checkpoint = Checkpoint(upload_id=upload_id)
        self._change(job_id, ("pending",), now, status="running", checkpoint=checkpoint, rows=0)

    def progress(self, job_id: str, rows: int, now: datetime) -> None:
        self._change(job_id, ("running",), now, rows=rows)

    def checkpoint(self, job_id: str, checkpoint: Any, now: datetime) -> None:
        self.checkpoints += 1
        self._change(
            job_id, ("running",), now, checkpoint=copy.deepcopy(checkpoint), rows=checkpoint.rows
        )

    def finish(self, job_id: str, rows: int, size: int, now: datetime) -> None:
        if self.fail_finish:
            self.fail_finish = False
            raise ConnectionError("DynamoDB went away")
        self._change(job_id, ("running",), now, status="done", rows=rows, size=size)

    def fail(self, job_id: str, error: str, now: datetime) -> None:
        self._change(job_id, ("pending", "running"), now, status="failed", error=error)


class InMemoryFiles:
    """Multipart uploads and finished files, as catalog.exports.storage.ExportFiles keeps
    them in S3 (a part's ETag is its hash); `fail_at_part` makes that upload fail once."""

    def __init__(self) -> None:
        self.uploads: dict[str, tuple[str, dict[int, bytes]]] = {}
        self.files: dict[str, bytes] = {}
        self.aborted: list[str] = []
        self.fail_at_part: int | None = None
        self.part_sizes: list[int] = []

    def start(self, key: str, content_type: str) -> str:
        upload_id = f"upload-{len(self.uploads) + 1}"
        self.uploads[upload_id] = (key, {})
        return upload_id

    def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        if self.fail_at_part == number:
            self.fail_at_part = None
            raise ConnectionError("S3 went away")
        self.uploads[upload_id][1][number] = data
        self.part_sizes.append(len(data))
        return hashlib.md5(data).hexdigest()  # noqa: S324 - S3's ETag, not security

    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        if upload_id not in self.uploads and key in self.files:
            return  # completed before
        stored_key, stored = self.uploads.pop(upload_id)
        assert stored_key == key
        assert [n for n, _ in parts] == list(range(1, len(parts) + 1))
        for number, etag in parts:
            assert hashlib.md5(stored[number]).hexdigest() == etag  # noqa: S324
        self.files[key] = b"".join(stored[n] for n, _ in parts)

    def abort(self, key: str, upload_id: str) -> None:
        self.uploads.pop(upload_id, None)
        self.aborted.append(upload_id)

    def presigned_get(self, key: str, expires_s: int, filename: str) -> str:
        return f"https://files.example/{key}?expires={expires_s}"


class RecordingQueue:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, job_id: str) -> None:
        self.sent.append(job_id)
