"""A linked owner's Spotify playlists: the paged choice list and importing the chosen one.

Choosing (handlers/playlists.py renders it):
- `list_page()` reads one page (PLAYLISTS_PER_PAGE) of the owner's own and collaborative
  playlists and remembers each shown playlist in Redis under a short index, so a button's
  callback_data carries `generation:index` (a few bytes) and never a name or a Spotify id.
  Every fresh listing starts a new generation, so a button of an old listing never picks
  whatever playlist now sits at the same position.
- `pick()` turns a pressed index back into the remembered playlist.

Importing (`import_playlist()`):
1. read every item of the playlist (all pages, through the client's 429 / 5xx policy); nothing
   is written before the whole playlist has been read, so a Spotify fault loses nothing;
2. match each track to the catalog with the product's one matcher (core.catalog.matching);
3. tracks the catalog does not know are added to it (source 'spotify-playlist'), with tags
   from Last.fm (track.getInfo, then track.getTopTags when getInfo carried none) mapped to our
   vocabulary; without LASTFM_API_KEY they are added untagged;
4. the playlist is stored as the owner's Playlist (source 'spotify', external_id = the Spotify
   id) with its tracks in Spotify's order, for exclusion and re-ranking of recommendations.

TRAINING DATA: Spotify content may not be used to train models. The membership rows written
here (playlist_tracks of a playlists.source = 'spotify' playlist) and tracks whose
tracks.source = 'spotify-playlist' only serve exclusion, re-ranking and delivery; the training
export must skip memberships of source = 'spotify' playlists. Tracks added here carry no
Spotify popularity (it would leak Spotify data into the popularity prior).

Also here: the owner settings /settings changes (shop name, explicit filter), kept next to the
other owner-facing services of this feature.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog.matching import CatalogMatcher, get_matcher
from core.catalog.tags import map_tags
from core.lastfm import LastfmAuthError, LastfmError, LastfmNotFound, LastfmUnavailable
from core.limits import (
    PLAYLIST_CACHE_TTL_S,
    PLAYLIST_IMPORT_LASTFM_BUDGET_S,
    PLAYLIST_IMPORT_LASTFM_MAX,
    PLAYLIST_MATCH_CHUNK,
    PLAYLISTS_PER_PAGE,
)
from core.normalize import normalize_artist, normalize_title
from core.spotify.client import SpotifyPlaylist, SpotifyTrack

log = logging.getLogger(__name__)

# Where the catalog learnt of a track found only in an owner's Spotify playlist.
TRACK_SOURCE = "spotify-playlist"

_GEN = "tys:plgen:{owner}"
_PAGE = "tys:pl:{owner}:{gen}"


class PlaylistSource(Protocol):
    """The part of SpotifyClient used here (tests may pass the real client against a fake)."""

    async def my_playlists(self, offset: int = 0, limit: int = ...) -> Any: ...

    async def playlist_items(self, playlist_id: str) -> list[SpotifyTrack]: ...


class TagSource(Protocol):
    """The part of core.lastfm.LastfmClient used here."""

    async def track_info(self, artist: str, track: str) -> Any: ...

    async def track_top_tags(self, artist: str, track: str) -> Any: ...


# --- choosing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One shown playlist: what a button index stands for."""

    index: int
    id: str
    name: str
    total: int


@dataclass(frozen=True)
class ChoicePage:
    generation: int
    page: int
    items: list[Choice]
    has_more: bool


async def new_generation(redis: Redis, owner_id: int) -> int:
    """A fresh listing (the /playlists command or the onboarding button)."""
    key = _GEN.format(owner=owner_id)
    gen = int(await redis.incr(key))
    await redis.expire(key, PLAYLIST_CACHE_TTL_S)
    return gen


async def list_page(
    redis: Redis, client: PlaylistSource, owner_id: int, generation: int, page: int
) -> ChoicePage:
    """Page `page` (0-based) of the owner's playlists, remembered under `generation`."""
    page = max(0, page)
    got = await client.my_playlists(offset=page * PLAYLISTS_PER_PAGE, limit=PLAYLISTS_PER_PAGE)
    items: list[SpotifyPlaylist] = got.items
    choices = [
        Choice(page * PLAYLISTS_PER_PAGE + i, p.id, p.name, p.total) for i, p in enumerate(items)
    ]
    if choices:
        key = _PAGE.format(owner=owner_id, gen=generation)
        await redis.hset(
            key,
            mapping={
                str(c.index): json.dumps({"id": c.id, "name": c.name, "total": c.total})
                for c in choices
            },
        )
        await redis.expire(key, PLAYLIST_CACHE_TTL_S)
    return ChoicePage(generation, page, choices, bool(got.has_more))


