"""A screenshot import in progress: rows read by OCR, matched to the catalog, checked by the
owner (remove / fix / add another screenshot), then saved as a playlist of source
`screenshot`. Pure data + DB; the chat side lives in handlers/screenshot.py."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog.matching import get_matcher
from core.limits import SCREENSHOT_MAX_ROWS
from core.normalize import match_key, normalize_artist, normalize_title

_FIX = re.compile(r"^\s*(\d{1,3})[\s.):-]+(.+?)\s+[-–—]\s+(.+?)\s*$")
_FIX_MAX = 300


@dataclass
class Row:
    title: str
    artist: str | None
    truncated: bool = False
    track_id: int | None = None
    match_title: str | None = None
    match_artist: str | None = None
    score: float = 0.0
    removed: bool = False
    corrected: bool = False

    @property
    def matched(self) -> bool:
        return self.track_id is not None

    def key(self) -> str:
        if self.track_id is not None:
            return f"t{self.track_id}"
        return match_key(self.title) + "|" + match_key(self.artist or "")


@dataclass
class Import:
    rows: list[Row] = field(default_factory=list)
    screenshots: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"rows": [asdict(r) for r in self.rows], "screenshots": self.screenshots}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Import:
        if not data:
            return cls()
        return cls([Row(**r) for r in data.get("rows", [])], int(data.get("screenshots", 0)))

    @property
    def visible(self) -> list[tuple[int, Row]]:
        """(number shown to the owner, row) for rows not removed; numbers are stable."""
        return [(i + 1, r) for i, r in enumerate(self.rows) if not r.removed]

    @property
    def kept_tracks(self) -> list[int]:
        seen: list[int] = []
        for _, r in self.visible:
            if r.track_id is not None and r.track_id not in seen:
                seen.append(r.track_id)
        return seen


class FixError(ValueError):
    """The owner's correction could not be understood; `.key` is the text key to answer."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def match_rows(session: AsyncSession, rows: Sequence[Any]) -> list[Row]:
    """OCR rows -> Rows matched to the catalog (unmatched rows kept, never forced)."""
    from core.ocr.pipeline import match_rows as ocr_match

    out = []
    for r in ocr_match(rows, await get_matcher(session)):
        row = Row(r.title, r.artist, r.truncated)
        if r.match is not None:
            row.track_id, row.match_title, row.match_artist = (
                r.match.track_id,
                r.match.title,
                r.match.artist,
            )
            row.score = float(r.match.score)
        out.append(row)
    return out


def merge(imp: Import, new_rows: Sequence[Row]) -> int:
    """Add a screenshot's rows; rows already present (same track, or same text) are merged.
    Returns how many rows were new."""
    have = {r.key() for r in imp.rows if not r.removed}
    added = 0
    for row in new_rows:
        if row.key() in have or len(imp.rows) >= SCREENSHOT_MAX_ROWS:
            continue
        have.add(row.key())
        imp.rows.append(row)
        added += 1
    imp.screenshots += 1
    return added


def remove(imp: Import, number: int) -> bool:
    if not 1 <= number <= len(imp.rows) or imp.rows[number - 1].removed:
        return False
    imp.rows[number - 1].removed = True
    return True


def parse_fix(typed: str, imp: Import) -> tuple[int, str, str]:
    """'3 밤편지 - 아이유' -> (3, '밤편지', '아이유'); FixError with a text key otherwise."""
    if len(typed) > _FIX_MAX:
        raise FixError("shot_fix_too_long")
    m = _FIX.match(typed.replace("\n", " "))
    if not m:
        raise FixError("shot_fix_format")
    number = int(m.group(1))
    if not 1 <= number <= len(imp.rows) or imp.rows[number - 1].removed:
        raise FixError("shot_fix_no_row")
    title, artist = m.group(2).strip(), m.group(3).strip()
    if not normalize_title(title) or not normalize_artist(artist):
        raise FixError("shot_fix_format")
    return number, title, artist


async def apply_fix(
    session: AsyncSession, imp: Import, number: int, title: str, artist: str
) -> Row:
    row = imp.rows[number - 1]
    row.title, row.artist, row.truncated, row.corrected = title, artist, False, True
    matcher = await get_matcher(session)
    hit = matcher.match(title, artist)
    if hit is None:
        row.track_id = row.match_title = row.match_artist = None
        row.score = 0.0
    else:
        row.track_id, row.match_title, row.match_artist = hit.track_id, hit.title, hit.artist
        row.score = float(hit.score)
    return row


async def save_playlist(session: AsyncSession, owner_id: int, imp: Import, name: str) -> int:
    """The confirmed rows become a playlist of source `screenshot`; returns its id."""
    playlist_id = int(
        (
            await session.execute(
                text(
                    "INSERT INTO playlists (owner_id, source, external_id, name, tags) "
                    "VALUES (:o, 'screenshot', NULL, :n, '{}') RETURNING id"
                ),
                {"o": owner_id, "n": name},
            )
        ).scalar_one()
    )
    tracks = imp.kept_tracks
    if tracks:
        await session.execute(
            text(
                "INSERT INTO playlist_tracks (playlist_id, track_id, position) "
                "SELECT :p, t, ord FROM unnest(CAST(:ids AS int[])) WITH ORDINALITY AS u(t, ord)"
            ),
            {"p": playlist_id, "ids": tracks},
        )
    return playlist_id


def summary(imp: Import) -> dict[str, Any]:
    """What the ocr_import event records: what was read, matched and corrected."""
    return {
        "screenshots": imp.screenshots,
        "read": len(imp.rows),
        "removed": sum(r.removed for r in imp.rows),
        "matched": sum(1 for _, r in imp.visible if r.matched),
        "corrected": [
            {"title": r.title, "artist": r.artist, "track_id": r.track_id}
            for r in imp.rows
            if r.corrected
        ],
        "rows": [
            {"title": r.title, "artist": r.artist, "track_id": r.track_id, "removed": r.removed}
            for r in imp.rows
        ],
    }
