"""Product imports: a file uploaded with a presigned form, read by a worker in chunks.

S3 uploads/ -> import-uploads -> the worker accepts the file and cuts it into chunks ->
import-chunks -> the worker writes each chunk through the products repository (so the
table's stream publishes the change events) and, after the last, the job's report.
"""

from __future__ import annotations

from catalog.imports.worker import CHUNK_ATTEMPTS
from infra.topology.model import (
    Bucket,
    BucketNotification,
    Capability,
    Function,
    Queue,
    QueueSource,
)

IMPORTS_BUCKET = "imports"
WORKER_TIMEOUT_S = 300  # reading a 100 MiB file once, to cut it; a chunk takes seconds

IMPORTS = Capability(
    "imports",
    functions=(
        Function(
            "imports",
            code="functions/imports",
            memory_mb=256,
            tables={"products": "write", "access": "read"},
            secrets=("cursor-key",),
            buckets={IMPORTS_BUCKET: "write"},
        ),
        # Reads a file as a stream (never whole); the report of a 100,000-row file of bad
        # rows (about 20 MB) is the largest thing it holds.
        Function(
            "import-worker",
            code="functions/import_worker",
            memory_mb=1024,
            timeout_s=WORKER_TIMEOUT_S,
            tables={"products": "write"},
            buckets={IMPORTS_BUCKET: "write"},
            queues=("import-chunks",),
        ),
    ),
    queues=(
        Queue(
            "import-uploads",
            visibility_timeout_s=6 * WORKER_TIMEOUT_S,
            max_receives=CHUNK_ATTEMPTS,
        ),
        Queue(
            "import-chunks",
            visibility_timeout_s=6 * WORKER_TIMEOUT_S,
            max_receives=CHUNK_ATTEMPTS,
        ),
    ),
    # One message per invocation: a chunk is heavy, and a failed one is retried alone.
    queue_sources=(
        QueueSource("import-uploads", consumer="import-worker", batch_size=1),
        QueueSource("import-chunks", consumer="import-worker", batch_size=1),
    ),
    buckets=(
        Bucket(
            IMPORTS_BUCKET,
            notifications=(BucketNotification(prefix="uploads/", queue="import-uploads"),),
            # Forms live 5 minutes and an accepted upload is deleted once copied; the copy
            # read by the chunks and the reports are kept for a while, then expire.
            expire_prefixes={"uploads/": 1, "files/": 7, "reports/": 30},
            browser_uploads=True,  # a merchant's page may upload the file itself
        ),
    ),
)
