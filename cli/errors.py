"""How a command refuses: one line on stderr that says what to do, exit status 1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class Refused(Exception):
    """Bad input or an unusable target, told in one line."""


@contextmanager
def one_line_errors(endpoint: Callable[[], Any] = lambda: None) -> Iterator[None]:
    """Turn the errors an operator can act on into one line and exit status 1."""
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError

    from catalog.migrations import MigrationError

    try:
        yield
    except (Refused, MigrationError) as error:
        fail(str(error))
    except EndpointConnectionError:
        fail(
            f"cannot reach DynamoDB at {endpoint() or 'AWS'}: start the local stack "
            "(make run), or pass --endpoint or --stage"
        )
    except NoCredentialsError:
        fail("no AWS credentials: configure them (aws configure, AWS_PROFILE) for --stage")


def fail(message: str) -> None:
    stderr.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(1)
