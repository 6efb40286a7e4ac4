"""Bad input is refused with a typed error and a message key, never a crash."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageDraw, ImageFilter

from core.ocr import tuning
from core.ocr.base import (
    CorruptImage,
    FileTooLarge,
    ImageTooSmall,
    NotAPlaylist,
    NoText,
    OcrError,
    TooManyPixels,
    UnsupportedFormat,
)
from core.ocr.pipeline import read_screenshot
from core.ocr.preprocess import open_image
from core.texts import TEXTS
from tests.screens import font, render


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def huge_bilevel_png(side: int) -> bytes:
    """A valid side x side 1-bit PNG of a few dozen KB (rows of zeros compress to nothing)."""
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)
    body = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")
    )


def landscape_photo(with_sign: bool) -> bytes:
    """A photo-like picture: sky and hills, blurred; optionally a shop sign with one word."""
    img = Image.new("RGB", (1280, 960), "#87a9d6")
    d = ImageDraw.Draw(img)
    for i in range(0, 960, 8):
        d.rectangle((0, i, 1280, i + 8), fill=(135 - i // 12, 169 - i // 14, 214 - i // 10))
    d.ellipse((-200, 500, 900, 1400), fill="#4f7a3a")
    d.ellipse((500, 560, 1600, 1500), fill="#3d6630")
    img = img.filter(ImageFilter.GaussianBlur(6))
    if with_sign:
        d = ImageDraw.Draw(img)
        d.rectangle((420, 220, 860, 380), fill="#f4efe6")
        d.text((640, 300), "CAFE", fill="#3a2a1a", font=font("noto-bold", 110), anchor="mm")
    return _png(img)


def test_limits_are_what_the_product_promises() -> None:
    assert tuning.MAX_FILE_BYTES == 10 * 1024 * 1024
    assert set(tuning.ALLOWED_FORMATS) == {"PNG", "JPEG", "WEBP"}


def test_every_error_key_has_korean_and_english_text() -> None:
    for cls in (FileTooLarge, UnsupportedFormat, CorruptImage, TooManyPixels, NoText, NotAPlaylist):
        assert set(TEXTS[cls.key]) == {"ko", "en"}


async def test_a_30_mb_file_is_refused_before_decoding() -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\x00" * (30 * 1024 * 1024)
    with pytest.raises(FileTooLarge) as err:
        await read_screenshot(data)
    assert err.value.key == "ocr_too_large" and "30.0 MB" in str(err.value)


async def test_a_gif_is_refused() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (400, 400), "white").save(buf, "GIF")
    with pytest.raises(UnsupportedFormat) as err:
        await read_screenshot(buf.getvalue())
    assert err.value.key == "ocr_unsupported_format" and "GIF" in str(err.value)


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", render("spotify", [("A", "B")]).png()[:5000]],
    ids=["empty", "text", "cut-png"],
)
async def test_corrupt_images_are_refused(data: bytes) -> None:
    with pytest.raises(CorruptImage) as err:
        await read_screenshot(data)
    assert err.value.key == "ocr_corrupt"


async def test_a_20000_px_square_png_is_refused_without_decoding() -> None:
    data = huge_bilevel_png(20000)
    assert len(data) < 1024 * 1024
    with pytest.raises(TooManyPixels) as err:
        await read_screenshot(data)
    # Pillow's guard sees it first (400 MP is over twice its limit); either way a refusal.
    assert err.value.key == "ocr_too_many_pixels" and "400000000 pixels" in str(err.value)


async def test_an_image_over_our_pixel_limit_is_refused_with_its_size() -> None:
    with pytest.raises(TooManyPixels) as err:
        await read_screenshot(huge_bilevel_png(7000))
    assert "7000x7000 is 49 MP; the limit is 40 MP" in str(err.value)


def test_pillows_bomb_guard_is_a_refusal_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # With our own limit raised, Pillow's decompression-bomb guard still refuses cleanly.
    monkeypatch.setattr(tuning, "MAX_PIXELS", 10**12)
    with pytest.raises(TooManyPixels) as err:
        open_image(huge_bilevel_png(20000))
    assert err.value.key == "ocr_too_many_pixels" and "decompression bomb" in str(err.value)


async def test_a_tiny_image_is_refused() -> None:
    with pytest.raises(ImageTooSmall):
        await read_screenshot(_png(Image.new("RGB", (120, 90), "white")))


def test_webp_and_jpeg_are_accepted() -> None:
    img = Image.new("RGB", (640, 480), "white")
    for fmt in ("WEBP", "JPEG"):
        buf = io.BytesIO()
        img.save(buf, fmt)
        assert open_image(buf.getvalue()).size == (640, 480)


async def test_a_photo_without_text_says_so() -> None:
    with pytest.raises(NoText) as err:
        await read_screenshot(landscape_photo(with_sign=False))
    assert err.value.key == "ocr_no_text"


async def test_a_photo_that_is_not_a_playlist_says_so() -> None:
    with pytest.raises(OcrError) as err:
        await read_screenshot(landscape_photo(with_sign=True))
    assert isinstance(err.value, NotAPlaylist)
    assert err.value.key == "ocr_not_playlist"
