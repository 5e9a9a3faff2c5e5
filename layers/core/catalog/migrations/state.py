"""Migration state in the products table: one record per applied (or running) migration,
and the lease that lets one runner work at a time.

Record: `pk=MIGRATION#<NNNN>, sk=RECORD` (checksum, times, counts, runner, and while it runs
the scan checkpoint of each segment). Lease: `pk=MIGRATION#LEASE, sk=LEASE` (holder and
expiry): taken by a conditional write that succeeds only when there is none, it expired, or
it is ours; renewed with every checkpoint, in the same transaction, so a runner that lost it
cannot record progress. A dead runner's lease simply expires.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from catalog.migrations.errors import LeaseHeld, LeaseLost

LEASE_SECONDS = 60.0  # how long a silent runner keeps the lease (checkpoints renew it)
LEASE_KEY = {"pk": {"S": "MIGRATION#LEASE"}, "sk": {"S": "LEASE"}}
KIND = "migration"


def record_key(number: int) -> dict[str, Any]:
    """Keyed by number, so that a record of a migration this code does not know (a newer
    one) is found by reading the number after the last known one."""
    return {"pk": {"S": f"MIGRATION#{number:04d}"}, "sk": {"S": "RECORD"}}


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _failed_condition(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in (
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
    )


@dataclass(frozen=True)
class Record:
    id: str
    checksum: str
    started_at: str
    finished_at: str | None
    scanned: int
    changed: int
    runner: str
    segments: dict[str, dict[str, Any]]  # per segment: {"key": json or None, "done": bool}
    total_segments: int
    reverting: bool  # a `down` run is under way (its checkpoints are in `segments`)


def _record(raw: dict[str, Any]) -> Record:
    segments = {
        name: {
            "key": value["M"].get("key", {}).get("S"),
            "done": value["M"]["done"]["BOOL"],
        }
        for name, value in raw.get("segments", {}).get("M", {}).items()
    }
    return Record(
        id=raw["id"]["S"],
        checksum=raw["checksum"]["S"],
        started_at=raw["started_at"]["S"],
        finished_at=raw.get("finished_at", {}).get("S"),
        scanned=int(raw.get("scanned", {}).get("N", "0")),
        changed=int(raw.get("changed", {}).get("N", "0")),
        runner=raw["runner"]["S"],
        segments=segments,
        total_segments=int(raw.get("total_segments", {}).get("N", "0")),
        reverting=raw.get("reverting", {}).get("BOOL", False),
    )


def read_record(client: Any, table: str, number: int) -> Record | None:
    raw = client.get_item(TableName=table, Key=record_key(number), ConsistentRead=True)
    return _record(raw["Item"]) if "Item" in raw else None


def checkpoint_value(key: dict[str, Any] | None, done: bool) -> dict[str, Any]:
    value: dict[str, Any] = {"done": {"BOOL": done}}
    if key is not None:
        value["key"] = {"S": json.dumps(key, sort_keys=True)}
    return {"M": value}


def set_attributes(
    table: str, key: dict[str, Any], values: dict[str, Any], remove: list[str]
) -> dict[str, Any]:
    """A TransactWriteItems Update setting `values` and removing `remove` (every name a
    placeholder: several are DynamoDB reserved words)."""
    names = {f"#a{n}": name for n, name in enumerate([*values, *remove])}
    sets = [f"#a{n} = :a{n}" for n in range(len(values))]
    removes = [f"#a{n}" for n in range(len(values), len(names))]
    expression = f"SET {', '.join(sets)}" + (f" REMOVE {', '.join(removes)}" if removes else "")
    return {
        "TableName": table,
        "Key": key,
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {f":a{n}": v for n, v in enumerate(values.values())},
    }


class Lease:
    """The one runner's lease: acquire, renew alongside a record update, release."""

    def __init__(self, client: Any, table: str, runner: str) -> None:
        self.client = client
        self.table = table
        self.runner = runner

    def acquire(self) -> None:
        now = time.time()
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    **LEASE_KEY,
                    "kind": {"S": KIND},
                    "holder": {"S": self.runner},
                    "acquired_at": {"S": iso(now)},
                    "expires_at": {"N": f"{now + LEASE_SECONDS:.3f}"},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR holder = :me",
                ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}, ":me": {"S": self.runner}},
            )
        except ClientError as error:
            if not _failed_condition(error):
                raise
            held = self.client.get_item(TableName=self.table, Key=LEASE_KEY, ConsistentRead=True)
            item = held.get("Item", {})
            holder = item.get("holder", {}).get("S", "unknown")
            expires = float(item.get("expires_at", {}).get("N", now))
            raise LeaseHeld(holder, iso(expires)) from None

    def _renewal(self) -> dict[str, Any]:
        now = time.time()
        return {
            "Update": {
                "TableName": self.table,
                "Key": LEASE_KEY,
                "UpdateExpression": "SET expires_at = :until",
                "ConditionExpression": "holder = :me",
                "ExpressionAttributeValues": {
                    ":until": {"N": f"{now + LEASE_SECONDS:.3f}"},
                    ":me": {"S": self.runner},
                },
            }
        }

    def write_with_renewal(self, update: dict[str, Any]) -> None:
        """Apply `update` (a TransactWriteItems Update on a record) and renew the lease, in
        one transaction that fails when the lease is no longer ours."""
        self._transact({"Update": update})

    def write_with_delete(self, key: dict[str, Any]) -> None:
        """Delete the record at `key` and renew the lease, in one transaction."""
        self._transact({"Delete": {"TableName": self.table, "Key": key}})

    def _transact(self, operation: dict[str, Any]) -> None:
        try:
            self.client.transact_write_items(TransactItems=[self._renewal(), operation])
        except ClientError as error:
            if not _failed_condition(error):
                raise
            raise LeaseLost(
                f"runner {self.runner} lost the migration lease (it expired while a step ran"
                " and another runner took it): nothing more is recorded; run again"
            ) from None

    def release(self) -> None:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key=LEASE_KEY,
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": {"S": self.runner}},
            )
        except ClientError as error:
            if not _failed_condition(error):
                raise
