"""One item through one step: conditioned on what was read, so nothing newer is overwritten.

The write of the scanned item itself carries the condition: it still exists, its
`schema_version` is the one read (absent stays absent) and, where it has one, so is its
`version`. The step's other writes (a product's copies, say) go in the same transaction.
A failed condition means the API wrote the item meanwhile: it is read again and, if still
at an old version, stepped again; an item at the migration's version is left alone, so a
rerun touches nothing already migrated.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from catalog.migrations.errors import MigrationFailed
from catalog.migrations.model import Delete, Item, Put, Step, Update, Write, key_of, write_key
from catalog.migrations.registry import Migration

Direction = Literal["up", "down"]
MAX_ATTEMPTS = 5  # re-reads of an item the API keeps changing under the step
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_python(raw: dict[str, Any]) -> Item:
    return {name: _deserializer.deserialize(value) for name, value in raw.items()}


def to_dynamo(item: Any) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def stored_version(item: Item) -> int:
    return int(item.get("schema_version", 0))


def wanted(migration: Migration, item: Item, direction: Direction) -> bool:
    """Whether `item` is one the step must still change (up: below the migration's
    version; down: at it)."""
    version = stored_version(item)
    return version < migration.number if direction == "up" else version == migration.number


def _check_primary(migration: Migration, item: Item, writes: Sequence[Write], up: bool) -> None:
    """The step must write the scanned item, leaving it at the right version: otherwise a
    rerun would step it again."""
    own = [w for w in writes if write_key(w) == key_of(item)]
    if len(own) != 1:
        raise ValueError("the step must write the item it was given exactly once")
    write = own[0]
    if isinstance(write, Delete):
        return
    written = write.item if isinstance(write, Put) else write.set
    version = written.get("schema_version")
    if isinstance(write, Update) and "schema_version" in write.remove:
        version = 0
    if version is None and isinstance(write, Put):
        version = 0
    if up and version != migration.number:
        raise ValueError(f"the step must set the item's schema_version to {migration.number}")
    if not up and (version is None or int(version) >= migration.number):
        raise ValueError(f"the backward step must set schema_version below {migration.number}")


class TableReader:
    """The reads a step may make: counts of index partitions (eventually consistent, as
    every read of a global secondary index is)."""

    def __init__(self, client: Any, table: str) -> None:
        self.client, self.table = client, table

    def count(self, index: str, partition_key: str, value: str) -> int:
        total, start = 0, None
        while True:
            request: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": index,
                "KeyConditionExpression": "#k = :v",
                "ExpressionAttributeNames": {"#k": partition_key},
                "ExpressionAttributeValues": {":v": {"S": value}},
                "Select": "COUNT",
            }
            if start is not None:
                request["ExclusiveStartKey"] = start
            answer = self.client.query(**request)
            total += int(answer["Count"])
            start = answer.get("LastEvaluatedKey")
            if start is None:
                return total


def _condition(item: Item, expect: Mapping[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    parts = ["attribute_exists(#c_pk)"]
    names = {"#c_pk": "pk", "#c_sv": "schema_version"}
    values: dict[str, Any] = {}
    for n, (name, value) in enumerate(expect.items()):
        names[f"#c_e{n}"] = name
        if value is None:
            parts.append(f"attribute_not_exists(#c_e{n})")
        else:
            parts.append(f"#c_e{n} = :c_e{n}")
            values[f":c_e{n}"] = _serializer.serialize(value)
    if "schema_version" in item:
        parts.append("#c_sv = :c_sv")
        values[":c_sv"] = _serializer.serialize(item["schema_version"])
    else:
        parts.append("attribute_not_exists(#c_sv)")
    if "version" in item:
        parts.append("#c_v = :c_v")
        names["#c_v"] = "version"
        values[":c_v"] = _serializer.serialize(item["version"])
    return " AND ".join(parts), names, values


def _operation(table: str, write: Write) -> tuple[str, dict[str, Any]]:
    """The TransactWriteItems operation for `write` (its name and body)."""
    if isinstance(write, Put):
        return "Put", {"TableName": table, "Item": to_dynamo(write.item)}
    if isinstance(write, Delete):
        return "Delete", {"TableName": table, "Key": to_dynamo(write.key)}
    names = {f"#u{n}": name for n, name in enumerate([*write.set, *write.remove])}
    sets = [f"#u{n} = :u{n}" for n in range(len(write.set))]
    removes = [f"#u{n}" for n in range(len(write.set), len(names))]
    expression = " ".join(
        part
        for part in (
            f"SET {', '.join(sets)}" if sets else "",
            f"REMOVE {', '.join(removes)}" if removes else "",
        )
        if part
    )
    body: dict[str, Any] = {
        "TableName": table,
        "Key": to_dynamo(write.key),
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
    }
    if sets:
        body["ExpressionAttributeValues"] = {
            f":u{n}": _serializer.serialize(value) for n, value in enumerate(write.set.values())
        }
    return "Update", body


def _conditioned(item: Item, write: Write, operation: dict[str, Any]) -> dict[str, Any]:
    expression, names, values = _condition(item, write.expect if isinstance(write, Update) else {})
    conditioned = {**operation, "ConditionExpression": expression}
    conditioned["ExpressionAttributeNames"] = {
        **operation.get("ExpressionAttributeNames", {}),
        **names,
    }
    if values or "ExpressionAttributeValues" in operation:
        conditioned["ExpressionAttributeValues"] = {
            **operation.get("ExpressionAttributeValues", {}),
            **values,
        }
    return conditioned


_SINGLE = {"Put": "put_item", "Delete": "delete_item", "Update": "update_item"}


def _write(client: Any, table: str, item: Item, writes: Sequence[Write]) -> bool:
    """Send `writes` with the condition on the item's own write; False when it failed."""
    operations = []
    for write in writes:
        kind, body = _operation(table, write)
        if write_key(write) == key_of(item):
            body = _conditioned(item, write, body)
        operations.append((kind, body))
    try:
        if len(operations) == 1:
            kind, body = operations[0]
            getattr(client, _SINGLE[kind])(**body)
        else:
            client.transact_write_items(TransactItems=[{k: b} for k, b in operations])
    except ClientError as error:
        code = error.response["Error"]["Code"]
        reasons = error.response.get("CancellationReasons", [])
        if code == "ConditionalCheckFailedException" or any(
            r.get("Code") == "ConditionalCheckFailed" for r in reasons
        ):
            return False
        raise
    return True


