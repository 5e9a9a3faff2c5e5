"""Publishes the change events of a stream batch to the topic, reporting where it failed.

Events go out in SNS PublishBatch calls of ten. The batch answer follows Lambda's
checkpoint rule for streams: the sequence number of the first record that is not fully
published (an event refused, or a record that cannot be read); Lambda retries from there,
so nothing after a failure is skipped, and what was already published may be published
again: the same event ids, which receivers use to drop duplicates. Publishing stops at the
first refused call, since Lambda will send everything after it again anyway.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

from catalog.core import aws
from catalog.core.observability import logger
from catalog.core.settings import resource
from catalog.events.envelope import ChangeEvent, category_of, change_events

PUBLISH_BATCH_MAX = 10


@cache
def _sns() -> Any:
    return aws.client("sns")


def message_attributes(event: ChangeEvent) -> dict[str, dict[str, str]]:
    """What subscriptions filter on: the event type and the product's category."""
    return {
        "type": {"DataType": "String", "StringValue": event["type"]},
        "category": {"DataType": "String", "StringValue": category_of(event)},
    }


def topic_arn() -> str:
    return resource("TOPIC_PRODUCT_CHANGES")


def publish(records: Sequence[dict[str, Any]], sns: Any = None) -> dict[str, Any]:
    """Publish the events of `records` (in order); the Lambda partial-batch answer."""
    sns = sns or _sns()
    readable = len(records)
    pending: list[tuple[int, ChangeEvent]] = []
    for index, record in enumerate(records):
        try:
            pending += [(index, event) for event in change_events(record)]
        except Exception:
            logger.exception(
                "unreadable stream record", extra={"sequence": record["dynamodb"]["SequenceNumber"]}
            )
            readable = index
            break
    failed = {index for index, _ in pending if index >= readable}
    pending = [(index, event) for index, event in pending if index < readable]
    for start in range(0, len(pending), PUBLISH_BATCH_MAX):
        chunk = pending[start : start + PUBLISH_BATCH_MAX]
        entries = [
            {
                "Id": str(n),
                "Message": json.dumps(event, separators=(",", ":")),
                "MessageAttributes": message_attributes(event),
            }
            for n, (_, event) in enumerate(chunk)
        ]
        try:
            answer = sns.publish_batch(TopicArn=topic_arn(), PublishBatchRequestEntries=entries)
            refused = {int(f["Id"]) for f in answer.get("Failed", [])}
        except Exception:
            logger.exception("PublishBatch failed")
            refused = set(range(len(chunk)))
        failed |= {chunk[n][0] for n in refused}
        if refused:
            break  # everything from the first failure is retried anyway: no need to send it now
    first_failed = min(failed, default=readable)
    logger.info(
        "published change events",
        extra={"records": len(records), "events": len(pending), "failed_from": first_failed},
    )
    if first_failed >= len(records):
        return {"batchItemFailures": []}
    sequence = records[first_failed]["dynamodb"]["SequenceNumber"]
    return {"batchItemFailures": [{"itemIdentifier": sequence}]}
