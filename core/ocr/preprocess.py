"""Turning untrusted bytes into a greyscale page the engines can read, or a typed refusal.

The checks run from cheapest to dearest: byte size, then the header (format and pixel count,
read without decoding a pixel), then the decode itself. Pillow's own decompression-bomb
guard is kept as a second line behind our pixel limit.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.ocr import tuning
from core.ocr.base import (
    CorruptImage,
    FileTooLarge,
    ImageTooSmall,
    TooManyPixels,
    UnsupportedFormat,
)


def open_image(data: bytes) -> Image.Image:
    """Decoded, upright RGB image of a PNG/JPEG/WebP file within the limits."""
    if len(data) > tuning.MAX_FILE_BYTES:
        mb = len(data) / 1024 / 1024
        raise FileTooLarge(f"file is {mb:.1f} MB; the limit is {tuning.MAX_FILE_BYTES // 2**20} MB")
    if not data:
        raise CorruptImage("empty file")
    with warnings.catch_warnings():
        # Pillow warns (and at twice the limit refuses) on huge images; treat both as refusals.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise TooManyPixels(f"decompression bomb refused: {exc}") from None
        except Image.DecompressionBombWarning as exc:
            raise TooManyPixels(f"decompression bomb refused: {exc}") from None
        except UnidentifiedImageError:
            raise CorruptImage("not an image file (or a damaged one)") from None
        fmt = (img.format or "").upper()
        if fmt not in tuning.ALLOWED_FORMATS:
            raise UnsupportedFormat(f"{fmt or 'unknown'} images are not accepted (PNG, JPEG, WebP)")
        w, h = img.size
        if w * h > tuning.MAX_PIXELS:
            raise TooManyPixels(
                f"{w}x{h} is {w * h / 1e6:.0f} MP; the limit is {tuning.MAX_PIXELS / 1e6:.0f} MP"
            )
        if min(w, h) < tuning.MIN_SIDE:
            raise ImageTooSmall(f"{w}x{h} is too small (short side under {tuning.MIN_SIDE} px)")
        try:
            img.load()
            img = ImageOps.exif_transpose(img) or img
            return img.convert("RGB")
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            raise CorruptImage(f"image data is damaged: {exc}") from None


def image_format(data: bytes) -> str:
    """'PNG' | 'JPEG' | 'WEBP' of bytes `open_image` accepted (read from the header only)."""
    with Image.open(io.BytesIO(data)) as img:
        return (img.format or "PNG").upper()


def to_grey(img: Image.Image) -> np.ndarray:
    """uint8 luminance."""
    return np.asarray(img.convert("L"))


def is_dark(grey: np.ndarray) -> bool:
    """Dark theme: the most common brightness (the background) is below mid-grey."""
    hist = np.bincount(grey[::4, ::4].ravel(), minlength=256)
    return int(np.argmax(hist)) < 128


def dark_text_on_light(grey: np.ndarray) -> np.ndarray:
    """Tesseract reads dark text on a light ground; anything else is inverted. Decided per
    crop (by its border, which is background), so a coloured button or a dark header band on
    a light page is handled as well as a whole dark theme."""
    if grey.size == 0:
        return grey
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if float(np.median(border)) < 128:
        return 255 - grey
    return grey


def page_for_tesseract(img: Image.Image) -> tuple[np.ndarray, float]:
    """Whole-page greyscale for the page-mode engine: dark themes inverted and narrow images
    (Telegram's 1280 px photos are ~590 px wide) upscaled. Returns the page and its scale."""
    grey = to_grey(img)
    if is_dark(grey):
        grey = 255 - grey
    scale = 1.0
    if grey.shape[1] < tuning.PAGE_MIN_WIDTH:
        scale = tuning.PAGE_MIN_WIDTH / grey.shape[1]
        pil = Image.fromarray(grey).resize(
            (round(grey.shape[1] * scale), round(grey.shape[0] * scale)), Image.Resampling.BICUBIC
        )
        grey = np.asarray(pil)
    return grey, scale
