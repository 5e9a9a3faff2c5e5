"""Test images made with Pillow at test time: good ones, and each kind of bad input."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

EXIF_ORIENTATION = 0x0112
EXIF_GPS_IFD = 0x8825
EXIF_MAKE = 0x010F


def photo(
    width: int = 640, height: int = 480, fmt: str = "JPEG", orientation: int | None = None
) -> bytes:
    """A gradient image (so encoders have something to compress) in `fmt`. JPEGs carry
    EXIF: a camera make, GPS coordinates and, if given, an orientation."""
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    image = Image.new(mode, (width, height))
    image.putdata(
        [
            (x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), 128, 200)[: len(mode)]
            for y in range(height)
            for x in range(width)
        ]
    )
    out = io.BytesIO()
    if fmt == "JPEG":
        exif = Image.Exif()
        exif[EXIF_MAKE] = "SecretCam"
        exif.get_ifd(EXIF_GPS_IFD).update({1: "N", 2: (48.0, 51.0, 24.0)})
        if orientation is not None:
            exif[EXIF_ORIENTATION] = orientation
        image.save(out, "JPEG", quality=85, exif=exif.tobytes())
    else:
        image.save(out, fmt)
    return out.getvalue()


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    return data[: int(len(data) * keep)]


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny valid-looking PNG whose header claims `width` x `height` pixels (10 gigapixels
    by default): what a decompression bomb looks like before anything is decoded."""
    small = io.BytesIO()
    Image.new("L", (8, 8)).save(small, "PNG")
    data = bytearray(small.getvalue())
    # IHDR is the first chunk: length(4) type(4) width(4) height(4) ... crc(4), at offset 8.
    ihdr_data = bytes(data[16:29])
    ihdr_data = struct.pack(">II", width, height) + ihdr_data[8:]
    data[16:29] = ihdr_data
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr_data))
    return bytes(data)


def zero_png(width: int, height: int) -> bytes:
    """A real, fully decodable PNG of black pixels: compresses to almost nothing."""
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG", optimize=True)
    return out.getvalue()
