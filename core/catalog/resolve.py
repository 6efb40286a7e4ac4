"""Catalog track -> Spotify track id/URI, by search, accepted only on a good match.

Spotify's search is loose: asking for `track:"Spring Day" artist:"BTS"` also returns covers,
karaoke versions and songs by other artists. A candidate is accepted only when both its
normalised title and one of its artists reach the thresholds in core/limits.py; otherwise the
track is marked `not_found` and is never guessed. The answer is cached on the track.

Two ways in: `uris_for_tracks()` lazily, when tracks are about to be added to a playlist; and
`tys catalog resolve [--limit N]` in bulk, with the app's own client-credentials token.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.limits import SPOTIFY_MATCH_ARTIST_MIN, SPOTIFY_MATCH_TITLE_MIN
from core.models import ArtistAlias, Track
from core.normalize import normalize_artist, normalize_title, title_variants
from core.spotify import NotConfigured, RateLimited, SpotifyError, TokenExchangeError
from core.spotify.client import SpotifyClient, SpotifyTrack

# Several artists in one credit: "A, B", "A & B", "A / B", "A x B".
_ARTIST_SPLIT = re.compile(r"\s*(?:,|&|/|\+|\s+x\s+|\s+and\s+)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Match:
    track: SpotifyTrack
    title_score: float
    artist_score: float


def _artist_parts(text: str) -> set[str]:
    parts = {normalize_artist(p) for p in _ARTIST_SPLIT.split(text) if p.strip()}
    return {p for p in parts if p} | {normalize_artist(text)}


async def artist_forms(session: AsyncSession, artist: str) -> set[str]:
    """The normalised artist and its known aliases (아이유 / IU)."""
    forms = _artist_parts(artist)
    rows = await session.execute(
        select(ArtistAlias.alias_norm, ArtistAlias.artist_norm).where(
            or_(ArtistAlias.alias_norm.in_(forms), ArtistAlias.artist_norm.in_(forms))
        )
    )
    for alias, canonical in rows:
        forms.update((alias, canonical))
    # Aliases of the canonical names found above (one more hop covers alias -> alias).
    more = await session.execute(
        select(ArtistAlias.alias_norm).where(ArtistAlias.artist_norm.in_(forms))
    )
    forms.update(a for (a,) in more)
    return {f for f in forms if f}


def best_match(
    titles: Sequence[str], artists: set[str], candidates: Sequence[SpotifyTrack]
) -> Match | None:
    """The best candidate reaching both thresholds, or None (Spotify's order breaks ties)."""
    best: Match | None = None
    for cand in candidates:
        cand_title = normalize_title(cand.name)
        title_score = max((fuzz.ratio(t, cand_title) for t in titles if t), default=0.0)
        cand_artists = {normalize_artist(a) for a in cand.artists} | {
            normalize_artist(" ".join(cand.artists))
        }
        artist_score = max(
            (fuzz.ratio(a, c) for a in artists for c in cand_artists if a and c), default=0.0
        )
        if title_score < SPOTIFY_MATCH_TITLE_MIN or artist_score < SPOTIFY_MATCH_ARTIST_MIN:
            continue
        if best is None or title_score + artist_score > best.title_score + best.artist_score:
            best = Match(cand, title_score, artist_score)
    return best


async def resolve_track(session: AsyncSession, client: SpotifyClient, track: Track) -> str | None:
    """Search Spotify for one catalog track and cache the answer on it (flushed, not committed).

    Returns the URI, or None when no candidate is good enough (then `not_found`). Spotify
    errors propagate and leave the track `unresolved`: an outage is not a "no"."""
    candidates = await client.search_track(track.title, track.artist)
    titles = list(dict.fromkeys([track.norm_title, *title_variants(track.title)]))
    match = best_match(titles, await artist_forms(session, track.artist), candidates)
    if match is None:
        track.spotify_status = "not_found"
        track.spotify_id = track.spotify_uri = None
    else:
        track.spotify_status = "resolved"
        track.spotify_id = match.track.id
        track.spotify_uri = match.track.uri
    await session.flush()
    return track.spotify_uri


async def uris_for_tracks(
    session: AsyncSession, client: SpotifyClient, track_ids: Sequence[int]
) -> dict[int, str]:
    """Spotify URIs of these catalog tracks, resolving the unresolved ones now.

    Tracks known to be `not_found` (or that are not found now) are left out of the answer;
    the caller tells the owner which ones could not be added."""
    if not track_ids:
        return {}
    rows = (await session.execute(select(Track).where(Track.id.in_(track_ids)))).scalars()
    by_id = {t.id: t for t in rows}
    out: dict[int, str] = {}
    for tid in track_ids:
        track = by_id.get(tid)
        if track is None:
            continue
        if track.spotify_status == "unresolved":
            await resolve_track(session, client, track)
        if track.spotify_status == "resolved" and track.spotify_uri:
            out[tid] = track.spotify_uri
    return out


# --- `tys catalog resolve` --------------------------------------------------------------

PROGRESS_EVERY = 25  # progress lines when not on a terminal
COMMIT_EVERY = 20


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tys catalog resolve",
        description="Find the Spotify id of catalog tracks (app token, client credentials).",
    )
    p.add_argument("--limit", type=int, default=None, help="resolve at most N tracks")
    p.add_argument(
        "--retry-not-found", action="store_true", help="search again for tracks marked not_found"
    )
    return p


