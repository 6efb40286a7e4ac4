"""Catalog -> Spotify resolution (core.catalog.resolve) on the real database and the fake."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog.resolve import resolve_track, uris_for_tracks
from core.models import ArtistAlias, Track
from core.normalize import normalize_artist, normalize_title
from core.spotify.client import SpotifyClient
from tests.botproc import run_tys
from tests.fakes.spotify import FakeSpotify


@dataclass
class Api:
    api_base: str


class AppTokens:
    def __init__(self, fake: FakeSpotify) -> None:
        self.fake = fake

    async def token(self) -> str:
        return str(self.fake._issue(None, "")["access_token"])

    async def refreshed(self, rejected: str | None) -> str:
        return await self.token()


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeSpotify]:
    async with FakeSpotify() as f:
        yield f


@pytest.fixture
def client(fake: FakeSpotify) -> SpotifyClient:
    return SpotifyClient(Api(fake.api_base), AppTokens(fake))  # type: ignore[arg-type]


def tag() -> str:
    return uuid.uuid4().hex[:6]


async def add_track(
    session: AsyncSession, title: str, artist: str, *, interactions: int = 0
) -> Track:
    track = Track(
        title=title,
        artist=artist,
        norm_title=normalize_title(title),
        norm_artist=normalize_artist(artist),
        interaction_count=interactions,
    )
    session.add(track)
    await session.flush()
    return track


async def test_accepts_the_right_candidate_among_near_misses(
    session: AsyncSession, client: SpotifyClient, fake: FakeSpotify
) -> None:
    t = tag()
    fake.add_track(f"Harbor Lights {t}", "Some Cover Band", popularity=90)
    fake.add_track(f"Harbor Lights {t} (Karaoke)", "Karaoke Kings", popularity=80)
    right = fake.add_track(f"Harbor Lights {t} - Remastered 2011", f"Nora Vale {t}")
    track = await add_track(session, f"Harbor Lights {t}", f"Nora Vale {t}")
    assert await resolve_track(session, client, track) == right["uri"]
    await session.commit()
    row = await session.get(Track, track.id, populate_existing=True)
    assert (row.spotify_status, row.spotify_id, row.spotify_uri) == (
        "resolved",
        right["id"],
        right["uri"],
    )
    q = fake.calls("/v1/search")[-1].query
    assert q["q"] == f'track:"Harbor Lights {t}" artist:"Nora Vale {t}"' and q["limit"] == "10"


async def test_refuses_a_different_artist(
    session: AsyncSession, client: SpotifyClient, fake: FakeSpotify
) -> None:
    t = tag()
    fake.add_track(f"Quiet Morning {t}", "Completely Other Person")
    track = await add_track(session, f"Quiet Morning {t}", f"Lena Park {t}")
    assert await resolve_track(session, client, track) is None
    assert track.spotify_status == "not_found" and track.spotify_uri is None


async def test_refuses_a_different_song_by_the_same_artist(
    session: AsyncSession, client: SpotifyClient, fake: FakeSpotify
) -> None:
    t = tag()
    fake.add_track(f"Quiet Evening {t}", f"Lena Park {t}")
    fake.add_track(f"Quiet Morning Blues {t}", f"Lena Park {t}")
    track = await add_track(session, f"Quiet Morning {t}", f"Lena Park {t}")
    assert await resolve_track(session, client, track) is None
    assert track.spotify_status == "not_found"


async def test_no_result_at_all_is_not_found(session: AsyncSession, client: SpotifyClient) -> None:
    track = await add_track(session, f"Zzyzx {tag()}", f"Nobody {tag()}")
    assert await resolve_track(session, client, track) is None
    await session.commit()
    assert (await session.get(Track, track.id, populate_existing=True)).spotify_status == (
        "not_found"
    )


async def test_artist_alias_is_accepted(
    session: AsyncSession, client: SpotifyClient, fake: FakeSpotify
) -> None:
    t = tag()
    session.add(ArtistAlias(alias_norm=f"아티스트{t}", artist_norm=f"artist {t}"))
    await session.flush()
    right = fake.add_track(f"Spring Song {t}", f"Artist {t}")
    track = await add_track(session, f"Spring Song {t}", f"아티스트{t}")
    assert await resolve_track(session, client, track) == right["uri"]


async def test_lazy_resolution_caches_and_skips_not_found(
    session: AsyncSession, client: SpotifyClient, fake: FakeSpotify
) -> None:
    t = tag()
    good = fake.add_track(f"Lazy Sunday {t}", f"Jay Kim {t}")
    a = await add_track(session, f"Lazy Sunday {t}", f"Jay Kim {t}")
    b = await add_track(session, f"Nowhere {t}", f"Ghost {t}")
    searches = len(fake.calls("/v1/search"))
    uris = await uris_for_tracks(session, client, [a.id, b.id])
    assert uris == {a.id: good["uri"]}
    assert len(fake.calls("/v1/search")) == searches + 2
    # Cached: asking again searches nothing.
    assert await uris_for_tracks(session, client, [a.id, b.id]) == {a.id: good["uri"]}
    assert len(fake.calls("/v1/search")) == searches + 2
    assert b.spotify_status == "not_found"


async def test_spotify_error_leaves_track_unresolved(
    session: AsyncSession, client: SpotifyClient, fake: FakeSpotify
) -> None:
    from core.spotify import SpotifyUnavailable

    track = await add_track(session, f"Outage {tag()}", f"Band {tag()}")
    fake.fail_next("/v1/search", 502)
    with pytest.raises(SpotifyUnavailable):
        await resolve_track(session, client, track)
    assert track.spotify_status == "unresolved"


async def test_cli_bulk_resolution_with_client_credentials(
    session: AsyncSession, fake: FakeSpotify, database_url: str, data_dir: Path
) -> None:
    t = tag()
    right = [fake.add_track(f"Bulk Song {i} {t}", f"Bulk Artist {t}") for i in range(3)]
    fake.add_track(f"Bulk Miss {t}", "Wrong Artist")
    ids = []
    for i in range(3):
        ids.append(
            (
                await add_track(
                    session, f"Bulk Song {i} {t}", f"Bulk Artist {t}", interactions=10**8
                )
            ).id
        )
    ids.append(
        (await add_track(session, f"Bulk Miss {t}", f"Bulk Artist {t}", interactions=10**8)).id
    )
    await session.commit()
    env = {
        "PATH": "/usr/bin:/bin",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        **fake.env(),
    }
    grants = len(fake.calls("/api/token"))
    # In a thread: the fake Spotify answers from this test's event loop.
    done = await asyncio.to_thread(run_tys, ["catalog", "resolve", "--limit", "4"], env)
    assert done.returncode == 0, done.stderr
    assert "resolved 3, not found 1" in done.stdout
    assert "resolve: 4/4" in done.stderr  # progress lines when not on a terminal
    token_calls = fake.calls("/api/token")[grants:]
    assert [c.body["grant_type"] for c in token_calls] == ["client_credentials"]
    assert token_calls[0].headers["Authorization"].startswith("Basic ")
    rows = (
        await session.execute(select(Track).where(Track.id.in_(ids)).order_by(Track.id))
    ).scalars()
    got = [(r.spotify_status, r.spotify_uri) for r in rows]
    await session.commit()
    assert got == [("resolved", r["uri"]) for r in right] + [("not_found", None)]


async def test_cli_without_credentials_says_so(database_url: str, data_dir: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(data_dir), "DATABASE_URL": database_url}
    done = run_tys(["catalog", "resolve"], env)
    assert done.returncode == 2
    assert "SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET must both be set" in done.stderr
