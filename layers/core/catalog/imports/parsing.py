"""Reading an import file: records with their byte offsets, the header, each row's values.

A file is read as a stream, never whole: `records` cuts it into records (a CSV record ends
at a newline outside quotes; a JSON Lines record at every newline) and says where each
starts and ends, so a chunk can later be read again by byte range alone. A record longer
than `MAX_ROW_BYTES` is reported without its bytes being kept. Nothing here decompresses
anything: a gzip file is refused as binary, so a gzip bomb is never inflated.

What the file as a whole gets wrong (empty, binary, the other format, unknown columns)
raises `FileRefused` with the API's problem; what one row gets wrong is a `RowProblem`,
with the same problem `type` URIs the API answers (`catalog.core.errors`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
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
from catalog.products.columns import COLUMNS, TAG_SEPARATOR, restore
from catalog.products.schemas import ProductCreate

MAX_ROW_BYTES = 64 * 1024  # the largest valid product is about 21 KiB of UTF-8
SNIFF_BYTES = 8 * 1024
READ_BYTES = 256 * 1024
BOM = b"\xef\xbb\xbf"
# Magic numbers of compressed and binary containers: refused before anything is decoded.
MAGIC = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"%PDF": "PDF",
}
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")


def known_columns() -> tuple[str, ...]:
    """A product file's columns (`catalog.products.columns`): `id` and the create fields,
    so that an export is an import file as it is."""
    return COLUMNS


def required_columns() -> tuple[str, ...]:
    return tuple(n for n, f in ProductCreate.model_fields.items() if f.is_required())


class FileRefused(Exception):
    """The file as a whole cannot be imported; `problem` says why (nothing is written)."""

    def __init__(self, problem: CatalogError) -> None:
        super().__init__(problem.detail)
        self.problem = problem


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with one row: a line of the error report."""

    row: int
    sku: str
    field: str
    type: str
    detail: str


@dataclass(frozen=True)
class Record:
    """One record of the file: its row number (1 is the first line), where its bytes are
    (`start` inclusive, `end` exclusive), and its bytes (None: longer than MAX_ROW_BYTES)."""

    number: int
    start: int
    end: int
    data: bytes | None

    @property
    def blank(self) -> bool:
        return self.data is not None and not self.data.strip()


def _lines(read: Callable[[int], bytes], limit: int) -> Iterator[tuple[bytes | None, int]]:
    """(line with its newline, or None past `limit` bytes; its length) until the end."""
    pending = b""
    overflow = 0  # bytes of the current line already dropped (it is too long)
    while True:
        block = read(READ_BYTES)
        if not block:
            break
        pending += block
        while True:
            cut = pending.find(b"\n")
            if cut < 0:
                if overflow or len(pending) > limit:
                    overflow += len(pending)
                    pending = b""
                break
            line, pending = pending[: cut + 1], pending[cut + 1 :]
            if overflow:
                yield None, overflow + len(line)
                overflow = 0
            elif len(line) > limit:
                yield None, len(line)
            else:
                yield line, len(line)
    if overflow:
        yield None, overflow + len(pending)
    elif pending:
        yield (pending if len(pending) <= limit else None), len(pending)


def records(
    read: Callable[[int], bytes],
    *,
    quoted: bool,
    start: int = 0,
    first_number: int = 1,
    limit: int = MAX_ROW_BYTES,
) -> Iterator[Record]:
    """The records of what `read` returns, which begins at byte `start` of the file.

    `quoted` (CSV): a newline inside double quotes does not end a record. Quotes are
    counted, which is exact for RFC 4180 (a quote inside a field is written twice).
    """
    number, offset = first_number, start
    parts: list[bytes] = []
    size, quotes, too_long = 0, 0, False
    for line, length in _lines(read, limit):
        size += length
        if line is None:
            too_long = True
        elif not too_long:
            parts.append(line)
            if quoted:
                quotes += line.count(b'"')
        if size > limit:
            too_long = True
        if quoted and not too_long and quotes % 2:
            continue  # inside a quoted field: the record goes on
        data = None if too_long else b"".join(parts)
        yield Record(number, offset, offset + size, data)
        number, offset = number + 1, offset + size
        parts, size, quotes, too_long = [], 0, 0, False
    if size:
        yield Record(number, offset, offset + size, None if too_long else b"".join(parts))


# --- the file as a whole ------------------------------------------------------------------


