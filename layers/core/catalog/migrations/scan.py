"""A parallel segmented Scan that checkpoints each segment after every page, so a run that
stops (a deadline, a crash, a failing item) resumes where each segment stopped.

Generic: it knows nothing of migrations. The caller handles each page and saves each
checkpoint (the migration runner saves them in its record; an export could too).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

PAGE_SIZE = 1000  # items read per Scan page (DynamoDB stops at 1 MB): one checkpoint each
SEGMENTS = 4  # parallel segments (threads) of a new scan


@dataclass
class SegmentState:
    key: dict[str, Any] | None = None  # resume after this LastEvaluatedKey (None: the start)
    done: bool = False


@dataclass(frozen=True)
class Page:
    segment: int
    items: list[dict[str, Any]]  # as DynamoDB returns them (attribute-value JSON)
    scanned: int  # items the page read (before the filter)
    next_key: dict[str, Any] | None  # where this segment resumes (None: it is finished)


@dataclass(frozen=True)
class ScanFilter:
    expression: str
    names: dict[str, str]
    values: dict[str, Any]


def kinds_filter(kinds: tuple[str, ...]) -> ScanFilter:
    """Only items whose `kind` is one of `kinds`."""
    placeholders = [f":k{n}" for n in range(len(kinds))]
    return ScanFilter(
        f"#kind IN ({', '.join(placeholders)})",
        {"#kind": "kind"},
        {p: {"S": kind} for p, kind in zip(placeholders, kinds, strict=True)},
    )


def scan_segments(
    client: Any,
    table: str,
    segments: dict[int, SegmentState],
    *,
    handle: Callable[[Page], None],
    should_stop: Callable[[], bool] = lambda: False,
    scan_filter: ScanFilter | None = None,
    page_size: int | None = None,
) -> bool:
    """Scan each unfinished segment of `segments` (keys: segment numbers of a scan in
    len(segments) parts) in its own thread, calling `handle(page)` for every page, then
    moving the segment's state on. Returns whether every segment finished; stops early
    (between pages) when `should_stop()` says so or a `handle` raised (re-raised here)."""
    failed = threading.Event()
    limit = page_size or PAGE_SIZE

    def run(number: int) -> None:
        try:
            scan_one(number)
        except BaseException:
            failed.set()  # the other segments stop at their next page
            raise

    def scan_one(number: int) -> None:
        state = segments[number]
        while not state.done and not failed.is_set() and not should_stop():
            request: dict[str, Any] = {
                "TableName": table,
                "Segment": number,
                "TotalSegments": len(segments),
                "Limit": limit,
                "ConsistentRead": True,
            }
            if state.key is not None:
                request["ExclusiveStartKey"] = state.key
            if scan_filter is not None:
                request["FilterExpression"] = scan_filter.expression
                request["ExpressionAttributeNames"] = scan_filter.names
                request["ExpressionAttributeValues"] = scan_filter.values
            answer = client.scan(**request)
            page = Page(
                number, answer["Items"], answer["ScannedCount"], answer.get("LastEvaluatedKey")
            )
            handle(page)
            state.key, state.done = page.next_key, page.next_key is None

    with ThreadPoolExecutor(max_workers=len(segments)) as pool:
        futures = [pool.submit(run, n) for n, s in sorted(segments.items()) if not s.done]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]  # type: ignore[misc]
    return all(state.done for state in segments.values())
