"""Playlist screenshots -> song rows (-> catalog tracks). See `core.ocr.pipeline`.

from core.ocr import read_screenshot, match_rows, OcrError
result = await read_screenshot(data, settings=settings)   # OcrResult(rows, provider, seconds)
rows = match_rows(result.rows, matcher)                   # OcrRow.match: RowMatch | None
except OcrError as exc: core.texts.t(exc.key, lang)
"""

from core.ocr.base import (
    CorruptImage,
    FileTooLarge,
    ImageTooSmall,
    NotAPlaylist,
    NoText,
    OcrError,
    ProviderUnavailable,
    TooManyPixels,
    UnsupportedFormat,
    WordBox,
)
from core.ocr.pipeline import (
    OcrResult,
    OcrRow,
    RowMatch,
    get_provider,
    match_rows,
    provider_from_settings,
    read_screenshot,
    read_screenshot_sync,
    warm_up,
)

__all__ = [
    "CorruptImage",
    "FileTooLarge",
    "ImageTooSmall",
    "NoText",
    "NotAPlaylist",
    "OcrError",
    "OcrResult",
    "OcrRow",
    "ProviderUnavailable",
    "RowMatch",
    "TooManyPixels",
    "UnsupportedFormat",
    "WordBox",
    "get_provider",
    "match_rows",
    "provider_from_settings",
    "read_screenshot",
    "read_screenshot_sync",
    "warm_up",
]
