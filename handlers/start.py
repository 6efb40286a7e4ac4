"""/start: the welcome, and the choice between linking Spotify and going on without it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from core.embeddings import owner_embedding
from core.texts import t
from handlers.onboarding import begin
from handlers.spotify import send_login_link

if TYPE_CHECKING:
    from bot.runtime import Runtime

router = Router(name="start")


class StartCb(CallbackData, prefix="st"):
    action: str  # link | nolink


def welcome_keyboard(lang: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn_link_spotify", lang), callback_data=StartCb(action="link"))
    kb.button(text=t("btn_without_spotify", lang), callback_data=StartCb(action="nolink"))
    kb.adjust(1)
    return kb.as_markup()


@router.message(CommandStart())
async def cmd_start(message: Message, lang: str) -> None:
    await message.answer(t("welcome", lang), reply_markup=welcome_keyboard(lang))


@router.callback_query(StartCb.filter(F.action == "nolink"))
async def on_without_spotify(
    query: CallbackQuery, lang: str, session: AsyncSession, state: FSMContext, bot: Bot
) -> None:
    await query.answer()
    if query.message is None:
        return
    await query.message.edit_text(t("without_spotify", lang))
    # A new owner goes straight on to learning the shop's taste.
    if await owner_embedding(session, query.from_user.id) is None:
        await begin(bot, query.from_user.id, state, lang)


@router.callback_query(StartCb.filter(F.action == "link"))
async def on_link(
    query: CallbackQuery,
    lang: str,
    spotify_configured: bool,
    session: AsyncSession,
    runtime: Runtime,
) -> None:
    await query.answer()
    if query.message is None:
        return
    if not spotify_configured:
        await query.message.edit_text(t("spotify_not_configured", lang))
        return
    # Leads to a URL button to {PUBLIC_BASE_URL}/login?s=<signed single-use state>.
    await send_login_link(query, session, runtime, lang)
