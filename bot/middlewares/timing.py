"""Handler latency per handler name (inner middleware: the handler is known here)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from bot.metrics import HANDLER_LATENCY


class TimingMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        obj = data.get("handler")
        name = getattr(getattr(obj, "callback", None), "__name__", "unknown")
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            HANDLER_LATENCY.labels(name).observe(time.perf_counter() - started)
