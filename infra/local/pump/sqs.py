"""SQS event source mappings: batches, partial failures, and redrive by the queue."""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any

from infra import topology
from infra.local.pump.worker import Worker, failed_items

if TYPE_CHECKING:
    from infra.local.pump import EventPump

SQS_RECEIVE_MAX = 10  # messages per ReceiveMessage call
# A queue's messages in every state: visible, in flight, delayed.
_COUNTS = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


def messages_held(sqs: Any, url: str) -> int:
    """How many messages the queue holds, visible, in flight or delayed."""
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=list(_COUNTS))["Attributes"]
    return sum(int(value) for value in counts.values())


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


class QueueWorker(Worker):
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
        return messages_held(self.pump.sqs, self.url) > 0
