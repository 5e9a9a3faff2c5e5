"""How an export file is written: rows encoded as CSV or JSON Lines, streamed into parts.

Pure (no boto): the parts go to a `PartSink` (S3's multipart upload in production, a list
in tests). What is held in memory is one part being filled, never the file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Protocol

from catalog.products.columns import COLUMNS, csv_row, record
from catalog.products.schemas import Product

# S3 takes parts of 5 MiB at least (the last excepted) and at most 10,000 parts: 8 MiB
# parts allow files of 78 GiB, far beyond the catalog's size.
PART_SIZE = 8 * 1024 * 1024
MAX_PARTS = 10_000


class PartSink(Protocol):
    def upload_part(self, number: int, data: bytes) -> str:
        """Store part `number` (1-based); its ETag."""
        ...


def _csv_lines(rows: Iterable[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)  # RFC 4180's line ends
    return text.getvalue().encode()


def header(file_format: str) -> bytes:
    """What a file starts with: CSV's header row (JSON Lines has none)."""
    return _csv_lines([list(COLUMNS)]) if file_format == "csv" else b""


def encode(file_format: str, products: Iterable[Product]) -> bytes:
    """`products` as rows of the file, UTF-8."""
    if file_format == "csv":
        return _csv_lines(csv_row(p) for p in products)
    return b"".join(
        json.dumps(record(p), ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        for p in products
    )


class PartWriter:
    """Bytes in, numbered parts out: a part is uploaded once `part_size` bytes are held
    and `flush` is called (the caller flushes where it can record a resumable position)."""

    def __init__(
        self,
        sink: PartSink,
        parts: list[tuple[int, str]] | None = None,
        part_size: int = PART_SIZE,
    ) -> None:
        self._sink = sink
        self.parts: list[tuple[int, str]] = list(parts or [])
        self._part_size = part_size
        self._buffer = bytearray()
        self.uploaded_bytes = 0  # in the parts this writer uploaded

    def write(self, data: bytes) -> None:
        self._buffer += data

    @property
    def held(self) -> int:
        """Bytes written but not yet uploaded."""
        return len(self._buffer)

    @property
    def full(self) -> bool:
        return len(self._buffer) >= self._part_size

    def flush(self) -> None:
        """Upload what is held as the next part (the last part may be of any size, even 0)."""
        number = len(self.parts) + 1
        if number > MAX_PARTS:
            raise RuntimeError(f"an export file has at most {MAX_PARTS} parts")
        etag = self._sink.upload_part(number, bytes(self._buffer))
        self.parts.append((number, etag))
        self.uploaded_bytes += len(self._buffer)
        self._buffer = bytearray()
