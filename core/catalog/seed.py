"""Load the bundled catalog into PostgreSQL: tags, tracks (+ track_tags), artist aliases and
the starter playlists. Idempotent (a rerun changes nothing) and bulk (one statement per table,
arrays passed through `unnest`), so seeding the whole catalog takes well under a second.

`tys catalog seed` runs `main`; `seed_if_empty(engine)` is called when the bot starts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.catalog.tags import vocabulary
from core.db import make_engine, make_sessionmaker
from core.normalize import normalize_artist, normalize_title

DATA = Path(__file__).resolve().parent.parent / "data"
CATALOG_FILES = ("catalog_ko.jsonl", "catalog_intl.jsonl")
# Any fixed number works: it only keeps two processes from seeding at the same time.
_SEED_LOCK = 7_305_001


@dataclass
class SeedReport:
    tags: int = 0
    tracks: int = 0
    track_tags: int = 0
    aliases: int = 0
    playlists: int = 0
    playlist_tracks: int = 0
    # Rows written by this run (0 everywhere on a rerun with unchanged data).
    changed: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"seeded {self.tracks} tracks, {self.tags} tags, {self.track_tags} track tags, "
            f"{self.aliases} artist aliases, {self.playlists} starter playlists "
            f"({self.playlist_tracks} entries); {self.changed} rows changed "
            f"in {self.seconds:.2f} s"
        )


# --------------------------------------------------------------------------- bundled data


def load_catalog() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in CATALOG_FILES:
        with (DATA / name).open(encoding="utf-8") as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    return rows


def load_aliases() -> dict[str, list[str]]:
    return json.loads((DATA / "artist_aliases.json").read_text(encoding="utf-8"))


def load_playlists() -> list[dict[str, Any]]:
    return json.loads((DATA / "starter_playlists.json").read_text(encoding="utf-8"))


def alias_pairs(aliases: dict[str, list[str]]) -> dict[str, str]:
    """alias_norm -> canonical artist_norm; the canonical name maps to itself so a lookup
    by either spelling lands on the same artist."""
    out: dict[str, str] = {}
    for canonical, others in aliases.items():
        canon = normalize_artist(canonical)
        for name in (canonical, *others):
            norm = normalize_artist(name)
            if norm:
                out.setdefault(norm, canon)
    return out


def playlist_name(p: dict[str, Any]) -> str:
    # One name column: English and Korean together, the bot shows the side it needs.
    return f"{p['name_en']} / {p['name_ko']}"


def _chunks(rows: list[Any], size: int = 5000) -> Iterator[list[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


# --------------------------------------------------------------------------- statements

_UPSERT_TAGS = text(
    """
    INSERT INTO tags (key, "group", label_en, label_ko)
    SELECT * FROM unnest(CAST(:keys AS text[]), CAST(:groups AS text[]),
                         CAST(:en AS text[]), CAST(:ko AS text[]))
    ON CONFLICT (key) DO UPDATE SET "group" = excluded."group", label_en = excluded.label_en,
        label_ko = excluded.label_ko
    WHERE (tags."group", tags.label_en, tags.label_ko)
        IS DISTINCT FROM (excluded."group", excluded.label_en, excluded.label_ko)
    """
)

# Only catalog facts are (re)written; interaction counts, Spotify ids and embeddings that the
# running product has learnt stay as they are.
_UPSERT_TRACKS = text(
    """
    INSERT INTO tracks (title, artist, year, language, popularity, source, norm_title,
                        norm_artist, explicit, spotify_status, interaction_count)
    SELECT t, a, y, l, p, 'seed', nt, na, false, 'unresolved', 0
    FROM unnest(CAST(:titles AS text[]), CAST(:artists AS text[]), CAST(:years AS int[]),
                CAST(:langs AS text[]), CAST(:pops AS int[]), CAST(:nts AS text[]),
                CAST(:nas AS text[])) AS u(t, a, y, l, p, nt, na)
    ON CONFLICT ON CONSTRAINT uq_track_norm DO UPDATE SET title = excluded.title,
        artist = excluded.artist, year = excluded.year, language = excluded.language,
        popularity = excluded.popularity
    WHERE (tracks.title, tracks.artist, tracks.year, tracks.language, tracks.popularity)
        IS DISTINCT FROM (excluded.title, excluded.artist, excluded.year, excluded.language,
                          excluded.popularity)
    """
)

_TRACK_IDS = text(
    """
    SELECT t.id, t.norm_title, t.norm_artist FROM tracks t
    JOIN unnest(CAST(:nts AS text[]), CAST(:nas AS text[])) AS u(nt, na)
      ON t.norm_title = u.nt AND t.norm_artist = u.na
    """
)

_INSERT_TRACK_TAGS = text(
    """
    INSERT INTO track_tags (track_id, tag_id, weight)
    SELECT u.tid, g.id, 1.0
    FROM unnest(CAST(:tids AS int[]), CAST(:keys AS text[])) AS u(tid, key)
    JOIN tags g ON g.key = u.key
    ON CONFLICT DO NOTHING
    """
)

# Tags a seeded track no longer has in the bundled data (the data were edited).
_DELETE_STALE_TRACK_TAGS = text(
    """
    DELETE FROM track_tags tt
    WHERE tt.track_id = ANY(CAST(:all_tids AS int[]))
      AND NOT EXISTS (
        SELECT 1 FROM unnest(CAST(:tids AS int[]), CAST(:keys AS text[])) AS u(tid, key)
        JOIN tags g ON g.key = u.key
        WHERE u.tid = tt.track_id AND g.id = tt.tag_id)
    """
)

_UPSERT_ALIASES = text(
    """
    INSERT INTO artist_aliases (alias_norm, artist_norm)
    SELECT * FROM unnest(CAST(:aliases AS text[]), CAST(:canon AS text[]))
    ON CONFLICT (alias_norm) DO UPDATE SET artist_norm = excluded.artist_norm
    WHERE artist_aliases.artist_norm IS DISTINCT FROM excluded.artist_norm
    """
)

# owner_id is NULL for starter playlists and NULLs never conflict in a unique constraint, so
# starter playlists are matched by (source, external_id) explicitly instead of ON CONFLICT.
_UPDATE_PLAYLISTS = text(
    """
    UPDATE playlists p SET name = u.name, tags = u.tags
    FROM (SELECT ext, name, string_to_array(tags, ',') AS tags
          FROM unnest(CAST(:exts AS text[]), CAST(:names AS text[]), CAST(:tags AS text[]))
               AS x(ext, name, tags)) u
    WHERE p.owner_id IS NULL AND p.source = 'starter' AND p.external_id = u.ext
      AND (p.name, CAST(p.tags AS text[])) IS DISTINCT FROM (u.name, u.tags)
    """
)

_INSERT_PLAYLISTS = text(
    """
    INSERT INTO playlists (owner_id, source, external_id, name, tags)
    SELECT NULL, 'starter', u.ext, u.name, string_to_array(u.tags, ',')
    FROM unnest(CAST(:exts AS text[]), CAST(:names AS text[]), CAST(:tags AS text[]))
         AS u(ext, name, tags)
    WHERE NOT EXISTS (SELECT 1 FROM playlists p WHERE p.owner_id IS NULL
                      AND p.source = 'starter' AND p.external_id = u.ext)
    """
)

_PLAYLIST_IDS = text(
    "SELECT external_id, id FROM playlists WHERE owner_id IS NULL AND source = 'starter' "
    "AND external_id = ANY(CAST(:exts AS text[]))"
)

_UPSERT_PLAYLIST_TRACKS = text(
    """
    INSERT INTO playlist_tracks (playlist_id, track_id, position)
    SELECT * FROM unnest(CAST(:pids AS int[]), CAST(:tids AS int[]), CAST(:pos AS int[]))
    ON CONFLICT (playlist_id, track_id) DO UPDATE SET position = excluded.position
    WHERE playlist_tracks.position IS DISTINCT FROM excluded.position
    """
)

_DELETE_STALE_PLAYLIST_TRACKS = text(
    """
    DELETE FROM playlist_tracks pt
    WHERE pt.playlist_id = ANY(CAST(:all_pids AS int[]))
      AND NOT EXISTS (
        SELECT 1 FROM unnest(CAST(:pids AS int[]), CAST(:tids AS int[])) AS u(pid, tid)
        WHERE u.pid = pt.playlist_id AND u.tid = pt.track_id)
    """
)


# --------------------------------------------------------------------------- seeding


async def _exec(session: AsyncSession, stmt: Any, params: dict[str, Any]) -> int:
    result = await session.execute(stmt, params)
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


async def seed_session(session: AsyncSession) -> SeedReport:
    """Seed inside the caller's session (no commit here)."""
    started = time.perf_counter()
    report = SeedReport()
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SEED_LOCK})

    vocab = vocabulary()
    report.changed += await _exec(
        session,
        _UPSERT_TAGS,
        {
            "keys": [t.key for t in vocab.values()],
            "groups": [t.group for t in vocab.values()],
            "en": [t.en for t in vocab.values()],
            "ko": [t.ko for t in vocab.values()],
        },
    )
    report.tags = len(vocab)

    catalog = load_catalog()
    nts = [normalize_title(r["title"]) for r in catalog]
    nas = [normalize_artist(r["artist"]) for r in catalog]
    report.changed += await _exec(
        session,
        _UPSERT_TRACKS,
        {
            "titles": [r["title"] for r in catalog],
            "artists": [r["artist"] for r in catalog],
            "years": [r.get("year") for r in catalog],
            "langs": [r.get("language") for r in catalog],
            "pops": [int(r.get("popularity") or 0) for r in catalog],
            "nts": nts,
            "nas": nas,
        },
    )
    ids = {
        (nt, na): tid
        for tid, nt, na in (await session.execute(_TRACK_IDS, {"nts": nts, "nas": nas})).all()
    }
    report.tracks = len(ids)

    tag_tids: list[int] = []
    tag_keys: list[str] = []
    for row, nt, na in zip(catalog, nts, nas, strict=True):
        for key in dict.fromkeys(row["tags"]):
            if key in vocab:
                tag_tids.append(ids[(nt, na)])
                tag_keys.append(key)
    all_tids = sorted(set(ids.values()))
    report.changed += await _exec(
        session,
        _DELETE_STALE_TRACK_TAGS,
        {"all_tids": all_tids, "tids": tag_tids, "keys": tag_keys},
    )
    for part in _chunks(list(zip(tag_tids, tag_keys, strict=True))):
        report.changed += await _exec(
            session,
            _INSERT_TRACK_TAGS,
            {"tids": [p[0] for p in part], "keys": [p[1] for p in part]},
        )
    report.track_tags = len(tag_tids)

    pairs = alias_pairs(load_aliases())
    report.changed += await _exec(
        session, _UPSERT_ALIASES, {"aliases": list(pairs), "canon": list(pairs.values())}
    )
    report.aliases = len(pairs)

    playlists = load_playlists()
    params = {
        "exts": [p["slug"] for p in playlists],
        "names": [playlist_name(p) for p in playlists],
        "tags": [",".join(p["tags"]) for p in playlists],
    }
    report.changed += await _exec(session, _UPDATE_PLAYLISTS, params)
    report.changed += await _exec(session, _INSERT_PLAYLISTS, params)
    pids = dict((await session.execute(_PLAYLIST_IDS, {"exts": params["exts"]})).all())
    report.playlists = len(pids)

    pl_pids: list[int] = []
    pl_tids: list[int] = []
    pl_pos: list[int] = []
    for p in playlists:
        seen: set[int] = set()
        for pos, item in enumerate(p["tracks"]):
            tid = ids.get((normalize_title(item["title"]), normalize_artist(item["artist"])))
            if tid is None:
                raise ValueError(f"playlist {p['slug']}: not in catalog: {item}")
            if tid in seen:
                continue
            seen.add(tid)
            pl_pids.append(pids[p["slug"]])
            pl_tids.append(tid)
            pl_pos.append(pos)
    report.changed += await _exec(
        session,
        _DELETE_STALE_PLAYLIST_TRACKS,
        {"all_pids": sorted(pids.values()), "pids": pl_pids, "tids": pl_tids},
    )
    for part in _chunks(list(zip(pl_pids, pl_tids, pl_pos, strict=True))):
        report.changed += await _exec(
            session,
            _UPSERT_PLAYLIST_TRACKS,
            {
                "pids": [p[0] for p in part],
                "tids": [p[1] for p in part],
                "pos": [p[2] for p in part],
            },
        )
    report.playlist_tracks = len(pl_tids)
    report.seconds = time.perf_counter() - started
    return report


