"""Image rules: handing out upload forms, processing what arrives, removing images.

No HTTP and no boto here: products are read and written through the products store (an
image is recorded on its product, so every change is one conditional write of the product
item), bytes through the `Objects` port (S3 in production, a fake in unit tests). Pillow is
imported only when an upload is processed, by the images function.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from ulid import ULID

from catalog.core.errors import Conflict, NotFound, VersionConflict
from catalog.core.types import now_millis
from catalog.identity.principal import Principal
from catalog.images.schemas import (
    IMAGE_ID_PATTERN,
    MAX_IMAGES_PER_PRODUCT,
    RENDITION_SIZES,
    ImageUpload,
    ImageUploadRequest,
    ProductImage,
    Rendition,
    UploadForm,
)
from catalog.images.storage import TooLarge
from catalog.products.schemas import Product
from catalog.products.service import ProductService, ProductStore

UPLOAD_FORM_TTL = timedelta(minutes=5)
# S3 refuses a form after its expiry; an object stored this long after it did not come
# through a valid form (the margin leaves room for a slow upload of 10 MiB begun in time).
LATE_UPLOAD_GRACE = timedelta(minutes=15)
# A pending image whose form expired this long ago will never be processed: dropped, so
# abandoned uploads do not use up the product's ten images.
ABANDONED_AFTER = timedelta(hours=1)
RENDITION_CACHE_CONTROL = "public, max-age=31536000, immutable"  # an image id is never reused
MAX_WRITE_ATTEMPTS = 5

_ID = IMAGE_ID_PATTERN.strip("^$")
_UPLOAD_KEY = re.compile(rf"^uploads/(?P<product>{_ID})/(?P<image>{_ID})$")


def upload_key(product_id: str, image_id: str) -> str:
    return f"uploads/{product_id}/{image_id}"


def rendition_key(product_id: str, image_id: str, size: int) -> str:
    return f"images/{product_id}/{image_id}/{size}.webp"


def parse_upload_key(key: str) -> tuple[str, str] | None:
    """(product id, image id) of an upload key, else None."""
    match = _UPLOAD_KEY.match(key)
    return (match["product"], match["image"]) if match else None


class Objects(Protocol):
    """The media bucket (see `catalog.images.storage.MediaBucket`)."""

    def presigned_post(
        self, key: str, content_type: str, max_bytes: int, expires_s: int
    ) -> UploadForm: ...
    def read(self, key: str, limit: int) -> tuple[bytes, datetime] | None: ...
    def write(self, key: str, data: bytes, content_type: str, cache_control: str) -> None: ...
    def delete(self, keys: list[str]) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """What processing one upload did: `ready`, `rejected`, or `ignored` (nothing to do)."""

    status: Literal["ready", "rejected", "ignored"]
    detail: str = ""


Recorded = Literal["recorded", "not-pending", "gone"]


def _abandoned(image: ProductImage, now: datetime) -> bool:
    return image.status == "pending" and now > image.upload_expires_at + ABANDONED_AFTER


def _find(product: Product, image_id: str) -> ProductImage | None:
    return next((image for image in product.images if image.id == image_id), None)


class ImageService:
    def __init__(
        self,
        products: ProductService,
        store: ProductStore,
        objects: Objects,
        clock: Callable[[], datetime] = now_millis,
    ) -> None:
        self._products = products
        self._store = store
        self._objects = objects
        self._clock = clock

    # --- changing a product's image list ----------------------------------------------

    def _rewrite(
        self,
        load: Callable[[], Product],
        images: Callable[[Product], list[ProductImage]],
    ) -> Product:
        """Write `load()` with its images replaced by `images(product)`, as the product's
        next version; a concurrent change is re-read and the rewrite applied again."""
        for _ in range(MAX_WRITE_ATTEMPTS):
            current = load()
            updated = current.model_copy(
                update={
                    "images": images(current),
                    "updated_at": max(self._clock(), current.updated_at),
                    "version": current.version + 1,
                }
            )
            try:
                self._store.replace(current, updated)
            except VersionConflict:
                continue
            return updated
        raise Conflict("The product kept changing while its images were updated; try again.")

    # --- the API ----------------------------------------------------------------------

    def request_upload(
        self, product_id: str, request: ImageUploadRequest, by: Principal
    ) -> ImageUpload:
        """Record a pending image on the product (its owner or an admin; at most ten) and
        return the presigned form that uploads its file."""
        now = self._clock()
        image_id = str(ULID.from_datetime(now))
        expires_at = now + UPLOAD_FORM_TTL
        image = ProductImage(
            id=image_id,
            status="pending",
            content_type=request.content_type,
            created_at=now,
            updated_at=now,
            max_bytes=request.content_length,
            upload_expires_at=expires_at,
        )

        def add(product: Product) -> list[ProductImage]:
            kept = [i for i in product.images if not _abandoned(i, now)]
            if len(kept) >= MAX_IMAGES_PER_PRODUCT:
                raise Conflict(
                    f"A product has at most {MAX_IMAGES_PER_PRODUCT} images; delete one first."
                )
            return [*kept, image]

        self._rewrite(lambda: self._products.get_for_change(product_id, by), add)
        form = self._objects.presigned_post(
            upload_key(product_id, image_id),
            request.content_type,
            request.content_length,
            int(UPLOAD_FORM_TTL.total_seconds()),
        )
        return ImageUpload(image_id=image_id, upload=form, expires_at=expires_at)

    def delete_image(self, product_id: str, image_id: str, by: Principal) -> None:
        """Remove an image from the product (its owner or an admin), then its files."""

        def drop(product: Product) -> list[ProductImage]:
            if _find(product, image_id) is None:
                raise NotFound(f"The product has no image {image_id}.")
            return [image for image in product.images if image.id != image_id]

        self._rewrite(lambda: self._products.get_for_change(product_id, by), drop)
        # After the record: a failure here leaves unlisted files, never a listed image
        # without its files. A processor finishing meanwhile removes what it wrote.
        self._objects.delete(self._keys_of(product_id, image_id))

    def delete_files(self, product_id: str, image_ids: list[str]) -> None:
        """Remove every file of these images of a product (once the product is deleted:
        the images' records went with its item)."""
        self._objects.delete([k for i in image_ids for k in self._keys_of(product_id, i)])

    @staticmethod
    def _keys_of(product_id: str, image_id: str) -> list[str]:
        renditions = [rendition_key(product_id, image_id, size) for size in RENDITION_SIZES]
        return [upload_key(product_id, image_id), *renditions]

    # --- the processor ----------------------------------------------------------------

    def process_upload(self, key: str) -> Outcome:
        """Verify the object at `key` and turn it into renditions, or reject it; in every
        case the original is deleted. Safe to run again for the same key (redelivery)."""
        parsed = parse_upload_key(key)
        if parsed is None:
            self._objects.delete([key])
            return Outcome("ignored", "not an upload key")
        product_id, image_id = parsed
        image = self._pending(product_id, image_id)
        if image is None:
            # Processed already (a redelivered event), deleted, or never requested: in
            # every case nothing of this object may become readable.
            self._objects.delete([key])
            return Outcome("ignored", "no pending image for this upload")
        try:
            stored = self._objects.read(key, limit=image.max_bytes)
        except TooLarge as error:
            reason = f"The file has {error.size} bytes; at most {image.max_bytes} were declared."
            return self._reject(product_id, image_id, key, reason)
        if stored is None:
            return Outcome("ignored", "the upload is gone")
        data, stored_at = stored
        if stored_at > image.upload_expires_at + LATE_UPLOAD_GRACE:
            reason = "The file arrived after its upload form had expired."
            return self._reject(product_id, image_id, key, reason)

        from catalog.images.processing import Rejected, process  # Pillow: this path only

        try:
            result = process(data, image.content_type, image.max_bytes)
        except Rejected as refusal:
            return self._reject(product_id, image_id, key, refusal.reason)
        renditions = []
        for made in result.renditions:
            where = rendition_key(product_id, image_id, made.size)
            self._objects.write(where, made.webp, "image/webp", RENDITION_CACHE_CONTROL)
            renditions.append(
                Rendition(size=made.size, width=made.width, height=made.height, key=where)
            )
        outcome = self._finish(
            product_id,
            image_id,
            lambda i: i.model_copy(
                update={
                    "status": "ready",
                    "width": result.width,
                    "height": result.height,
                    "renditions": renditions,
                }
            ),
        )
        if outcome == "gone":  # the image or its product was deleted meanwhile
            self._objects.delete([r.key for r in renditions])
        self._objects.delete([key])
        return Outcome("ready" if outcome != "gone" else "ignored", outcome)

    def _pending(self, product_id: str, image_id: str) -> ProductImage | None:
        try:
            product = self._store.get(product_id)
        except NotFound:
            return None
        image = _find(product, image_id)
        return image if image is not None and image.status == "pending" else None

    def _reject(self, product_id: str, image_id: str, key: str, reason: str) -> Outcome:
        self._finish(
            product_id,
            image_id,
            lambda i: i.model_copy(update={"status": "rejected", "reason": reason}),
        )
        self._objects.delete([key])
        return Outcome("rejected", reason)

    def _finish(
        self, product_id: str, image_id: str, change: Callable[[ProductImage], ProductImage]
    ) -> Recorded:
        """Apply `change` to the image if it is still pending."""
        state: list[Recorded] = []

        def load() -> Product:
            state.clear()
            return self._store.get(product_id)

        def apply(product: Product) -> list[ProductImage]:
            image = _find(product, image_id)
            if image is None or image.status != "pending":
                state.append("gone" if image is None else "not-pending")
                raise _Unchanged
            updated = change(image).model_copy(update={"updated_at": self._clock()})
            return [updated if i.id == image_id else i for i in product.images]

        try:
            self._rewrite(load, apply)
        except NotFound:
            return "gone"
        except _Unchanged:
            return state[0]
        return "recorded"


class _Unchanged(Exception):
    """Internal: the image is no longer pending, so there is nothing to record."""
