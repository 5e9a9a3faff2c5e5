"""How a product's images are stored on its DynamoDB item (a list of maps)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute

from catalog.core.types import iso_millis
from catalog.images.schemas import ProductImage, Rendition


class RenditionAttribute(MapAttribute[str, object]):
    size = NumberAttribute()
    width = NumberAttribute()
    height = NumberAttribute()
    key = UnicodeAttribute()


class ImageAttribute(MapAttribute[str, object]):
    id = UnicodeAttribute()
    status = UnicodeAttribute()
    content_type = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    renditions = ListAttribute(of=RenditionAttribute, default=list)
    reason = UnicodeAttribute(null=True)
    max_bytes = NumberAttribute()
    upload_expires_at = UnicodeAttribute()


def images_attribute() -> ListAttribute[ImageAttribute]:
    """The product item's `images` attribute."""
    return ListAttribute(of=ImageAttribute, default=list)


def to_attributes(images: Iterable[ProductImage]) -> list[ImageAttribute]:
    return [
        ImageAttribute(  # type: ignore[no-untyped-call]
            id=image.id,
            status=image.status,
            content_type=image.content_type,
            created_at=iso_millis(image.created_at),
            updated_at=iso_millis(image.updated_at),
            width=image.width,
            height=image.height,
            renditions=[
                RenditionAttribute(  # type: ignore[no-untyped-call]
                    size=r.size, width=r.width, height=r.height, key=r.key
                )
                for r in image.renditions
            ],
            reason=image.reason,
            max_bytes=image.max_bytes,
            upload_expires_at=iso_millis(image.upload_expires_at),
        )
        for image in images
    ]


def _optional_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def from_attributes(items: Iterable[ImageAttribute] | None) -> list[ProductImage]:
    return [
        ProductImage(
            id=item.id,
            status=item.status,  # type: ignore[arg-type]
            content_type=item.content_type,
            created_at=datetime.fromisoformat(item.created_at),
            updated_at=datetime.fromisoformat(item.updated_at),
            width=_optional_int(item.width),
            height=_optional_int(item.height),
            renditions=[
                Rendition(size=int(r.size), width=int(r.width), height=int(r.height), key=r.key)
                for r in item.renditions or []
            ],
            reason=item.reason,
            max_bytes=int(item.max_bytes),
            upload_expires_at=datetime.fromisoformat(item.upload_expires_at),
        )
        for item in items or []
    ]
