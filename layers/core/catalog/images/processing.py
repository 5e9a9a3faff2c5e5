"""Turning uploaded bytes into safe, web-ready WebP renditions, or a reason to refuse them.

Imported only by the images function (its layer ships Pillow): the API functions never
load this module. Nothing here trusts the uploader: the format is read from the bytes, the
pixel count is checked from the header before anything is decoded, and the renditions are
encoded from pixels alone, so no metadata (EXIF, GPS, ICC, XMP, comments) survives.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from catalog.images.schemas import RENDITION_SIZES

# 40 megapixels: above any camera a shop photographs with (8000 x 5000), far below what
# would exhaust the function's memory once decoded (4 bytes a pixel).
MAX_PIXELS = 40_000_000
WEBP_QUALITY = 80
# Pillow refuses (DecompressionBombError) above twice this, and warns above it; the
# explicit check below refuses anything above MAX_PIXELS before decoding.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
EXIF_ORIENTATION = 0x0112
ROTATED_ORIENTATIONS = frozenset({5, 6, 7, 8})  # these swap width and height


class Rejected(Exception):
    """The upload is not an acceptable image; `reason` is safe to show to its uploader."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RenditionData:
    size: int
    width: int
    height: int
    webp: bytes


@dataclass(frozen=True)
class Processed:
    width: int  # of the original, upright
    height: int
    renditions: tuple[RenditionData, ...]


def sniff(data: bytes) -> str | None:
    """The media type the leading bytes announce (JPEG, PNG or WebP), else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def process(data: bytes, declared_type: str, max_bytes: int) -> Processed:
    """Check `data` is an image of `declared_type` within the limits; make its renditions.

    Raises `Rejected` for anything that is not (empty, too large, another or no format,
    truncated or corrupt, too many pixels).
    """
    if not data:
        raise Rejected("The file is empty.")
    if len(data) > max_bytes:
        raise Rejected(f"The file has {len(data)} bytes; at most {max_bytes} were declared.")
    found = sniff(data)
    if found is None:
        raise Rejected("The file is not a JPEG, PNG or WebP image.")
    if found != declared_type:
        raise Rejected(f"The file is {found}, but {declared_type} was declared.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _renditions(data, PILLOW_FORMATS[found])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise Rejected(f"The image has more than {MAX_PIXELS} pixels.") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            # Pillow's ways of saying "truncated", "broken data stream", "bad header"...
            raise Rejected("The image is truncated or corrupt.") from None


def _renditions(data: bytes, pillow_format: str) -> Processed:
    with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise Rejected(f"The image has {width} x {height}: more than {MAX_PIXELS} pixels.")
        if image.getexif().get(EXIF_ORIENTATION) in ROTATED_ORIENTATIONS:
            width, height = height, width
        if pillow_format == "JPEG":
            # Decode at the smallest JPEG scale still >= the largest rendition: much less
            # memory and time for camera photos, the same result after resizing.
            image.draft("RGB", (max(RENDITION_SIZES), max(RENDITION_SIZES)))
        image.load()  # decodes everything now: truncation and corruption surface here
        upright = ImageOps.exif_transpose(image)
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    pixels = upright.convert("RGBA" if has_alpha else "RGB")
    renditions = []
    for size in RENDITION_SIZES:
        resized = pixels.copy()
        resized.thumbnail((size, size), Image.Resampling.LANCZOS)  # never enlarges
        # A fresh image from the pixels alone: no info, EXIF, ICC profile or XMP to carry.
        clean = Image.frombytes(resized.mode, resized.size, resized.tobytes())
        out = io.BytesIO()
        clean.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
        renditions.append(RenditionData(size, clean.width, clean.height, out.getvalue()))
    return Processed(width, height, tuple(renditions))
