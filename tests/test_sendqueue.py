"""The send queue against the fake Bot API with a real aiogram Bot: 429 retry_after honoured,
one message per second per chat, a bot-wide rate, 403 marks the chat blocked and drops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from itertools import pairwise

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from scheduler.sendqueue import SendQueue
from tests.fakes.telegram import FakeTelegram

TOKEN = "123456:SENDQ-test"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    client = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))
    yield client
    await client.session.close()


async def test_429_retry_after_is_honoured_and_sent_once(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(601)
    tg.fail_next("sendMessage", 429, retry_after=1)
    result = await SendQueue(bot).send_message(601, "hello")
    assert result.ok and result.attempts == 2
    first, second = tg.calls_to("sendMessage")
    assert first.status == 429 and second.ok
    assert second.received_at - first.received_at >= 1.0
    assert [m["text"] for m in tg.bot_messages(601)] == ["hello"]  # exactly once


async def test_messages_to_one_chat_are_spaced_and_ordered(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(602)
    tg.add_user(603)
    queue = SendQueue(bot)
    results = await asyncio.gather(
        *(queue.send_message(602, f"m{i}") for i in range(3)), queue.send_message(603, "other")
    )
    assert all(r.ok for r in results)
    mine = [c for c in tg.calls_to("sendMessage") if c.params["chat_id"] == 602]
    assert [c.params["text"] for c in mine] == ["m0", "m1", "m2"]
    gaps = [b.received_at - a.received_at for a, b in pairwise(mine)]
    assert all(g >= 0.98 for g in gaps), gaps
    # Another chat does not wait for the first chat's spacing.
    other = next(c for c in tg.calls_to("sendMessage") if c.params["chat_id"] == 603)
    assert other.received_at < mine[1].received_at


async def test_bot_wide_rate_is_a_token_bucket(tg: FakeTelegram, bot: Bot) -> None:
    chats = list(range(700, 706))
    for chat in chats:
        tg.add_user(chat)
    queue = SendQueue(bot, rate=5.0, burst=1)
    results = await asyncio.gather(*(queue.send_message(c, "hi") for c in chats))
    assert all(r.ok for r in results)
    times = sorted(c.received_at for c in tg.calls_to("sendMessage"))
    # Six messages at 5/s with no burst: the last one at least ~1 s after the first.
    assert times[-1] - times[0] >= 0.95


async def test_blocked_chat_is_marked_and_dropped(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(604)
    tg.block(604)
    marked: list[int] = []

    async def on_blocked(chat_id: int) -> None:
        marked.append(chat_id)

    queue = SendQueue(bot, on_blocked=on_blocked)
    first = await queue.send_message(604, "one")
    second = await queue.send_message(604, "two")
    assert first.status == "blocked" and second.status == "blocked"
    assert marked == [604]
    assert len(tg.calls_to("sendMessage")) == 1  # the second was dropped without a call


async def test_too_long_retry_after_gives_up(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(605)
    tg.fail_next("sendMessage", 429, retry_after=30)
    result = await SendQueue(bot, max_retry_after=5).send_message(605, "later")
    assert result.status == "failed" and "429" in (result.error or "")
    assert len(tg.calls_to("sendMessage")) == 1
