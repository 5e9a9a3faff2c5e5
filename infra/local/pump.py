"""The local event pump: SQS batches and DynamoDB stream records to the topology's consumers.

It plays Lambda's event source mappings against moto server, with their semantics:

- SQS: batches of at most `batch_size` messages in the real SQS event shape; messages the
  consumer reports in `batchItemFailures` (or the whole batch, when it raises or answers
  with an unusable identifier) stay in the queue and reappear after the visibility
  timeout; the queue's redrive policy moves a message to its dead-letter queue after
  `max_receives` receives (moto applies it on receive, as SQS does).
- DynamoDB streams: records in shard order, in batches of `batch_size`, in the real
  stream event shape; a failing batch is retried, split in halves first when
  `bisect_on_error` (halving does not use up retries, so a poison record ends up alone),
  and a batch whose retries are spent is described on the `on_failure` queue (the same
  record Lambda sends: shard, sequence numbers, condition), then skipped. A consumer may
  also answer `batchItemFailures` with sequence numbers: the batch then counts as failed
  from the earliest of them (Lambda's checkpoint rule).

Only the pacing differs from the cloud (polls every fraction of a second; a short pause
before a stream retry). `drain()` waits until nothing is left to deliver, for tests.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3

from infra import topology

log = logging.getLogger("catalog.local.events")

SQS_RECEIVE_MAX = 10  # messages per ReceiveMessage call
SHARD_DISCOVERY_S = 5.0  # how often a stream's shard list is read again


class Consumer(Protocol):
    def invoke(self, event: dict[str, Any]) -> Any: ...


@dataclass
class SourceStats:
    """What one event source did, for tests and for `make run`'s log."""

    invocations: int = 0
    records: int = 0  # records handed to the consumer (a retried record counts again)
    failed_invocations: int = 0  # the consumer raised
    failed_records: int = 0  # reported in batchItemFailures, or in a batch that raised
    sent_to_on_failure: int = 0  # stream records given up on (described on the queue)
    errors: list[str] = field(default_factory=list)  # the pump's own errors (AWS calls)


