"""Images processor. Two event sources, one owner of the media bucket's files:

- S3 `ObjectCreated` notifications under uploads/, delivered in SQS batches: each upload
  becomes verified WebP renditions (or a rejection) recorded on its product;
- the products table's stream: a deleted product's image files are deleted (its image
  records went with its item, in the same write).

Failures are reported per record (`batchItemFailures`): only those are delivered again,
and after the source's retries they reach a dead-letter queue, whose depth raises an alarm.
"""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

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
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from catalog.core import business_metrics as names
from catalog.core.observability import logger, metrics
from catalog.images.service import ImageService
from catalog.images.storage import MediaBucket
from catalog.products.items import PRODUCT_SK
from catalog.products.repository import ProductRepository
from catalog.products.service import ProductService

uploads = BatchProcessor(event_type=EventType.SQS)
product_changes = BatchProcessor(event_type=EventType.DynamoDBStreams)
bucket = MediaBucket()
repository = ProductRepository()
service = ImageService(ProductService(repository), repository, bucket)
METRIC = {
    "ready": names.IMAGE_READY,
    "rejected": names.IMAGE_REJECTED,
    "ignored": names.IMAGE_UPLOAD_IGNORED,
}


def handle_upload_message(record: SQSRecord) -> None:
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


def handle_product_change(record: DynamoDBRecord) -> None:
    """One stream record of the products table: only product removals concern images."""
    if record.raw_event.get("eventName") != "REMOVE":
        return
    old: dict[str, Any] = record.raw_event["dynamodb"].get("OldImage") or {}
    if old.get("sk", {}).get("S") != PRODUCT_SK:
        return  # a SKU guard, a category, ...
    product_id = old["id"]["S"]
    image_ids = [entry["M"]["id"]["S"] for entry in old.get("images", {}).get("L", [])]
    if image_ids:
        service.delete_files(product_id, image_ids)
        logger.info("deleted product's images removed", extra={"product": product_id})
        metrics.add_metric(name=names.IMAGE_DELETED, unit=MetricUnit.Count, value=len(image_ids))


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    records = event.get("Records") or [{}]
    if records[0].get("eventSource") == "aws:dynamodb":
        return process_partial_response(
            event=event,
            record_handler=handle_product_change,
            processor=product_changes,
            context=context,
        )
    return process_partial_response(
        event=event, record_handler=handle_upload_message, processor=uploads, context=context
    )


lambda_handler = catalog.runtime.ready(lambda_handler)
