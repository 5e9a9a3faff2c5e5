"""The CLI's one progress bar, as the migration and job commands show it."""

from __future__ import annotations

import io

from rich.console import Console

from cli.progress import progress_bar


def shown(unit: str, detail: str, **fields: int) -> str:
    out = io.StringIO()
    console = Console(file=out, width=160, force_terminal=False, color_system=None)
    with progress_bar(console, unit, detail) as progress:
        task = progress.add_task("importing", total=10, **fields)
        progress.update(task, completed=4)
    return out.getvalue()


def test_the_bar_shows_what_is_done_of_the_total_in_its_unit() -> None:
    # When an import has done 4 of its 10 rows
    text = shown("rows", "")
    # Then its bar says so, in rows, under the job's description
    assert "importing" in text
    assert "4/10 rows" in text


def test_a_migration_bar_also_shows_how_many_items_changed() -> None:
    # When a migration has scanned 4 of 10 items and changed 3
    text = shown("items", " scanned, {task.fields[changed]} changed", changed=3)
    # Then its bar shows both counts
    assert "4/10 items scanned, 3 changed" in text