def _reads(step: Step) -> bool:
    """Whether the step takes a Reader after the item."""
    return len(inspect.signature(step).parameters) > 1


def _reread(client: Any, table: str, item: Item) -> Item | None:
    raw = client.get_item(TableName=table, Key=to_dynamo(key_of(item)), ConsistentRead=True)
    return to_python(raw["Item"]) if "Item" in raw else None


def apply_step(
    client: Any,
    table: str,
    migration: Migration,
    raw: dict[str, Any],
    direction: Direction,
    *,
    dry_run: bool = False,
) -> bool:
    """Step one scanned item (DynamoDB JSON); whether it changed (or would, in a dry run).
    MigrationFailed, with the item's key, when the step or its write fails."""
    item: Item | None = to_python(raw)
    step = migration.forward if direction == "up" else migration.backward
    assert step is not None
    key = key_of(raw)
    try:
        for _ in range(MAX_ATTEMPTS):
            if item is None or not wanted(migration, item, direction):
                return False
            writes = list(step(item, TableReader(client, table)) if _reads(step) else step(item))
            if not writes:
                return False
            _check_primary(migration, item, writes, up=direction == "up")
            if dry_run or _write(client, table, item, writes):
                return True
            item = _reread(client, table, item)
        raise RuntimeError(f"the item kept changing under the step ({MAX_ATTEMPTS} attempts)")
    except Exception as error:
        plain_key = {name: next(iter(value.values())) for name, value in key.items()}
        raise MigrationFailed(
            migration.id, plain_key, f"{type(error).__name__}: {error}"
        ) from error
