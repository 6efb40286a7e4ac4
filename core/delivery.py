"""Where chosen tracks go: the owner's Spotify playlist, a new one, or a list + files.

- Linked owner, Spotify reference playlist: added there (batches of <= 100, no duplicates).
- Linked owner, screenshot / taste only: a new private playlist "Tune Your Shop - <date>"
  (POST /me/playlists), reused for later adds from the same reference.
- No Spotify: the list as text with Spotify links, plus CSV and M3U files holding exactly the
  chosen tracks. Track links are URIs found by Spotify search when the app can search;
  otherwise Spotify search links (never a guessed URI).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.texts import t

_SELECTED = "tys:sel:{owner}"


async def choose_playlist(redis: Redis, owner_id: int, playlist_id: int | None) -> None:
    """Remember the owner's reference playlist (None = their taste only)."""
    if playlist_id is None:
        await redis.delete(_SELECTED.format(owner=owner_id))
    else:
        await redis.set(_SELECTED.format(owner=owner_id), playlist_id)


async def current_playlist(redis: Redis, owner_id: int) -> int | None:
    value = await redis.get(_SELECTED.format(owner=owner_id))
    return int(value) if value else None


@dataclass(frozen=True)
class Document:
    filename: str
    data: bytes


@dataclass
class Outcome:
    target: str  # spotify | export
    added: int
    skipped: int = 0
    unresolved: int = 0
    playlist_name: str | None = None
    playlist_url: str | None = None
    lines: list[str] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)

    def message(self, lang: str) -> str:
        if self.target == "spotify":
            parts = [
                t(
                    "rec_added_spotify",
                    lang,
                    n=self.added,
                    url=self.playlist_url or "",
                    name=self.playlist_name or "Spotify",
                )
            ]
            if self.skipped:
                parts.append(t("rec_added_skipped", lang, n=self.skipped))
            if self.unresolved:
                parts.append(t("rec_unresolved", lang, n=self.unresolved))
            return "\n".join(parts)
        return "\n".join([t("rec_added_text", lang, n=self.added), "", *self.lines])


def _search_url(title: str, artist: str) -> str:
    return "https://open.spotify.com/search/" + quote(f"{title} {artist}")


def _track_url(spotify_id: str | None, title: str, artist: str) -> str:
    return (
        f"https://open.spotify.com/track/{spotify_id}" if spotify_id else _search_url(title, artist)
    )


def export_files(rows: Sequence[dict[str, Any]], stem: str) -> list[Document]:
    """CSV (one header row) and M3U with exactly these tracks, in this order."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["title", "artist", "spotify_uri", "spotify_url"])
    for r in rows:
        writer.writerow([r["title"], r["artist"], r["spotify_uri"] or "", r["url"]])
    m3u = ["#EXTM3U"]
    for r in rows:
        m3u.append(f"#EXTINF:{(r['duration_ms'] or 0) // 1000 or -1},{r['artist']} - {r['title']}")
        m3u.append(r["spotify_uri"] or r["url"])
    return [
        Document(f"{stem}.csv", buf.getvalue().encode("utf-8-sig")),
        Document(f"{stem}.m3u", ("\n".join(m3u) + "\n").encode("utf-8")),
    ]


async def _tracks(session: AsyncSession, track_ids: Sequence[int]) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT id, title, artist, spotify_id, spotify_uri, duration_ms FROM tracks "
            "WHERE id = ANY(:ids)"
        ),
        {"ids": list(track_ids)},
    )
    by_id = {r.id: r._asdict() for r in rows}
    out = []
    for tid in track_ids:
        row = by_id[tid]
        row["url"] = _track_url(row["spotify_id"], row["title"], row["artist"])
        out.append(row)
    return out


async def export(session: AsyncSession, track_ids: Sequence[int]) -> Outcome:
    rows = await _tracks(session, track_ids)
    lines = [
        f'{i}. <a href="{r["url"]}">{_esc(r["title"])} — {_esc(r["artist"])}</a>'
        for i, r in enumerate(rows, 1)
    ]
    stem = f"tune-your-shop-{date.today().isoformat()}"
    return Outcome("export", len(rows), lines=lines, documents=export_files(rows, stem))


def _esc(value: str) -> str:
    import html

    return html.escape(value)


async def deliver(
    session: AsyncSession,
    runtime: Any,
    owner: Any,
    playlist_id: int | None,
    track_ids: Sequence[int],
) -> Outcome:
    """Put the chosen tracks where this owner can use them (see the module docstring)."""
    if owner.spotify_state != "linked" or not runtime.settings.spotify_client_id:
        return await export(session, track_ids)
    return await _to_spotify(session, runtime, owner, playlist_id, track_ids)


async def _to_spotify(
    session: AsyncSession,
    runtime: Any,
    owner: Any,
    playlist_id: int | None,
    track_ids: Sequence[int],
) -> Outcome:
    from core.catalog.resolve import uris_for_tracks
    from core.spotify.auth import OwnerTokens, SpotifyConfig
    from core.spotify.client import SpotifyClient

    cfg = SpotifyConfig.from_settings(runtime.settings)
    maker: async_sessionmaker[AsyncSession] = runtime.sessionmaker
    client = SpotifyClient(cfg, OwnerTokens(maker, cfg, owner.id))
    uris = await uris_for_tracks(session, client, track_ids)
    target = await _target_playlist(session, runtime, client, owner.id, playlist_id)
    result = await client.add_items(
        target["external_id"], [uris[t] for t in track_ids if t in uris]
    )
    await session.execute(
        text(
            "INSERT INTO playlist_tracks (playlist_id, track_id, position) "
            "SELECT :p, unnest(CAST(:ids AS int[])), 0 ON CONFLICT DO NOTHING"
        ),
        {"p": target["id"], "ids": [tid for tid in track_ids if tid in uris]},
    )
    return Outcome(
        "spotify",
        added=len(result.added),
        skipped=len(result.skipped),
        unresolved=len(track_ids) - len(uris),
        playlist_name=target["name"],
        playlist_url=f"https://open.spotify.com/playlist/{target['external_id']}",
    )


async def _target_playlist(
    session: AsyncSession, runtime: Any, client: Any, owner_id: int, playlist_id: int | None
) -> dict[str, Any]:
    if playlist_id is not None:
        row = (
            await session.execute(
                text("SELECT id, name, source, external_id FROM playlists WHERE id = :p"),
                {"p": playlist_id},
            )
        ).first()
        if row is not None and row.source == "spotify" and row.external_id:
            return row._asdict()
    # A reference without a Spotify playlist: one new playlist per reference, reused.
    key = f"tys:botpl:{owner_id}:{playlist_id or 0}"
    existing = await runtime.redis.get(key)
    if existing:
        row = (
            await session.execute(
                text("SELECT id, name, source, external_id FROM playlists WHERE id = :p"),
                {"p": int(existing)},
            )
        ).first()
        if row is not None:
            return row._asdict()
    name = f"Tune Your Shop - {date.today().isoformat()}"
    created = await client.create_playlist(name, description="Curated by Tune Your Shop")
    row = (
        await session.execute(
            text(
                "INSERT INTO playlists (owner_id, source, external_id, name, tags) "
                "VALUES (:o, 'bot', :x, :n, '{}') "
                "ON CONFLICT ON CONSTRAINT uq_playlist_external DO UPDATE SET name = EXCLUDED.name "
                "RETURNING id, name, source, external_id"
            ),
            {"o": owner_id, "x": created.id, "n": created.name or name},
        )
    ).first()
    assert row is not None
    await runtime.redis.set(key, row.id)
    return row._asdict()
