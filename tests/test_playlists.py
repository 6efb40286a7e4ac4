"""core/playlists.py against a fresh real database, the fake Spotify and the fake Last.fm:
paged choice with short button indexes, import (matching, new tracks with Last.fm tags, the
owner's playlist), faults that must lose nothing, a 1,000-track playlist, owner settings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import owners, playlists
from core.catalog.matching import CatalogMatcher
from core.catalog.tags import vocabulary
from core.lastfm import LastfmClient
from core.limits import CALLBACK_DATA_MAX_BYTES, PLAYLISTS_PER_PAGE, SHOP_NAME_MAX
from core.spotify import SpotifyUnavailable
from core.spotify.client import SpotifyClient
from tests.fakes.lastfm import FakeLastfm
from tests.fakes.spotify import FakeSpotify, _api_error

OWNER = 42
USER = "shop.owner"

# (title, artist) in the catalog of the fresh database.
CATALOG = [
    ("Autumn Leaves", "Chet Baker"),
    ("Blue in Green", "Miles Davis"),
    ("Girl from Ipanema", "Stan Getz & João Gilberto"),
    ("Slow Morning", "The Quiet Room"),
    ("밤편지", "아이유"),
    ("Waltz for Debby", "Bill Evans"),
]


@dataclass
class Api:
    api_base: str


class Tokens:
    def __init__(self, fake: FakeSpotify, user: str) -> None:
        scope = "playlist-read-private playlist-read-collaborative playlist-modify-private"
        self.value = str(fake._issue(user, scope)["access_token"])

    async def token(self) -> str:
        return self.value

    async def refreshed(self, rejected: str | None) -> str:
        return self.value


@pytest.fixture
async def db(
    fresh_maker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    maker = fresh_maker
    from core.normalize import normalize_artist, normalize_title

    async with maker() as s:
        vocab = list(vocabulary().values())
        await s.execute(
            text(
                'INSERT INTO tags (key, "group", label_en, label_ko) '
                "SELECT * FROM unnest(CAST(:k AS text[]), CAST(:g AS text[]), "
                "CAST(:e AS text[]), CAST(:o AS text[]))"
            ),
            {
                "k": [v.key for v in vocab],
                "g": [v.group for v in vocab],
                "e": [v.en for v in vocab],
                "o": [v.ko for v in vocab],
            },
        )
        for title, artist in CATALOG:
            await s.execute(
                text(
                    "INSERT INTO tracks (title, artist, norm_title, norm_artist, popularity, "
                    "source, spotify_status, explicit, interaction_count) "
                    "VALUES (:t, :a, :nt, :na, 50, 'seed', 'unresolved', false, 0)"
                ),
                {
                    "t": title,
                    "a": artist,
                    "nt": normalize_title(title),
                    "na": normalize_artist(artist),
                },
            )
        await s.execute(
            text("INSERT INTO artist_aliases (alias_norm, artist_norm) VALUES (:a, :c)"),
            {"a": normalize_artist("IU"), "c": normalize_artist("아이유")},
        )
        await s.execute(text("INSERT INTO owners (id, language) VALUES (:o, 'en')"), {"o": OWNER})
        await s.commit()
    yield maker


@pytest.fixture
async def spotify() -> AsyncIterator[FakeSpotify]:
    async with FakeSpotify() as fake:
        fake.add_user(USER, "Shop Owner")
        fake.add_user("friend", "Friend")
        yield fake


@pytest.fixture
async def lastfm() -> AsyncIterator[LastfmClient]:
    async with FakeLastfm() as fake:
        client = LastfmClient(fake.api_key, fake.base_url, rate_per_s=50, attempts=2)
        yield client
        await client.aclose()


def _client(fake: FakeSpotify, **kw: object) -> SpotifyClient:
    return SpotifyClient(Api(fake.api_base), Tokens(fake, USER), **kw)  # type: ignore[arg-type]


async def _matcher(maker: async_sessionmaker[AsyncSession]) -> CatalogMatcher:
    async with maker() as s:
        return await CatalogMatcher().load(s)


def _choice(pl: object, total: int) -> playlists.Choice:
    return playlists.Choice(0, pl.id, pl.name, total)  # type: ignore[attr-defined]


async def test_listing_pages_carry_short_indexes(spotify: FakeSpotify, redis) -> None:
    from handlers.playlists import PlCb

    owner = int(uuid.uuid4().int % 10**9)
    for i in range(19):
        spotify.add_playlist(USER, f"Own playlist {i:02d} with a rather long name for a button")
    spotify.add_playlist("friend", "Followed only", followed_by=[USER])
    spotify.add_playlist("friend", "Shared with me", collaborative=True, collaborators=[USER])
    client = _client(spotify)

    gen = await playlists.new_generation(redis, owner)
    pages = [await playlists.list_page(redis, client, owner, gen, p) for p in range(3)]
    assert [len(p.items) for p in pages] == [PLAYLISTS_PER_PAGE, PLAYLISTS_PER_PAGE, 4]
    assert [p.has_more for p in pages] == [True, True, False]
    names = [c.name for p in pages for c in p.items]
    assert "Followed only" not in names and "Shared with me" in names
    assert [c.index for p in pages for c in p.items] == list(range(20))

    # The button stands for an index; the index gives back the playlist.
    last = pages[2].items[-1]
    data = PlCb(a="p", g=gen, i=last.index).pack()
    assert len(data.encode()) <= CALLBACK_DATA_MAX_BYTES and last.id not in data
    assert await playlists.pick(redis, owner, gen, last.index) == last
    # A newer listing does not reinterpret an older listing's buttons, nor the other way.
    newer = await playlists.new_generation(redis, owner)
    assert await playlists.pick(redis, owner, newer, last.index) is None
    assert await playlists.pick(redis, owner, gen, 999) is None


async def test_import_matches_adds_new_tracks_with_lastfm_tags(
    db: async_sessionmaker[AsyncSession], spotify: FakeSpotify, lastfm: LastfmClient
) -> None:
    known = [
        spotify.add_track("Autumn Leaves", "Chet Baker"),
        spotify.add_track("Blue In Green - Remastered 2011", "Miles Davis"),
        spotify.add_track("Girl From Ipanema", ["Stan Getz", "João Gilberto"]),
        spotify.add_track("밤편지", "IU"),  # the catalog says 아이유: an alias
        spotify.add_track("Waltz for Debby", "Bill Evans"),
    ]
    on_lastfm = [
        spotify.add_track("Slow Coffee", "Velvet Lamps", explicit=True, popularity=99),
        spotify.add_track("Paper Boats", "Mina Harbor"),
    ]
    unknown = spotify.add_track("Nobody Knows This One", "Unheard Band")
    ids = [t["id"] for t in [*known, *on_lastfm, unknown]]
    pl = spotify.add_playlist(USER, "Cafe mornings", [*ids, known[0]["id"]])  # one repeated
    matcher = await _matcher(db)
    stages: list[str] = []

    async def progress(stage: str, done: int, total: int) -> None:
        stages.append(stage)

    async with db() as s:
        result = await playlists.import_playlist(
            s,
            _client(spotify),
            OWNER,
            _choice(pl, len(pl.uris)),
            lastfm=lastfm,
            progress=progress,
            matcher=matcher,
        )
        await s.commit()
        await playlists.publish(s, result, matcher)
    assert (result.total, result.matched, result.added, result.tagged) == (8, 5, 3, 2)
    assert stages[0] == "reading" and "matching" in stages and "tagging" in stages

    async with db() as s:
        row = (
            await s.execute(
                text("SELECT id, source, external_id, name FROM playlists WHERE owner_id = :o"),
                {"o": OWNER},
            )
        ).one()
        assert tuple(row)[1:] == ("spotify", pl.id, "Cafe mornings")
        members = (
            await s.execute(
                text(
                    "SELECT t.title, t.source, t.spotify_uri, t.popularity, t.explicit "
                    "FROM playlist_tracks pt JOIN tracks t ON t.id = pt.track_id "
                    "WHERE pt.playlist_id = :p ORDER BY pt.position"
                ),
                {"p": row.id},
            )
        ).all()
        new_tags = dict(
            (
                await s.execute(
                    text(
                        "SELECT t.title, array_agg(g.key ORDER BY g.key) FROM tracks t "
                        "JOIN track_tags tt ON tt.track_id = t.id JOIN tags g ON g.id = tt.tag_id "
                        "WHERE t.source = 'spotify-playlist' GROUP BY t.title"
                    )
                )
            ).all()
        )
    assert len(members) == 8
    by_title = {m.title: m for m in members}
    # Known songs stay the catalog's rows; exact matches learn their Spotify URI.
    assert by_title["Autumn Leaves"].source == "seed"
    assert by_title["Autumn Leaves"].spotify_uri == known[0]["uri"]
    assert by_title["밤편지"].source == "seed"
    # New songs: source marks them, Spotify's URI kept, no Spotify popularity.
    slow = by_title["Slow Coffee"]
    assert (slow.source, slow.spotify_uri, slow.popularity, slow.explicit) == (
        "spotify-playlist",
        on_lastfm[0]["uri"],
        0,
        True,
    )
    assert {"jazz", "lounge", "chill"} <= set(new_tags["Slow Coffee"])
    assert "bossa-nova" in new_tags["Paper Boats"]
    assert "Nobody Knows This One" in by_title and "Nobody Knows This One" not in new_tags

    # Choosing the same playlist again: the same playlist row, nothing new for the catalog.
    async with db() as s:
        again = await playlists.import_playlist(
            s, _client(spotify), OWNER, _choice(pl, 9), lastfm=lastfm, matcher=matcher
        )
        await s.commit()
    assert (again.playlist_id, again.total, again.matched, again.added) == (row.id, 8, 8, 0)


async def test_import_without_lastfm_adds_untagged(
    db: async_sessionmaker[AsyncSession], spotify: FakeSpotify
) -> None:
    new = spotify.add_track("Quiet Storm Night", "Nobody Famous")
    pl = spotify.add_playlist(USER, "Evening", [new["id"]])
    async with db() as s:
        result = await playlists.import_playlist(
            s, _client(spotify), OWNER, _choice(pl, 1), lastfm=None, matcher=await _matcher(db)
        )
        await s.commit()
        tags = await s.execute(
            text(
                "SELECT count(*) FROM track_tags tt JOIN tracks t ON t.id = tt.track_id "
                "WHERE t.title = 'Quiet Storm Night'"
            )
        )
        assert tags.scalar_one() == 0
    assert (result.total, result.added, result.tagged) == (1, 1, 0)


async def test_empty_playlist_writes_nothing(
    db: async_sessionmaker[AsyncSession], spotify: FakeSpotify
) -> None:
    pl = spotify.add_playlist(USER, "Nothing yet", [])
    async with db() as s:
        result = await playlists.import_playlist(
            s, _client(spotify), OWNER, _choice(pl, 0), matcher=await _matcher(db)
        )
        await s.commit()
        count = await s.execute(
            text("SELECT count(*) FROM playlists WHERE owner_id = :o"), {"o": OWNER}
        )
        assert count.scalar_one() == 0
    assert result.playlist_id is None and result.total == 0


async def test_spotify_fault_mid_read_loses_nothing_and_429_waits(
    db: async_sessionmaker[AsyncSession], spotify: FakeSpotify
) -> None:
    tracks = [spotify.add_track(f"Song {i}", "Chet Baker") for i in range(120)]
    pl = spotify.add_playlist(USER, "Long one", [t["id"] for t in tracks])
    matcher = await _matcher(db)
    # The third page of items (offset 100) fails with 503: nothing may be written.
    original = spotify._injected

    def third_page_fails(request):
        if request.path.endswith("/items") and request.query.get("offset") == "100":
            return _api_error(503, "Service unavailable")
        return original(request)

    spotify._injected = third_page_fails  # type: ignore[method-assign]
    async with db() as s:
        with pytest.raises(SpotifyUnavailable):
            await playlists.import_playlist(
                s, _client(spotify), OWNER, _choice(pl, 120), matcher=matcher
            )
        await s.rollback()
        count = await s.execute(text("SELECT count(*) FROM tracks WHERE source <> 'seed'"))
        assert count.scalar_one() == 0
    spotify._injected = original  # type: ignore[method-assign]
    statuses = [r.status for r in spotify.calls(rf"^/v1/playlists/{pl.id}/items$")]
    assert statuses == [200, 200, 503]

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    spotify.fail_next(r"^/v1/playlists/[^/]+/items$", 429, retry_after=2)
    async with db() as s:
        result = await playlists.import_playlist(
            s, _client(spotify, sleep=sleep), OWNER, _choice(pl, 120), matcher=matcher
        )
        await s.commit()
    assert waits == [2.0]
    assert result.total == 120


async def test_thousand_track_playlist(
    db: async_sessionmaker[AsyncSession], spotify: FakeSpotify
) -> None:
    async with db() as s:
        await s.execute(
            text(
                "INSERT INTO tracks (title, artist, norm_title, norm_artist, popularity, source, "
                "spotify_status, explicit, interaction_count) "
                "SELECT 'Tune ' || g, 'Band ' || (g % 40), 'tune ' || g, 'band ' || (g % 40), "
                "10, 'seed', 'unresolved', false, 0 FROM generate_series(1, 1000) g"
            )
        )
        await s.commit()
    ids = [spotify.add_track(f"Tune {g}", f"Band {g % 40}")["id"] for g in range(1, 1001)]
    pl = spotify.add_playlist(USER, "Everything", ids)
    matcher = await _matcher(db)
    async with db() as s:
        result = await playlists.import_playlist(
            s, _client(spotify), OWNER, _choice(pl, 1000), matcher=matcher
        )
        await s.commit()
        members = await s.execute(
            text("SELECT count(*) FROM playlist_tracks WHERE playlist_id = :p"),
            {"p": result.playlist_id},
        )
        assert members.scalar_one() == 1000
    assert (result.total, result.matched, result.added) == (1000, 1000, 0)
    assert len(spotify.calls(rf"^/v1/playlists/{pl.id}/items$")) == 20  # 50 per page


def test_shop_name_rules() -> None:
    assert owners.clean_shop_name("  Cafe Mina  ") == "Cafe Mina"
    assert owners.clean_shop_name("카페 미나 ☕") == "카페 미나 ☕"
    assert owners.clean_shop_name("👩‍🍳 Kitchen") == "👩‍🍳 Kitchen"  # ZWJ emoji is text
    assert owners.clean_shop_name("x" * SHOP_NAME_MAX) == "x" * SHOP_NAME_MAX
    for bad, reason in [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * (SHOP_NAME_MAX + 1), "too_long"),
        ("Cafe\nMina", "control"),
        ("Cafe\x00", "control"),
        ("\u202eanim efac", "control"),  # a right-to-left override
    ]:
        with pytest.raises(owners.ShopNameError) as err:
            owners.clean_shop_name(bad)
        assert err.value.reason == reason, bad


async def test_settings_writes(db: async_sessionmaker[AsyncSession]) -> None:
    async with db() as s:
        assert await owners.toggle_explicit_filter(s, OWNER) is True
        assert await owners.toggle_explicit_filter(s, OWNER) is False
        assert await owners.set_shop_name(s, OWNER, " Mina's ") == "Mina's"
        await s.commit()
        row = (
            await s.execute(
                text("SELECT shop_name, explicit_filter FROM owners WHERE id = :o"), {"o": OWNER}
            )
        ).one()
    assert tuple(row) == ("Mina's", False)
