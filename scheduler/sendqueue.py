"""Outgoing messages that respect Telegram's limits: about 30 messages/s for the bot overall
and 1 message/s per chat.

`SendQueue.send()` waits its turn: first in the chat's own line (an asyncio.Lock, FIFO, held
for the whole delivery including retries, so a later message never overtakes a delayed one),
then for the chat's spacing, then for a token of the bot-wide bucket. Outcomes:

- 429 (aiogram raises TelegramRetryAfter): wait `retry_after` (the chat AND the whole bucket
  pause, because Telegram does not say which limit was hit), then try again, at most
  SEND_MAX_RETRIES times and never for a wait longer than SEND_MAX_RETRY_AFTER_S;
- 403 (TelegramForbiddenError: blocked, deactivated): the chat is marked blocked through the
  `on_blocked` callback and dropped, and every later message to it is dropped without a call;
- network errors and 5xx: a short backoff and a retry, same budget;
- 400 (bad request): dropped at once, a retry would fail the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage, SendPhoto
from aiogram.methods.base import TelegramMethod
from aiogram.types import InlineKeyboardMarkup, InputFile

from core.limits import (
    SEND_BURST,
    SEND_CHAT_INTERVAL_S,
    SEND_MAX_RETRIES,
    SEND_MAX_RETRY_AFTER_S,
    SEND_RATE_PER_S,
)

log = logging.getLogger("tys.sendqueue")

OnBlocked = Callable[[int], Awaitable[None]]


@dataclass(frozen=True)
class SendResult:
    status: Literal["sent", "blocked", "failed"]
    result: Any = None  # what the method returned (a Message for sendMessage)
    attempts: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "sent"


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; `acquire` waits for one. Waiters
    are served in arrival order (the lock is FIFO) so nobody starves."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self.tokens = float(burst)
        self.stamp = clock()
        self.not_before = 0.0  # a 429 pauses everyone until then
        self._lock = asyncio.Lock()

    def pause_until(self, moment: float) -> None:
        self.not_before = max(self.not_before, moment)

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self.clock()
                if now < self.not_before:
                    await asyncio.sleep(self.not_before - now)
                    continue
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self.tokens) / self.rate)


class SendQueue:
    def __init__(
        self,
        bot: Bot,
        *,
        rate: float = SEND_RATE_PER_S,
        burst: int = SEND_BURST,
        chat_interval: float = SEND_CHAT_INTERVAL_S,
        max_retries: int = SEND_MAX_RETRIES,
        max_retry_after: float = SEND_MAX_RETRY_AFTER_S,
        on_blocked: OnBlocked | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.chat_interval = chat_interval
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.on_blocked = on_blocked
        self.clock = clock
        self.bucket = TokenBucket(rate, burst, clock)
        self._next_at: dict[int, float] = {}  # earliest next send per chat
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # callers holding or waiting for a chat's lock
        self.blocked: set[int] = set()

    async def send(self, chat_id: int, method: TelegramMethod[Any]) -> SendResult:
        if chat_id in self.blocked:
            return SendResult("blocked", error="blocked earlier")
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        try:
            async with lock:
                return await self._deliver(chat_id, method)
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:
                # Nobody else in this chat's line: forget it unless its spacing still matters.
                del self._users[chat_id], self._locks[chat_id]
                if self._next_at.get(chat_id, 0.0) <= self.clock():
                    self._next_at.pop(chat_id, None)

    async def send_message(
        self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None
    ) -> SendResult:
        return await self.send(
            chat_id, SendMessage(chat_id=chat_id, text=text, reply_markup=reply_markup)
        )

    async def send_photo(self, chat_id: int, photo: InputFile, caption: str | None) -> SendResult:
        return await self.send(chat_id, SendPhoto(chat_id=chat_id, photo=photo, caption=caption))

    async def _deliver(self, chat_id: int, method: TelegramMethod[Any]) -> SendResult:
        attempts = 0
        while True:
            if chat_id in self.blocked:  # found out while this message waited in line
                return SendResult("blocked", attempts=attempts, error="blocked earlier")
            wait = self._next_at.get(chat_id, 0.0) - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.bucket.acquire()
            attempts += 1
            try:
                result = await self.bot(method)
            except TelegramRetryAfter as exc:
                delay = float(exc.retry_after)
                if attempts > self.max_retries or delay > self.max_retry_after:
                    log.warning("chat %s: 429, giving up after %d attempts", chat_id, attempts)
                    return SendResult("failed", attempts=attempts, error=f"429 retry_after={delay}")
                resume = self.clock() + delay
                self._next_at[chat_id] = max(self._next_at.get(chat_id, 0.0), resume)
                self.bucket.pause_until(resume)
                continue
            except TelegramForbiddenError as exc:
                self.blocked.add(chat_id)
                if self.on_blocked is not None:
                    try:
                        await self.on_blocked(chat_id)
                    except Exception:
                        log.exception("chat %s: could not record the block", chat_id)
                return SendResult("blocked", attempts=attempts, error=exc.message)
            except TelegramBadRequest as exc:
                log.warning("chat %s: message refused: %s", chat_id, exc.message)
                return SendResult("failed", attempts=attempts, error=exc.message)
            except (TelegramNetworkError, TelegramServerError) as exc:
                if attempts > self.max_retries:
                    return SendResult("failed", attempts=attempts, error=str(exc))
                self._next_at[chat_id] = self.clock() + min(2.0 ** (attempts - 1), 8.0)
                continue
            self._next_at[chat_id] = self.clock() + self.chat_interval
            return SendResult("sent", result=result, attempts=attempts)


# One queue per Bot object: the limits are the bot's, shared by every job of the process.
_QUEUES: dict[int, tuple[Bot, SendQueue]] = {}


def queue_for(bot: Bot, on_blocked: OnBlocked | None = None) -> SendQueue:
    entry = _QUEUES.get(id(bot))
    if entry is None or entry[0] is not bot:
        entry = (bot, SendQueue(bot, on_blocked=on_blocked))
        _QUEUES[id(bot)] = entry
    elif on_blocked is not None:
        entry[1].on_blocked = on_blocked
    return entry[1]


def forget(bot: Bot) -> None:
    """Drop the queue of a bot whose session is closed (a per-run bot of `tys scheduler`)."""
    _QUEUES.pop(id(bot), None)
