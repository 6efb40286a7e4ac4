"""Per-owner rate limit in Redis (shared by every bot replica)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis

from bot.metrics import UPDATES_THROTTLED
from core.texts import normalize_lang, t


class ThrottlingMiddleware(BaseMiddleware):
    def __init__(self, redis: Redis, rate: int, window_s: float, default_language: str) -> None:
        self.redis = redis
        self.rate = rate
        self.window_ms = int(window_s * 1000)
        self.default_language = default_language

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        key = f"tys:thr:{user.id}"
        pipe = self.redis.pipeline(transaction=False)
        # SET NX PX starts the window (Redis 6 has no PEXPIRE NX), INCR counts in it.
        pipe.set(key, 0, px=self.window_ms, nx=True)
        pipe.incr(key)
        _, hits = await pipe.execute()
        if hits <= self.rate:
            return await handler(event, data)
        UPDATES_THROTTLED.inc()
        assert isinstance(event, Update)
        if event.callback_query is not None:
            lang = normalize_lang(user.language_code, self.default_language)
            await data["bot"].answer_callback_query(event.callback_query.id, t("throttled", lang))
        return None