# --- SQS ---------------------------------------------------------------------------------


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS message as Lambda hands it to a function (the `Records` item)."""
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": (
                base64.b64encode(value["BinaryValue"]).decode() if "BinaryValue" in value else None
            ),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    for value in attributes.values():
        for key in ("stringValue", "binaryValue"):
            if value[key] is None:
                del value[key]
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_items(result: Any, identifiers: Sequence[str]) -> set[str] | None:
    """The identifiers a consumer reported as failed; None when the whole batch failed.

    Lambda's rule: no response, or one without `batchItemFailures`, is full success; an
    item with a missing or unknown identifier fails the whole batch.
    """
    if not isinstance(result, Mapping) or not result.get("batchItemFailures"):
        return set()
    known = set(identifiers)
    failed: set[str] = set()
    for item in result["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, Mapping) else None
        if not identifier or identifier not in known:
            return None
        failed.add(identifier)
    return failed


class _Worker:
    """A polling thread for one event source."""

    def __init__(self, pump: EventPump, name: str) -> None:
        self.pump = pump
        self.name = name
        self.stats = SourceStats()
        self.busy = False
        # monotonic time at which the latest poll that found nothing had started
        self.idle_poll_started = -1.0
        self.thread = threading.Thread(target=self._run, name=f"events-{name}", daemon=True)

    def _run(self) -> None:
        while not self.pump.stopping.is_set():
            started = time.monotonic()
            try:
                found = self.poll()
            except Exception as error:  # keep pumping; the test or the developer sees it
                if self.pump.stopping.is_set():
                    return
                log.exception("event pump %s: poll failed", self.name)
                self.stats.errors.append(repr(error))
                found = False
            if not found:
                self.idle_poll_started = started
                self.pump.wait_for_work()

    def poll(self) -> bool:
        raise NotImplementedError

    def pending(self) -> bool:
        """Whether the source still holds something (beyond what `poll` saw)."""
        return False

    def invoke(self, consumer: str, event: dict[str, Any]) -> tuple[bool, Any]:
        self.stats.invocations += 1
        try:
            return True, self.pump.functions[consumer].invoke(event)
        except Exception:
            # Lambda logs the function error; the consumer's own log line is the useful one.
            log.warning("event pump %s: %s raised", self.name, consumer, exc_info=True)
            self.stats.failed_invocations += 1
            return False, None


class QueueWorker(_Worker):
    """A QueueSource: receive, invoke, delete what succeeded."""

    def __init__(self, pump: EventPump, source: topology.QueueSource) -> None:
        super().__init__(pump, f"queue:{source.queue}")
        self.source = source

    @property
    def url(self) -> str:
        return self.pump.names["queues"][self.source.queue]

    @property
    def arn(self) -> str:
        return self.pump.names["queue_arns"][self.source.queue]

    def _receive(self) -> list[dict[str, Any]]:
        wanted = self.source.batch_size
        deadline = time.monotonic() + self.source.max_batching_window_s
        messages: list[dict[str, Any]] = []
        while len(messages) < wanted:
            got = self.pump.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(SQS_RECEIVE_MAX, wanted - len(messages)),
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages += got
            if not got and (not messages or time.monotonic() >= deadline):
                break
            if not got:
                time.sleep(0.05)  # inside the batching window: wait for more
        return messages

    def poll(self) -> bool:
        self.busy = True
        try:
            messages = self._receive()
            if not messages:
                return False
            event = {"Records": [sqs_record(m, self.arn, self.pump.region) for m in messages]}
            ok, result = self.invoke(self.source.consumer, event)
            ids = [m["MessageId"] for m in messages]
            failed = failed_items(result, ids) if ok else None
            if failed is None:
                failed = set(ids)
            self.stats.records += len(messages)
            self.stats.failed_records += len(failed)
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                self.pump.sqs.delete_message_batch(
                    QueueUrl=self.url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done)
                    ],
                )
            # Failed messages are left alone: they reappear after the visibility timeout
            # (or whatever the consumer set with ChangeMessageVisibility).
            return True
        finally:
            self.busy = False

    def pending(self) -> bool:
        counts = self.pump.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return any(int(v) for v in counts.values())


# --- DynamoDB streams ----------------------------------------------------------------------


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


class StreamWorker(_Worker):
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


# --- the pump ------------------------------------------------------------------------------


class EventPump:
    """One polling thread per event source of the topology (or of the sources given)."""

    def __init__(
        self,
        functions: Mapping[str, Consumer],
        names: Mapping[str, Mapping[str, str]],
        *,
        endpoint_url: str,
        region: str,
        queue_sources: Sequence[topology.QueueSource] | None = None,
        streams: Sequence[topology.StreamSource] | None = None,
        poll_interval_s: float = 0.25,
        retry_pause_s: float = 0.05,
    ) -> None:
        self.functions = functions
        self.names = names
        self.region = region
        self.poll_interval_s = poll_interval_s
        self.retry_pause_s = retry_pause_s
        self.stopping = threading.Event()
        self._wake = threading.Condition()
        session = boto3.session.Session(region_name=region)
        self.sqs = session.client("sqs", endpoint_url=endpoint_url)
        self.dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
        self.streams = session.client("dynamodbstreams", endpoint_url=endpoint_url)
        sources = topology.QUEUE_SOURCES if queue_sources is None else queue_sources
        stream_sources = topology.STREAMS if streams is None else streams
        self.workers: list[_Worker] = [QueueWorker(self, s) for s in sources]
        self.workers += [StreamWorker(self, s) for s in stream_sources]

    def stats(self) -> dict[str, SourceStats]:
        return {worker.name: worker.stats for worker in self.workers}

    def start(self) -> EventPump:
        for worker in self.workers:
            worker.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask every worker to stop and wait for them together, `timeout` seconds in all
        (not per worker: with a dozen sources busy, Ctrl-C took minutes). The workers are
        daemon threads: one still inside a batch ends with the process."""
        self.stopping.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for worker in self.workers:
            worker.thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def wake(self) -> None:
        """Make every idle worker poll now (instead of at its next interval)."""
        with self._wake:
            self._wake.notify_all()

    def wait_for_work(self) -> None:
        with self._wake:
            self._wake.wait(self.poll_interval_s)

    def _idle_since(self, moment: float) -> bool:
        # The workers' own flags first: asking each queue for its counts is an AWS call,
        # worth making only once every worker has come back empty-handed.
        return all(not w.busy and w.idle_poll_started >= moment for w in self.workers) and not any(
            w.pending() for w in self.workers
        )

    def drain(self, timeout: float = 30.0) -> None:
        """Return once every source is empty and every consumer idle; else TimeoutError.

        Idle means: each worker has, since we started looking, finished a poll that found
        nothing, and its queue holds no message (visible, in flight or delayed). Checked
        twice in a row, so that work one consumer hands to the next is seen.
        """
        deadline = time.monotonic() + timeout
        confirmations = 0
        while confirmations < 2:
            moment = time.monotonic()
            self.wake()  # once: idle workers poll now instead of at their next interval
            while not self._idle_since(moment):
                if time.monotonic() > deadline:
                    busy = [w.name for w in self.workers if w.busy or w.pending()]
                    raise TimeoutError(f"event pump still busy after {timeout}s: {busy}")
                time.sleep(0.1)
            confirmations += 1

    def wait_until(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        """Poll `condition` while the pump works; TimeoutError if it never holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            time.sleep(0.05)


__all__ = ["EventPump", "SourceStats", "failed_items", "sqs_record", "stream_record"]
