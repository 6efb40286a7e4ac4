"""Any unhandled error: the owner gets a short friendly message, the log gets the details."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.metrics import HANDLER_ERRORS
from core.texts import normalize_lang, t

log = logging.getLogger("tys.errors")


class ErrorMiddleware(BaseMiddleware):
    def __init__(self, default_language: str) -> None:
        self.default_language = default_language

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        except Exception:
            assert isinstance(event, Update)
            HANDLER_ERRORS.inc()
            log.exception("error while handling update %s", event.update_id)
            await self._tell_user(event, data)
            return None

    async def _tell_user(self, update: Update, data: dict[str, Any]) -> None:
        user = data.get("event_from_user")
        chat = data.get("event_chat")
        owner = data.get("owner")
        lang = (
            owner.language
            if owner
            else normalize_lang(getattr(user, "language_code", None), self.default_language)
        )
        bot = data["bot"]
        try:
            if update.callback_query is not None:
                await bot.answer_callback_query(update.callback_query.id)
            if chat is not None:
                await bot.send_message(chat.id, t("error_generic", lang))
        except Exception:  # the Bot API itself may be what failed
            log.warning("could not tell user about the error in update %s", update.update_id)
