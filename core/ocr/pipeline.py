"""Screenshot in, song rows out: the API the chat and the CLI use.

    result = await read_screenshot(data)                 # OcrResult(rows, provider, seconds)
    rows = match_rows(result.rows, matcher)              # optional: catalog tracks

CPU work (decoding, detection, Tesseract) runs on one dedicated worker thread, so the event
loop never blocks and concurrent screenshots queue instead of fighting over 2 cores (each job
already uses both through the engine pool). Models load once per process, on first use or
through `warm_up()` at startup. Refusals are `OcrError` subclasses with a message `key`
(texts in core/texts.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Protocol

from core.ocr import tuning
from core.ocr.base import NotAPlaylist, NoText, OcrProvider
from core.ocr.rows import ParsedRow, parse_rows


@dataclass(frozen=True, slots=True)
class RowMatch:
    track_id: int
    title: str
    artist: str
    score: float


@dataclass(frozen=True, slots=True)
class OcrRow:
    title: str
    artist: str | None
    truncated: bool
    confidence: float
    match: RowMatch | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "artist": self.artist,
            "truncated": self.truncated,
            "match": None
            if self.match is None
            else {
                "track_id": self.match.track_id,
                "title": self.match.title,
                "artist": self.match.artist,
                "score": round(self.match.score, 4),
            },
        }


@dataclass(frozen=True, slots=True)
class OcrResult:
    rows: list[OcrRow]
    provider: str
    seconds: float


class Matcher(Protocol):
    def match(self, title: str, artist: str | None = None, truncated: bool = False) -> Any: ...


class _Settings(Protocol):
    ocr_provider: Any
    upstage_api_key: str | None
    upstage_api_base: str


_providers: dict[tuple[str, str | None, str | None], OcrProvider] = {}
_providers_lock = threading.Lock()
# One job at a time: a job already keeps both cores busy (detector threads, two Tesseracts).
_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ocr")


def get_provider(
    name: str = "tesseract", *, api_key: str | None = None, api_base: str | None = None
) -> OcrProvider:
    """The process-wide provider of that name (models loaded on the first call)."""
    name = str(getattr(name, "value", name))
    key = (name, api_key, api_base)
    with _providers_lock:
        if key not in _providers:
            if name == "upstage":
                from core.ocr.upstage import UpstageProvider

                _providers[key] = UpstageProvider(api_key, api_base or "https://api.upstage.ai/v1")
            elif name in ("tesseract", "tesseract-page"):
                from core.ocr.tesseract import TesseractProvider

                _providers[key] = TesseractProvider("boxes" if name == "tesseract" else "page")
            else:
                raise ValueError(f"unknown OCR provider {name!r}")
        return _providers[key]


def provider_from_settings(settings: _Settings) -> OcrProvider:
    return get_provider(
        str(getattr(settings.ocr_provider, "value", settings.ocr_provider)),
        api_key=settings.upstage_api_key,
        api_base=settings.upstage_api_base,
    )


def read_screenshot_sync(data: bytes, provider: OcrProvider | None = None) -> OcrResult:
    """Blocking version (CLI, benchmark, worker threads)."""
    provider = provider or get_provider()
    started = time.perf_counter()
    words = provider.read(data)
    if not words:
        raise NoText("no text found in the image")
    parsed = parse_rows(words)
    if len(parsed) < tuning.MIN_ROWS or not _looks_like_playlist(parsed):
        raise NotAPlaylist(f"text found ({len(words)} words) but no song rows")
    rows = [OcrRow(r.title, r.artist, r.truncated, r.confidence) for r in parsed]
    return OcrResult(rows, provider.name, round(time.perf_counter() - started, 3))


def _looks_like_playlist(rows: Sequence[ParsedRow]) -> bool:
    """A song list has an artist under at least one title, or several titles in a column."""
    return any(r.artist for r in rows) or len(rows) >= tuning.MIN_ROWS_WITHOUT_ARTIST


async def read_screenshot(
    data: bytes, *, provider: OcrProvider | None = None, settings: _Settings | None = None
) -> OcrResult:
    """Reads a screenshot off the event loop. Raises `OcrError` subclasses (with `.key`)."""
    if provider is None:
        provider = provider_from_settings(settings) if settings is not None else None
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_worker, read_screenshot_sync, data, provider)


async def warm_up(settings: _Settings | None = None) -> None:
    """Loads the models now (at bot start) rather than on the first owner's screenshot."""
    loop = asyncio.get_running_loop()
    if settings is not None:
        await loop.run_in_executor(_worker, provider_from_settings, settings)
    else:
        await loop.run_in_executor(_worker, get_provider)


def match_rows(rows: Sequence[OcrRow], matcher: Matcher) -> list[OcrRow]:
    """Each row with its catalog track, or `match=None` when the matcher is not sure."""
    out: list[OcrRow] = []
    for row in rows:
        m = matcher.match(row.title, row.artist, truncated=row.truncated)
        found = None if m is None else RowMatch(m.track_id, m.title, m.artist, float(m.score))
        out.append(replace(row, match=found))
    return out
