"""/help (two screens) and /lang."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from core import owners
from core.texts import LANGUAGES, t

router = Router(name="common")

LANG_NAMES = {"ko": "한국어", "en": "English"}


class HelpCb(CallbackData, prefix="hp"):
    page: int


class LangCb(CallbackData, prefix="lg"):
    code: str


def help_keyboard(page: int, lang: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    if page == 1:
        kb.button(text=t("btn_next_page", lang), callback_data=HelpCb(page=2))
    else:
        kb.button(text=t("btn_prev_page", lang), callback_data=HelpCb(page=1))
    return kb.as_markup()


@router.message(Command("help"))
async def cmd_help(message: Message, lang: str) -> None:
    await message.answer(t("help_1", lang), reply_markup=help_keyboard(1, lang))


@router.callback_query(HelpCb.filter())
async def on_help_page(query: CallbackQuery, callback_data: HelpCb, lang: str) -> None:
    await query.answer()
    page = 2 if callback_data.page == 2 else 1
    if query.message is not None:
        await query.message.edit_text(
            t(f"help_{page}", lang), reply_markup=help_keyboard(page, lang)
        )


@router.message(Command("lang"))
async def cmd_lang(message: Message, lang: str) -> None:
    kb = InlineKeyboardBuilder()
    for code in LANGUAGES:
        mark = "✓ " if code == lang else ""
        kb.button(text=f"{mark}{LANG_NAMES[code]}", callback_data=LangCb(code=code))
    await message.answer(t("lang_choose", lang), reply_markup=kb.as_markup())


@router.callback_query(LangCb.filter(F.code.in_(LANGUAGES)))
async def on_lang(query: CallbackQuery, callback_data: LangCb, session: AsyncSession) -> None:
    await owners.set_language(session, query.from_user.id, callback_data.code)
    await query.answer()
    if query.message is not None:
        await query.message.edit_text(t("lang_set", callback_data.code))
