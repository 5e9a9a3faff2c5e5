"""The exports queue: one message per job to run (or to resume), its id as the body."""

from __future__ import annotations

from functools import cache
from typing import Any

from catalog.core import aws
from catalog.core.settings import resource

QUEUE_VARIABLE = "QUEUE_EXPORTS"  # the topology's queue `exports`


@cache
def _sqs() -> Any:
    return aws.client("sqs")


class ExportQueue:
    def send(self, job_id: str) -> None:
        _sqs().send_message(QueueUrl=resource(QUEUE_VARIABLE), MessageBody=job_id)

    def retry_in(self, receipt_handle: str, delay_s: int) -> None:
        """Deliver a received message again after `delay_s` seconds, not after the queue's
        visibility timeout (which covers a whole run of the worker: 90 minutes)."""
        _sqs().change_message_visibility(
            QueueUrl=resource(QUEUE_VARIABLE),
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=delay_s,
        )
