"""What a migration run reports: where a migration's run stands (progress events), what a
call of `upgrade` or `downgrade` did, and where each migration stands in the table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from catalog.migrations.apply import Direction


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
