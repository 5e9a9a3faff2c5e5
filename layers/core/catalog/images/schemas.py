"""Pydantic models of product images: the upload request and form, and an image as listed.

An image is recorded on its product (`Product.images`). Stored records hold S3 keys; the
URLs clients get are built from them at read time (`IMAGES_BASE_URL`: the CloudFront
distribution in the cloud, the embedded S3's bucket URL locally), so a new domain needs no
data migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, computed_field

from catalog.core.settings import settings
from catalog.core.types import WHOLE_NUMBER, Timestamp

MiB = 1024 * 1024
MAX_IMAGE_BYTES = 10 * MiB
MAX_IMAGES_PER_PRODUCT = 10
RENDITION_SIZES = (256, 1024)  # the longest side of each WebP rendition, in pixels
IMAGE_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"  # a ULID, like product ids

ContentType = Literal["image/jpeg", "image/png", "image/webp"]
ImageStatus = Literal["pending", "ready", "rejected"]


def public_url(key: str) -> str:
    """Where clients fetch the object `key` (only ever an `images/` key)."""
    return f"{settings().images_base_url.rstrip('/')}/{key}"


class ImageUploadRequest(BaseModel):
    """Body of `POST /v1/products/{id}/images`: what the uploader is about to send."""

    model_config = ConfigDict(extra="forbid")

    content_type: ContentType = Field(description="The file's media type: JPEG, PNG or WebP.")
    content_length: Annotated[StrictInt, Field(ge=1, le=MAX_IMAGE_BYTES), WHOLE_NUMBER] = Field(
        description="The file's exact size in bytes (at most 10 MiB); the form allows no more."
    )


class UploadForm(BaseModel):
    """An S3 presigned POST: send `fields` then the file (last) as multipart/form-data to `url`."""

    url: str
    fields: dict[str, str]


class ImageUpload(BaseModel):
    """Answer of `POST /v1/products/{id}/images`."""

    image_id: str
    upload: UploadForm
    expires_at: Timestamp = Field(description="The form is refused by S3 after this moment.")


class Rendition(BaseModel):
    """One processed size of an image, a WebP file."""

    model_config = ConfigDict(extra="forbid")

    size: int = Field(description="The longest side it was made for (256 or 1024 px).")
    width: int
    height: int
    key: str = Field(exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return public_url(self.key)


class ProductImage(BaseModel):
    """An image of a product: `pending` until processed, then `ready` or `rejected`."""

    model_config = ConfigDict(extra="forbid")

    id: str
    status: ImageStatus
    content_type: str = Field(description="The media type the uploader declared.")
    created_at: Timestamp
    updated_at: Timestamp
    width: int | None = Field(default=None, description="Of the original, upright (ready only).")
    height: int | None = None
    renditions: list[Rendition] = Field(default_factory=list)
    reason: str | None = Field(default=None, description="Why it was rejected (rejected only).")
    # Kept for the processor, not shown: the declared size and when the form expires.
    max_bytes: int = Field(exclude=True)
    upload_expires_at: datetime = Field(exclude=True)
