"""DynamoDB stream event source mappings: shard order, bisection, retries, on-failure."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from infra import topology
from infra.local.pump.worker import Worker, failed_items, log

if TYPE_CHECKING:
    from infra.local.pump import EventPump

SHARD_DISCOVERY_S = 5.0  # how often a stream's shard list is read again


def _lambda_shape(value: Any) -> Any:
    """boto3's parsed stream record back to the JSON Lambda sends (base64 binaries, epochs)."""
    if isinstance(value, dict):
        return {k: _lambda_shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lambda_shape(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    return value


def stream_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """One stream record as Lambda hands it to a function."""
    shaped: dict[str, Any] = _lambda_shape(record)
    shaped.setdefault("eventVersion", "1.1")
    shaped.setdefault("eventSource", "aws:dynamodb")
    shaped["awsRegion"] = region
    shaped["eventSourceARN"] = stream_arn
    return shaped


class StreamWorker(Worker):
    """A StreamSource: read each shard in order, invoke, retry/bisect, give up to on_failure."""

    def __init__(self, pump: EventPump, source: topology.StreamSource) -> None:
        super().__init__(pump, f"stream:{source.table}")
        self.source = source
        self.stream_arn = ""
        # Per shard: the sequence number of the last record delivered (None: none yet).
        self.positions: dict[str, str | None] = {}
        self.shards_checked = 0.0

    def _discover_shards(self) -> None:
        now = time.monotonic()
        if self.positions and now - self.shards_checked < SHARD_DISCOVERY_S:
            return
        self.shards_checked = now
        if not self.stream_arn:
            table = self.pump.names["tables"][self.source.table]
            described = self.pump.dynamodb.describe_table(TableName=table)
            self.stream_arn = described["Table"]["LatestStreamArn"]
        shards = self.pump.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
            "Shards"
        ]
        for shard in shards:
            self.positions.setdefault(shard["ShardId"], None)

    def _iterator(self, shard_id: str) -> str:
        """An iterator just after the last delivered record (from the start, at first, as
        the stack's TRIM_HORIZON mapping starts). Asked for anew at each poll instead of
        following NextShardIterator: moto replaces a table object (and its stream shard)
        when a transaction fails, which leaves older iterators reading an orphaned shard."""
        position = self.positions[shard_id]
        where: dict[str, str] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
            if position
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        answer = self.pump.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, **where
        )
        return str(answer["ShardIterator"])

    def poll(self) -> bool:
        self.busy = True
        try:
            self._discover_shards()
            found = False
            for shard_id in list(self.positions):
                got = self.pump.streams.get_records(
                    ShardIterator=self._iterator(shard_id), Limit=self.source.batch_size
                )
                records = [
                    stream_record(r, self.stream_arn, self.pump.region) for r in got["Records"]
                ]
                if records:
                    found = True
                    self.deliver(shard_id, records)
                    # delivered or given up on (described on the on-failure queue): move on
                    self.positions[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            return found
        finally:
            self.busy = False

    def _failed_from(self, records: list[dict[str, Any]]) -> int | None:
        """Invoke once: None on success, else the index of the first record to retry."""
        ok, result = self.invoke(self.source.consumer, {"Records": records})
        self.stats.records += len(records)
        if not ok:
            self.stats.failed_records += len(records)
            return 0
        sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        failed = failed_items(result, sequence_numbers)
        if failed == set():
            return None
        first = 0 if failed is None else min(sequence_numbers.index(s) for s in failed)
        self.stats.failed_records += len(records) - first
        return first

    def deliver(self, shard_id: str, records: list[dict[str, Any]], attempt: int = 0) -> None:
        """Deliver `records` (in order) until they succeed or are given up on."""
        first = self._failed_from(records)
        if first is None:
            return
        records = records[first:]
        if self.source.bisect_on_error and len(records) > 1:
            middle = len(records) // 2
            self.deliver(shard_id, records[:middle], attempt)
            self.deliver(shard_id, records[middle:], attempt)
            return
        if attempt >= self.source.max_retries:
            self.give_up(shard_id, records, attempt + 1)
            return
        if self.pump.stopping.wait(self.pump.retry_pause_s * (attempt + 1)):
            return
        self.deliver(shard_id, records, attempt + 1)

    def give_up(self, shard_id: str, records: list[dict[str, Any]], invocations: int) -> None:
        self.stats.sent_to_on_failure += len(records)
        log.error(
            "event pump %s: %d record(s) failed %d times; described on %s",
            self.name,
            len(records),
            invocations,
            self.source.on_failure,
        )
        if self.source.on_failure is None:
            return  # Lambda drops them too; the topology validator could forbid this
        arrivals = [r["dynamodb"].get("ApproximateCreationDateTime", 0) for r in records]
        description = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:{self.pump.region}:123456789012:function:"
                f"{self.source.consumer}",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invocations,
            },
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": dt.datetime.now(dt.UTC).isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(arrivals[0]),
                "approximateArrivalOfLastRecord": _iso(arrivals[-1]),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self.pump.sqs.send_message(
            QueueUrl=self.pump.names["queues"][self.source.on_failure],
            MessageBody=json.dumps(description),
        )


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()
