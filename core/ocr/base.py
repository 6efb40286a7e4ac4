"""What every OCR provider returns, the provider interface, and the typed refusals.

Each refusal carries a message `key` for the chat (texts in `MESSAGES`, Korean and English)
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


# Chat texts for the keys above; the chat layer looks them up by `error.key`.
MESSAGES: dict[str, dict[str, str]] = {
    "ocr_failed": {
        "en": "Sorry, I couldn't read that picture. Please try another screenshot.",
        "ko": "죄송해요, 이 사진을 읽지 못했어요. 다른 스크린샷으로 다시 시도해 주세요.",
    },
    "ocr_too_large": {
        "en": "That file is too large (max 10 MB). Please send the screenshot as a photo.",
        "ko": "파일이 너무 커요 (최대 10MB). 스크린샷을 사진으로 보내 주세요.",
    },
    "ocr_unsupported_format": {
        "en": "I can read PNG, JPEG and WebP screenshots only.",
        "ko": "PNG, JPEG, WebP 스크린샷만 읽을 수 있어요.",
    },
    "ocr_corrupt": {
        "en": "That image seems damaged. Please take the screenshot again.",
        "ko": "이미지가 손상된 것 같아요. 스크린샷을 다시 찍어 보내 주세요.",
    },
    "ocr_too_many_pixels": {
        "en": "That image is far too big to be a screenshot. Please send a normal screenshot.",
        "ko": "스크린샷이라기엔 이미지가 너무 커요. 일반 스크린샷을 보내 주세요.",
    },
    "ocr_too_small": {
        "en": "That image is too small to read. Please send a full-size screenshot.",
        "ko": "이미지가 너무 작아서 읽을 수 없어요. 원래 크기의 스크린샷을 보내 주세요.",
    },
    "ocr_no_text": {
        "en": "I couldn't find any text in that picture. Is it a playlist screenshot?",
        "ko": "사진에서 글자를 찾지 못했어요. 플레이리스트 스크린샷이 맞나요?",
    },
    "ocr_not_playlist": {
        "en": "I couldn't find a list of songs in that picture. Please send a screenshot "
        "of a playlist (song titles with artists).",
        "ko": "사진에서 곡 목록을 찾지 못했어요. 곡 제목과 가수가 보이는 플레이리스트 "
        "스크린샷을 보내 주세요.",
    },
    "ocr_unavailable": {
        "en": "Screenshot reading is unavailable right now. Please try again later.",
        "ko": "지금은 스크린샷을 읽을 수 없어요. 잠시 후 다시 시도해 주세요.",
    },
}
