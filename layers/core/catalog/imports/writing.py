"""Writing a chunk's valid rows, and what goes wrong with rows: the import worker's
(`worker.py`) writes and its report.

`ChunkWriter` creates or changes each row's product through the products store, in groups
that each fit one DynamoDB transaction (`_groups`); a row that cannot be written is
reported and the rest written without it. A created product's id is derived from the job
and the row (`row_product_id`), so a chunk run again writes each product once. A row's
problems (`row_problem`, `validation_problems`) are lines of the job's report
(`report_csv`), whichever step found them.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import ValidationError
from ulid import ULID

from catalog.core.errors import (
    PROBLEM_TYPE_PREFIX,
    CatalogError,
    Conflict,
    Forbidden,
    ValidationFailed,
)
from catalog.identity.principal import Principal
from catalog.imports.ports import Store
from catalog.imports.records import ImportJobItem
from catalog.imports.rows import RowProblem, known_columns
from catalog.products.columns import ID_COLUMN, neutralize
from catalog.products.items import SCHEMA_VERSION, copy_keys, layout_of, sku_key
from catalog.products.repository import Change, TooManyItems
from catalog.products.schemas import Product, ProductCreate, ProductPatch
from catalog.products.service import ProductService

# Products per transaction: as many as fit DynamoDB's 100 items (a product is its item, its
# SKU guard and a copy per tag and word; a change also deletes what it no longer has).
MAX_WRITE_ITEMS = 100
MAX_WRITE_GROUP = 25
REPORT_COLUMNS = ("row", "sku", "field", "type", "detail")

Outcome = Literal["created", "updated", "unchanged"]


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


@dataclass
class _Entry:
    row: int
    sku: str
    change: Change
    outcome: Outcome


class ChunkWriter:
    """A chunk's valid rows written: each row's product created or changed, in groups of
    one transaction each."""

    def __init__(
        self, products: ProductService, store: Store, clock: Callable[[], datetime]
    ) -> None:
        self._products = products
        self._store = store
        self._clock = clock

    def write(
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
                    row_problem(number, sku, ID_COLUMN, _not_its_id(data.sku, given_id, job.mode))
                )
                continue
            if current is None:
                product = self._products.new_product(data, by).model_copy(
                    update={"id": row_product_id(job.id, number)}
                )
                entries.append(_Entry(number, sku, Change(None, product), "created"))
                continue
            if not (by.is_admin or (by.role == "editor" and current.owner == by.sub)):
                problems.append(row_problem(number, sku, "sku", _forbidden(current.sku)))
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


def row_problem(row: int, sku: str, field: str, problem: CatalogError) -> RowProblem:
    return RowProblem(row, sku, field, problem.type, problem.detail)


def validation_problems(row: int, sku: str, error: ValidationError) -> Iterator[RowProblem]:
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
        return row_problem(entry.row, entry.sku, field, error)
    return row_problem(
        entry.row,
        entry.sku,
        "",
        Conflict("The product changed while it was imported; import the row again."),
    )
