"""An update seen twice (webhook retry, restart before the offset was confirmed) runs once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from redis.asyncio import Redis

from bot.metrics import UPDATES, UPDATES_DUPLICATE


class DedupMiddleware(BaseMiddleware):
    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        UPDATES.labels(event.event_type).inc()
        bot = data["bot"]
        first = await self.redis.set(
            f"tys:upd:{bot.id}:{event.update_id}", 1, nx=True, ex=self.ttl_s
        )
        if not first:
            UPDATES_DUPLICATE.inc()
            return None
        return await handler(event, data)
