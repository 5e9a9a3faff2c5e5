"""Cutting an import file into chunks: `plan` reads the whole file once, as a stream, and
refuses it (`FileRefused`) or says where each chunk of rows is (`Chunk`: its row numbers,
its byte range, and its rows whose SKU an earlier row has), so that the worker can later
read a chunk again by byte range alone (`reading.records`) and run the chunks apart. A
chunk goes to the worker as a queue message (`chunk_message`; its CSV layout read back with
`message_layout`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from catalog.core.errors import BadRequest, PayloadTooLarge
from catalog.imports.reading import SNIFF_BYTES, FileRefused, Record, records, sniff
from catalog.imports.rows import CsvLayout, read_header, read_row


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


def message_layout(message: dict[str, Any]) -> CsvLayout | None:
    """A chunk message's CSV layout (None: JSON Lines)."""
    data = message.get("layout")
    return None if data is None else CsvLayout(data["delimiter"], tuple(data["columns"]))


def chunk_message(job_id: str, chunk: Chunk, layout: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "job": job_id,
        "first": chunk.first,
        "last": chunk.last,
        "start": chunk.start,
        "end": chunk.end,
        "layout": layout,
        "duplicates": {str(k): v for k, v in chunk.duplicates.items()},
    }
