"""One owner's updates run one after another (in this process).

aiogram handles updates concurrently. Two quick taps on one message would otherwise race:
each reads the message's state, and the later edit can overwrite the earlier one (a toggle
shown unticked, a language switch undoing a prompt). Different owners still run in parallel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject


class SerialPerOwnerMiddleware(BaseMiddleware):
    def __init__(self) -> None:
        # user id -> (lock, updates holding or waiting for it); dropped when the count is 0,
        # so the table only holds owners with an update in flight.
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        lock, users = self._locks.get(user.id) or (asyncio.Lock(), 0)
        self._locks[user.id] = (lock, users + 1)
        try:
            async with lock:
                return await handler(event, data)
        finally:
            lock, users = self._locks[user.id]
            if users <= 1:
                del self._locks[user.id]
            else:
                self._locks[user.id] = (lock, users - 1)

    @property
    def in_flight(self) -> int:
        """Owners with an update running or waiting (for tests and metrics)."""
        return len(self._locks)
