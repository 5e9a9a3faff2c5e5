"""Where moto server differs from AWS in ways the catalog relies on, make it behave like AWS.

moto applies a conditional write or a transaction in several unguarded steps, so two
threads can both pass the same condition; DynamoDB never lets that happen (conditional
writes are atomic, transactions serializable). Without this, two concurrent creates with
one SKU could both succeed locally, which they cannot in the cloud.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import functools
import json
import threading
from collections.abc import Callable, Mapping
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


# --- moto's per-request costs that grow with a queue's length ------------------------------


def _visible_messages(self: Any) -> list[Any]:
    """moto's `Queue.messages` (visible and not delayed) with one clock reading per call
    instead of two per message; the same rule: visible once `now > visible_at`, delayed
    while `now < delayed_until`."""
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]


def _messages_delayed(self: Any) -> int:
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    return sum(1 for m in self._messages if now < m.delayed_until)


def _messages_not_visible(self: Any) -> int:
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    return sum(1 for m in self._messages if not now > m.visible_at)


def _within_retention(self: Any, queue_name: str, message: Any) -> bool:
    """moto's retention check on receive, reading the queue's retention period itself:
    moto builds all of the queue's attributes (three scans of every message) three times
    for each message it hands out, which made receiving from a queue of N messages cost
    O(N) per message received."""
    from moto.core.utils import unix_time

    retention_period: int = self.get_queue(queue_name).message_retention_period
    return bool(retention_period + message.sent_timestamp / 1000 > unix_time())


def make_moto_server_cheap() -> None:
    """Take the per-request costs out of moto server that grow with the work (once per
    process); every answer stays the same:

    - SQS: receiving checked each message's retention through all of the queue's
      attributes (see `_within_retention`), and every count of a queue's messages read
      the clock twice per message; with a thousand messages waiting (a burst of webhook
      deliveries) each ReceiveMessage and SendMessage took tens of milliseconds.
    - DynamoDB streams: GetRecords is written straight to JSON (see `_get_records`).
    - the server found the backend of every request by listing moto's package folder and
      matching the host against hundreds of URL patterns; the answer for a host never
      changes, so it is kept.
    """
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.sqs.models import Queue, SQSBackend

    if getattr(Queue, "_catalog_cheap", False):
        return
    Queue.messages = property(_visible_messages)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages_delayed = property(_messages_delayed)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages_not_visible = property(_messages_not_visible)  # type: ignore[method-assign,assignment]
    SQSBackend.is_message_valid_based_on_retention_period = _within_retention  # type: ignore[method-assign]

    find_backend = DomainDispatcherApplication.get_backend_for_host
    backends: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        # Called under the application's lock; hosts are one per service and region.
        if host not in backends:
            backends[host] = find_backend(self, host)
        return backends[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
    DynamoDBStreamsHandler.get_records = _get_records  # type: ignore[method-assign,assignment]
    setattr(Queue, "_catalog_cheap", True)  # noqa: B010


def _blob(value: str | bytes) -> str:
    """A blob as moto's JSON serializer writes it (`_base64`: text is encoded as UTF-8)."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return base64.b64encode(raw).strip().decode("utf-8")


def _attribute_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """One AttributeValue of a stream record as moto's serializer writes it."""
    written: dict[str, Any] = {}
    for kind, inner in value.items():
        if inner is None:
            continue
        if kind == "B":
            written[kind] = _blob(inner)
        elif kind == "BS":
            written[kind] = [_blob(v) for v in inner]
        elif kind == "M":
            written[kind] = {k: _attribute_value(v) for k, v in inner.items()}
        elif kind == "L":
            written[kind] = [_attribute_value(v) for v in inner]
        else:
            written[kind] = inner
    return written


def _epoch(moment: dt.datetime) -> int | float:
    """A timestamp as moto's JSON serializer writes it (seconds, milliseconds kept)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    seconds = calendar.timegm(moment.utctimetuple())
    return seconds + (moment.microsecond // 1000) / 1000.0 if moment.microsecond else seconds


_IMAGES = ("Keys", "NewImage", "OldImage")


def _stream_record(record: Mapping[str, Any]) -> dict[str, Any]:
    written = {k: v for k, v in record.items() if k != "dynamodb" and v is not None}
    change = record.get("dynamodb")
    if change is not None:
        written["dynamodb"] = {
            key: (
                {name: _attribute_value(v) for name, v in value.items()}
                if key in _IMAGES
                else _epoch(value)
                if isinstance(value, dt.datetime)
                else value
            )
            for key, value in change.items()
            if value is not None
        }
    return written


def _get_records(self: Any) -> tuple[str, dict[str, str]]:
    """GetRecords written straight to JSON: moto's generic serializer walks the output
    shape member by member, guessing attribute names for each of the ten members of every
    AttributeValue, which cost about 4 ms per product record (0.4 s per batch of 100, most
    of the CPU the stream pollers used). The body is the same JSON as moto's."""
    limit = self._get_param("Limit")
    result = self.backend.get_records(
        self._get_param("ShardIterator"), 1000 if limit is None else limit
    )
    body = {
        "Records": [_stream_record(r) for r in result["Records"]],
        "NextShardIterator": result["NextShardIterator"],
    }
    return json.dumps(body), {"Content-Type": "application/x-amz-json-1.0"}