async def pick(redis: Redis, owner_id: int, generation: int, index: int) -> Choice | None:
    """The playlist a button stood for, or None when the listing is gone (expired, tampered)."""
    raw = await redis.hget(_PAGE.format(owner=owner_id, gen=generation), str(index))
    if raw is None:
        return None
    data = json.loads(raw)
    return Choice(index, str(data["id"]), str(data["name"]), int(data.get("total") or 0))


# --- importing ----------------------------------------------------------------------------

Progress = Callable[[str, int, int], Awaitable[None]]  # (stage, done, total)


@dataclass(frozen=True)
class ImportResult:
    playlist_id: int | None  # our playlists.id; None when the playlist had no tracks
    total: int  # distinct tracks read from Spotify
    matched: int  # found in the catalog
    added: int  # new to the catalog (added now)
    tagged: int  # of the added, tagged from Last.fm
    new_tracks: list[tuple[int, str, str]] = field(default_factory=list)  # (id, title, artist)


@dataclass
class _NewTrack:
    sp: SpotifyTrack
    tags: list[tuple[str, float]]  # (vocabulary key, weight)


async def _noop(stage: str, done: int, total: int) -> None:
    return None


def _distinct(tracks: Sequence[SpotifyTrack]) -> list[SpotifyTrack]:
    # A playlist may hold the same Spotify track twice; it is one song for us.
    seen: set[str] = set()
    out = []
    for tr in tracks:
        if tr.id not in seen and tr.name.strip() and tr.artist.strip():
            seen.add(tr.id)
            out.append(tr)
    return out


async def lastfm_tags(lastfm: TagSource, sp: SpotifyTrack) -> list[tuple[str, float]] | None:
    """Vocabulary tags for one track from Last.fm; [] when Last.fm knows it without usable
    tags or not at all. Raises LastfmAuthError / LastfmUnavailable (the caller stops asking)."""
    artist = sp.artists[0] if sp.artists else sp.artist
    try:
        info = await lastfm.track_info(artist, sp.name)
    except LastfmNotFound:
        return []
    raw: list[tuple[str, float]] = [(name, 1.0) for name in info.toptags]
    if not raw:
        try:
            top = await lastfm.track_top_tags(artist, sp.name)
        except LastfmNotFound:
            top = []
        raw = [(tc.name, max(0.05, min(1.0, tc.count / 100))) for tc in top if tc.count > 0]
    weights: dict[str, float] = {}
    for name, weight in raw:
        keys, _ = map_tags([name])
        for k in keys:
            weights[k] = max(weights.get(k, 0.0), weight)
    return sorted(weights.items(), key=lambda kv: -kv[1])


async def _tag_new(lastfm: TagSource | None, new: list[_NewTrack], progress: Progress) -> None:
    """Fill tags of new tracks from Last.fm, bounded in count and time: an owner waits on this
    (tracks beyond the bound go in untagged; the catalog crawler can tag them later)."""
    if lastfm is None or not new:
        return
    deadline = time.monotonic() + PLAYLIST_IMPORT_LASTFM_BUDGET_S
    todo = new[:PLAYLIST_IMPORT_LASTFM_MAX]
    for i, item in enumerate(todo):
        if time.monotonic() > deadline:
            log.info("Last.fm tagging stopped after %d of %d tracks (time budget)", i, len(new))
            return
        try:
            item.tags = await lastfm_tags(lastfm, item.sp) or []
        except (LastfmAuthError, LastfmUnavailable) as exc:
            log.warning("Last.fm not usable, new tracks stay untagged: %s", exc)
            return
        except LastfmError as exc:
            log.info("Last.fm lookup failed for %s — %s: %s", item.sp.artist, item.sp.name, exc)
        await progress("tagging", i + 1, len(todo))


