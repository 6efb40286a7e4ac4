"""What every OCR provider returns, the provider interface, and the typed refusals.

Each refusal carries a message `key` for the chat (its Korean and English text is in core/texts.py)
and an English `str()` with the detail for logs and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WordBox:
    """One recognised word in image pixels (x1/y1 exclusive), confidence 0..1."""

    text: str
    confidence: float
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


class OcrProvider(Protocol):
    """Reads every word of one image. `read` is blocking (CPU or network work); the pipeline
    runs it off the event loop."""

    name: str

    def read(self, data: bytes) -> list[WordBox]: ...


class OcrError(Exception):
    """Base of every refusal the owner should see as a message (never a crash)."""

    key = "ocr_failed"


class FileTooLarge(OcrError):
    key = "ocr_too_large"


class UnsupportedFormat(OcrError):
    key = "ocr_unsupported_format"


class CorruptImage(OcrError):
    key = "ocr_corrupt"


class TooManyPixels(OcrError):
    key = "ocr_too_many_pixels"


class ImageTooSmall(OcrError):
    key = "ocr_too_small"


class NoText(OcrError):
    key = "ocr_no_text"


class NotAPlaylist(OcrError):
    key = "ocr_not_playlist"


class ProviderUnavailable(OcrError):
    """The OCR engine cannot run (missing models, cloud key refused, service down)."""

    key = "ocr_unavailable"
