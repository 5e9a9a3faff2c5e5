"""Webhook dispatch: each change event -> one delivery message per webhook that wants it."""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from catalog.core.observability import logger
from catalog.webhooks.repository import WebhookRepository
from catalog.webhooks.schemas import Webhook
from catalog.webhooks.service import enqueue_deliveries

processor = BatchProcessor(event_type=EventType.SQS)
repository = WebhookRepository()
_webhooks: list[Webhook] = []


def dispatch(record: SQSRecord) -> None:
    event = json.loads(record.body)
    targets = [w for w in _webhooks if w.active and event["type"] in w.events]
    if enqueue_deliveries([(w.id, event) for w in targets]):
        raise RuntimeError(f"the delivery queue refused deliveries of event {event['id']}")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _webhooks
    _webhooks = repository.list_all()  # once per batch: a new webhook gets the next batch
    answer = process_partial_response(
        event=event, record_handler=dispatch, processor=processor, context=context
    )
    return dict(answer)


lambda_handler = catalog.runtime.ready(lambda_handler)
