"""Where moto server differs from AWS in ways the catalog relies on, make it behave like AWS.

moto applies a conditional write or a transaction in several unguarded steps, so two
threads can both pass the same condition; DynamoDB never lets that happen (conditional
writes are atomic, transactions serializable). Without this, two concurrent creates with
one SKU could both succeed locally, which they cannot in the cloud.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()
_applied = False


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    return call


def make_dynamodb_writes_atomic() -> None:
    """Serialize moto's DynamoDB writes (once per process)."""
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        setattr(DynamoDBBackend, name, _serialized(getattr(DynamoDBBackend, name)))
    _applied = True
    make_transactions_cheap()


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems, without its deep copy of every table it touches.

    moto copies each table (all items, indexes and stream records) before a transaction so
    it can roll back; with thousands of items that costs seconds and gigabytes per call.
    Here every condition is checked first and nothing is written unless all hold, as
    DynamoDB does; the writes then repeat moto's own calls (conditions included) under the
    write lock, so nothing can change in between.
    """
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    plan: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    errors: list[tuple[str | None, str | None, Any]] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table_name = op["TableName"]
        if op_type == "Put":
            table = self.get_table(table_name)
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        unique = (str(table_name), str(dict(sorted(key.items()))))
        if unique in seen:
            raise MultipleTransactionsException()
        seen.add(unique)
        failure: tuple[str | None, str | None, Any] = (None, None, None)
        condition = op.get("ConditionExpression")
        if condition is not None:
            current = self.get_item(table_name, key)
            check = get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            )
            if not check.expr(current):
                wants_old = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
                old = current.to_json()["Attributes"] if wants_old and current else None
                failure = ("ConditionalCheckFailed", "The conditional request failed", old)
        errors.append(failure)
        plan.append((op_type, op, key))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    for op_type, op, key in plan:
        common = {
            "condition_expression": op.get("ConditionExpression"),
            "expression_attribute_names": op.get("ExpressionAttributeNames"),
            "expression_attribute_values": op.get("ExpressionAttributeValues"),
        }
        if op_type == "Put":
            self.put_item(op["TableName"], op["Item"], **common)
        elif op_type == "Delete":
            self.delete_item(op["TableName"], key, **common)
        elif op_type == "Update":
            self.update_item(
                op["TableName"], key, update_expression=op["UpdateExpression"], **common
            )


def make_transactions_cheap() -> None:
    """Replace moto's copy-everything transaction (once per process; see above)."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_catalog_cheap_transactions", False):
        return
    setattr(DynamoDBBackend, "transact_write_items", _serialized(_transact_write_items))  # noqa: B010
    setattr(DynamoDBBackend, "_catalog_cheap_transactions", True)  # noqa: B010
