"""The export worker's entry point: a job per message, a hand-over sends it again, a
failure is retried soon and, at the last delivery, the job given up (no AWS here: the
service and the queue are replaced by recorders)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from catalog.exports.service import MAX_ATTEMPTS, RETRY_AFTER_S

ROOT = Path(__file__).resolve().parents[2]


class Service:
    def __init__(self, outcome: str = "done", fails: bool = False) -> None:
        self.outcome, self.fails = outcome, fails
        self.ran: list[str] = []
        self.given_up: list[str] = []

    def run(self, job_id: str, time_left: Any) -> str:
        self.ran.append(job_id)
        if self.fails:
            raise ConnectionError("S3 went away")
        return self.outcome

    def give_up(self, job_id: str) -> None:
        self.given_up.append(job_id)


class Queue:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.delayed: list[tuple[str, int]] = []

    def send(self, job_id: str) -> None:
        self.sent.append(job_id)

    def retry_in(self, receipt_handle: str, delay_s: int) -> None:
        self.delayed.append((receipt_handle, delay_s))


@pytest.fixture
def handler() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location(
        "_export_worker_handler_test", ROOT / "functions" / "export_worker" / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.queue = Queue()  # type: ignore[attr-defined]
    yield module


class Context:
    function_name = "export-worker"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:export-worker"
    aws_request_id = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def event(job_id: str, attempt: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": "m1",
                "receiptHandle": "receipt-1",
                "body": job_id,
                "attributes": {"ApproximateReceiveCount": str(attempt)},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:exports",
                "awsRegion": "us-east-1",
            }
        ]
    }


def test_a_done_job_is_acknowledged(handler: ModuleType) -> None:
    handler.service = Service("done")
    answer = handler.lambda_handler(event("J1", 1), Context())
    assert answer == {"batchItemFailures": []}
    assert handler.service.ran == ["J1"] and handler.queue.sent == []


def test_a_handed_over_job_is_sent_again(handler: ModuleType) -> None:
    handler.service = Service("handed-over")
    answer = handler.lambda_handler(event("J1", 1), Context())
    assert answer == {"batchItemFailures": []}
    assert handler.queue.sent == ["J1"]


def test_a_failed_attempt_is_retried_soon(handler: ModuleType) -> None:
    handler.service = Service(fails=True)
    answer = handler.lambda_handler(event("J1", 2), Context())
    # Then the message is reported failed, visible again after 2 minutes, the job kept
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert handler.queue.delayed == [("receipt-1", 2 * RETRY_AFTER_S)]
    assert handler.service.given_up == []


def test_the_last_failed_attempt_gives_the_job_up(handler: ModuleType) -> None:
    handler.service = Service(fails=True)
    answer = handler.lambda_handler(event("J1", MAX_ATTEMPTS), Context())
    # Then the job is failed (its upload aborted), and the message goes on to the DLQ
    assert handler.service.given_up == ["J1"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert handler.queue.delayed == []
