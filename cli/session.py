"""`login` and `logout`: the user's tokens for one API, kept in their config directory."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from cli.client import Api, Client, credentials_path, forget_tokens
from cli.errors import one_line_errors

console = Console(highlight=False)


def login(
    email: Annotated[str, typer.Option("--email", prompt=True, help="Your account's email.")],
    password: Annotated[
        str,
        typer.Option(
            "--password",
            prompt=True,
            hide_input=True,
            envvar="CATALOG_PASSWORD",
            help="Asked for when not given (or CATALOG_PASSWORD).",
            show_default=False,
        ),
    ],
    api: Api = None,
) -> None:
    """Sign in; the tokens are kept for the next commands (mode 0600, never printed)."""
    with one_line_errors():
        client = Client.of(api)
        client.login(email, password)
        console.print(f"signed in to {client.base} as {email} (tokens in {credentials_path()})")


def logout(api: Api = None) -> None:
    """Forget this API's tokens (on this machine; `POST /v1/auth/logout` ends every session)."""
    with one_line_errors():
        client = Client.of(api)
        forgotten = forget_tokens(client.base)
        console.print(f"signed out of {client.base}" if forgotten else "was not signed in")
