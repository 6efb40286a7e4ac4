"""Daypart pushes: settings validation, due times in the owner's zone, and run_due_pushes
against the fake Bot API with a real aiogram Bot (the test sets the clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import dayparts as dp
from core import embeddings, recommend, recsets
from core.catalog.tags import vocabulary
from core.limits import DAYPART_PUSH_TRACKS, EMBEDDING_DIM
from core.texts import t
from handlers.recommend import render
from scheduler.dayparts import run_due_pushes
from tests.fakes.telegram import FakeTelegram

TOKEN = "123456:DAYPART-test"
TAGS = sorted({tag for tags in dp.MOODS.values() for tag in tags})
N_TRACKS = 280


def kst(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    """A wall-clock time in Seoul, as the scheduler would pass it (aware, UTC)."""
    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo("Asia/Seoul")).astimezone(UTC)


async def build_catalog(maker: async_sessionmaker[AsyncSession]) -> None:
    """N_TRACKS tracks, each with one mood tag (by id), embeddings clustered by that tag."""
    vocab = vocabulary()
    async with maker() as s:
        await s.execute(
            text(
                "INSERT INTO tracks (title, artist, norm_title, norm_artist, popularity, source, "
                "spotify_status, explicit, interaction_count) "
                "SELECT 'Song ' || g, 'Artist ' || g, 'song ' || g, 'artist ' || g, "
                "g % 100, 'seed', 'unresolved', false, 0 FROM generate_series(1, :n) g"
            ),
            {"n": N_TRACKS},
        )
        for key in TAGS:
            await s.execute(
                text('INSERT INTO tags (key, "group", label_en, label_ko) VALUES (:k, :g, :e, :o)'),
                {"k": key, "g": vocab[key].group, "e": vocab[key].en, "o": vocab[key].ko},
            )
        await s.execute(
            text(
                "INSERT INTO track_tags (track_id, tag_id, weight) SELECT t.id, g.id, 1 "
                "FROM tracks t JOIN (SELECT id, row_number() OVER (ORDER BY key) - 1 AS k "
                "FROM tags) g ON t.id % :nt = g.k"
            ),
            {"nt": len(TAGS)},
        )
        ids = np.array([r[0] for r in await s.execute(text("SELECT id FROM tracks ORDER BY id"))])
        rng = np.random.default_rng(7)
        centers = rng.normal(size=(len(TAGS), EMBEDDING_DIM))
        emb = centers[ids % len(TAGS)] + 0.3 * rng.normal(size=(len(ids), EMBEDDING_DIM))
        version = await embeddings.create_version(s, ids, emb, params={"t": "dayparts"})
        await embeddings.promote(s, version)
        await s.commit()


def tracks_with(tags: tuple[str, ...]) -> list[int]:
    return [i for i in range(1, N_TRACKS + 1) if TAGS[i % len(TAGS)] in tags]


async def add_owner(
    maker: async_sessionmaker[AsyncSession], owner_id: int, *, tz: str = "Asia/Seoul"
) -> None:
    async with maker() as s:
        await s.execute(
            text("INSERT INTO owners (id, language, timezone) VALUES (:o, 'en', :tz)"),
            {"o": owner_id, "tz": tz},
        )
        # Picks from the "cozy evening" cluster: the morning push must still lean to calm.
        await recommend.record_picks(s, owner_id, tracks_with(("cozy",))[:10], ["cozy"])
        await dp.apply_preset(s, owner_id, "cafe")
        await s.commit()


@pytest.fixture
async def db(
    fresh_maker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    maker = fresh_maker
    await build_catalog(maker)
    yield maker


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def rt(tg: FakeTelegram, db, redis) -> AsyncIterator[SimpleNamespace]:
    bot = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    yield SimpleNamespace(sessionmaker=db, redis=redis, bot=bot, events=None)
    await bot.session.close()


# --- validation (no database) -------------------------------------------------------------


def _sched(open_h: int, close_h: int, *starts: int) -> dp.Schedule:
    parts = tuple(
        dp.Part(i, h * 60, "lunch_bright", dp.MOODS["lunch_bright"]) for i, h in enumerate(starts)
    )
    return dp.Schedule(1, open_h * 60, close_h * 60, parts=parts)


@pytest.mark.parametrize(
    ("schedule", "key"),
    [
        (_sched(9, 9), "dp_err_hours_same"),
        (_sched(9, 21, 8), "dp_err_outside"),
        (_sched(9, 21, 21), "dp_err_outside"),
        (_sched(9, 21, 10, 10), "dp_err_overlap"),
        (_sched(9, 21, 9, 12, 15, 18, 20), "dp_err_too_many"),
        (_sched(9, 21, 9, 20, 21 - 1), "dp_err_overlap"),
        (_sched(9, 22, 9, 21), "dp_err_too_short"),  # 21:00-22:00 is fine...
        (_sched(18, 2, 18, 1), "dp_err_too_short"),  # ...but 01:00-02:00 after midnight too
        (_sched(18, 2, 3), "dp_err_outside"),
    ],
)
def test_bad_schedules_are_refused_with_a_reason(schedule: dp.Schedule, key: str) -> None:
    if key == "dp_err_too_short":
        # Both examples are exactly 60 minutes long: accepted; 30 minutes is refused.
        dp.validate(schedule)
        short = replace(
            schedule,
            parts=(
                *schedule.parts[:-1],
                replace(schedule.parts[-1], start=schedule.parts[-1].start + 30),
            ),
        )
        with pytest.raises(dp.DaypartError) as err:
            dp.validate(short)
    else:
        with pytest.raises(dp.DaypartError) as err:
            dp.validate(schedule)
    assert err.value.key == key
    for lang in ("en", "ko"):  # every refusal renders as a clear message in both languages
        message = t(err.value.key, lang, **err.value.params)
        assert message and "{" not in message


def test_presets_are_valid_and_tags_known() -> None:
    vocab = vocabulary()
    assert all(tag in vocab for tags in dp.MOODS.values() for tag in tags)
    for open_, close, parts in dp.PRESETS.values():
        dp.validate(
            dp.Schedule(
                1,
                open_,
                close,
                parts=tuple(dp.Part(i, s, m, dp.MOODS[m]) for i, (s, m) in enumerate(parts)),
            )
        )


def test_due_in_the_owners_zone_across_midnight() -> None:
    bar = dp.Schedule(
        1,
        18 * 60,
        2 * 60,
        parts=(
            dp.Part(0, 18 * 60, "evening_cozy", dp.MOODS["evening_cozy"]),
            dp.Part(1, 0, "late_night", dp.MOODS["late_night"]),
        ),
        timezone="Europe/Berlin",
    )
    # 00:10 in Berlin on 3 Jan (winter, UTC+1) = 23:10 UTC on 2 Jan.
    due = dp.due_parts(bar, datetime(2026, 1, 2, 23, 10, tzinfo=UTC))
    assert [(d.part.slot, d.local_date, d.late_minutes) for d in due] == [(1, date(2026, 1, 3), 10)]
    # 17:59 Berlin: nothing; 18:00: the evening part of that day.
    assert dp.due_parts(bar, datetime(2026, 1, 2, 16, 59, tzinfo=UTC)) == []
    due = dp.due_parts(bar, datetime(2026, 1, 2, 17, 0, tzinfo=UTC))
    assert [(d.part.slot, d.local_date) for d in due] == [(0, date(2026, 1, 2))]
    # More than an hour after the start nobody is pushed any more (the bot was down).
    assert dp.due_parts(bar, datetime(2026, 1, 2, 18, 5, tzinfo=UTC)) == []
    # Summer time: 18:00 in Berlin is 16:00 UTC.
    due = dp.due_parts(bar, datetime(2026, 7, 1, 16, 0, tzinfo=UTC))
    assert [d.part.slot for d in due] == [0]
    assert dp.due_parts(replace_paused(bar), datetime(2026, 7, 1, 16, 0, tzinfo=UTC)) == []


def replace_paused(schedule: dp.Schedule) -> dp.Schedule:
    return replace(schedule, paused=True)


# --- storage rules ------------------------------------------------------------------------


async def test_settings_changes_are_validated_in_storage(db) -> None:
    async with db() as s:
        await s.execute(text("INSERT INTO owners (id) VALUES (77)"))
        with pytest.raises(dp.DaypartError) as err:
            await dp.add_part(s, 77, 9 * 60, "morning_calm")
        assert err.value.key == "dp_err_no_hours"
        await dp.set_hours(s, 77, 9 * 60, 21 * 60)
        await dp.add_part(s, 77, 9 * 60, "morning_calm")
        await dp.add_part(s, 77, 12 * 60, "lunch_bright")
        with pytest.raises(dp.DaypartError) as err:
            await dp.add_part(s, 77, 12 * 60, "evening_cozy")
        assert err.value.key == "dp_err_overlap"
        with pytest.raises(dp.DaypartError) as err:
            await dp.set_hours(s, 77, 10 * 60, 21 * 60)  # would leave 09:00 outside
        assert err.value.key == "dp_err_outside"
        await dp.add_part(s, 77, 15 * 60, "afternoon_chill")
        await dp.add_part(s, 77, 18 * 60, "evening_cozy")
        with pytest.raises(dp.DaypartError) as err:
            await dp.add_part(s, 77, 20 * 60, "late_night")
        assert err.value.key == "dp_err_too_many"
        # Removing one frees its slot; the others keep theirs (their push records stay valid).
        await dp.delete_part(s, 77, 1)
        sched = await dp.add_part(s, 77, 13 * 60, "groovy_night")
        assert {p.slot: p.start for p in sched.parts} == {0: 540, 1: 780, 2: 900, 3: 1080}
        await s.commit()


# --- pushes -------------------------------------------------------------------------------


def _buttons(call) -> list[str]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return [b["callback_data"] for row in rows for b in row]


async def test_push_arrives_once_at_the_local_start(db, tg: FakeTelegram, rt) -> None:
    tg.add_user(501)
    await add_owner(db, 501)
    assert await run_due_pushes(rt, kst(2026, 3, 2, 7, 59)) == 0
    assert tg.calls_to("sendMessage") == []

    assert await run_due_pushes(rt, kst(2026, 3, 2, 8, 0)) == 1
    [call] = tg.calls_to("sendMessage")
    assert call.params["chat_id"] == 501 and call.ok
    assert "Calm morning" in call.params["text"]
    buttons = _buttons(call)
    # The recommendation-set buttons (toggle per track, Add) so one tap adds; plus pause.
    toggles = [b for b in buttons if b.startswith("rc:") and ":t:" in b]
    assert len(toggles) == DAYPART_PUSH_TRACKS
    assert any(b.startswith("rc:") and ":add:" in b for b in buttons)
    assert "dp:pz:0:0" in buttons
    async with db() as s:
        push = (
            await s.execute(
                text("SELECT status, set_id, local_date FROM daypart_pushes WHERE owner_id = 501")
            )
        ).one()
        assert push.status == "sent" and push.local_date == date(2026, 3, 2)
        rec_set = (
            await s.execute(
                text("SELECT chat_id, message_id FROM recommendation_sets WHERE id = :s"),
                {"s": push.set_id},
            )
        ).one()
        assert rec_set.chat_id == 501 and rec_set.message_id == call.result["message_id"]
        items = (
            await s.execute(
                text("SELECT track_id FROM recommendation_items WHERE set_id = :s"),
                {"s": push.set_id},
            )
        ).scalars()
        pushed = list(items)
    # Biased toward the daypart's tags although the owner's taste is "cozy".
    morning = set(tracks_with(dp.MOODS["morning_calm"]))
    assert sum(tid in morning for tid in pushed) >= 3

    # A tap re-renders the message from the set: header and pause button stay, and the set
    # remembers its mood ("More" asks for more of it, none of what was shown).
    async with db() as s:
        rec = await recsets.load(s, push.set_id, 501)
        assert rec is not None and rec.mood_tags == tuple(dp.MOODS["morning_calm"])
        body, markup = render(await recsets.toggle(s, rec, 1), "en", None)
        assert body.split("\n")[0] == call.params["text"].split("\n")[0]  # the header
        assert "Calm morning" in body and "☑️" in markup.inline_keyboard[0][0].text
        assert "dp:pz:0:0" in [b.callback_data for row in markup.inline_keyboard for b in row]
        more = await dp.push_recs(s, 501, rec.mood_tags, exclude=pushed)
        assert more and not {r.track.id for r in more} & set(pushed)
        await s.rollback()

    # Later in the same daypart, and a second run at the same minute: nothing more.
    assert await run_due_pushes(rt, kst(2026, 3, 2, 8, 0)) == 0
    assert await run_due_pushes(rt, kst(2026, 3, 2, 8, 30)) == 0
    assert len(tg.calls_to("sendMessage")) == 1

    # Lunch starts: a new push with none of the morning's songs.
    assert await run_due_pushes(rt, kst(2026, 3, 2, 12, 1)) == 1
    lunch = tg.calls_to("sendMessage")[-1]
    assert "Bright lunch" in lunch.params["text"]
    # Next morning: the morning daypart pushes again (a new local date).
    assert await run_due_pushes(rt, kst(2026, 3, 3, 8, 0)) == 1
    assert len(tg.calls_to("sendMessage")) == 3


async def test_paused_owner_gets_nothing_until_resumed(db, tg: FakeTelegram, rt) -> None:
    tg.add_user(502)
    await add_owner(db, 502)
    async with db() as s:
        await dp.set_paused(s, 502, True)
        await s.commit()
    assert await run_due_pushes(rt, kst(2026, 3, 2, 8, 0)) == 0
    assert tg.calls_to("sendMessage") == []
    async with db() as s:
        await dp.set_paused(s, 502, False)
        await s.commit()
    assert await run_due_pushes(rt, kst(2026, 3, 2, 12, 0)) == 1


async def test_blocked_owner_is_marked_and_not_retried(db, tg: FakeTelegram, rt) -> None:
    tg.add_user(503)
    tg.add_user(504)
    await add_owner(db, 503)
    await add_owner(db, 504)
    tg.block(503)
    assert await run_due_pushes(rt, kst(2026, 3, 2, 8, 0)) == 1  # 504 still gets its push
    async with db() as s:
        blocked_at = (
            await s.execute(text("SELECT blocked_at FROM owners WHERE id = 503"))
        ).scalar_one()
        status = (
            await s.execute(text("SELECT status FROM daypart_pushes WHERE owner_id = 503"))
        ).scalar_one()
    assert blocked_at is not None and status == "blocked"
    tries = len([c for c in tg.calls_to("sendMessage") if c.params["chat_id"] == 503])
    assert tries == 1
    assert await run_due_pushes(rt, kst(2026, 3, 2, 12, 0)) == 1
    assert await run_due_pushes(rt, kst(2026, 3, 3, 8, 0)) == 1
    assert len([c for c in tg.calls_to("sendMessage") if c.params["chat_id"] == 503]) == 1
