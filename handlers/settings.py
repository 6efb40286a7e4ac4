"""/settings: language, linked Spotify account, explicit-content filter, shop name.

One message, edited in place by every button. The shop name is typed: "Set shop name" puts the
owner in an FSM state (Redis) that remembers which message to update afterwards.
"""

from __future__ import annotations

import html

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from core import owners
from core.limits import SHOP_NAME_MAX
from core.models import Owner
from core.spotify.auth import unlink
from core.texts import LANGUAGES, t
from handlers.common import LANG_NAMES
from handlers.spotify import SpCb

router = Router(name="settings")


class SettingsForm(StatesGroup):
    shop_name = State()


class SetCb(CallbackData, prefix="se"):
    a: str  # lang | explicit | shop | unlink | unlink_yes | back | cancel


def render(owner: Owner, lang: str, spotify_configured: bool) -> tuple[str, InlineKeyboardMarkup]:
    if owner.spotify_state == "linked":
        who = html.escape(owner.spotify_display_name or owner.spotify_user_id or "Spotify")
        spotify = t("settings_spotify_linked", lang, name=who)
    elif owner.spotify_state == "expired":
        spotify = t("settings_spotify_expired", lang)
    else:
        spotify = t("settings_spotify_none", lang)
    body = t(
        "settings",
        lang,
        language=LANG_NAMES.get(lang, lang),
        spotify=spotify,
        explicit=t("settings_on" if owner.explicit_filter else "settings_off", lang),
        shop=html.escape(owner.shop_name, quote=False)
        if owner.shop_name
        else t("settings_shop_none", lang),
    )
    kb = InlineKeyboardBuilder()
    # Two languages: the button names the other one (in its own language).
    other = next((code for code in LANGUAGES if code != lang), lang)
    kb.button(text=f"🌐 {LANG_NAMES.get(other, other)}", callback_data=SetCb(a="lang"))
    kb.button(
        text=t(
            "btn_settings_explicit_on" if owner.explicit_filter else "btn_settings_explicit_off",
            lang,
        ),
        callback_data=SetCb(a="explicit"),
    )
    kb.button(text=t("btn_settings_shop", lang), callback_data=SetCb(a="shop"))
    if owner.spotify_state == "linked":
        kb.button(text=t("btn_settings_unlink", lang), callback_data=SetCb(a="unlink"))
    elif spotify_configured:
        # Leads to the same fresh single-use login link as /start.
        kb.button(text=t("btn_link_spotify", lang), callback_data=SpCb(action="link"))
    kb.adjust(1)
    return body, kb.as_markup()


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc):
            raise


@router.message(Command("settings"))
async def cmd_settings(
    message: Message, owner: Owner, lang: str, state: FSMContext, spotify_configured: bool
) -> None:
    if await state.get_state() == SettingsForm.shop_name.state:
        await state.clear()  # a fresh /settings abandons a name that was never typed
    body, markup = render(owner, lang, spotify_configured)
    await message.answer(body, reply_markup=markup)


@router.callback_query(SetCb.filter())
async def on_settings_button(
    query: CallbackQuery,
    callback_data: SetCb,
    session: AsyncSession,
    owner: Owner,
    lang: str,
    state: FSMContext,
    spotify_configured: bool,
) -> None:
    message = query.message
    if message is None or not isinstance(message, Message):
        await query.answer(t("stale_button", lang))
        return
    action = callback_data.a
    if action == "lang":
        lang = next((code for code in LANGUAGES if code != lang), lang)
        await owners.set_language(session, owner.id, lang)
    elif action == "explicit":
        await owners.toggle_explicit_filter(session, owner.id)
    elif action == "shop":
        await state.set_state(SettingsForm.shop_name)
        await state.set_data({"msg": message.message_id})
        kb = InlineKeyboardBuilder()
        kb.button(text=t("btn_cancel", lang), callback_data=SetCb(a="cancel"))
        await query.answer()
        await _edit(message, t("settings_shop_prompt", lang, max=SHOP_NAME_MAX), kb.as_markup())
        return
    elif action == "unlink":
        if owner.spotify_state == "linked":
            name = html.escape(owner.spotify_display_name or owner.spotify_user_id or "Spotify")
            kb = InlineKeyboardBuilder()
            kb.button(text=t("btn_unlink_yes", lang), callback_data=SetCb(a="unlink_yes"))
            kb.button(text=t("btn_unlink_no", lang), callback_data=SetCb(a="back"))
            kb.adjust(2)
            await query.answer()
            await _edit(message, t("unlink_confirm", lang, name=name), kb.as_markup())
            return
    elif action == "unlink_yes":
        await unlink(session, owner.id)
    elif action == "cancel":
        await state.clear()
    elif action != "back":
        await query.answer(t("stale_button", lang))
        return
    # Committed before the owner sees the new values (and before tokens are said to be gone).
    await session.commit()
    await session.refresh(owner)
    await query.answer()
    await _edit(message, *render(owner, lang, spotify_configured))


@router.message(SettingsForm.shop_name, F.text, ~F.text.startswith("/"))
async def on_shop_name(
    message: Message,
    session: AsyncSession,
    owner: Owner,
    lang: str,
    state: FSMContext,
    bot: Bot,
    spotify_configured: bool,
) -> None:
    try:
        await owners.set_shop_name(session, owner.id, message.text or "")
    except owners.ShopNameError as exc:
        # The owner stays in the state: the next message is the next try.
        fmt: dict[str, object] = {}
        if exc.reason == "too_long":
            fmt = {"n": len((message.text or "").strip()), "max": SHOP_NAME_MAX}
        await message.answer(t(f"shop_name_{exc.reason}", lang, **fmt))
        return
    data = await state.get_data()
    await state.clear()
    await session.commit()
    await session.refresh(owner)
    body, markup = render(owner, lang, spotify_configured)
    msg_id = data.get("msg")
    if msg_id:
        try:
            await bot.edit_message_text(
                body, chat_id=message.chat.id, message_id=int(msg_id), reply_markup=markup
            )
            return
        except TelegramBadRequest:
            pass  # the settings message is gone: show the settings anew below
    await message.answer(body, reply_markup=markup)


@router.message(SettingsForm.shop_name, ~F.text)
async def on_shop_name_not_text(message: Message, lang: str) -> None:
    await message.answer(t("shop_name_not_text", lang))
