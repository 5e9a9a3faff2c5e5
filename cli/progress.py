"""The one progress bar of the CLI's long commands (migrations, imports, exports): what
is done of how many (the total may be unknown or approximate), the rate, time spent and
time left, on the console the command reports progress on."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Units done per second, once rich has seen some progress."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} {self.unit}/s" if task.speed else "")


def progress_bar(console: Console, unit: str, detail: str = "") -> Progress:
    """A bar per task: its description, done of total `unit` (then `detail`, a rich format
    string over the task, e.g. ", {task.fields[changed]} changed"), rate, elapsed, left."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit + detail),
        RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
