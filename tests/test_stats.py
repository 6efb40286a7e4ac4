"""/stats figures: days cut in the admin timezone, closed days kept in stats_days."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from core import stats as stats_service
from core.events import EventLog

TZ = "Asia/Seoul"
ZONE = ZoneInfo(TZ)
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=ZONE)  # 06:00 UTC
TODAY = NOW.date()


def _at(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def _ev(kind: str, owner: int | None, ts: datetime, **data) -> dict:
    return {"_id": uuid.uuid4().hex, "kind": kind, "owner": owner, "ts": ts, **data}


@pytest.fixture
async def events(services, tmp_path: Path) -> AsyncIterator[EventLog]:
    """An event log in a database of this test alone."""
    url = services.mongodb_url.replace("/tys?", f"/s_{uuid.uuid4().hex[:10]}?")
    log = EventLog.from_url(url, tmp_path / "outbox.db")
    yield log
    await log.db.client.drop_database(log.db.name)
    await log.close()


def _down_log(tmp_path: Path) -> EventLog:
    """An event log whose server is not there (a port nobody listens on)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"mongodb://127.0.0.1:{port}/tys?directConnection=true&serverSelectionTimeoutMS=300"
    return EventLog.from_url(url, tmp_path / "down.db")


CLOSED = TODAY - timedelta(days=5)
YESTERDAY = TODAY - timedelta(days=1)


def _seed_docs() -> list[dict]:
    return [
        # A closed day: 3 owners active.
        _ev("onboarding_pick", 1, _at(CLOSED, 0, 0)),  # local midnight belongs to CLOSED
        _ev("onboarding_pick", 1, _at(CLOSED, 9)),
        _ev("rec_shown", 2, _at(CLOSED, 10), track_ids=list(range(10))),
        _ev("rec_added", 2, _at(CLOSED, 10, 5), track_ids=[1, 2, 3]),
        _ev("veto", 3, _at(CLOSED, 11), track_id=4),
        _ev("ocr_import", 3, _at(CLOSED, 23, 59), rows=12),
        _ev("playlist_selected", 9, _at(CLOSED, 12)),  # not a kind /stats counts
        # 23:30 local the day before CLOSED (14:30 UTC): not CLOSED's, though the UTC date is.
        _ev("veto", 4, _at(CLOSED - timedelta(days=1), 23, 30)),
        # Yesterday is not closed yet (ended 15 hours ago): read live every time.
        _ev("onboarding_pick", 5, _at(YESTERDAY, 20)),
        _ev("rec_shown", 6, _at(TODAY, 8), track_ids=list(range(10))),
    ]


def _figures(s: stats_service.Stats, d: date) -> tuple[int, ...]:
    day = next(x for x in s.days if x.day == d)
    return (day.active, day.picks, day.shown, day.added, day.vetoed, day.imports)


