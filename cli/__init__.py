"""The operator's command line: `python -m cli` (or `catalog`, which `make setup` installs in
.venv). One Typer app with a sub-app per area (`migrate` today; catalog login, import and
export can join it the same way). Not shipped in any Lambda layer."""

from __future__ import annotations

import typer

from cli import migrate

app = typer.Typer(
    help="Operate a serverless catalog: its data migrations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(migrate.app, name="migrate")
