"""Where import jobs keep their bytes and send their work: the imports bucket and queue.

Keys of the imports bucket: `uploads/<job>` (what the presigned form stores; S3 notifies
the worker), `files/<job>` (the accepted copy every chunk reads, out of any form's reach),
`reports/<job>/<first row>.csv` (one chunk's failed rows) and `reports/<job>.csv` (the
report). S3 and SQS errors stay here.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from catalog.core import aws
from catalog.core.settings import resource
from catalog.images.storage import MediaBucket

IMPORTS_BUCKET = "imports"  # the topology's bucket
CHUNK_QUEUE_ENV = "QUEUE_IMPORT_CHUNKS"


def upload_key(job_id: str) -> str:
    return f"uploads/{job_id}"


def file_key(job_id: str) -> str:
    return f"files/{job_id}"


def part_key(job_id: str, first_row: int) -> str:
    return f"reports/{job_id}/{first_row:07d}.csv"


def report_key(job_id: str) -> str:
    return f"reports/{job_id}.csv"


def job_of_upload(key: str) -> str | None:
    """The job id of an `uploads/<job>` key, else None."""
    prefix, _, job_id = key.partition("/")
    return job_id if prefix == "uploads" and job_id and "/" not in job_id else None


class ImportFiles(MediaBucket):
    """The imports bucket (the media bucket's operations, on another bucket)."""

    def __init__(self) -> None:
        super().__init__(IMPORTS_BUCKET)

    def put_text(self, key: str, text: str) -> None:
        self.write(key, text.encode("utf-8"), "text/csv; charset=utf-8", "no-store")

    def read_text(self, key: str) -> str:
        with self.stream(key) as body:
            return "" if body is None else bytes(body.read()).decode("utf-8")


@cache
def _sqs() -> Any:
    return aws.client("sqs")


class ChunkQueue:
    """The queue of chunk messages (one per row range of a job)."""

    def send(self, messages: list[dict[str, Any]]) -> None:
        """Queue every message, or raise (the splitter runs again and sends them again)."""
        url = resource(CHUNK_QUEUE_ENV)
        for start in range(0, len(messages), 10):
            batch = messages[start : start + 10]
            answer = _sqs().send_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "MessageBody": json.dumps(m, separators=(",", ":"))}
                    for n, m in enumerate(batch)
                ],
            )
            if answer.get("Failed"):
                raise RuntimeError(f"SQS refused {len(answer['Failed'])} chunk messages")
