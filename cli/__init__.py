"""The command line: `python -m cli` (or `catalog`, which `make setup` installs in .venv).
One Typer app: the API's users sign in, read products and run exports and imports
(`login`, `products`, `export`, `import`, `exports`, `imports`: over HTTP, against the
local stack by default or `--api URL`); operators run the data migrations (`migrate`,
straight on the table) and restore tables (`restore`). Not shipped in any Lambda layer."""

from __future__ import annotations

import typer

from cli import jobs, migrate, products, restore, session

app = typer.Typer(
    help="Use and operate a serverless catalog: sign in, products, exports, imports, "
    "data migrations, restores.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(session.login)
app.command()(session.logout)
app.add_typer(products.app, name="products")
app.command("export")(jobs.export)
app.command("import")(jobs.import_file)
app.add_typer(jobs.exports_app, name="exports")
app.add_typer(jobs.imports_app, name="imports")
app.add_typer(migrate.app, name="migrate")
app.command("restore")(restore.restore)