_INSERT_TRACKS = text(
    """
    INSERT INTO tracks (title, artist, album, duration_ms, explicit, popularity, source,
                        spotify_id, spotify_uri, spotify_status, norm_title, norm_artist,
                        interaction_count)
    SELECT t, a, al, d, e, 0, :src, sid, suri, 'resolved', nt, na, 0
    FROM unnest(CAST(:titles AS text[]), CAST(:artists AS text[]), CAST(:albums AS text[]),
                CAST(:durs AS int[]), CAST(:expl AS bool[]), CAST(:sids AS text[]),
                CAST(:suris AS text[]), CAST(:nts AS text[]), CAST(:nas AS text[]))
         AS u(t, a, al, d, e, sid, suri, nt, na)
    ON CONFLICT ON CONSTRAINT uq_track_norm DO NOTHING
    RETURNING id
    """
)

_TRACK_IDS = text(
    """
    SELECT t.id, u.nt, u.na FROM tracks t
    JOIN unnest(CAST(:nts AS text[]), CAST(:nas AS text[])) AS u(nt, na)
      ON t.norm_title = u.nt AND t.norm_artist = u.na
    """
)

_INSERT_TAGS = text(
    """
    INSERT INTO track_tags (track_id, tag_id, weight)
    SELECT u.tid, g.id, u.w
    FROM unnest(CAST(:tids AS int[]), CAST(:keys AS text[]), CAST(:ws AS float8[]))
         AS u(tid, key, w)
    JOIN tags g ON g.key = u.key
    ON CONFLICT DO NOTHING
    """
)

# Exact matches teach us the catalog track's Spotify URI (resolution is an allowed use); a
# fuzzy match might be another version, so only exact ones, and never over a known answer.
_RESOLVE_EXACT = text(
    """
    UPDATE tracks t SET spotify_id = u.sid, spotify_uri = u.suri, spotify_status = 'resolved'
    FROM unnest(CAST(:tids AS int[]), CAST(:sids AS text[]), CAST(:suris AS text[]))
         AS u(tid, sid, suri)
    WHERE t.id = u.tid AND t.spotify_status <> 'resolved'
    """
)

_UPSERT_PLAYLIST = text(
    """
    INSERT INTO playlists (owner_id, source, external_id, name, tags)
    VALUES (:o, 'spotify', :x, :n, '{}')
    ON CONFLICT ON CONSTRAINT uq_playlist_external DO UPDATE SET name = EXCLUDED.name
    RETURNING id
    """
)

_REPLACE_MEMBERS = (
    text(
        "DELETE FROM playlist_tracks WHERE playlist_id = :p "
        "AND NOT (track_id = ANY(CAST(:tids AS int[])))"
    ),
    text(
        """
        INSERT INTO playlist_tracks (playlist_id, track_id, position)
        SELECT :p, u.tid, u.pos FROM unnest(CAST(:tids AS int[]), CAST(:pos AS int[])) AS u(tid, pos)
        ON CONFLICT (playlist_id, track_id) DO UPDATE SET position = excluded.position
        """
    ),
)


async def _insert_new(
    session: AsyncSession, new: list[_NewTrack]
) -> tuple[dict[str, int], set[int]]:
    """Add new tracks (and their tags) to the catalog -> (Spotify id -> catalog track id, ids
    of rows really inserted). A track the matcher refused may still share its normalised key
    with a catalog row (e.g. an ambiguous title): it then joins that row, nothing is added."""
    if not new:
        return {}, set()
    keys = [(normalize_title(n.sp.name), normalize_artist(n.sp.artist)) for n in new]
    inserted = await session.execute(
        _INSERT_TRACKS,
        {
            "src": TRACK_SOURCE,
            "titles": [n.sp.name[:300] for n in new],
            "artists": [n.sp.artist[:300] for n in new],
            "albums": [n.sp.album[:300] if n.sp.album else None for n in new],
            "durs": [n.sp.duration_ms for n in new],
            "expl": [n.sp.explicit for n in new],
            "sids": [n.sp.id[:64] for n in new],
            "suris": [n.sp.uri[:96] for n in new],
            "nts": [k[0][:300] for k in keys],
            "nas": [k[1][:300] for k in keys],
        },
    )
    fresh = {int(r[0]) for r in inserted}
    rows = await session.execute(
        _TRACK_IDS, {"nts": [k[0][:300] for k in keys], "nas": [k[1][:300] for k in keys]}
    )
    by_key = {(r.nt, r.na): int(r.id) for r in rows}
    ids = {n.sp.id: by_key[(k[0][:300], k[1][:300])] for n, k in zip(new, keys, strict=True)}
    tids, tkeys, ws = [], [], []
    for n in new:
        if ids[n.sp.id] not in fresh:
            continue  # an existing row keeps its own tags
        for key, weight in n.tags:
            tids.append(ids[n.sp.id])
            tkeys.append(key)
            ws.append(weight)
    if tids:
        await session.execute(_INSERT_TAGS, {"tids": tids, "keys": tkeys, "ws": ws})
    return ids, fresh