def _sessionmaker(
    target: AsyncEngine | async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(target) if isinstance(target, AsyncEngine) else target


async def seed(
    engine_or_sessionmaker: AsyncEngine | async_sessionmaker[AsyncSession],
) -> SeedReport:
    """Load (or bring up to date) the bundled catalog in one transaction."""
    async with _sessionmaker(engine_or_sessionmaker)() as session, session.begin():
        return await seed_session(session)


async def seed_if_empty(engine: AsyncEngine | async_sessionmaker[AsyncSession]) -> bool:
    """Seed when the starter catalog is missing (first start); True if it seeded."""
    async with _sessionmaker(engine)() as session:
        present = await session.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM playlists WHERE owner_id IS NULL "
                "AND source = 'starter') AND EXISTS (SELECT 1 FROM tracks WHERE source = 'seed')"
            )
        )
    if present:
        return False
    await seed(engine)
    return True


def main(argv: list[str], urls: Any, settings: Any) -> int:
    parser = argparse.ArgumentParser(prog="tys catalog seed", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)

    async def run() -> SeedReport:
        engine = make_engine(urls.database_url, pool_size=2)
        try:
            return await seed(engine)
        finally:
            await engine.dispose()

    report = asyncio.run(run())
    print(json.dumps(asdict(report)) if args.json else report.summary())
    return 0
