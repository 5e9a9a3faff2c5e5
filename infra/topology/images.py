"""Product images: presigned uploads to S3, processed into renditions, served by a CDN.

Uploads go straight to S3 with a presigned form; S3 -> queue -> the image processor turns
them into renditions. Only `images/` is ever served (CloudFront; locally the embedded S3).
"""

from __future__ import annotations

from infra.topology.model import (
    Bucket,
    BucketNotification,
    Capability,
    Function,
    Queue,
    QueueSource,
    StreamSource,
)

MEDIA_BUCKET = "media"
PUBLIC_MEDIA_PREFIX = "images/"

IMAGES = Capability(
    "images",
    functions=(
        # The image routes: a function of their own, so only it holds the bucket's rights and
        # the products function stays as small as it was.
        Function(
            "product-images",
            code="functions/product_images",
            memory_mb=256,
            tables={"products": "write", "access": "read"},
            buckets={MEDIA_BUCKET: "write"},
        ),
        # Decoding a 40-megapixel photo takes about 160 MB, and Lambda's CPU share grows with
        # memory; Pillow comes in its own layer.
        Function(
            "image-processor",
            code="functions/image_processor",
            memory_mb=1024,
            timeout_s=60,
            tables={"products": "write"},
            buckets={MEDIA_BUCKET: "write"},
            layers=("core", "images"),
        ),
    ),
    queues=(
        Queue("image-uploads", visibility_timeout_s=6 * 60, max_receives=5),
        # Products-stream batches the image processor gave up on (their files stay behind).
        Queue("image-cleanup-failures"),
    ),
    queue_sources=(QueueSource("image-uploads", consumer="image-processor", batch_size=5),),
    # Deleting a product removes its image records in the same write; its files go when the
    # image processor reads the removal from the table's stream.
    streams=(
        StreamSource(
            table="products",
            consumer="image-processor",
            batch_size=100,
            on_failure="image-cleanup-failures",
        ),
    ),
    buckets=(
        Bucket(
            MEDIA_BUCKET,
            notifications=(BucketNotification(prefix="uploads/", queue="image-uploads"),),
            # Forms live 5 minutes and uploads are deleted once processed: what stays is stale.
            expire_prefixes={"uploads/": 1},
            browser_uploads=True,
        ),
    ),
)