def main(argv: list[str], urls: Any, settings: Any) -> int:
    args = _parser().parse_args(argv)
    if args.limit is not None and args.limit < 1:
        print("tys catalog resolve: --limit must be at least 1", file=sys.stderr)
        return 2
    if not (settings.spotify_client_id and settings.spotify_client_secret):
        print(
            "tys catalog resolve: SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET must both be set "
            "(the app's credentials from developer.spotify.com/dashboard); nothing was resolved.",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(_bulk(urls.database_url, settings, args.limit, args.retry_not_found))


class _Progress:
    """A bar on a terminal; plain lines in logs and pipes."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = self.resolved = self.not_found = 0
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="track", file=sys.stderr)

    def step(self, uri: str | None) -> None:
        self.done += 1
        if uri:
            self.resolved += 1
        else:
            self.not_found += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(resolved=self.resolved, not_found=self.not_found)
        elif self.done % PROGRESS_EVERY == 0 or self.done == self.total:
            print(
                f"resolve: {self.done}/{self.total} "
                f"(resolved {self.resolved}, not found {self.not_found})",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


async def _bulk(database_url: str, settings: Any, limit: int | None, retry: bool) -> int:
    from core.db import make_engine, make_sessionmaker
    from core.spotify.auth import AppToken, SpotifyConfig

    cfg = SpotifyConfig.from_settings(settings)
    client = SpotifyClient(cfg, AppToken(cfg))
    engine = make_engine(database_url, pool_size=2)
    statuses = ["unresolved", "not_found"] if retry else ["unresolved"]
    code = 0
    try:
        async with make_sessionmaker(engine)() as session:
            stmt = (
                select(Track)
                .where(Track.spotify_status.in_(statuses))
                .order_by(Track.interaction_count.desc(), Track.popularity.desc(), Track.id)
            )
            if limit:
                stmt = stmt.limit(limit)
            tracks = list((await session.execute(stmt)).scalars())
            progress = _Progress(len(tracks))
            try:
                for i, track in enumerate(tracks, 1):
                    uri = await resolve_track(session, client, track)
                    progress.step(uri)
                    if i % COMMIT_EVERY == 0:
                        await session.commit()
            except TokenExchangeError as exc:
                print(
                    f"tys catalog resolve: Spotify refused the app credentials ({exc.error}); "
                    "check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET.",
                    file=sys.stderr,
                )
                code = 1
            except RateLimited as exc:
                print(
                    f"tys catalog resolve: Spotify rate limit (retry after {exc.retry_after:g} s);"
                    f" stopped after {progress.done} tracks, run again later.",
                    file=sys.stderr,
                )
                code = 1
            except (NotConfigured, SpotifyError) as exc:
                print(
                    f"tys catalog resolve: {exc}; stopped after {progress.done} tracks.",
                    file=sys.stderr,
                )
                code = 1
            finally:
                progress.close()
                # Whatever was resolved before a stop is kept.
                await session.commit()
        print(
            f"resolved {progress.resolved}, not found {progress.not_found}, "
            f"left unresolved {len(tracks) - progress.done}"
        )
    finally:
        await engine.dispose()
    return code
