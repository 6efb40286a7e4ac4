"""Spotify linking in the chat: the login link button, /unlink, and the re-link offer.

Other features call `spotify_error_reply()` / `relink_offer()` (after `LinkExpired`) or
`send_login_link()`; the OAuth
web side (bot/oauth.py) uses `retry_keyboard()` after the owner cancels on Spotify.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Owner
from core.spotify import LinkExpired, NotConfigured, NotLinked, RateLimited, SpotifyError
from core.spotify.auth import SpotifyConfig, create_login, unlink
from core.texts import t

if TYPE_CHECKING:
    from bot.runtime import Runtime

router = Router(name="spotify")


class SpCb(CallbackData, prefix="sp"):
    action: str  # link | unlink | keep


def login_keyboard(url: str, lang: str) -> InlineKeyboardMarkup:
    """The URL button to `/login?s=...` (the browser goes to Spotify from there)."""
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn_open_spotify_login", lang), url=url)
    return kb.as_markup()


def retry_keyboard(lang: str) -> InlineKeyboardMarkup:
    """A short callback button that makes a fresh login link when pressed (links are single
    use and expire, so none is baked into messages that may be read much later)."""
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn_link_again", lang), callback_data=SpCb(action="link"))
    return kb.as_markup()


def relink_offer(lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """Text and button for an owner whose Spotify access died (`LinkExpired`)."""
    return t("spotify_link_expired", lang), retry_keyboard(lang)


def spotify_error_reply(exc: SpotifyError, lang: str) -> tuple[str, InlineKeyboardMarkup | None]:
    """What to tell the owner when a Spotify call failed (feature handlers catch SpotifyError
    around core calls and answer with this)."""
    if isinstance(exc, LinkExpired | NotLinked):
        return relink_offer(lang)
    if isinstance(exc, RateLimited):
        return t("spotify_busy", lang), None
    return t("spotify_unavailable", lang), None


async def send_login_link(
    query: CallbackQuery, session: AsyncSession, runtime: Runtime, lang: str
) -> None:
    """Edit the pressed message into the intro text with a fresh single-use login link."""
    if query.message is None:
        return
    cfg = SpotifyConfig.from_settings(runtime.settings)
    try:
        url = await create_login(session, cfg, query.from_user.id)
    except NotConfigured:
        await query.message.edit_text(t("spotify_not_configured", lang))
        return
    # Committed before the link is shown: a fast tap must find the state row.
    await session.commit()
    await query.message.edit_text(
        t("link_spotify_intro", lang), reply_markup=login_keyboard(url, lang)
    )


@router.callback_query(SpCb.filter(F.action == "link"))
async def on_link(query: CallbackQuery, session: AsyncSession, runtime: Runtime, lang: str) -> None:
    await query.answer()
    await send_login_link(query, session, runtime, lang)


@router.message(Command("unlink"))
async def cmd_unlink(message: Message, owner: Owner, lang: str) -> None:
    if owner.spotify_state == "none":
        await message.answer(t("unlink_not_linked", lang))
        return
    name = html.escape(owner.spotify_display_name or owner.spotify_user_id or "Spotify")
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn_unlink_yes", lang), callback_data=SpCb(action="unlink"))
    kb.button(text=t("btn_unlink_no", lang), callback_data=SpCb(action="keep"))
    kb.adjust(2)
    await message.answer(t("unlink_confirm", lang, name=name), reply_markup=kb.as_markup())


@router.callback_query(SpCb.filter(F.action == "unlink"))
async def on_unlink(query: CallbackQuery, session: AsyncSession, lang: str) -> None:
    removed = await unlink(session, query.from_user.id)
    # Committed before the owner is told the tokens are gone.
    await session.commit()
    await query.answer()
    if query.message is not None:
        await query.message.edit_text(t("unlink_done" if removed else "unlink_not_linked", lang))


@router.callback_query(SpCb.filter(F.action == "keep"))
async def on_keep(query: CallbackQuery, lang: str) -> None:
    await query.answer()
    if query.message is not None:
        await query.message.edit_text(t("unlink_kept", lang))
