"""Reading an import file: its records with their byte offsets, and its first bytes sniffed.

A file is read as a stream, never whole: `records` cuts it into records (a CSV record ends
at a newline outside quotes; a JSON Lines record at every newline) and says where each
starts and ends, so a chunk can later be read again by byte range alone. A record longer
than `MAX_ROW_BYTES` is reported without its bytes being kept. Nothing here decompresses
anything: a gzip file is refused as binary, so a gzip bomb is never inflated.

What the file as a whole gets wrong (empty, binary, the other format here; unknown columns
in `rows.read_header`; too many rows or none in `chunks.plan`) raises `FileRefused` with the
API's problem. One row's values are read in `rows.py`; a file is cut into chunks in
`chunks.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from catalog.core.errors import BadRequest, CatalogError, UnsupportedMediaType

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


class FileRefused(Exception):
    """The file as a whole cannot be imported; `problem` says why (nothing is written)."""

    def __init__(self, problem: CatalogError) -> None:
        super().__init__(problem.detail)
        self.problem = problem


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