async def import_playlist(
    session: AsyncSession,
    client: PlaylistSource,
    owner_id: int,
    choice: Choice,
    *,
    lastfm: TagSource | None = None,
    progress: Progress | None = None,
    matcher: CatalogMatcher | None = None,
) -> ImportResult:
    """Read, match and store one Spotify playlist as the owner's reference (module docstring).

    Writes go into `session` (not committed here); raises core.spotify errors before writing.
    `matcher` defaults to the process-wide one (tests pass their own).
    """
    report = progress or _noop
    await report("reading", 0, choice.total)
    tracks = _distinct(await client.playlist_items(choice.id))
    total = len(tracks)
    if not tracks:
        return ImportResult(None, 0, 0, 0, 0)
    await report("matching", 0, total)
    matcher = matcher or await get_matcher(session)
    catalog_ids: dict[str, int] = {}
    exact: list[tuple[int, SpotifyTrack]] = []
    new: list[_NewTrack] = []
    for start in range(0, total, PLAYLIST_MATCH_CHUNK):
        for tr in tracks[start : start + PLAYLIST_MATCH_CHUNK]:
            m = matcher.match(tr.name, tr.artist)
            if m is None:
                new.append(_NewTrack(tr, []))
                continue
            catalog_ids[tr.id] = m.track_id
            if m.how == "exact":
                exact.append((m.track_id, tr))
        # Matching is CPU work: give other owners' updates a turn between chunks.
        await asyncio.sleep(0)
        await report("matching", min(total, start + PLAYLIST_MATCH_CHUNK), total)
    matched = len(catalog_ids)
    await _tag_new(lastfm, new, report)
    added_ids, fresh = await _insert_new(session, new)
    catalog_ids.update(added_ids)
    if exact:
        await session.execute(
            _RESOLVE_EXACT,
            {
                "tids": [tid for tid, _ in exact],
                "sids": [tr.id[:64] for _, tr in exact],
                "suris": [tr.uri[:96] for _, tr in exact],
            },
        )
    playlist_id = int(
        (
            await session.execute(
                _UPSERT_PLAYLIST, {"o": owner_id, "x": choice.id, "n": choice.name[:256]}
            )
        ).scalar_one()
    )
    # Spotify's order; two Spotify tracks matching one catalog track keep the first position.
    positions: dict[int, int] = {}
    for pos, tr in enumerate(tracks):
        positions.setdefault(catalog_ids[tr.id], pos)
    delete, insert = _REPLACE_MEMBERS
    params = {"p": playlist_id, "tids": list(positions), "pos": list(positions.values())}
    await session.execute(delete, params)
    await session.execute(insert, params)
    return ImportResult(
        playlist_id,
        total,
        matched,
        len(fresh),
        sum(1 for n in new if n.tags and added_ids[n.sp.id] in fresh),
        [(added_ids[n.sp.id], n.sp.name, n.sp.artist) for n in new if added_ids[n.sp.id] in fresh],
    )


async def publish(
    session: AsyncSession, result: ImportResult, matcher: CatalogMatcher | None = None
) -> None:
    """After the import is committed: the process-wide matcher learns the new tracks at once,
    so the next playlist or screenshot finds them (called only after commit, so a rolled-back
    import never leaves ghost tracks in the index)."""
    if result.new_tracks:
        matcher = matcher or await get_matcher(session)
        for track_id, title, artist in result.new_tracks:
            matcher.add(track_id, title, artist)


async def name(session: AsyncSession, playlist_id: int | None) -> str | None:
    """A stored playlist's name (None for no playlist or an unknown one)."""
    if playlist_id is None:
        return None
    return (
        await session.execute(text("SELECT name FROM playlists WHERE id = :p"), {"p": playlist_id})
    ).scalar_one_or_none()