async def test_days_in_admin_timezone_and_closed_days_rolled_up(
    fresh_maker, events: EventLog, tmp_path: Path
) -> None:
    await events.coll.insert_many(_seed_docs())
    async with fresh_maker() as session:
        s = await stats_service.compute(session, events, TZ, now=NOW)
    assert s.events_ok and len(s.days) == stats_service.DAYS
    assert _figures(s, CLOSED) == (3, 2, 10, 3, 1, 1)
    assert _figures(s, CLOSED - timedelta(days=1)) == (1, 0, 0, 0, 1, 0)
    assert _figures(s, YESTERDAY) == (1, 1, 0, 0, 0, 0)
    assert _figures(s, TODAY) == (1, 0, 10, 0, 0, 0)
    assert (s.shown, s.added, s.vetoed, s.screenshot_imports) == (20, 3, 2, 1)

    # Every closed day of the window is stored (empty ones too), the open two are not.
    async with fresh_maker() as session:
        rows = dict(
            (
                await session.execute(
                    text("SELECT day, shown FROM stats_days WHERE tz = :tz"), {"tz": TZ}
                )
            ).all()
        )
    first = TODAY - timedelta(days=stats_service.DAYS - 1)
    assert sorted(rows) == [first + timedelta(days=i) for i in range(stats_service.DAYS - 2)]
    assert rows[CLOSED] == 10 and YESTERDAY not in rows

    # The next /stats reads closed days from stats_days: removing their events changes
    # nothing there, while the open days follow the log.
    await events.coll.delete_many({"ts": {"$lt": _at(YESTERDAY, 0)}})
    await events.coll.insert_one(_ev("rec_added", 6, _at(TODAY, 9), track_ids=[1, 2]))
    async with fresh_maker() as session:
        again = await stats_service.compute(session, events, TZ, now=NOW)
    assert _figures(again, CLOSED) == (3, 2, 10, 3, 1, 1)
    assert _figures(again, TODAY) == (1, 0, 10, 2, 0, 0)
    assert again.screenshot_imports == 0  # all-time count is live: the import was deleted

    # A day later, yesterday closes and is stored; the figures stay the same.
    later = NOW + timedelta(days=1)
    async with fresh_maker() as session:
        next_day = await stats_service.compute(session, events, TZ, now=later)
        stored = (
            await session.execute(
                text("SELECT active, picks FROM stats_days WHERE tz = :tz AND day = :d"),
                {"tz": TZ, "d": YESTERDAY},
            )
        ).one()
    assert tuple(stored) == (1, 1)
    assert _figures(next_day, YESTERDAY) == (1, 1, 0, 0, 0, 0)

    # The event log down: stored days still answer, open days are blank, and it is said.
    down = _down_log(tmp_path)
    try:
        async with fresh_maker() as session:
            blind = await stats_service.compute(session, down, TZ, now=NOW)
    finally:
        await down.close()
    assert not blind.events_ok
    assert _figures(blind, CLOSED) == (3, 2, 10, 3, 1, 1)
    assert _figures(blind, TODAY) == (0, 0, 0, 0, 0, 0)


async def test_another_timezone_is_rolled_up_on_its_own(fresh_maker, events: EventLog) -> None:
    await events.coll.insert_many(_seed_docs())
    async with fresh_maker() as session:
        seoul = await stats_service.compute(session, events, TZ, now=NOW)
        utc = await stats_service.compute(session, events, "UTC", now=NOW)
        zones = (
            await session.execute(text("SELECT tz, count(*) FROM stats_days GROUP BY tz"))
        ).all()
    assert dict(zones) == {TZ: 12, "UTC": 12}
    # In UTC the 23:30 Seoul veto (14:30 UTC) falls on CLOSED - 1 as well, but the local
    # midnight pick (15:00 UTC the day before) moves to the day before CLOSED.
    assert _figures(seoul, CLOSED)[1] == 2
    assert _figures(utc, CLOSED)[1] == 1
    assert _figures(utc, CLOSED - timedelta(days=1))[1] == 1


async def test_bench_stats_agrees_with_the_event_log(services, capsys) -> None:
    """`tys bench stats` on small generated data: the stored days give the same figures as
    reading every event (the bench checks it), and its databases are gone afterwards."""
    from types import SimpleNamespace

    import asyncpg
    from pymongo import AsyncMongoClient

    from core.bench.stats import main

    settings = SimpleNamespace(scheduler_timezone=TZ)
    argv = ["--owners", "30", "--interactions", "600", "--runs", "1"]
    # main() runs its own event loop, so it goes to a thread of this test.
    assert await asyncio.to_thread(main, argv, services, settings) == 0
    out = capsys.readouterr().out
    assert "median of 1: cold" in out
    assert int(out.split("shown ")[1].split(",")[0]) > 0
    conn = await asyncpg.connect(services.database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        dbs = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'bench_stats%'")
    finally:
        await conn.close()
    mongo = AsyncMongoClient(services.mongodb_url)
    try:
        names = await mongo.list_database_names()
    finally:
        await mongo.close()
    assert not dbs and not [n for n in names if n.startswith("bench_stats")]
