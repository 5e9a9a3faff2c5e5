"""Emails: published products and price drops -> emails to the category's subscribers."""

from __future__ import annotations

# ruff: noqa: E402 - init work comes before the other imports (catalog.core.coldstart).
from catalog.core import coldstart

coldstart.begin()  # until coldstart.end() at the end of this module

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


coldstart.end()  # this module's last statement: the function's init is over
