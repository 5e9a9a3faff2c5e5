"""The images function's entry point: which records reach the service, and how failures
are reported per record (no AWS here: the service is replaced by a recorder)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from catalog.core import settings
from catalog.images.service import Outcome
from tests.unit.handlers import load_handler

BUCKET = "catalog-test-media"


class Recorder:
    def __init__(self) -> None:
        self.processed: list[str] = []
        self.deleted: list[tuple[str, list[str]]] = []

    def process_upload(self, key: str) -> Outcome:
        if key.endswith("boom"):
            raise RuntimeError("S3 is down")
        self.processed.append(key)
        return Outcome("ready")

    def delete_files(self, product_id: str, image_ids: list[str]) -> None:
        self.deleted.append((product_id, image_ids))


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, Recorder]]:
    monkeypatch.setenv("BUCKET_MEDIA", BUCKET)
    settings.settings.cache_clear()
    module = load_handler("image_processor", "_image_processor_handler_test")
    recorder = Recorder()
    module.service = recorder  # type: ignore[attr-defined]
    yield module, recorder
    settings.settings.cache_clear()


class Context:
    function_name = "image-processor"
    memory_limit_in_mb = 1024
    aws_request_id = "test"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:image-processor"


def sqs(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{n}",
                "receiptHandle": f"r{n}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:image-uploads",
                "awsRegion": "us-east-1",
            }
            for n, body in enumerate(bodies)
        ]
    }


def s3_notification(key: str, bucket: str = BUCKET, name: str = "ObjectCreated:Post") -> str:
    record = {"eventName": name, "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}
    return json.dumps({"Records": [record]})


def test_uploads_reach_the_service_with_decoded_keys_and_failures_are_per_message(
    handler: tuple[ModuleType, Recorder],
) -> None:
    module, recorder = handler
    event = sqs(
        s3_notification("uploads/P/I%2B1+x"),
        json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
        s3_notification("uploads/P/other-bucket", bucket="someone-elses"),
        s3_notification("uploads/P/boom"),
        "not json",
    )
    result = module.lambda_handler(event, Context())
    assert recorder.processed == ["uploads/P/I+1 x"]
    assert result == {"batchItemFailures": [{"itemIdentifier": "m3"}, {"itemIdentifier": "m4"}]}


def stream(name: str, old: dict[str, Any] | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventID": "1",
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/products/stream/x",
        "awsRegion": "us-east-1",
        "dynamodb": {"SequenceNumber": "100", "Keys": {}, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }
    if old is not None:
        record["dynamodb"]["OldImage"] = old
    return record


def test_only_removed_products_with_images_get_their_files_deleted(
    handler: tuple[ModuleType, Recorder],
) -> None:
    module, recorder = handler
    with_images = {
        "sk": {"S": "PRODUCT"},
        "id": {"S": "P1"},
        "images": {"L": [{"M": {"id": {"S": "I1"}}}, {"M": {"id": {"S": "I2"}}}]},
    }
    event = {
        "Records": [
            stream("MODIFY", with_images),
            stream("REMOVE", {"sk": {"S": "SKU"}, "product_id": {"S": "P1"}}),
            stream("REMOVE", {"sk": {"S": "PRODUCT"}, "id": {"S": "P2"}}),  # no images
            stream("REMOVE", with_images),
        ]
    }
    result = module.lambda_handler(event, Context())
    assert recorder.deleted == [("P1", ["I1", "I2"])]
    assert result == {"batchItemFailures": []}
