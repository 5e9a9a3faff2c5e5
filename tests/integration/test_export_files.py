"""The exports bucket's multipart writes against moto's S3: a file appears only once its
upload completes, completing again (a worker resumed after it) and aborting twice are no
errors, an empty last part makes an empty file, and the link reads the file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from catalog.core import aws, settings
from catalog.exports.storage import ExportFiles
from catalog.images import storage
from tests import local_systems

BUCKET = f"catalog-test-exports-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def files(local_system: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ExportFiles]:
    """A bucket of the test's own on the local system's S3 (never `mock_aws`: it resets
    every moto backend of the process, the local system's tables and queues included)."""
    import boto3

    local_systems.quiet()  # the system's own export jobs must not write into this bucket
    monkeypatch.setenv("BUCKET_EXPORTS", BUCKET)
    settings.settings.cache_clear()
    aws._session.cache_clear()
    storage._client.cache_clear()
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    s3.create_bucket(Bucket=BUCKET)
    yield ExportFiles()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)
    storage._client.cache_clear()
    aws._session.cache_clear()
    settings.settings.cache_clear()


def exists(files: ExportFiles, key: str) -> bool:
    return "Contents" in files._s3.list_objects_v2(Bucket=BUCKET, Prefix=key)


def test_a_file_appears_only_when_its_upload_completes(files: ExportFiles) -> None:
    key = "exports/01JC0000000000000000000001.csv"
    upload = files.start(key, "text/csv; charset=utf-8")
    etag = files.upload_part(key, upload, 1, b"id,sku\r\n")
    assert not exists(files, key)
    files.complete(key, upload, [(1, etag)])
    assert files._s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"id,sku\r\n"
    # And completing it again, as a worker resumed after that step does, is no error
    files.complete(key, upload, [(1, etag)])


def test_an_aborted_upload_leaves_no_file_and_aborting_again_is_no_error(
    files: ExportFiles,
) -> None:
    key = "exports/01JC0000000000000000000002.jsonl"
    upload = files.start(key, "application/jsonl")
    files.upload_part(key, upload, 1, b"{}\n")
    files.abort(key, upload)
    files.abort(key, upload)
    assert not exists(files, key)


def test_an_empty_last_part_makes_an_empty_file(files: ExportFiles) -> None:
    key = "exports/01JC0000000000000000000003.jsonl"
    upload = files.start(key, "application/jsonl")
    files.complete(key, upload, [(1, files.upload_part(key, upload, 1, b""))])
    assert files._s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == 0


def test_the_link_names_the_file_for_saving(files: ExportFiles) -> None:
    link = files.presigned_get("exports/x.csv", 900, "products-x.csv")
    assert "response-content-disposition=attachment" in link
    assert "X-Amz-Expires=900" in link
