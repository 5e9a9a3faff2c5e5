"""Import worker. Two queues, one job at a time of each message:

- S3 `ObjectCreated` notifications under uploads/ of the imports bucket: the job's file is
  accepted, read once and cut into chunks (one message each on import-chunks);
- import-chunks: one chunk's rows validated and written, its failed rows reported, the job
  finished once its last chunk is.

Failures are reported per record (`batchItemFailures`): only those are delivered again
(every step is safe to run again), and after the queue's receives they reach its
dead-letter queue, whose depth raises an alarm. A chunk failing on its last delivery is
given up first: its rows are reported as not imported, so the job still ends (done, with
those rows failed) instead of running forever.
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
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from catalog.core.observability import logger, metrics
from catalog.imports.records import ImportRepository
from catalog.imports.storage import ChunkQueue, ImportFiles
from catalog.imports.worker import CHUNK_ATTEMPTS, ImportWorker
from catalog.products.repository import ProductRepository
from catalog.products.service import ProductService

processor = BatchProcessor(event_type=EventType.SQS)
files = ImportFiles()
repository = ProductRepository()
worker = ImportWorker(
    ImportRepository(), ProductService(repository), repository, files, ChunkQueue()
)


def handle_upload(body: dict[str, Any]) -> None:
    """An S3 event notification (or S3's test event, which has no records)."""
    for event in body.get("Records", []):
        if not str(event.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        source = event["s3"]["bucket"]["name"]
        if source != files.name:
            logger.warning("notification from another bucket ignored", extra={"bucket": source})
            continue
        stored = event["s3"]["object"]
        key = unquote_plus(stored["key"])  # keys arrive URL-encoded (spaces as '+')
        outcome = worker.accept_upload(key, str(stored.get("eTag", "")), int(stored.get("size", 0)))
        logger.info("import upload", extra={"key": key, "outcome": outcome})


def handle_message(record: SQSRecord) -> None:
    body = json.loads(record.body)
    if "job" in body:
        attempt = int(record.attributes.approximate_receive_count or 1)
        try:
            outcome = worker.run_chunk(body)
        except Exception:
            if attempt < CHUNK_ATTEMPTS:
                raise  # delivered again after the visibility timeout
            logger.exception(
                "import chunk failed for good", extra={"job": body["job"], "first": body["first"]}
            )
            worker.give_up_chunk(body)
            metrics.add_metric(name="ImportChunkFailed", unit=MetricUnit.Count, value=1)
            raise  # on to the dead-letter queue (alarmed)
        logger.info(
            "import chunk", extra={"job": body["job"], "first": body["first"], "outcome": outcome}
        )
        metrics.add_metric(name="ImportChunk", unit=MetricUnit.Count, value=1)
    else:
        handle_upload(body)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=handle_message, processor=processor, context=context
    )


lambda_handler = catalog.runtime.ready(lambda_handler)
