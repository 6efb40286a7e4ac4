"""Recommendation sets against the real database: a press re-renders from the set the UPDATE
returned, which must be exactly what re-reading the set gives; owners are loaded in one
statement that does not rewrite the row on every update."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram.types import User
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.middlewares import SerialPerOwnerMiddleware
from core import owners, recsets
from core.recommend import Rec, TrackCard

OWNER = 7


@pytest.fixture
async def maker(
    fresh_maker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    maker = fresh_maker
    async with maker() as s:
        await s.execute(
            text(
                "INSERT INTO tracks (title, artist, norm_title, norm_artist, popularity, source, "
                "spotify_status, explicit, interaction_count) "
                "SELECT 'Song ' || g, 'Artist ' || g, 'song ' || g, 'artist ' || g, 50, 'seed', "
                "'unresolved', false, 0 FROM generate_series(1, 30) g"
            )
        )
        await s.execute(text("INSERT INTO owners (id, language) VALUES (:o, 'en')"), {"o": OWNER})
        await s.commit()
    yield maker


async def _set_with_two_pages(s: AsyncSession) -> int:
    set_id = await recsets.create(s, OWNER, None, None)
    for page in range(2):
        ids = range(1 + 10 * page, 11 + 10 * page)
        recs = [Rec(TrackCard(i, f"Song {i}", f"Artist {i}"), 1.0 / i, ["jazz"]) for i in ids]
        await recsets.add_page(s, set_id, recs)
    return set_id


async def test_toggle_and_veto_return_what_a_reload_reads(maker) -> None:
    async with maker() as s:
        set_id = await _set_with_two_pages(s)
        rec = await recsets.load(s, set_id, OWNER)
        assert rec is not None and rec.page == 2 and rec.pending == 0

        steps = [("t", 1), ("t", 2), ("t", 3), ("t", 2), ("v", 3), ("v", 4), ("t", 3), ("v", 3)]
        for action, rank in steps:
            if action == "t":
                rec = await recsets.toggle(s, rec, rank)
            else:
                _, rec = await recsets.veto(s, rec, rank)
            assert rec == await recsets.load(s, set_id, OWNER), (action, rank)
        # rank 1 selected; 2 toggled twice; 3 selected then vetoed (no longer counts)
        assert rec.pending == 1
        assert [i.rank for i in rec.items if i.vetoed] == [3, 4]

        # A rank that is not on the page changes nothing.
        assert await recsets.toggle(s, rec, 99) == rec
        assert await recsets.veto(s, rec, 99) == (None, rec)


async def test_pending_counts_selections_of_earlier_pages(maker) -> None:
    async with maker() as s:
        set_id = await recsets.create(s, OWNER, None, None)
        first = [Rec(TrackCard(i, f"Song {i}", f"Artist {i}"), 1.0, []) for i in range(1, 11)]
        await recsets.add_page(s, set_id, first)
        rec = await recsets.load(s, set_id, OWNER)
        assert rec is not None
        rec = await recsets.toggle(s, rec, 5)
        second = [Rec(TrackCard(i, f"Song {i}", f"Artist {i}"), 1.0, []) for i in range(11, 21)]
        await recsets.add_page(s, set_id, second)
        rec = await recsets.load(s, set_id, OWNER)
        assert rec is not None and rec.pending == 1  # the pick on page 1 still counts
        rec = await recsets.toggle(s, rec, 1)
        assert rec.pending == 2 == (await recsets.load(s, set_id, OWNER)).pending


async def test_page_view_is_what_load_reads(maker) -> None:
    async with maker() as s:
        set_id = await recsets.create(s, OWNER, None, None)
        first = [Rec(TrackCard(i, f"Song {i}", f"Artist {i}"), 1.0, ["cozy"]) for i in range(1, 11)]
        await recsets.add_page(s, set_id, first)
        rec = await recsets.toggle(s, await recsets.load(s, set_id, OWNER), 2)
        second = [
            Rec(TrackCard(i, f"Song {i}", f"Artist {i}"), 0.5, ["jazz", "cafe"])
            for i in range(11, 21)
        ]
        page = await recsets.add_page(s, set_id, second)
        view = recsets.page_view(rec, set_id, OWNER, None, page, second)
        assert view == await recsets.load(s, set_id, OWNER)
        assert view.page == 2 and view.pending == 1 and view.items[0].why == ["jazz", "cafe"]


async def _seen(s: AsyncSession, owner_id: int) -> tuple:
    row = await s.execute(
        text("SELECT last_seen_at, blocked_at FROM owners WHERE id = :o"), {"o": owner_id}
    )
    return tuple(row.one())


async def test_get_or_create_touches_last_seen_only_when_stale(maker) -> None:
    async with maker() as s:
        new = await owners.get_or_create(s, 4242, language="ko", first_name="Mina")
        assert (new.id, new.language, new.first_name) == (4242, "ko", "Mina")
        await s.commit()
        seen, _ = await _seen(s, 4242)

        again = await owners.get_or_create(s, 4242, language="en")
        assert again.language == "ko"  # a known owner keeps their settings
        await s.commit()
        assert (await _seen(s, 4242))[0] == seen  # seen a moment ago: not rewritten

        await s.execute(
            text("UPDATE owners SET last_seen_at = now() - interval '1 hour' WHERE id = 4242")
        )
        await s.commit()
        await owners.get_or_create(s, 4242, language="en")
        await s.commit()
        assert (await _seen(s, 4242))[0] > seen  # stale: touched

        await s.execute(text("UPDATE owners SET blocked_at = now() WHERE id = 4242"))
        await s.commit()
        owner = await owners.get_or_create(s, 4242, language="en")
        await s.commit()
        assert owner.blocked_at is None and (await _seen(s, 4242))[1] is None  # writes again


async def test_serial_per_owner() -> None:
    """One owner's updates never overlap; two owners' updates do."""
    mw = SerialPerOwnerMiddleware()
    running: dict[int, int] = {}
    overlap: dict[int, int] = {}
    both_owners_at_once = asyncio.Event()

    async def handler(_event, data) -> int:
        uid = data["event_from_user"].id
        running[uid] = running.get(uid, 0) + 1
        overlap[uid] = max(overlap.get(uid, 0), running[uid])
        if len([u for u, n in running.items() if n]) == 2:
            both_owners_at_once.set()
        await asyncio.sleep(0.02)
        running[uid] -= 1
        return uid

    def user(uid: int) -> dict:
        return {"event_from_user": User(id=uid, is_bot=False, first_name="x")}

    results = await asyncio.gather(*(mw(handler, object(), user(1 + i % 2)) for i in range(8)))
    assert results == [1 + i % 2 for i in range(8)]
    assert overlap == {1: 1, 2: 1}
    assert both_owners_at_once.is_set()
    assert mw.in_flight == 0  # nothing kept for owners with no update in flight
