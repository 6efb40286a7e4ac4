"""The owner's check of a screenshot import: merge, remove, fix, save (real DB + matcher)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core import ocr, screenshots
from core.catalog.matching import CatalogMatcher


def OcrRow(title: str, artist: str | None, truncated: bool = False) -> ocr.OcrRow:
    return ocr.OcrRow(title, artist, truncated, confidence=0.9)


@pytest.fixture
async def catalog(session, monkeypatch):
    """Three tracks of this test's own, and a matcher that knows them."""
    ids = []
    for title, artist in [
        ("Zq Moonlit Harbor", "Zq Lantern"),
        ("즈큐 새벽 정류장", "즈큐 가수"),
        ("Zq Paper Sky", "Zq Lantern"),
    ]:
        from core.normalize import normalize_artist, normalize_title

        ids.append(
            (
                await session.execute(
                    text(
                        "INSERT INTO tracks (title, artist, norm_title, norm_artist, popularity, "
                        "source, spotify_status, explicit, interaction_count) VALUES "
                        "(:t, :a, :nt, :na, 50, 'import', 'unresolved', false, 0) "
                        "ON CONFLICT (norm_title, norm_artist) DO UPDATE SET title = EXCLUDED.title "
                        "RETURNING id"
                    ),
                    {
                        "t": title,
                        "a": artist,
                        "nt": normalize_title(title),
                        "na": normalize_artist(artist),
                    },
                )
            ).scalar_one()
        )
    await session.commit()
    matcher = CatalogMatcher()
    await matcher.load(session)

    async def _get(_session):
        return matcher

    monkeypatch.setattr(screenshots, "get_matcher", _get)
    return ids


async def test_rows_matched_merged_removed_fixed_and_saved(session, catalog) -> None:
    harbor, dawn, sky = catalog
    imp = screenshots.Import()
    first = await screenshots.match_rows(
        session,
        [
            OcrRow("Zq Moonlit Harbor", "Zq Lantern"),
            OcrRow("즈큐 새벽 정류", "즈큐 가수", True),
            OcrRow("Totally Unknown Song", "Nobody"),
        ],
    )
    assert screenshots.merge(imp, first) == 3
    assert [r.track_id for r in imp.rows] == [harbor, dawn, None]  # unmatched kept, not forced
    # A second screenshot overlapping the first: duplicates merged.
    second = await screenshots.match_rows(
        session, [OcrRow("Zq Moonlit Harbor", "Zq Lantern"), OcrRow("Zq Paper Sky", "Zq Lantern")]
    )
    assert screenshots.merge(imp, second) == 1
    assert imp.screenshots == 2 and len(imp.rows) == 4

    assert screenshots.remove(imp, 1)
    assert not screenshots.remove(imp, 1)  # twice: nothing more happens
    assert not screenshots.remove(imp, 99)

    number, title, artist = screenshots.parse_fix("3 Zq Paper Sky - Zq Lantern", imp)
    row = await screenshots.apply_fix(session, imp, number, title, artist)
    assert row.corrected and row.track_id == sky

    summary = screenshots.summary(imp)
    assert (
        summary["read"] == 4
        and summary["removed"] == 1
        and summary["corrected"][0]["track_id"] == sky
    )
    assert imp.kept_tracks == [dawn, sky]


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("just some words", "shot_fix_format"),
        ("3 title without artist", "shot_fix_format"),
        ("9 Song - Artist", "shot_fix_no_row"),
        ("1 " + "x" * 400 + " - y", "shot_fix_too_long"),
        ("2 - - -", "shot_fix_format"),
    ],
)
def test_bad_fix_input_gets_a_clear_key(typed: str, key: str) -> None:
    imp = screenshots.Import([screenshots.Row("a", "b"), screenshots.Row("c", "d")], 1)
    with pytest.raises(screenshots.FixError) as info:
        screenshots.parse_fix(typed, imp)
    assert info.value.key == key


async def test_save_playlist_keeps_matched_rows_in_order(session, catalog) -> None:
    harbor, dawn, sky = catalog
    await session.execute(text("INSERT INTO owners (id) VALUES (424242) ON CONFLICT DO NOTHING"))
    imp = screenshots.Import(
        [
            screenshots.Row("x", "y", track_id=sky),
            screenshots.Row("u", None),
            screenshots.Row("h", "l", track_id=harbor),
            screenshots.Row("d", "e", track_id=dawn, removed=True),
        ],
        1,
    )
    pid = await screenshots.save_playlist(session, 424242, imp, "Screenshot test")
    rows = (
        await session.execute(
            text("SELECT track_id FROM playlist_tracks WHERE playlist_id = :p ORDER BY position"),
            {"p": pid},
        )
    ).all()
    assert [r[0] for r in rows] == [sky, harbor]
    source = (
        await session.execute(text("SELECT source FROM playlists WHERE id = :p"), {"p": pid})
    ).scalar_one()
    assert source == "screenshot"
    await session.rollback()
