"""Processing uploaded bytes: what is accepted, what is refused, and what comes out."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from catalog.images.processing import MAX_PIXELS, Rejected, process, sniff
from tests import images

TEN_MIB = 10 * 1024 * 1024


def _open(webp: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(webp))
    assert image.format == "WEBP"
    return image


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_each_allowed_format_becomes_two_webp_renditions(fmt: str, content_type: str) -> None:
    # Given a 640 x 480 image of an allowed format
    data = images.photo(640, 480, fmt=fmt)
    # When it is processed
    result = process(data, content_type, TEN_MIB)
    # Then its size is reported and each rendition fits its box, never enlarged
    assert (result.width, result.height) == (640, 480)
    sizes = {r.size: (r.width, r.height) for r in result.renditions}
    assert sizes == {256: (256, 192), 1024: (640, 480)}
    for rendition in result.renditions:
        assert _open(rendition.webp).size == (rendition.width, rendition.height)


def test_exif_orientation_is_applied_and_every_piece_of_metadata_dropped() -> None:
    # Given a landscape JPEG whose EXIF says "rotate 90°" and carries a camera make and GPS
    data = images.photo(640, 480, orientation=6)
    source = Image.open(io.BytesIO(data))
    assert source.getexif()[images.EXIF_MAKE] == "SecretCam"
    assert source.getexif().get_ifd(images.EXIF_GPS_IFD)
    # When it is processed
    result = process(data, "image/jpeg", TEN_MIB)
    # Then it is upright (portrait) and the renditions carry no EXIF, ICC or XMP
    assert (result.width, result.height) == (480, 640)
    for rendition in result.renditions:
        out = _open(rendition.webp)
        assert out.height > out.width
        assert not out.getexif()
        assert not {"exif", "icc_profile", "xmp"} & set(out.info)
        assert b"SecretCam" not in rendition.webp


def test_transparency_is_kept() -> None:
    result = process(images.photo(64, 64, fmt="PNG"), "image/png", TEN_MIB)
    assert _open(result.renditions[0].webp).mode == "RGBA"


@pytest.mark.parametrize(
    ("data", "declared", "reason"),
    [
        (b"", "image/jpeg", "empty"),
        (b"just some text, named photo.jpg\n", "image/jpeg", "not a JPEG, PNG or WebP"),
        (b"%PDF-1.7\n" + b"0" * 100, "image/png", "not a JPEG, PNG or WebP"),
        (images.photo(fmt="PNG"), "image/jpeg", "image/png, but image/jpeg was declared"),
        (images.truncated(images.photo(800, 600)), "image/jpeg", "truncated or corrupt"),
        (images.truncated(images.photo(fmt="PNG")), "image/png", "truncated or corrupt"),
        (images.truncated(images.photo(fmt="WEBP"), 0.5), "image/webp", "truncated or corrupt"),
        (b"\xff\xd8\xff" + b"\x00" * 500, "image/jpeg", "truncated or corrupt"),
        (images.png_bomb(), "image/png", f"more than {MAX_PIXELS} pixels"),
        (images.png_bomb(7000, 7000), "image/png", f"more than {MAX_PIXELS} pixels"),
    ],
    ids=[
        "empty",
        "text-named-jpg",
        "pdf",
        "png-declared-jpeg",
        "truncated-jpeg",
        "truncated-png",
        "truncated-webp",
        "jpeg-magic-then-garbage",
        "bomb-10-gigapixels",
        "bomb-49-megapixels",
    ],
)
def test_bad_input_is_rejected_with_a_reason(data: bytes, declared: str, reason: str) -> None:
    with pytest.raises(Rejected) as refused:
        process(data, declared, TEN_MIB)
    assert reason in refused.value.reason


def test_a_real_bomb_is_refused_before_decoding() -> None:
    # Given a genuine 7000 x 7000 PNG (49 Mpx, a few KiB: zeros compress away)
    data = images.zero_png(7000, 7000)
    assert len(data) < 100_000
    with pytest.raises(Rejected, match="pixels"):
        process(data, "image/png", TEN_MIB)


def test_more_bytes_than_declared_are_refused() -> None:
    data = images.photo()
    with pytest.raises(Rejected, match="declared"):
        process(data, "image/jpeg", len(data) - 1)


def test_sniffing_reads_the_leading_bytes_only() -> None:
    assert sniff(images.photo()) == "image/jpeg"
    assert sniff(images.photo(fmt="PNG")) == "image/png"
    assert sniff(images.photo(fmt="WEBP")) == "image/webp"
    assert sniff(b"GIF89a...") is None
