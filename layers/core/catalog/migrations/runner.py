"""Runs migrations: checks everything first (so bad input writes nothing), takes the lease,
then steps each pending migration over a segmented scan, checkpointing every page."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from catalog.core import aws
from catalog.core.settings import settings
from catalog.migrations import registry, scan, state
from catalog.migrations.apply import Direction, apply_step
from catalog.migrations.errors import MigrationError
from catalog.migrations.registry import Migration
from catalog.migrations.state import Lease, Record


@dataclass(frozen=True)
class ProgressEvent:
    """Where one migration's run stands (counts include earlier, interrupted runs)."""

    migration_id: str
    direction: Direction
    scanned: int
    changed: int
    total: int | None  # items in the table, as DynamoDB last counted them (approximate)


@dataclass(frozen=True)
class RunResult:
    done: bool  # nothing pending up to the target
    applied: tuple[str, ...]  # finished by this call (by `downgrade`: reverted)
    pending: tuple[str, ...]
    scanned: int
    changed: int


@dataclass(frozen=True)
class MigrationStatus:
    id: str
    description: str
    state: str  # "applied" | "pending" | "running"
    checksum: str  # of the module as it is now
    started_at: str | None
    finished_at: str | None
    scanned: int
    changed: int
    runner: str | None
    edited: bool = False  # applied, but the module changed since (upgrade refuses to run)


Progress = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class _Table:
    client: Any
    name: str
    item_count: int | None


def _table() -> _Table:
    try:
        name = settings().table_name("products")
    except RuntimeError as error:
        raise MigrationError(
            f"{error}: name the products table (or use the CLI's --stage)"
        ) from None
    client = aws.client("dynamodb")
    try:
        described = client.describe_table(TableName=name)["Table"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            raise MigrationError(
                f"table {name} does not exist: start the local stack (make run) or choose "
                "the stage or endpoint where it is deployed"
            ) from None
        raise
    return _Table(client, name, described.get("ItemCount"))


def _records(table: _Table, migrations: list[Migration]) -> dict[int, Record]:
    """The records of the known migrations; MigrationError when the table has a newer one
    or a known one was edited after it was applied."""
    found = {}
    for migration in migrations:
        record = state.read_record(table.client, table.name, migration.number)
        if record is not None:
            found[migration.number] = record
    newer = state.read_record(table.client, table.name, len(migrations) + 1)
    if newer is not None:
        raise MigrationError(
            f"the table has migration {newer.id}, which this code does not have: "
            "run the code that has it (or a newer one)"
        )
    for number, record in found.items():
        migration = migrations[number - 1]
        if record.checksum != migration.checksum:
            raise MigrationError(
                f"migration {migration.id} was edited after it was applied (its checksum "
                "differs from the table's record): restore it "
                "(git checkout) and put the change in a new migration"
            )
    return found


def _finished(record: Record | None) -> bool:
    return record is not None and record.finished_at is not None and not record.reverting


class _Run:
    """One migration in one direction, under the lease: its record is the checkpoint."""

    def __init__(
        self,
        table: _Table,
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


def _run_all(
    table: _Table,
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
            run = _Run(table, lease, migration, direction, record, progress, deadline)
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


def upgrade(
    *,
    runner: str,
    to: str | None = None,
    dry_run: bool = False,
    deadline: float | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Apply the pending migrations (up to `to`, an id or its number), in order."""
    migrations = registry.discover()
    limit = registry.resolve(migrations, to) if to is not None else len(migrations)
    table = _table()
    records = _records(table, migrations)
    plan = [(m, records.get(m.number)) for m in migrations[:limit]]
    pending = [(m, r) for m, r in plan if not _finished(r)]
    return _run_all(
        table,
        pending,
        "up",
        runner=runner,
        dry_run=dry_run,
        deadline=deadline,
        progress=progress,
    )


def downgrade(
    *,
    runner: str,
    to: str,
    dry_run: bool = False,
    deadline: float | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Revert the applied migrations after `to` (newest first), each by its backward step;
    refused (nothing written) unless every one of them has a backward step."""
    migrations = registry.discover()
    keep = registry.resolve(migrations, to)
    table = _table()
    records = _records(table, migrations)
    plan = [(m, records[m.number]) for m in reversed(migrations[keep:]) if m.number in records]
    missing = [m.id for m, _ in plan if m.backward is None]
    if missing:
        raise MigrationError(
            f"cannot go down to {to}: {', '.join(missing)} has no backward step; "
            "write a new migration that undoes the change instead"
        )
    return _run_all(
        table,
        plan,
        "down",
        runner=runner,
        dry_run=dry_run,
        deadline=deadline,
        progress=progress,
    )


def status() -> list[MigrationStatus]:
    """Each known migration and where it stands in the table."""
    migrations = registry.discover()
    table = _table()
    found = {
        m.number: record
        for m in migrations
        if (record := state.read_record(table.client, table.name, m.number)) is not None
    }
    statuses = []
    for migration in migrations:
        record = found.get(migration.number)
        if record is None:
            label = "pending"
        elif _finished(record):
            label = "applied"
        else:
            label = "running"
        statuses.append(
            MigrationStatus(
                id=migration.id,
                description=migration.description,
                state=label,
                checksum=migration.checksum,
                started_at=record.started_at if record else None,
                finished_at=record.finished_at if record else None,
                scanned=record.scanned if record else 0,
                changed=record.changed if record else 0,
                runner=record.runner if record else None,
                edited=record is not None and record.checksum != migration.checksum,
            )
        )
    return statuses
