"""Webhook delivery: POST one signed event to one receiver; on failure retry later, then DLQ.

A failed attempt sets the message's visibility to the next delay of the stage's growing
schedule (ChangeMessageVisibility) and reports the message as failed, so it comes back
then; after the queue's max receives SQS moves it to the dead-letter queue (alarmed).
"""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

import json
import os
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from catalog.core import business_metrics as names
from catalog.core.errors import NotFound
from catalog.core.observability import flush_metrics, logger, metrics
from catalog.webhooks.delivery import headers_for, post, retry_delay
from catalog.webhooks.repository import WebhookRepository
from catalog.webhooks.schemas import Webhook

processor = BatchProcessor(event_type=EventType.SQS)
repository = WebhookRepository()
# Webhooks read during the current invocation (a batch mostly goes to a few receivers).
_webhooks: dict[str, tuple[Webhook, str] | None] = {}


class DeliveryFailed(Exception):
    pass


@cache
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs")


def _webhook(webhook_id: str) -> tuple[Webhook, str] | None:
    if webhook_id not in _webhooks:
        try:
            _webhooks[webhook_id] = repository.get_with_secret(webhook_id)
        except NotFound:
            _webhooks[webhook_id] = None
    return _webhooks[webhook_id]


def deliver(record: SQSRecord) -> None:
    message = json.loads(record.body)
    event = message["event"]
    attempt = int(record.attributes.approximate_receive_count)
    context = {"webhook": message["webhook_id"], "event_id": event["id"], "attempt": attempt}
    found = _webhook(message["webhook_id"])
    if found is None:
        logger.info("webhook deleted: delivery dropped", extra=context)
        return
    webhook, secret = found
    if not webhook.active:
        logger.info("webhook paused: delivery dropped", extra=context)
        return
    body = json.dumps(event, separators=(",", ":")).encode()
    if attempt > 1:
        metrics.add_metric(name=names.WEBHOOK_RETRIED, unit=MetricUnit.Count, value=1)
    outcome = post(
        webhook.url, body, headers_for(secret, body, event["id"], event["type"], attempt)
    )
    try:
        repository.record_delivery(webhook.id, event["id"], event["type"], attempt, outcome)
    except Exception:  # the history is a convenience; the delivery outcome is what counts
        logger.exception("could not record the delivery", extra=context)
    if outcome.ok:
        metrics.add_metric(name=names.WEBHOOK_DELIVERED, unit=MetricUnit.Count, value=1)
        return
    metrics.add_metric(name=names.WEBHOOK_DELIVERY_FAILED, unit=MetricUnit.Count, value=1)
    delay = retry_delay(attempt)
    logger.warning(
        "delivery failed", extra={**context, "error": outcome.error, "retry_in_s": delay}
    )
    _sqs().change_message_visibility(
        QueueUrl=os.environ["QUEUE_WEBHOOK_DELIVERIES"],
        ReceiptHandle=record.receipt_handle,
        VisibilityTimeout=delay,
    )
    raise DeliveryFailed(outcome.error or "failed")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _webhooks.clear()  # a change to a webhook applies from the next batch
    try:
        answer = process_partial_response(
            event=event, record_handler=deliver, processor=processor, context=context
        )
    finally:
        flush_metrics()
    return dict(answer)


lambda_handler = catalog.runtime.ready(lambda_handler)
