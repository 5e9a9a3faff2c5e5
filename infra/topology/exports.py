"""Exports: background jobs writing products (a listing's filters) to files in S3.

`POST /v1/exports` records a job and queues its id; the export worker streams the listing
into a multipart upload in the exports bucket, recording where each part ends, and the
API signs download links. Jobs have a table of their own: their progress writes would
otherwise run through the products table's stream and its consumers.
"""

from __future__ import annotations

from catalog.exports.service import HAND_OVER_S, MAX_ATTEMPTS, RETENTION_DAYS
from catalog.exports.storage import EXPORT_PREFIX, EXPORTS_BUCKET
from infra.topology.model import Bucket, Capability, Function, Index, Queue, QueueSource, Table

WORKER_TIMEOUT_S = 900  # Lambda's longest; a job hands over HAND_OVER_S before it
assert WORKER_TIMEOUT_S > 2 * HAND_OVER_S

EXPORTS = Capability(
    "exports",
    functions=(
        Function(
            "exports",
            code="functions/exports",
            memory_mb=256,
            tables={"exports": "write", "access": "read"},
            secrets=("cursor-key",),
            # Read only: what signs a download link must be able to read the file.
            buckets={EXPORTS_BUCKET: "read"},
            queues=("exports",),
            init_clients=("dynamodb",),
        ),
        # One part (8 MiB) held and a page of products: 512 MB leaves room, and buys the
        # CPU that encoding needs (Lambda's share grows with memory).
        Function(
            "export-worker",
            code="functions/export_worker",
            memory_mb=512,
            timeout_s=WORKER_TIMEOUT_S,
            tables={"products": "read", "exports": "write"},
            buckets={EXPORTS_BUCKET: "write"},
            queues=("exports",),  # to hand a job over to its next invocation
        ),
    ),
    tables=(
        Table(
            name="exports",
            partition_key="pk",
            sort_key="sk",
            indexes=(
                # Every job, newest first (the admins' listing): gsi1pk is EXPORTS.
                Index("gsi1", partition_key="gsi1pk", sort_key="gsi1sk"),
                # One user's jobs, newest first: gsi2pk is OWNER#<sub>.
                Index("gsi2", partition_key="gsi2pk", sort_key="gsi2sk"),
            ),
            ttl_attribute="expires_at",
        ),
    ),
    # One message per job; a job is written by one worker at a time (batch of 1), and the
    # visibility covers the worker's whole timeout.
    queues=(
        Queue("exports", visibility_timeout_s=6 * WORKER_TIMEOUT_S, max_receives=MAX_ATTEMPTS),
    ),
    queue_sources=(QueueSource("exports", consumer="export-worker", batch_size=1),),
    buckets=(Bucket(EXPORTS_BUCKET, expire_prefixes={EXPORT_PREFIX: RETENTION_DAYS}),),
)
