"""A bucket in S3 (the media bucket, and others by logical name): presigned upload forms,
reads (whole, or streamed by byte range), copies, download links, writes and deletions.

The boto3 client is created on first use, so functions that never touch S3 on a request
pay nothing for it at cold start. S3 errors become domain errors here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from functools import cache
from typing import Any

from catalog.core import aws
from catalog.core.settings import settings
from catalog.images.schemas import UploadForm

MEDIA_BUCKET = "media"  # the topology's bucket
DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys


class TooLarge(Exception):
    """The object holds more bytes than the caller would read."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


@cache
def _client() -> Any:
    from botocore.config import Config

    # SigV4 everywhere (presigned POSTs included); region and endpoint from the environment.
    return aws.client("s3", Config(signature_version="s3v4"))


@contextmanager
def _streamed(s3: Any, bucket: str, key: str, start: int, end: int | None) -> Iterator[Any]:
    extra = {}
    if start or end is not None:
        extra["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
    try:
        answer = s3.get_object(Bucket=bucket, Key=key, **extra)
    except s3.exceptions.NoSuchKey:
        yield None
        return
    body = answer["Body"]
    try:
        yield body
    finally:
        body.close()


class MediaBucket:
    """The bucket holding `uploads/` (unchecked, private) and `images/` (renditions, served)."""

    def __init__(self, logical_name: str = MEDIA_BUCKET) -> None:
        self._logical = logical_name

    @property
    def name(self) -> str:
        return settings().bucket_name(self._logical)

    @property
    def _s3(self) -> Any:
        return _client()

    def presigned_post(
        self, key: str, content_type: str, max_bytes: int, expires_s: int, min_bytes: int = 1
    ) -> UploadForm:
        """A form that lets its holder store one object at `key`, of `content_type`, of
        min_bytes..max_bytes bytes, within `expires_s` seconds; S3 checks all of it (SigV4
        policy)."""
        post = self._s3.generate_presigned_post(
            Bucket=self.name,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", min_bytes, max_bytes],
            ],
            ExpiresIn=expires_s,
        )
        return UploadForm(url=post["url"], fields=post["fields"])

    def read(self, key: str, limit: int) -> tuple[bytes, datetime] | None:
        """The object's bytes and when it was stored (None: there is none); `TooLarge`
        past `limit`, without reading it."""
        s3 = self._s3
        try:
            answer = s3.get_object(Bucket=self.name, Key=key)
        except s3.exceptions.NoSuchKey:
            return None
        body = answer["Body"]
        try:
            size = int(answer["ContentLength"])
            if size > limit:
                raise TooLarge(size)
            data: bytes = body.read(limit + 1)
        finally:
            body.close()
        if len(data) > limit:  # a length that lied
            raise TooLarge(len(data))
        stored_at: datetime = answer["LastModified"]
        return data, stored_at

    def stream(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AbstractContextManager[Any]:
        """The object's bytes `start`..`end` (exclusive; None: to the end) as a streaming
        body (`.read(n)`), closed when the `with` ends; None if there is no such object."""
        return _streamed(self._s3, self.name, key, start, end)

    def copy(self, source: str, target: str, if_match: str) -> bool:
        """Copy `source` to `target` if `source` is still the object of ETag `if_match`;
        False if it is not (replaced or gone)."""
        s3 = self._s3
        try:
            s3.copy_object(
                Bucket=self.name,
                Key=target,
                CopySource={"Bucket": self.name, "Key": source},
                CopySourceIfMatch=if_match,
            )
        except s3.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "NoSuchKey", "404", "412"):
                return False
            raise
        return True

    def presigned_get(self, key: str, expires_s: int, filename: str) -> str:
        """A link that downloads `key` (as `filename`) until `expires_s` seconds from now."""
        url: str = self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.name,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=expires_s,
        )
        return url

    def write(self, key: str, data: bytes, content_type: str, cache_control: str) -> None:
        self._s3.put_object(
            Bucket=self.name,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=cache_control,
        )

    def delete(self, keys: Iterable[str]) -> None:
        """Remove these objects (absent ones are no error)."""
        wanted = list(keys)
        for start in range(0, len(wanted), DELETE_BATCH):
            chunk = wanted[start : start + DELETE_BATCH]
            answer = self._s3.delete_objects(
                Bucket=self.name,
                Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
            )
            if answer.get("Errors"):
                failed = [error.get("Key") for error in answer["Errors"]]
                raise RuntimeError(f"S3 could not delete {failed}")
