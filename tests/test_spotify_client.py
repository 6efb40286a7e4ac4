"""core.spotify.client (spotipy in a thread) against the fake Spotify over real HTTP."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from core.spotify import RateLimited, RequestRejected, SpotifyUnavailable
from core.spotify.client import SpotifyClient
from tests.fakes.spotify import FakeSpotify


@dataclass
class Api:
    api_base: str


class CountingTokens:
    """A token provider that gets fresh user tokens from the fake, counting refreshes."""

    def __init__(self, fake: FakeSpotify, user: str) -> None:
        self.fake, self.user = fake, user
        self.current = self._new()
        self.refreshes: list[str | None] = []

    def _new(self) -> str:
        scope = "playlist-read-private playlist-modify-public playlist-modify-private"
        return str(self.fake._issue(self.user, scope)["access_token"])

    async def token(self) -> str:
        return self.current

    async def refreshed(self, rejected: str | None) -> str:
        self.refreshes.append(rejected)
        self.current = self._new()
        return self.current


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeSpotify]:
    async with FakeSpotify() as f:
        f.add_user("owner1", "Owner One")
        f.add_user("friend", "Friend")
        yield f


@pytest.fixture(autouse=True)
def _clean_faults(fake: FakeSpotify) -> None:
    fake._faults.clear()


def client(fake: FakeSpotify, tokens: CountingTokens, **kw: object) -> SpotifyClient:
    return SpotifyClient(Api(fake.api_base), tokens, **kw)  # type: ignore[arg-type]


async def test_429_retry_after_is_honoured(fake: FakeSpotify) -> None:
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    fake.fail_next(r"^/v1/me/?$", 429, retry_after=2, times=2)
    me = await client(fake, CountingTokens(fake, "owner1"), sleep=sleep).me()
    assert me.id == "owner1" and me.display_name == "Owner One"
    assert waits == [2.0, 2.0]
    assert [r.status for r in fake.calls(r"^/v1/me/?$")][-3:] == [429, 429, 200]


async def test_429_really_waits(fake: FakeSpotify) -> None:
    fake.fail_next(r"^/v1/me/?$", 429, retry_after=1)
    started = time.monotonic()
    assert (await client(fake, CountingTokens(fake, "owner1")).me()).id == "owner1"
    assert time.monotonic() - started >= 0.95


async def test_429_beyond_the_bound_is_a_clear_error(fake: FakeSpotify) -> None:
    fake.fail_next(r"^/v1/me/?$", 429, retry_after=3600)
    with pytest.raises(RateLimited) as err:
        await client(fake, CountingTokens(fake, "owner1")).me()
    assert err.value.retry_after == 3600

    async def sleep(s: float) -> None:
        pass

    fake.fail_next(r"^/v1/me/?$", 429, retry_after=1, times=10)
    with pytest.raises(RateLimited):
        await client(fake, CountingTokens(fake, "owner1"), sleep=sleep, max_429_retries=3).me()
    assert len(fake._faults) == 6  # 1 try + 3 retries used, no more


async def test_401_expired_token_refreshes_then_retries_once(fake: FakeSpotify) -> None:
    tokens = CountingTokens(fake, "owner1")
    old = tokens.current
    fake.expire_access_tokens()
    assert (await client(fake, tokens).me()).id == "owner1"
    assert tokens.refreshes == [old]
    last_two = fake.calls(r"^/v1/me/?$")[-2:]
    assert [r.status for r in last_two] == [401, 200]
    assert last_two[1].headers["Authorization"] == f"Bearer {tokens.current}"

    # A second 401 after the refresh is not retried forever.
    fake.fail_next(r"^/v1/me/?$", 401, times=2)
    with pytest.raises(RequestRejected) as err:
        await client(fake, tokens).me()
    assert err.value.status == 401
    assert len(tokens.refreshes) == 2


async def test_5xx_is_a_clear_typed_error(fake: FakeSpotify) -> None:
    fake.fail_next(r"^/v1/me/?$", 503)
    with pytest.raises(SpotifyUnavailable) as err:
        await client(fake, CountingTokens(fake, "owner1")).me()
    assert err.value.status == 503
    assert "503" in str(err.value)


async def test_unreachable_spotify_is_unavailable() -> None:
    tokens = CountingTokens.__new__(CountingTokens)
    tokens.current, tokens.refreshes = "x", []
    dead = SpotifyClient(Api("http://127.0.0.1:9/v1"), tokens, timeout_s=2)  # type: ignore[arg-type]
    with pytest.raises(SpotifyUnavailable):
        await dead.me()


async def test_my_playlists_keeps_own_and_collaborative_and_pages(fake: FakeSpotify) -> None:
    own = [fake.add_playlist("owner1", f"Own {i}") for i in range(60)]
    fake.add_playlist("friend", "Followed only", followed_by=["owner1"])
    collab = fake.add_playlist(
        "friend", "Shared", collaborative=True, collaborators=["owner1"], followed_by=["owner1"]
    )
    c = client(fake, CountingTokens(fake, "owner1"))
    seen = []
    offset = 0
    while True:
        page = await c.my_playlists(offset, 8)
        assert len(page.items) <= 8
        seen += page.items
        if not page.has_more:
            break
        offset += 8
    names = [p.name for p in seen]
    assert "Followed only" not in names
    assert "Shared" in names
    assert len(seen) == len(own) + 1
    shared = next(p for p in seen if p.id == collab.id)
    assert shared.collaborative and shared.owner_id == "friend"
    # Spotify was read in pages of at most 50.
    assert all(int(r.query["limit"]) <= 50 for r in fake.calls("/v1/me/playlists", "GET"))


async def test_playlist_items_reads_all_pages(fake: FakeSpotify) -> None:
    tracks = [fake.add_track(f"Song {i}", "Band") for i in range(120)]
    pl = fake.add_playlist("owner1", "Long", [t["id"] for t in tracks])
    items = await client(fake, CountingTokens(fake, "owner1")).playlist_items(pl.id)
    assert [t.uri for t in items] == [t["uri"] for t in tracks]
    assert items[0].artists == ("Band",)
    pages = fake.calls(f"/v1/playlists/{pl.id}/items", "GET")
    assert len(pages) == 3


async def test_playlist_items_of_someone_elses_playlist_is_refused(fake: FakeSpotify) -> None:
    pl = fake.add_playlist("friend", "Private to friend")
    with pytest.raises(RequestRejected) as err:
        await client(fake, CountingTokens(fake, "owner1")).playlist_items(pl.id)
    assert err.value.status == 403


async def test_add_items_in_batches_skipping_existing(fake: FakeSpotify) -> None:
    tracks = [fake.add_track(f"Add {i}", "Adder") for i in range(250)]
    uris = [t["uri"] for t in tracks]
    pl = fake.add_playlist("owner1", "Target", [t["id"] for t in tracks[:30]])
    before = len(fake.calls(f"/v1/playlists/{pl.id}/items", "POST"))
    result = await client(fake, CountingTokens(fake, "owner1")).add_items(pl.id, [*uris, uris[40]])
    assert result.added == uris[30:]
    assert set(result.skipped) == set(uris[:30]) | {uris[40]}
    posts = fake.calls(f"/v1/playlists/{pl.id}/items", "POST")[before:]
    assert [len(p.body["uris"]) for p in posts] == [100, 100, 20]
    assert all(p.status == 201 for p in posts)
    assert fake.playlist_uris(pl.id) == uris  # each once, in order
    assert result.snapshot_id
    again = await client(fake, CountingTokens(fake, "owner1")).add_items(pl.id, uris[:5])
    assert again.added == [] and len(fake.playlist_uris(pl.id)) == 250


async def test_fake_refuses_more_than_100_uris(fake: FakeSpotify) -> None:
    import aiohttp

    tokens = CountingTokens(fake, "owner1")
    pl = fake.add_playlist("owner1", "Overfull")
    t = fake.add_track("One", "X")
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{fake.api_base}/playlists/{pl.id}/items",
            json={"uris": [t["uri"]] * 101},
            headers={"Authorization": f"Bearer {tokens.current}"},
        ) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"]["status"] == 400


async def test_create_playlist_posts_to_me_playlists(fake: FakeSpotify) -> None:
    pl = await client(fake, CountingTokens(fake, "owner1")).create_playlist(
        "Tune Your Shop — Cafe", "Picked by the bot"
    )
    req = fake.calls("/v1/me/playlists", "POST")[-1]
    assert req.body == {
        "name": "Tune Your Shop — Cafe",
        "public": False,
        "collaborative": False,
        "description": "Picked by the bot",
    }
    assert pl.owner_id == "owner1" and pl.public is False and pl.total == 0
    assert fake.playlists[pl.id].description == "Picked by the bot"


async def test_search_track_uses_field_filters_and_limit_10(fake: FakeSpotify) -> None:
    want = fake.add_track("Through the Night", "IU")
    fake.add_track("Through the Night", "Cover Singer")
    found = await client(fake, CountingTokens(fake, "owner1")).search_track(
        'Through the "Night"', "IU"
    )
    req = fake.calls("/v1/search")[-1]
    assert req.query["q"] == 'track:"Through the  Night" artist:"IU"'
    assert req.query["limit"] == "10" and req.query["type"] == "track"
    assert found[0].id == want["id"]
    assert len(found) >= 2  # loose like the real search: near misses come too
