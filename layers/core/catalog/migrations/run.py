"""Running migrations under the lease: one migration in one direction over a segmented
scan, its record the checkpoint of every page (`MigrationRun`), and a planned sequence of
them, in order, under one lease (`run_all`)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

from catalog.migrations import scan, state
from catalog.migrations.apply import Direction, apply_step
from catalog.migrations.errors import MigrationError
from catalog.migrations.registry import Migration
from catalog.migrations.results import Progress, ProgressEvent, RunResult
from catalog.migrations.state import Lease, Record
from catalog.migrations.table import Table


class MigrationRun:
    """One migration in one direction, under the lease: its record is the checkpoint."""

    def __init__(
        self,
        table: Table,
        lease: Lease | None,
        migration: Migration,
        direction: Direction,
        record: Record | None,
        progress: Progress | None,
        deadline: float | None,
    ) -> None:
        self.table, self.lease, self.migration = table, lease, migration
        self.direction, self.progress, self.deadline = direction, progress, deadline
        self.key = state.record_key(migration.number)
        self.lock = threading.Lock()
        resuming = (
            lease is not None  # a dry run counts over the whole table
            and record is not None
            and bool(record.segments)
            and record.reverting == (direction == "down")
        )
        self.scanned = record.scanned if resuming and record else 0
        self.changed = record.changed if resuming and record else 0
        if resuming and record:
            self.segments = {
                int(n): scan.SegmentState(json.loads(s["key"]) if s["key"] else None, s["done"])
                for n, s in record.segments.items()
            }
        else:
            self.segments = {n: scan.SegmentState() for n in range(scan.SEGMENTS)}
            if lease is not None:
                self._start(record)

    def _start(self, record: Record | None) -> None:
        assert self.lease is not None
        if self.direction == "down" and record is None:
            raise MigrationError(f"migration {self.migration.id} is not applied: nothing to revert")
        values: dict[str, Any] = {
            "id": {"S": self.migration.id},
            "kind": {"S": state.KIND},
            "segments": {"M": {str(n): state.checkpoint_value(None, False) for n in self.segments}},
            "total_segments": {"N": str(len(self.segments))},
            "scanned": {"N": "0"},
            "changed": {"N": "0"},
            "reverting": {"BOOL": self.direction == "down"},
            "runner": {"S": self.lease.runner},
        }
        remove = []
        if self.direction == "up":
            values["checksum"] = {"S": self.migration.checksum}
            values["description"] = {"S": self.migration.description}
            values["started_at"] = {"S": state.iso(time.time())}
            remove.append("finished_at")
        self.lease.write_with_renewal(
            state.set_attributes(self.table.name, self.key, values, remove)
        )

    def _event(self) -> None:
        if self.progress is not None:
            self.progress(
                ProgressEvent(
                    self.migration.id,
                    self.direction,
                    self.scanned,
                    self.changed,
                    self.table.item_count,
                )
            )

    def _handle(self, page: scan.Page) -> None:
        changed = sum(
            apply_step(
                self.table.client,
                self.table.name,
                self.migration,
                raw,
                self.direction,
                dry_run=self.lease is None,
            )
            for raw in page.items
        )
        with self.lock:
            self.scanned += page.scanned
            self.changed += changed
            if self.lease is not None:
                self.lease.write_with_renewal(
                    {
                        "TableName": self.table.name,
                        "Key": self.key,
                        "UpdateExpression": "SET #segments.#s = :cp, #runner = :runner "
                        "ADD #scanned :scanned, #changed :changed",
                        "ExpressionAttributeNames": {
                            "#s": str(page.segment),
                            "#segments": "segments",
                            "#runner": "runner",
                            "#scanned": "scanned",
                            "#changed": "changed",
                        },
                        "ExpressionAttributeValues": {
                            ":cp": state.checkpoint_value(page.next_key, page.next_key is None),
                            ":runner": {"S": self.lease.runner},
                            ":scanned": {"N": str(page.scanned)},
                            ":changed": {"N": str(changed)},
                        },
                    }
                )
            self._event()

    def run(self) -> bool:
        """Step every item; whether the migration finished (False: the deadline came)."""
        self._event()
        finished = scan.scan_segments(
            self.table.client,
            self.table.name,
            self.segments,
            handle=self._handle,
            should_stop=lambda: self.deadline is not None and time.time() >= self.deadline,
            scan_filter=scan.kinds_filter(self.migration.kinds),
        )
        if finished and self.lease is not None:
            self._finish()
        return finished

    def _finish(self) -> None:
        assert self.lease is not None
        if self.direction == "down":
            self.lease.write_with_delete(self.key)
            return
        finished = {"finished_at": {"S": state.iso(time.time())}}
        self.lease.write_with_renewal(
            state.set_attributes(self.table.name, self.key, finished, ["segments"])
        )


def run_all(
    table: Table,
    plan: Sequence[tuple[Migration, Record | None]],
    direction: Direction,
    *,
    runner: str,
    dry_run: bool,
    deadline: float | None,
    progress: Progress | None,
) -> RunResult:
    ids = [m.id for m, _ in plan]
    if not plan:
        return RunResult(True, (), (), 0, 0)
    lease = None if dry_run else Lease(table.client, table.name, runner)
    finished: list[str] = []
    scanned = changed = 0
    if lease is not None:
        lease.acquire()
    try:
        for migration, record in plan:
            run = MigrationRun(table, lease, migration, direction, record, progress, deadline)
            before = (run.scanned, run.changed)
            complete = run.run()
            scanned += run.scanned - before[0]
            changed += run.changed - before[1]
            if not complete:
                break
            finished.append(migration.id)
    finally:
        if lease is not None:
            lease.release()
    if dry_run:
        return RunResult(False, (), tuple(ids), scanned, changed)
    pending = tuple(i for i in ids if i not in finished)
    return RunResult(not pending, tuple(finished), pending, scanned, changed)