def sniff(head: bytes, declared: str) -> None:
    """Refuse a file whose first bytes show it is empty, binary, or of the other format."""
    if not head.removeprefix(BOM).strip():
        raise FileRefused(BadRequest("The file is empty: it has no header and no rows."))
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            raise FileRefused(
                UnsupportedMediaType(
                    f"The file is {kind} data, not {declared.upper()} text; upload it "
                    "uncompressed (nothing compressed is ever expanded)."
                )
            )
    if b"\x00" in head or len(_CONTROL.findall(head)) > len(head) // 100:
        raise FileRefused(
            UnsupportedMediaType(f"The file is binary data, not {declared.upper()} text.")
        )
    first = head.removeprefix(BOM).lstrip()
    looks_json = first[:1] in (b"{", b"[")
    if declared == "csv" and looks_json:
        raise FileRefused(
            UnsupportedMediaType(
                "The file looks like JSON, not CSV: declare format jsonl, or send a CSV "
                "file with a header row."
            )
        )
    if declared == "jsonl" and not first.startswith(b"{"):
        raise FileRefused(
            UnsupportedMediaType(
                "The file is not JSON Lines (one JSON object per line): declare format "
                "csv if it is a CSV file."
            )
        )


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
                errors=[
                    {
                        "in": "file",
                        "pointer": f"#/header/{c}",
                        "detail": "unknown column",
                        "type": "extra_forbidden",
                    }
                    for c in unknown
                ],
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
                errors=[
                    {
                        "in": "file",
                        "pointer": f"#/header/{c}",
                        "detail": "column twice",
                        "type": "duplicate",
                    }
                    for c in twice
                ]
                + [
                    {
                        "in": "file",
                        "pointer": f"#/header/{c}",
                        "detail": "missing column",
                        "type": "missing",
                    }
                    for c in missing
                ],
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


# --- cutting a file into chunks -----------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """Rows `first`..`last` (row numbers), at bytes `start`..`end` of the file, and the rows
    among them whose SKU an earlier row of the file has (row -> that earlier row)."""

    first: int
    last: int
    start: int
    end: int
    duplicates: dict[int, int]


@dataclass(frozen=True)
class Plan:
    layout: CsvLayout | None
    rows_total: int
    chunks: list[Chunk]


def _sku_of(record: Record, layout: CsvLayout | None) -> str | None:
    """The SKU a record names, as the API keys it (upper case), if it is readable."""
    row = read_row(record, layout)
    sku = row.sku.strip()
    return sku.upper() if row.values is not None and sku else None


def plan(
    read: Callable[[int], bytes],
    declared: str,
    *,
    chunk_rows: int,
    max_rows: int,
) -> Plan:
    """Read the whole file once: refuse it (`FileRefused`) or cut it into chunks of at
    most `chunk_rows` rows. Nothing is kept but the SKUs seen (to find a SKU's later rows)."""
    quoted = declared == "csv"
    head = _read_exactly(read, SNIFF_BYTES)
    sniff(head, declared)
    stream = records(_prepended(head, read), quoted=quoted)
    layout: CsvLayout | None = None
    if quoted:
        layout = read_header(next(stream))
    data = stream
    first_seen: dict[str, int] = {}
    chunks: list[Chunk] = []
    current: list[Record] = []
    duplicates: dict[int, int] = {}
    total = 0

    def close() -> None:
        chunks.append(
            Chunk(
                current[0].number,
                current[-1].number,
                current[0].start,
                current[-1].end,
                dict(duplicates),
            )
        )
        current.clear()
        duplicates.clear()

    for record in data:
        if record.blank:
            continue
        total += 1
        if total > max_rows:
            raise FileRefused(
                PayloadTooLarge(
                    f"The file has more than {max_rows:,} rows; split it into files of at "
                    f"most {max_rows:,} rows."
                )
            )
        sku = _sku_of(record, layout)
        if sku is not None:
            earlier = first_seen.setdefault(sku, record.number)
            if earlier != record.number:
                duplicates[record.number] = earlier
        current.append(record)
        if len(current) == chunk_rows:
            close()
    if current:
        close()
    if total == 0:
        raise FileRefused(
            BadRequest(
                "The file has a header row but no rows." if quoted else "The file has no rows."
            )
        )
    return Plan(layout, total, chunks)


def _read_exactly(read: Callable[[int], bytes], size: int) -> bytes:
    """Up to `size` bytes (fewer only at the end: a stream may answer in smaller pieces)."""
    parts, got = [], 0
    while got < size:
        block = read(size - got)
        if not block:
            break
        parts.append(block)
        got += len(block)
    return b"".join(parts)


def _prepended(head: bytes, read: Callable[[int], bytes]) -> Callable[[int], bytes]:
    """`read`, as if `head` had not been read from it yet."""
    pending = [head]

    def again(size: int) -> bytes:
        if pending:
            return pending.pop()
        return read(size)

    return again
