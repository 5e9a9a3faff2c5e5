"""Import worker rules that need no AWS: ids per row, the report's cells, write groups."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from ulid import ULID

from catalog.identity.principal import Principal
from catalog.imports.rows import RowProblem
from catalog.imports.writing import (
    MAX_WRITE_ITEMS,
    _Entry,
    _groups,
    _items,
    report_csv,
    row_product_id,
)
from catalog.products.repository import Change
from catalog.products.schemas import PRODUCT_ID_PATTERN, ProductCreate
from catalog.products.service import ProductService
from tests.fakes import InMemoryProductStore


def test_a_row_always_gets_the_same_product_id_and_other_rows_other_ids() -> None:
    job = str(ULID.from_datetime(datetime(2026, 12, 1, tzinfo=UTC)))
    first = row_product_id(job, 2)
    assert first == row_product_id(job, 2)
    assert len({row_product_id(job, n) for n in range(2, 10_002)}) == 10_000
    assert re.fullmatch(PRODUCT_ID_PATTERN, first)
    # ids sort by the job's moment, as ULIDs do
    assert ULID.from_str(first).milliseconds == ULID.from_str(job).milliseconds


def test_report_cells_never_run_as_formulas_and_rows_are_in_order() -> None:
    problems = [
        RowProblem(9, "=cmd|' /C calc'!A0", "sku", "urn:catalog:problem:validation-error", "bad"),
        RowProblem(3, "A-1", "name", "urn:catalog:problem:validation-error", "+too long"),
    ]
    rows = list(csv.reader(io.StringIO(report_csv(problems, header=True))))
    assert rows[0] == ["row", "sku", "field", "type", "detail"]
    assert [r[0] for r in rows[1:]] == ["3", "9"]
    assert rows[1][4] == "'+too long" and rows[2][1] == "'=cmd|' /C calc'!A0"


def test_write_groups_fit_one_transaction() -> None:
    # Given 60 new products of long names and many tags, in two categories
    service = ProductService(InMemoryProductStore())
    by = Principal(sub="u", role="editor")
    entries = []
    for n in range(60):
        data = ProductCreate(
            sku=f"G-{n}",
            name=" ".join(f"word{w}" for w in range(n % 12)) or "x",
            price="1",  # type: ignore[arg-type]
            currency="EUR",
            category="kitchen" if n % 2 else "lighting",
            tags=[f"t{t}" for t in range(n % 8)],
        )
        entries.append(_Entry(n, data.sku, Change(None, service.new_product(data, by)), "created"))
    # When they are cut into groups
    groups = list(_groups(entries))
    # Then every entry is in one group, in order, and no group needs over 100 items
    assert [e.row for g in groups for e in g] == list(range(60))
    for group in groups:
        categories = {e.change.after.category for e in group if e.change.after}
        assert sum(_items(e.change) for e in group) + len(categories) <= MAX_WRITE_ITEMS
