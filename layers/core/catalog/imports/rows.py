"""An import file's rows: the CSV header's layout (`read_header`) and each record's values,
read as the API would read a request body (`read_row`).

What the header gets wrong (columns the API does not know, one twice, a required one
missing) raises `FileRefused` (`reading.py`) with the API's problem; what one row gets wrong
is a `RowProblem`, with the same problem `type` URIs the API answers (`catalog.core.errors`).
Records come from `reading.records`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from catalog.core.errors import (
    BadRequest,
    CatalogError,
    MalformedJson,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from catalog.core.jsonutil import loads_request
from catalog.imports.reading import BOM, MAX_ROW_BYTES, FileRefused, Record
from catalog.products.columns import COLUMNS, TAG_SEPARATOR, restore
from catalog.products.schemas import ProductCreate

_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")


def known_columns() -> tuple[str, ...]:
    """A product file's columns (`catalog.products.columns`): `id` and the create fields,
    so that an export is an import file as it is."""
    return COLUMNS


def required_columns() -> tuple[str, ...]:
    return tuple(n for n, f in ProductCreate.model_fields.items() if f.is_required())


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with one row: a line of the error report."""

    row: int
    sku: str
    field: str
    type: str
    detail: str


def _text(data: bytes, number: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _RowRefused(
            "",
            BadRequest(f"Row {number} is not UTF-8 text (byte {error.start + 1} of the row)."),
        ) from None


@dataclass(frozen=True)
class CsvLayout:
    """What the header row says: the delimiter, and the column of each cell."""

    delimiter: str
    columns: tuple[str, ...]


def _delimiter(line: str) -> str:
    outside = re.sub(r'"[^"]*"', "", line)  # quoted names may hold either character
    return ";" if outside.count(";") > outside.count(",") else ","


def _header_error(column: str, detail: str, kind: str) -> dict[str, str]:
    """One entry of a refused header's `errors`, pointing at its column."""
    return {"in": "file", "pointer": f"#/header/{column}", "detail": detail, "type": kind}


def read_header(header: Record) -> CsvLayout:
    """The layout of a CSV file from its first record; `FileRefused` if it names columns
    the API does not know, names one twice, or lacks a required one."""
    if header.data is None:
        raise FileRefused(PayloadTooLarge(f"The header row is over {MAX_ROW_BYTES} bytes."))
    try:
        line = header.data.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError:
        raise FileRefused(UnsupportedMediaType("The header row is not UTF-8 text.")) from None
    delimiter = _delimiter(line)
    cells = next(csv.reader(io.StringIO(line, newline=""), delimiter=delimiter), [])
    columns = tuple(cell.strip() for cell in cells)
    known = known_columns()
    unknown = [c for c in columns if c not in known]
    listing = ", ".join(known)
    if unknown:
        raise FileRefused(
            ValidationFailed(
                f"Unknown columns: {', '.join(repr(c) for c in unknown)}. "
                f"The known columns are: {listing}.",
                errors=[_header_error(c, "unknown column", "extra_forbidden") for c in unknown],
            )
        )
    twice = sorted({c for c in columns if columns.count(c) > 1})
    missing = [c for c in required_columns() if c not in columns]
    if twice or missing:
        problems = [f"{c!r} appears twice" for c in twice] + [f"{c!r} is missing" for c in missing]
        raise FileRefused(
            ValidationFailed(
                f"The header row is not usable: {'; '.join(problems)}. "
                f"The known columns are: {listing}; required: {', '.join(required_columns())}.",
                errors=[_header_error(c, "column twice", "duplicate") for c in twice]
                + [_header_error(c, "missing column", "missing") for c in missing],
            )
        )
    return CsvLayout(delimiter, columns)


# --- one row ------------------------------------------------------------------------------


class _RowRefused(Exception):
    def __init__(self, field: str, problem: CatalogError, sku: str = "") -> None:
        super().__init__(problem.detail)
        self.field, self.problem, self.sku = field, problem, sku


@dataclass(frozen=True)
class Row:
    """A row read as the API would read a request body: `values` (None: unreadable, see
    `problems`), and the SKU it names as written (for the report)."""

    number: int
    values: dict[str, Any] | None
    sku: str = ""
    problems: list[RowProblem] = field(default_factory=list)


def _cell_value(column: str, cell: str) -> Any:
    """A CSV cell as the JSON value the API would take for the field (a cell an export
    neutralized against formula injection read back as the text it holds)."""
    cell = restore(cell)
    if column == "tags":
        return [tag.strip() for tag in cell.split(TAG_SEPARATOR)] if cell.strip() else []
    if column == "stock" and _INTEGER.fullmatch(cell.strip()):
        return int(cell)
    return cell


def _csv_values(text: str, layout: CsvLayout, number: int) -> dict[str, Any]:
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter))
    cells = rows[0] if len(rows) == 1 else []
    sku = cells[layout.columns.index("sku")] if len(cells) > layout.columns.index("sku") else ""
    if len(cells) != len(layout.columns):
        fewer = len(cells) < len(layout.columns)
        column = layout.columns[len(cells)] if fewer and cells else ""
        raise _RowRefused(
            column,
            ValidationFailed(
                f"Row {number} has {len(cells)} cells; the header has {len(layout.columns)} "
                f"columns ({'a column is missing' if fewer else 'more cells than columns'}).",
                errors=[],
            ),
            sku=sku.strip(),
        )
    return {
        column: _cell_value(column, cell)
        for column, cell in zip(layout.columns, cells, strict=True)
        if cell != ""  # an empty cell is an absent field: its default applies
    }


def _jsonl_values(text: str, number: int) -> dict[str, Any]:
    try:
        document = loads_request(text)
    except json.JSONDecodeError as error:
        raise _RowRefused(
            "", MalformedJson(f"Row {number} is not valid JSON: {error.msg}.")
        ) from None
    if not isinstance(document, dict):
        raise _RowRefused(
            "", MalformedJson(f"Row {number} is not a JSON object (one product per line).")
        )
    return document


def read_row(record: Record, layout: CsvLayout | None) -> Row:
    """The values of one data record (`layout` None: a JSON Lines record)."""
    number = record.number
    try:
        if record.data is None:
            raise _RowRefused(
                "", PayloadTooLarge(f"Row {number} has over {MAX_ROW_BYTES} bytes; not read.")
            )
        text = _text(record.data, number)
        if layout is None:
            values = _jsonl_values(text, number)
        else:
            values = _csv_values(text, layout, number)
    except _RowRefused as refusal:
        problem = refusal.problem
        return Row(
            number,
            None,
            refusal.sku,
            [RowProblem(number, refusal.sku, refusal.field, problem.type, problem.detail)],
        )
    sku = values.get("sku")
    return Row(number, values, sku.strip() if isinstance(sku, str) else "")
