"""Last router: text nobody handled, and buttons nobody recognises (old or tampered)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from core.texts import t

router = Router(name="fallback")


@router.callback_query()
async def on_unknown_button(query: CallbackQuery, lang: str) -> None:
    await query.answer(t("stale_button", lang), show_alert=False)


@router.message()
async def on_unknown_message(message: Message, lang: str) -> None:
    await message.answer(t("unknown_text", lang))
