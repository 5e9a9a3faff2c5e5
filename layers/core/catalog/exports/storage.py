"""Export files in the exports bucket, written as S3 multipart uploads.

A file is never held whole: each part is uploaded as it fills and the object appears only
when the upload completes, so a failed export leaves no partial file (an abandoned upload
is aborted, and the bucket's lifecycle expires what a crash leaves). S3 errors become
domain errors here.
"""

from __future__ import annotations

from contextlib import suppress

from catalog.images.storage import MediaBucket

EXPORTS_BUCKET = "exports"  # the topology's bucket
EXPORT_PREFIX = "exports/"


def export_key(export_id: str, file_format: str) -> str:
    return f"{EXPORT_PREFIX}{export_id}.{file_format}"


class ExportFiles(MediaBucket):
    """The exports bucket: multipart writes and presigned reads of `exports/<id>.<format>`."""

    def __init__(self, logical_name: str = EXPORTS_BUCKET) -> None:
        super().__init__(logical_name)

    def start(self, key: str, content_type: str) -> str:
        """A new multipart upload at `key`; its upload id."""
        answer = self._s3.create_multipart_upload(
            Bucket=self.name, Key=key, ContentType=content_type
        )
        return str(answer["UploadId"])

    def upload_part(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Upload part `number` (1-based) of the upload; its ETag."""
        answer = self._s3.upload_part(
            Bucket=self.name, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )
        return str(answer["ETag"])

    def complete(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        """Make the object of the uploaded parts; done already (a retry) is no error."""
        s3 = self._s3
        try:
            s3.complete_multipart_upload(
                Bucket=self.name,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in parts]},
            )
        except s3.exceptions.NoSuchUpload:
            s3.head_object(Bucket=self.name, Key=key)  # completed before: the file is there

    def abort(self, key: str, upload_id: str) -> None:
        """Give the upload up (its parts are deleted); an unknown upload is no error."""
        s3 = self._s3
        with suppress(s3.exceptions.NoSuchUpload):
            s3.abort_multipart_upload(Bucket=self.name, Key=key, UploadId=upload_id)
