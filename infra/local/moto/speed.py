"""moto server without the per-request costs that grow with the work; every answer stays the same.

- SQS: receiving checked each message's retention through all of the queue's attributes
  (see `_within_retention`), and every count of a queue's messages read the clock twice
  per message; with a thousand messages waiting (a burst of webhook deliveries) each
  ReceiveMessage and SendMessage took tens of milliseconds.
- DynamoDB streams: GetRecords is written straight to JSON (see `_get_records`).
- DynamoDB items in answers (GetItem, Query, Scan, BatchGetItem, and the old or new item of
  PutItem, UpdateItem, DeleteItem) are written straight to JSON too (`written_directly`);
  moto's serializer writes the rest of each answer.
- DynamoDB Query and Scan: moto sorted every item of the table for each Query and each page
  of a Scan, comparing its own attribute objects; `queries.apply_for_server()` hands Query
  the queried partition (in moto's order) and keeps the sorted table until the next write.
- DynamoDB items: a new item's 400 KB check adds sizes up as it goes (`_new_item`) instead
  of re-adding every attribute before each one.
- the server found the backend of every request by listing moto's package folder and
  matching the host against hundreds of URL patterns; the answer for a host never
  changes, so it is kept.
"""

from __future__ import annotations

import base64
import calendar
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from infra.local.moto import queries
from infra.local.moto._patching import load, once, require


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


ITEM_SIZE_LIMIT = 405_000  # moto's: "between 409 and 410KB" measured, DynamoDB's 400 KB


def _new_item(self: Any, hash_key: Any, range_key: Any, attrs: Mapping[str, Any]) -> None:
    """moto's `Item.__init__` with its size check summed as it goes: moto's `LimitedSizeDict`
    adds up the sizes of every attribute already set before setting each one (quadratic in
    an item's attributes: a third of a product write's time in moto server). The same
    attributes, the same `ItemSizeTooLarge` at the same attribute; the dict is still moto's
    `LimitedSizeDict`, so later updates are checked by moto itself."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    self.hash_key = hash_key
    self.range_key = range_key
    self.attrs = LimitedSizeDict()
    total = 0
    for key, value in attrs.items():
        typed = DynamoType(value)
        size = bytesize(key) + typed.size()
        if total + size > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(self.attrs, key, typed)
        total += size


@once
def apply() -> None:
    """The speedups above and moto's Query and Scan shortcuts (queries.py), all or none:
    every target is checked before any is set."""
    load("moto.core.utils", "unix_time", "unix_time_millis")
    queue, sqs = load("moto.sqs.models", "Queue", "SQSBackend")
    require(
        queue,
        "messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    )
    require(sqs, "is_message_valid_based_on_retention_period", "get_queue")
    (dispatcher,) = load("moto.moto_server.werkzeug_app", "DomainDispatcherApplication")
    require(dispatcher, "get_backend_for_host")
    (streams,) = load("moto.dynamodbstreams.responses", "DynamoDBStreamsHandler")
    require(streams, "get_records", "_get_param", "backend")
    (dynamo_result,) = load("moto.dynamodb.responses", "DynamoResult")
    (action_result,) = load("moto.core.responses", "ActionResult")
    require(action_result, "execute_result", "result")
    queries.targets()
    item, _ = load("moto.dynamodb.models.dynamo_type", "Item", "LimitedSizeDict")
    load("moto.dynamodb.models.utilities", "bytesize")
    load("moto.dynamodb.exceptions", "ItemSizeTooLarge")

    queue.messages = property(_visible_messages)
    queue.approximate_number_of_messages_delayed = property(_messages_delayed)
    queue.approximate_number_of_messages_not_visible = property(_messages_not_visible)
    sqs.is_message_valid_based_on_retention_period = _within_retention

    find_backend = dispatcher.get_backend_for_host
    backends: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        # Called under the application's lock; hosts are one per service and region.
        if host not in backends:
            backends[host] = find_backend(self, host)
        return backends[host]

    dispatcher.get_backend_for_host = get_backend_for_host
    streams.get_records = _get_records
    serialize = action_result.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        written = written_directly(serialize, action_result, self.result, context)
        return serialize(self, context) if written is None else written

    dynamo_result.execute_result = execute_result
    queries.apply_for_server()
    item.__init__ = _new_item


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


def _item(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _attribute_value(value) for name, value in attributes.items()}


def _items(items: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [_item(item) for item in items]


def _tables_items(responses: Mapping[str, list[Mapping[str, Any]]]) -> dict[str, Any]:
    return {table: _items(items) for table, items in responses.items()}


# The members of each operation's answer that hold items (AttributeValue maps), and how
# each is written.
_ITEM_MEMBERS: dict[str, dict[str, Any]] = {
    "GetItem": {"Item": _item},
    "Query": {"Items": _items, "LastEvaluatedKey": _item},
    "Scan": {"Items": _items, "LastEvaluatedKey": _item},
    "BatchGetItem": {"Responses": _tables_items},
    "PutItem": {"Attributes": _item},
    "UpdateItem": {"Attributes": _item},
    "DeleteItem": {"Attributes": _item},
}


def written_directly(
    serialize: Any, action_result: Any, result: Any, context: Any
) -> tuple[Any, Any, str] | None:
    """A DynamoDB answer with its items written straight to JSON, or None (moto's own
    serializer then writes all of it). moto's serializer walks the output shape member by
    member, guessing attribute names for each of the ten members of every AttributeValue:
    about 4 ms per product, 0.4 s per page of 100, most of a listing's or an export's time.
    The rest of the answer (counts, consumed capacity, unprocessed keys) is still written by
    `serialize`, and the items are added to it as moto would write them: the same JSON
    (tests/integration/test_moto_answers.py compares the two on every call)."""
    from moto import settings

    writers = _ITEM_MEMBERS.get(getattr(context.operation_model, "name", ""))
    if writers is None or settings.PRETTIFY_RESPONSES or not isinstance(result, dict):
        return None
    heavy = {member: result[member] for member in writers if result.get(member) is not None}
    if not heavy:
        return None
    rest = action_result({k: v for k, v in result.items() if k not in heavy})
    status, headers, body = serialize(rest, context)
    answer = json.loads(body)
    answer.update({member: writers[member](value) for member, value in heavy.items()})
    return status, headers, json.dumps(answer)
