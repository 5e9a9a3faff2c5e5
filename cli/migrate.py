"""`migrate status | up [--to ID] [--dry-run] | down --to ID | new NAME`: the data
migrations of catalog.migrations, with a progress bar for long runs."""

from __future__ import annotations

import getpass
import os
import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TaskID
from rich.table import Table as RichTable

from cli.errors import one_line_errors
from cli.progress import progress_bar
from cli.target import Endpoint, Stage, Table, Target, select

app = typer.Typer(help="Data migrations: versioned, resumable changes to stored items.")
console = Console(highlight=False)

To = Annotated[str | None, typer.Option("--to", help="Stop after this migration (id or number).")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Count what would change; write nothing.")]

SKELETON = '''"""{description}."""

from __future__ import annotations

from catalog.migrations.model import Item, Write

DESCRIPTION = "{description}"
# The `kind`s of the items the steps are given (product, tag, word, sku, category).
KINDS = ("product",)


def forward(item: Item) -> list[Write]:
    """The writes that bring `item` to schema_version {number}: Put, Update and Delete of
    catalog.migrations.model, the item's own write among them, setting schema_version, e.g.
    `[Update(key_of(item), set={{"schema_version": {number}}})]`. Pure: no reads, no clock;
    an empty list leaves the item as it is. Then raise SCHEMA_VERSION where the code writes
    these items."""
    raise NotImplementedError("write the forward step")


# Optional: without it, `migrate down` refuses to go below {number}. Its writes leave the
# item at schema_version {previous}.
# def backward(item: Item) -> list[Write]:
#     ...
'''


def runner_name() -> str:
    return f"cli:{getpass.getuser()}@{socket.gethostname()}:{os.getpid()}"


def _target(stage: str, endpoint: str | None, table: str | None) -> Target:
    with one_line_errors(lambda: endpoint):
        return select(stage, endpoint, table)


class Bar:
    """A rich progress bar per migration: items scanned (of the table's approximate
    count), changed, rate and time left."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, event: object) -> None:
        from catalog.migrations import ProgressEvent

        assert isinstance(event, ProgressEvent)
        if event.migration_id not in self.tasks:
            label = f"{event.direction} {event.migration_id}"
            self.tasks[event.migration_id] = self.progress.add_task(
                label, total=event.total or None, changed=0
            )
        task = self.tasks[event.migration_id]
        total = max(event.total or 0, event.scanned) or None  # the count is approximate
        self.progress.update(task, completed=event.scanned, total=total, changed=event.changed)


def _progress() -> Progress:
    return progress_bar(console, "items", " scanned, {task.fields[changed]} changed")


def _report(verb: str, result: object, target: Target, dry_run: bool) -> None:
    from catalog.migrations import RunResult

    assert isinstance(result, RunResult)
    if dry_run:
        console.print(
            f"dry run on {escape(target.describe())}: {', '.join(result.pending) or 'nothing'} "
            f"would change {result.changed} of {result.scanned} items scanned; nothing written"
        )
    elif result.applied:
        console.print(
            f"{verb} {', '.join(result.applied)} on {escape(target.describe())}: "
            f"{result.changed} items changed of {result.scanned} scanned"
        )
    else:
        console.print(f"nothing to do on {escape(target.describe())}")
    if not result.done and not dry_run:
        console.print(f"stopped before finishing: {', '.join(result.pending)} (run again)")


@app.command()
def status(stage: Stage = "local", endpoint: Endpoint = None, table: Table = None) -> None:
    """Each migration and where the table stands."""
    target = _target(stage, endpoint, table)
    with one_line_errors(lambda: target.endpoint):
        from catalog.migrations import status as read_status

        statuses = read_status()
    view = RichTable(title=f"migrations of {escape(target.describe())}")
    for column in ("id", "state", "description", "finished", "scanned", "changed", "runner"):
        view.add_column(column, no_wrap=column in ("id", "state"))
    for entry in statuses:
        state = entry.state + (" [red](edited since)[/red]" if entry.edited else "")
        view.add_row(
            entry.id,
            state,
            escape(entry.description),
            entry.finished_at or "",
            str(entry.scanned),
            str(entry.changed),
            escape(entry.runner or ""),
        )
    console.print(view)


@app.command()
def up(
    to: To = None,
    dry_run: DryRun = False,
    stage: Stage = "local",
    endpoint: Endpoint = None,
    table: Table = None,
) -> None:
    """Apply the pending migrations, in order (resuming one that stopped)."""
    target = _target(stage, endpoint, table)
    with one_line_errors(lambda: target.endpoint), _progress() as progress:
        from catalog.migrations import upgrade

        result = upgrade(runner=runner_name(), to=to, dry_run=dry_run, progress=Bar(progress))
    _report("applied", result, target, dry_run)


@app.command()
def down(
    to: Annotated[str, typer.Option("--to", help="The migration to go back to (0000: all).")],
    dry_run: DryRun = False,
    stage: Stage = "local",
    endpoint: Endpoint = None,
    table: Table = None,
) -> None:
    """Revert the migrations after --to, newest first, by their backward steps (refused
    unless each has one)."""
    target = _target(stage, endpoint, table)
    with one_line_errors(lambda: target.endpoint), _progress() as progress:
        from catalog.migrations import downgrade

        result = downgrade(runner=runner_name(), to=to, dry_run=dry_run, progress=Bar(progress))
    _report("reverted", result, target, dry_run)


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="What it does, e.g. 'price cents'.")],
) -> None:
    """Write the skeleton of the next numbered migration."""
    from catalog.migrations import registry

    with one_line_errors():
        path: Path = registry.next_path(name)
    number = int(path.name[:4])
    description = name.strip().capitalize()
    path.write_text(
        SKELETON.format(
            description=description.replace('"', "'"), number=number, previous=number - 1
        )
    )
    console.print(f"wrote {path}: write its steps, then test them (README, Migrations)")
