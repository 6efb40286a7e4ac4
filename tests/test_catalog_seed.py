"""Bundled catalog data, seeding (idempotent) and `tys catalog stats`."""

from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.catalog import seed as seed_mod
from core.catalog.seed import (
    alias_pairs,
    load_aliases,
    load_catalog,
    load_playlists,
    seed,
    seed_if_empty,
)
from core.catalog.stats import catalog_stats
from core.catalog.tags import vocabulary
from core.normalize import normalize_artist, normalize_title

KO_FILE = seed_mod.DATA / "catalog_ko.jsonl"


def _lines(path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_catalog_balance_and_quality() -> None:
    rows = load_catalog()
    korean = _lines(KO_FILE)
    assert len(rows) >= 1000
    assert len(korean) / len(rows) >= 0.40
    keys = [(normalize_title(r["title"]), normalize_artist(r["artist"])) for r in rows]
    assert len(set(keys)) == len(keys), [k for k, n in Counter(keys).items() if n > 1]
    vocab = vocabulary()
    for r in rows:
        assert set(r) >= {"title", "artist", "year", "language", "tags", "popularity"}, r
        assert 2 <= len(r["tags"]) <= 6, r
        assert set(r["tags"]) <= set(vocab), r
    # Genre breadth the shops need survives the trim.
    per_tag = Counter(t for r in rows for t in r["tags"])
    for genre in (
        "jazz",
        "bossa-nova",
        "acoustic",
        "rnb-soul",
        "city-pop",
        "lofi",
        "classical",
        "lounge",
        "indie",
        "k-indie",
        "k-ballad",
    ):
        assert per_tag[genre] >= 15, genre


def test_starter_playlists_are_coherent() -> None:
    playlists = load_playlists()
    vocab = vocabulary()
    catalog = {(r["title"], r["artist"]): r for r in load_catalog()}
    assert len(playlists) >= 150
    assert len({p["slug"] for p in playlists}) == len(playlists)
    uses: Counter = Counter()
    for p in playlists:
        assert p["name_en"] and p["name_ko"], p["slug"]
        assert p["tags"] and set(p["tags"]) <= set(vocab), p["slug"]
        assert 15 <= len(p["tracks"]) <= 40, p["slug"]
        pairs = [(t["title"], t["artist"]) for t in p["tracks"]]
        assert len(set(pairs)) == len(pairs), p["slug"]
        for pair in pairs:
            assert pair in catalog, (p["slug"], pair)  # exact title + artist
        # Coherent: most tracks carry at least one of the playlist's tags.
        fitting = sum(bool(set(catalog[x]["tags"]) & set(p["tags"])) for x in pairs)
        assert fitting / len(pairs) >= 0.9, p["slug"]
        uses.update(pairs)
    in_two = sum(1 for key in catalog if uses[key] >= 2)
    assert in_two / len(catalog) >= 0.95


def test_alias_pairs_resolve_both_spellings() -> None:
    pairs = alias_pairs(load_aliases())
    assert pairs["iu"] == "아이유"
    assert pairs["아이유"] == "아이유"
    assert pairs[normalize_artist("The Black Skirts")] == "검정치마"


async def _counts(session: AsyncSession) -> dict[str, int]:
    q = {
        "tags": "SELECT count(*) FROM tags",
        "tracks": "SELECT count(*) FROM tracks WHERE source = 'seed'",
        "track_tags": "SELECT count(*) FROM track_tags tt JOIN tracks t ON t.id = tt.track_id "
        "WHERE t.source = 'seed'",
        "aliases": "SELECT count(*) FROM artist_aliases",
        "playlists": "SELECT count(*) FROM playlists WHERE source = 'starter'",
        "playlist_tracks": "SELECT count(*) FROM playlist_tracks pt JOIN playlists p "
        "ON p.id = pt.playlist_id WHERE p.source = 'starter'",
    }
    return {k: int(await session.scalar(text(v))) for k, v in q.items()}


async def test_seed_loads_everything_and_is_idempotent(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    first = await seed(engine)
    rows = load_catalog()
    playlists = load_playlists()
    assert first.tracks == len(rows)
    assert first.playlists == len(playlists)
    assert first.playlist_tracks == sum(len(p["tracks"]) for p in playlists)
    assert first.seconds < 5
    before = await _counts(session)
    assert before["tags"] >= len(vocabulary())
    assert before["tracks"] >= len(rows)
    assert before["track_tags"] >= sum(len(r["tags"]) for r in rows)
    assert before["playlists"] >= len(playlists)

    again = await seed(engine)
    assert again.changed == 0
    assert await _counts(session) == before
    assert await seed_if_empty(engine) is False

    # Norm fields come from core.normalize; tags, aliases and playlists are linked up.
    track = (
        await session.execute(
            text("SELECT id, norm_title, norm_artist FROM tracks WHERE title = '밤편지'")
        )
    ).one()
    assert (track.norm_title, track.norm_artist) == ("밤편지", "아이유")
    tags = set(
        (
            await session.execute(
                text(
                    "SELECT g.key FROM track_tags tt JOIN tags g ON g.id = tt.tag_id "
                    "WHERE tt.track_id = :id"
                ),
                {"id": track.id},
            )
        ).scalars()
    )
    assert tags == {"calm", "romantic", "k-ballad", "acoustic", "late-night", "cafe"}
    assert (
        await session.scalar(text("SELECT artist_norm FROM artist_aliases WHERE alias_norm = 'iu'"))
        == "아이유"
    )
    starter = (
        await session.execute(
            text(
                "SELECT owner_id, name, tags FROM playlists WHERE source = 'starter' "
                "AND external_id = 'rainy-day-cafe'"
            )
        )
    ).one()
    assert starter.owner_id is None
    assert "Rainy-day cafe" in starter.name and "비 오는 날" in starter.name
    assert "rainy-day" in starter.tags


async def test_seed_restores_edited_rows(engine: AsyncEngine, session: AsyncSession) -> None:
    await seed(engine)
    pid = await session.scalar(
        text("SELECT id FROM playlists WHERE source = 'starter' AND external_id = 'k-romance'")
    )
    n = await session.scalar(
        text("SELECT count(*) FROM playlist_tracks WHERE playlist_id = :p"), {"p": pid}
    )
    await session.execute(
        text(
            "DELETE FROM playlist_tracks WHERE playlist_id = :p AND track_id = "
            "(SELECT min(track_id) FROM playlist_tracks WHERE playlist_id = :p)"
        ),
        {"p": pid},
    )
    await session.execute(text("UPDATE playlists SET name = 'x' WHERE id = :p"), {"p": pid})
    await session.commit()
    report = await seed(engine)
    assert report.changed == 2  # the playlist name and the missing entry, nothing else
    assert (
        await session.scalar(
            text("SELECT count(*) FROM playlist_tracks WHERE playlist_id = :p"), {"p": pid}
        )
        == n
    )


async def test_catalog_stats(engine: AsyncEngine, session: AsyncSession) -> None:
    await seed(engine)
    stats = await catalog_stats(session)
    assert set(stats) == {
        "tracks",
        "artists",
        "playlists",
        "by_language",
        "by_tag",
        "by_resolution",
    }
    assert stats["tracks"] >= len(load_catalog())
    assert stats["playlists"] >= 150
    assert stats["by_language"]["ko"] >= 500
    assert set(stats["by_tag"]) >= set(vocabulary())
    assert stats["by_tag"]["k-ballad"] >= 100
    assert set(stats["by_resolution"]) == {"unresolved", "resolved", "not_found"}
    assert sum(stats["by_resolution"].values()) == stats["tracks"]
    # 아이유 and IU are one artist; the catalog has several hundred.
    assert 500 < stats["artists"] < stats["tracks"]


def test_stats_cli_json(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from core.catalog import stats

    assert stats.main(["--json"], SimpleNamespace(database_url=database_url), None) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out) == ["tracks", "artists", "playlists", "by_language", "by_tag", "by_resolution"]
    assert stats.main([], SimpleNamespace(database_url=database_url), None) == 0
    assert "starter playlists" in capsys.readouterr().out


def test_seed_cli_prints_one_line(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert seed_mod.main([], SimpleNamespace(database_url=database_url), None) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "tracks" in out[0] and "0 rows changed" in out[0]
