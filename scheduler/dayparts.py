"""Daypart pushes: the minutely job that sends each shop a short fresh set when one of its
dayparts starts (core/dayparts.py holds the rules, this module the sending).

Register `run_due_pushes` as a minutely job. Each due (owner, daypart, local date) is claimed
in PostgreSQL before anything is sent (unique key), so a second run, a second replica or a
restart never sends it twice; a crash between claim and send loses that one push, which is
the right side to err on for an unsolicited message.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Protocol

from aiogram import Bot
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import dayparts, delivery, embeddings, playlists, recsets
from core.catalog.tags import vocabulary
from core.events import EventKind
from core.limits import DAYPART_PUSH_CONCURRENCY
from core.texts import t
from handlers.recommend import render
from scheduler.sendqueue import SendQueue, forget, queue_for

log = logging.getLogger("tys.dayparts")


class PushRuntime(Protocol):
    """What the job needs of bot.runtime.Runtime (tests pass a small stand-in)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    bot: Bot | None


def _blocked_marker(maker: async_sessionmaker[AsyncSession]) -> Any:
    async def mark(chat_id: int) -> None:
        async with maker() as session:
            await dayparts.mark_blocked(session, chat_id)
            await session.commit()
        log.info("owner %s blocked the bot; no more pushes until they come back", chat_id)

    return mark


def header(due: dayparts.Due, lang: str) -> str:
    vocab = vocabulary()
    tags = " · ".join(vocab[k].label(lang) for k in due.part.tags if k in vocab)
    return t(
        "dp_push_header",
        lang,
        mood=t(f"mood_{due.part.mood}", lang),
        time=dayparts.hhmm(due.part.start),
        tags=tags,
    )


async def push_one(runtime: PushRuntime, queue: SendQueue, due: dayparts.Due) -> bool:
    """Claim, build and send one daypart push; True when a message went out."""
    owner_id, lang = due.schedule.owner_id, due.schedule.language
    maker = runtime.sessionmaker
    async with maker() as session:
        push_id = await dayparts.claim_push(session, owner_id, due.part.slot, due.local_date)
        await session.commit()
    if push_id is None:
        return False  # already pushed today (or by another replica right now)
    try:
        playlist_id = await delivery.current_playlist(runtime.redis, owner_id)
    except Exception:  # Redis down: push from the taste alone rather than not at all
        playlist_id = None
    async with maker() as session:
        recs = await dayparts.push_recs(
            session,
            owner_id,
            due.part.tags,
            playlist_id=playlist_id,
            explicit_ok=due.schedule.explicit_ok,
        )
        if not recs:
            await dayparts.finish_push(session, push_id, "empty")
            await session.commit()
            return False
        version = await embeddings.serving_version(session)
        set_id = await recsets.create(
            session,
            owner_id,
            playlist_id,
            version.id if version else None,
            header=header(due, lang),
            mood_tags=due.part.tags,
        )
        page = await recsets.add_page(session, set_id, recs)
        rec = await recsets.load(session, set_id, owner_id)
        assert rec is not None
        body, markup = render(rec, lang, await playlists.name(session, playlist_id))
        await dayparts.finish_push(session, push_id, "claimed", set_id)
        # The set exists before the message does: a fast tap on "Add" always finds it.
        await session.commit()
    result = await queue.send_message(owner_id, body, markup)
    async with maker() as session:
        if result.ok:
            await recsets.set_message(session, set_id, owner_id, result.result.message_id)
        await dayparts.finish_push(session, push_id, "sent" if result.ok else result.status)
        await session.commit()
    events = getattr(runtime, "events", None)
    if result.ok and events is not None:
        events.log(
            EventKind.rec_shown,
            owner_id,
            set_id=set_id,
            page=page,
            track_ids=[r.track.id for r in recs],
            playlist_id=playlist_id,
            source="daypart",
            mood=due.part.mood,
        )
    return result.ok


async def run_due_pushes(runtime: PushRuntime, now: datetime) -> int:
    """Send every daypart push due at `now` (aware datetime); returns how many were sent."""
    bot = getattr(runtime, "bot", None)
    own_bot = bot is None
    if bot is None:  # the separate `tys scheduler` process has no polling Bot of its own
        from bot.runtime import make_bot

        bot = make_bot(runtime.settings)  # type: ignore[attr-defined]
    queue = queue_for(bot, _blocked_marker(runtime.sessionmaker))
    try:
        async with runtime.sessionmaker() as session:
            schedules = await dayparts.active_schedules(session)
        due = [d for s in schedules for d in dayparts.due_parts(s, now)]
        if not due:
            return 0
        gate = asyncio.Semaphore(DAYPART_PUSH_CONCURRENCY)

        async def guarded(item: dayparts.Due) -> bool:
            async with gate:
                try:
                    return await push_one(runtime, queue, item)
                except Exception:
                    log.exception("daypart push for owner %s failed", item.schedule.owner_id)
                    return False

        sent = sum(await asyncio.gather(*(guarded(d) for d in due)))
        log.info("daypart pushes: %d due, %d sent", len(due), sent)
        return sent
    finally:
        if own_bot:
            forget(bot)
            await bot.session.close()


async def job_daypart_pushes(ctx: Any) -> dict[str, Any]:
    """The scheduler's entry (scheduler.jobs.JOBS signature): pushes due this minute."""
    from datetime import UTC

    return {"sent": await run_due_pushes(ctx, datetime.now(UTC))}
