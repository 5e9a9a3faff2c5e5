"""The products table as a migration run sees it: its client, name and approximate item
count, and the records of the known migrations, read and checked before anything is
written (a table ahead of the code, or an applied migration edited since, is refused)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from catalog.core import aws
from catalog.core.settings import settings
from catalog.migrations import state
from catalog.migrations.errors import MigrationError
from catalog.migrations.registry import Migration
from catalog.migrations.state import Record


@dataclass(frozen=True)
class Table:
    client: Any
    name: str
    item_count: int | None


def products_table() -> Table:
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
    return Table(client, name, described.get("ItemCount"))


def read_records(table: Table, migrations: list[Migration]) -> dict[int, Record]:
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


def is_finished(record: Record | None) -> bool:
    return record is not None and record.finished_at is not None and not record.reverting
