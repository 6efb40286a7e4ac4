"""Catalog figures: `tys catalog stats [--json]` and `catalog_stats(session)` for admin commands."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import make_engine, make_sessionmaker

RESOLUTION_STATES = ("unresolved", "resolved", "not_found")


async def catalog_stats(session: AsyncSession) -> dict[str, Any]:
    """{tracks, artists, playlists, by_language, by_tag, by_resolution} (counts).

    `artists` counts distinct artists after alias resolution (아이유 and IU are one artist);
    `playlists` counts the starter playlists; `by_tag` lists every vocabulary tag, zeros too.
    """
    tracks = int(await session.scalar(text("SELECT count(*) FROM tracks")) or 0)
    artists = int(
        await session.scalar(
            text(
                "SELECT count(DISTINCT coalesce(a.artist_norm, t.norm_artist)) FROM tracks t "
                "LEFT JOIN artist_aliases a ON a.alias_norm = t.norm_artist"
            )
        )
        or 0
    )
    playlists = int(
        await session.scalar(
            text("SELECT count(*) FROM playlists WHERE owner_id IS NULL AND source = 'starter'")
        )
        or 0
    )
    by_language = {
        lang: n
        for lang, n in (
            await session.execute(
                text(
                    "SELECT coalesce(language, 'unknown'), count(*) FROM tracks "
                    "GROUP BY 1 ORDER BY 2 DESC, 1"
                )
            )
        ).all()
    }
    by_tag = {
        key: n
        for key, n in (
            await session.execute(
                text(
                    "SELECT g.key, count(tt.track_id) FROM tags g "
                    "LEFT JOIN track_tags tt ON tt.tag_id = g.id GROUP BY g.key ORDER BY 2 DESC, 1"
                )
            )
        ).all()
    }
    by_resolution = dict.fromkeys(RESOLUTION_STATES, 0)
    for state, n in (
        await session.execute(text("SELECT spotify_status, count(*) FROM tracks GROUP BY 1"))
    ).all():
        by_resolution[state] = n
    return {
        "tracks": tracks,
        "artists": artists,
        "playlists": playlists,
        "by_language": by_language,
        "by_tag": by_tag,
        "by_resolution": by_resolution,
    }


def render(stats: dict[str, Any]) -> str:
    lines = [
        f"tracks {stats['tracks']}   artists {stats['artists']}   "
        f"starter playlists {stats['playlists']}",
        "by language: " + ", ".join(f"{k} {v}" for k, v in stats["by_language"].items()),
        "by Spotify resolution: "
        + ", ".join(f"{k} {v}" for k, v in stats["by_resolution"].items()),
        "by tag:",
    ]
    lines += [f"  {k:18} {v}" for k, v in stats["by_tag"].items()]
    return "\n".join(lines)


def main(argv: list[str], urls: Any, settings: Any) -> int:
    parser = argparse.ArgumentParser(prog="tys catalog stats", description=__doc__)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)

    async def run() -> dict[str, Any]:
        engine = make_engine(urls.database_url, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                return await catalog_stats(session)
        finally:
            await engine.dispose()

    stats = asyncio.run(run())
    print(json.dumps(stats, ensure_ascii=False) if args.json else render(stats))
    return 0
