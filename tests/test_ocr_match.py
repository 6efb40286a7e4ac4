"""Rows read from a screenshot matched to catalog tracks through the one catalog matcher."""

from __future__ import annotations

import json

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog.matching import CatalogMatcher
from core.models import Track
from core.normalize import normalize_artist, normalize_title
from core.ocr.pipeline import match_rows, read_screenshot
from tests.screens import Song, render

# Titles no other test's catalog has, so the match can only be these tracks.
SEEDED = [
    ("Quartz Lantern Parade", "Mirelle Oakhart"),
    ("새벽 유리정원 산책로", "한결바람"),
    ("Cobalt Harbour Waltz", "Teodor Brandvik"),
    ("Lullaby for the Lighthouse Keeper and the Long Quiet Evening Tide", "Saoirse Vandermeer"),
]


async def _seed(session: AsyncSession) -> dict[str, int]:
    ids: dict[str, int] = {}
    for title, artist in SEEDED:
        track_id = await session.scalar(
            insert(Track)
            .values(
                title=title,
                artist=artist,
                norm_title=normalize_title(title),
                norm_artist=normalize_artist(artist),
                source="seed",
            )
            .returning(Track.id)
        )
        assert track_id is not None
        ids[title] = track_id
    await session.commit()
    return ids


async def test_screenshot_rows_match_their_catalog_tracks(session: AsyncSession) -> None:
    ids = await _seed(session)
    matcher = await CatalogMatcher().load(session)
    songs = [Song(t, a) for t, a in SEEDED] + [Song("Velvet Nobody Song", "Unknown Quintet")]
    screen = render("spotify", songs, theme="dark", seed=11)
    result = await read_screenshot(screen.telegram_jpeg())
    rows = match_rows(result.rows, matcher)
    assert [r.match.track_id if r.match else None for r in rows] == [
        *(ids[t] for t, _ in SEEDED),
        None,
    ]
    # The long title was cut with "…" on screen and still found its track.
    assert [r.truncated for r in rows] == [False, False, False, True, False]
    doc = json.loads(json.dumps([r.to_json() for r in rows]))
    assert doc[0]["match"]["title"] == "Quartz Lantern Parade" and doc[4]["match"] is None
    assert 0.0 < doc[0]["match"]["score"] <= 1.0


class _OneTrack:
    """A stand-in matcher: knows one song and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None, bool]] = []

    def match(self, title: str, artist: str | None = None, truncated: bool = False):
        self.asked.append((title, artist, truncated))
        if title.startswith("Lullaby"):
            return type("M", (), {"track_id": 7, "title": "Lullaby", "artist": "S", "score": 0.9})()
        return None


def test_match_rows_passes_truncation_to_the_matcher() -> None:
    from core.ocr.pipeline import OcrRow

    matcher = _OneTrack()
    rows = match_rows(
        [OcrRow("Lullaby for the", "S", True, 0.9), OcrRow("Other", None, False, 0.9)], matcher
    )
    assert matcher.asked == [("Lullaby for the", "S", True), ("Other", None, False)]
    assert rows[0].match is not None and rows[0].match.track_id == 7 and rows[1].match is None
