"""Export worker: each message of the exports queue is one job to run or to resume.

A job stops at a checkpoint when the function's time runs short and sends its message
again (resumed by the next invocation). A failure is reported for its message, which the
queue delivers again a minute later, then two (the job resumes at its last checkpoint);
at the last delivery the job is marked failed and its unfinished upload aborted, and the
message goes on to the dead-letter queue, whose alarm tells operators.
"""

from __future__ import annotations

import catalog.runtime  # the function's init starts here (catalog/runtime.py)

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from catalog.core.observability import logger, metrics
from catalog.exports.queue import ExportQueue
from catalog.exports.repository import ExportRepository
from catalog.exports.service import MAX_ATTEMPTS, RETRY_AFTER_S, ExportService
from catalog.products.repository import ProductRepository

# A batch is one message: its failure is answered as a partial batch failure (the message
# retried, the attempt logged), not as an error of the function.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
queue = ExportQueue()
service = ExportService(ExportRepository(), ProductRepository(), queue=queue)
_context: Any = None


def _time_left() -> float:
    if _context is None:
        return float("inf")
    return float(_context.get_remaining_time_in_millis()) / 1000


def run_job(record: SQSRecord) -> None:
    job_id = record.body.strip()
    attempt = int(record.attributes.approximate_receive_count or 1)
    try:
        outcome = service.run(job_id, _time_left)
    except Exception:
        if attempt < MAX_ATTEMPTS:
            # Delivered again soon; the job resumes at its last checkpoint.
            logger.exception("export attempt failed", extra={"export": job_id, "attempt": attempt})
            queue.retry_in(record.receipt_handle, RETRY_AFTER_S * attempt)
            raise
        logger.exception("export failed for good", extra={"export": job_id})
        service.give_up(job_id)
        metrics.add_metric(name="ExportFailed", unit=MetricUnit.Count, value=1)
        raise  # on to the dead-letter queue
    if outcome == "handed-over":
        queue.send(job_id)
    logger.info("export run", extra={"export": job_id, "outcome": outcome, "attempt": attempt})
    if outcome == "done":
        metrics.add_metric(name="ExportDone", unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _context
    _context = context
    answer = process_partial_response(
        event=event, record_handler=run_job, processor=processor, context=context
    )
    return dict(answer)


lambda_handler = catalog.runtime.ready(lambda_handler)
