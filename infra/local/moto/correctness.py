"""Make moto's DynamoDB writes behave as DynamoDB's: atomic conditions, serializable transactions.

moto applies a conditional write or a transaction in several unguarded steps (read the
item, evaluate the condition, store), so two threads of moto server can both pass the same
condition; DynamoDB never lets that happen. Without this, two concurrent creates of one SKU
could both succeed locally, which they cannot in the cloud. Every write of
`writes.WRITES` (PartiQL included: its statements read every table, then write) holds one
re-entrant lock for as long as it runs, so each is atomic and all of them serializable.

S3's browser-based uploads are a correctness patch too (`s3_post.py`): moto stores any POST
to a bucket, S3 only one its signed policy allows. Both are applied together, after
everything either replaces has been found.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from infra.local.moto import s3_post
from infra.local.moto._patching import load, mark, once, require
from infra.local.moto.writes import write_methods

SERIALIZED = "serialized"
_lock = threading.RLock()  # re-entrant: a transaction's writes call the other writes


def _serialized(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _lock:
            return method(*args, **kwargs)

    return mark(call, SERIALIZED)


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems, without its deep copy of every table it touches.

    moto copies each table (all items, indexes and stream records) before a transaction so
    that it can roll back by putting the copy in the table's place; with thousands of items
    that costs seconds and gigabytes per call, and the swap leaves whoever holds the old
    table (a stream's shard iterators) reading a table nobody writes to any more. Here every
    condition is checked first and nothing is written unless all hold, as DynamoDB does; the
    writes then repeat moto's own calls (conditions included).

    It belongs with the lock, not with the speedups: checking everything, then writing is
    all or nothing only because the lock is held from the first check to the last write,
    and it decides what a transaction does, so it must keep DynamoDB's semantics, not only
    moto's answers. One difference from moto stays: an operation that fails validation
    while being written (moto: rolled back; DynamoDB: refused before any write) leaves the
    operations before it written; the catalog's transactions are built by PynamoDB from
    valid expressions.
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


# What transact_write_items above calls and imports: checked before anything is patched.
_TRANSACTION_CALLS = ("get_table", "get_item", "put_item", "delete_item", "update_item")
_TRANSACTION_IMPORTS = {
    "moto.dynamodb.comparisons": ("get_filter_expression",),
    "moto.dynamodb.exceptions": (
        "MultipleTransactionsException",
        "TooManyTransactionsException",
        "TransactionCanceledException",
        "TransactWriteSingleOpException",
    ),
}


@once
def apply() -> None:
    """Serialize every write of WRITES, TransactWriteItems replaced as above; S3's POST
    Object checked as S3 checks it (s3_post)."""
    s3_response = s3_post.target()  # looked for first: a miss leaves DynamoDB unpatched too
    (backend,) = load("moto.dynamodb.models", "DynamoDBBackend")
    require(backend, *_TRANSACTION_CALLS)
    for module, names in _TRANSACTION_IMPORTS.items():
        load(module, *names)
    for owner, name in write_methods():
        cheap = owner is backend and name == "transact_write_items"
        setattr(owner, name, _serialized(transact_write_items if cheap else getattr(owner, name)))
    s3_post.patch(s3_response)
