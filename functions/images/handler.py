"""Images processor: S3 `ObjectCreated` notifications under uploads/, delivered in SQS
batches, become verified WebP renditions (or rejections) recorded on the product.

Failures are reported per message (`batchItemFailures`): only the failed messages come
back after the visibility timeout, and after the queue's max receives they go to its
dead-letter queue, whose depth raises an alarm.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from catalog.core.observability import logger, metrics
from catalog.images.service import ImageService
from catalog.images.storage import MediaBucket
from catalog.products.repository import ProductRepository
from catalog.products.service import ProductService

processor = BatchProcessor(event_type=EventType.SQS)
bucket = MediaBucket()
repository = ProductRepository()
service = ImageService(ProductService(repository), repository, bucket)
METRIC = {"ready": "ImageReady", "rejected": "ImageRejected", "ignored": "ImageUploadIgnored"}


def handle_message(record: SQSRecord) -> None:
    """One SQS message: an S3 event notification (or S3's test event, which has no records)."""
    notification = json.loads(record.body)
    for event in notification.get("Records", []):
        if not str(event.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        source = event["s3"]["bucket"]["name"]
        if source != bucket.name:
            logger.warning("notification from another bucket ignored", extra={"bucket": source})
            continue
        # Keys arrive URL-encoded in S3 notifications (spaces as '+').
        key = unquote_plus(event["s3"]["object"]["key"])
        outcome = service.process_upload(key)
        logger.info(
            "upload processed",
            extra={"key": key, "outcome": outcome.status, "detail": outcome.detail},
        )
        metrics.add_metric(name=METRIC[outcome.status], unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_message, processor=processor, context=context
    )
