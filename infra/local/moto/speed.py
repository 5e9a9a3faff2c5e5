"""moto server without the per-request costs that grow with the work; every answer stays the same.

- SQS: receiving checked each message's retention through all of the queue's attributes
  (see `_within_retention`), and every count of a queue's messages read the clock twice
  per message; with a thousand messages waiting (a burst of webhook deliveries) each
  ReceiveMessage and SendMessage took tens of milliseconds.
- DynamoDB streams: GetRecords is written straight to JSON (see `_get_records`).
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


@once
def apply() -> None:
    """The three speedups above, all or none: every target is checked before any is set."""
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
