"""Emails: published products and price drops -> emails to the category's subscribers."""

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
from catalog.emails.notify import Notifier
from catalog.subscriptions.repository import SubscriptionRepository
from catalog.users.repository import ProfileRepository

processor = BatchProcessor(event_type=EventType.SQS)
notifier = Notifier(SubscriptionRepository(), ProfileRepository())


def notify(record: SQSRecord) -> None:
    notifier.handle(json.loads(record.body))


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    answer = process_partial_response(
        event=event, record_handler=notify, processor=processor, context=context
    )
    return dict(answer)


lambda_handler = catalog.runtime.ready(lambda_handler)
