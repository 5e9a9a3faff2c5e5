"""Runs migrations: checks everything first (so bad input writes nothing), takes the lease,
then steps each pending migration over a segmented scan, checkpointing every page.

`upgrade`, `downgrade` and `status` plan here; `table.py` reads and checks the table's
records, `run.py` runs the plan under the lease, `results.py` holds what they report.
"""

from __future__ import annotations

from catalog.migrations import registry, state
from catalog.migrations.errors import MigrationError
from catalog.migrations.results import MigrationStatus, Progress, RunResult
from catalog.migrations.run import run_all
from catalog.migrations.table import is_finished, products_table, read_records


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
    table = products_table()
    records = read_records(table, migrations)
    plan = [(m, records.get(m.number)) for m in migrations[:limit]]
    pending = [(m, r) for m, r in plan if not is_finished(r)]
    return run_all(
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
    table = products_table()
    records = read_records(table, migrations)
    plan = [(m, records[m.number]) for m in reversed(migrations[keep:]) if m.number in records]
    missing = [m.id for m, _ in plan if m.backward is None]
    if missing:
        raise MigrationError(
            f"cannot go down to {to}: {', '.join(missing)} has no backward step; "
            "write a new migration that undoes the change instead"
        )
    return run_all(
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
    table = products_table()
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
        elif is_finished(record):
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
