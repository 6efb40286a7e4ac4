"""/playlists and "My Spotify playlists": choose a reference playlist from Spotify.

One message carries the paged list (edited in place by Next / Back). Choosing a playlist edits
that message into progress ("Reading 120 songs…"), then a summary, and recommendations for the
playlist follow as a new message. Buttons carry `generation:index` (core/playlists.py keeps
what each index stands for in Redis), never names or Spotify ids.
"""

from __future__ import annotations

import html
import logging
import time
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from core import delivery, playlists
from core.events import EventKind
from core.lastfm import LastfmClient
from core.limits import PLAYLISTS_PER_PAGE, PROGRESS_EDIT_INTERVAL_S
from core.models import Owner
from core.spotify import LinkExpired, NotLinked, SpotifyError
from core.spotify.auth import OwnerTokens, SpotifyConfig
from core.spotify.client import SpotifyClient
from core.texts import t
from handlers.onboarding import NextStepCb
from handlers.recommend import show_recommendations
from handlers.spotify import SpCb, relink_offer, spotify_error_reply

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
router = Router(name="playlists")

# One import at a time per owner: a double tap must not read (and write) a playlist twice.
_LOCK = "tys:plimp:{owner}"
_LOCK_TTL_S = 600
_BUTTON_NAME_MAX = 40


class PlCb(CallbackData, prefix="pl"):
    a: str  # pg = show page i | p = choose index i
    g: int  # listing generation
    i: int


def _client(runtime: Runtime, owner_id: int) -> SpotifyClient:
    cfg = SpotifyConfig.from_settings(runtime.settings)
    return SpotifyClient(cfg, OwnerTokens(runtime.sessionmaker, cfg, owner_id))


_lastfm: LastfmClient | None = None


def _lastfm_client(runtime: Runtime) -> LastfmClient | None:
    """One Last.fm client per process, so its 5 requests/s limit is shared by every owner;
    None when LASTFM_API_KEY is not set (new tracks then go into the catalog untagged)."""
    global _lastfm
    if not runtime.settings.lastfm_api_key:
        return None
    if _lastfm is None:
        # The owner is waiting: few retries and a short timeout rather than a crawler's patience.
        _lastfm = LastfmClient.from_settings(runtime.settings, attempts=2, timeout_s=5.0)
    return _lastfm


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        # The same content again (a repeated tap on the same page) is not a failure.
        if "not modified" not in str(exc):
            raise


def list_keyboard(page: playlists.ChoicePage, lang: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for c in page.items:
        name = c.name if len(c.name) <= _BUTTON_NAME_MAX else c.name[: _BUTTON_NAME_MAX - 1] + "…"
        kb.button(
            text=t("pl_button", lang, name=name, n=c.total),
            callback_data=PlCb(a="p", g=page.generation, i=c.index),
        )
    nav = 0
    if page.page > 0:
        kb.button(
            text=t("btn_prev_page", lang),
            callback_data=PlCb(a="pg", g=page.generation, i=page.page - 1),
        )
        nav += 1
    if page.has_more:
        kb.button(
            text=t("btn_next_page", lang),
            callback_data=PlCb(a="pg", g=page.generation, i=page.page + 1),
        )
        nav += 1
    kb.adjust(*([1] * len(page.items)), *([nav] if nav else []))
    return kb.as_markup()


def _retry_keyboard(lang: str, retry: PlCb, back: PlCb | None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn_try_again", lang), callback_data=retry)
    if back is not None:
        kb.button(text=t("btn_other_playlists", lang), callback_data=back)
    kb.adjust(1)
    return kb.as_markup()


def _fault(
    exc: SpotifyError, lang: str, retry: PlCb, back: PlCb | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The owner-facing answer to a Spotify failure: a re-link offer after invalid_grant,
    otherwise the clear "try again" text with a button that repeats the very same step."""
    text, markup = spotify_error_reply(exc, lang)
    return text, markup or _retry_keyboard(lang, retry, back)


async def _show_page(
    message: Message, runtime: Runtime, owner: Owner, lang: str, generation: int, page: int
) -> None:
    try:
        shown = await playlists.list_page(
            runtime.redis, _client(runtime, owner.id), owner.id, generation, page
        )
    except SpotifyError as exc:
        await _edit(message, *_fault(exc, lang, PlCb(a="pg", g=generation, i=page)))
        return
    if not shown.items and page == 0:
        await _edit(message, t("pl_list_empty", lang))
        return
    await _edit(message, t("pl_list", lang, page=page + 1), list_keyboard(shown, lang))


async def _release_owner_row(session: AsyncSession) -> None:
    """End the update's transaction before talking to Spotify. It holds the owner row locked
    (OwnerMiddleware touched last_seen_at); a token refresh refused with invalid_grant marks
    the owner expired from its own session and would wait on that lock until a timeout."""
    await session.commit()


async def open_list(
    bot: Bot, chat_id: int, session: AsyncSession, runtime: Runtime, owner: Owner, lang: str
) -> None:
    """A new listing message for the owner (or why there can't be one)."""
    if not runtime.settings.spotify_client_id:
        await bot.send_message(chat_id, t("spotify_not_configured", lang))
        return
    if owner.spotify_state == "expired":
        text, markup = relink_offer(lang)
        await bot.send_message(chat_id, text, reply_markup=markup)
        return
    if owner.spotify_state != "linked":
        kb = InlineKeyboardBuilder()
        kb.button(text=t("btn_link_spotify", lang), callback_data=SpCb(action="link"))
        await bot.send_message(chat_id, t("pl_need_link", lang), reply_markup=kb.as_markup())
        return
    msg = await bot.send_message(chat_id, t("pl_loading", lang))
    await _release_owner_row(session)
    generation = await playlists.new_generation(runtime.redis, owner.id)
    await _show_page(msg, runtime, owner, lang, generation, 0)


@router.message(Command("playlists"))
async def cmd_playlists(
    message: Message, session: AsyncSession, runtime: Runtime, owner: Owner, lang: str, bot: Bot
) -> None:
    await open_list(bot, message.chat.id, session, runtime, owner, lang)


@router.callback_query(NextStepCb.filter(F.action == "spotify"))
async def on_my_playlists(
    query: CallbackQuery,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    lang: str,
    bot: Bot,
) -> None:
    await query.answer()
    await open_list(bot, query.from_user.id, session, runtime, owner, lang)


@router.callback_query(PlCb.filter(F.a == "pg"))
async def on_page(
    query: CallbackQuery,
    callback_data: PlCb,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    lang: str,
) -> None:
    await query.answer()
    if query.message is None or not isinstance(query.message, Message):
        return
    if owner.spotify_state != "linked":
        text, markup = relink_offer(lang)
        await _edit(query.message, text, markup)
        return
    await _release_owner_row(session)
    await _show_page(query.message, runtime, owner, lang, callback_data.g, callback_data.i)


class _Progress:
    """Edits the chosen playlist's message as the import goes, at most once per
    PROGRESS_EDIT_INTERVAL_S (Telegram allows about one message per second per chat)."""

    def __init__(self, message: Message, name: str, lang: str) -> None:
        self.message = message
        self.name = name
        self.lang = lang
        self.last = time.monotonic()

    async def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == "reading" or now - self.last < PROGRESS_EDIT_INTERVAL_S:
            return
        self.last = now
        key = "pl_tagging" if stage == "tagging" else "pl_matching"
        try:
            await _edit(self.message, t(key, self.lang, done=done, total=total))
        except (TelegramBadRequest, TelegramRetryAfter) as exc:
            # Progress is a courtesy; the summary that follows is what must arrive.
            log.info("progress edit skipped: %s", exc)


@router.callback_query(PlCb.filter(F.a == "p"))
async def on_choose(
    query: CallbackQuery,
    callback_data: PlCb,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    state: FSMContext,
    lang: str,
    bot: Bot,
) -> None:
    message = query.message
    choice = await playlists.pick(runtime.redis, owner.id, callback_data.g, callback_data.i)
    if choice is None or message is None or not isinstance(message, Message):
        await query.answer(t("stale_button", lang))
        return
    lock = _LOCK.format(owner=owner.id)
    if not await runtime.redis.set(lock, 1, nx=True, ex=_LOCK_TTL_S):
        await query.answer(t("pl_busy", lang))
        return
    # Answered before the work: reading 1,000 songs takes longer than a callback may wait.
    await query.answer()
    try:
        await _import_and_recommend(
            message, choice, callback_data, session, runtime, owner, state, lang, bot
        )
    finally:
        await runtime.redis.delete(lock)


async def _import_and_recommend(
    message: Message,
    choice: playlists.Choice,
    pressed: PlCb,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    state: FSMContext,
    lang: str,
    bot: Bot,
) -> None:
    name = html.escape(choice.name)
    back = PlCb(a="pg", g=pressed.g, i=choice.index // PLAYLISTS_PER_PAGE)
    await _edit(message, t("pl_reading", lang, n=choice.total, name=name))
    await _release_owner_row(session)
    try:
        result = await playlists.import_playlist(
            session,
            _client(runtime, owner.id),
            owner.id,
            choice,
            lastfm=_lastfm_client(runtime),
            progress=_Progress(message, name, lang),
        )
    except SpotifyError as exc:
        # Nothing of this import is kept; the owner retries the very same choice.
        await session.rollback()
        if isinstance(exc, LinkExpired | NotLinked):
            log.info("owner %s must re-link Spotify: %s", owner.id, exc)
        await _edit(message, *_fault(exc, lang, pressed, back))
        return
    if result.playlist_id is None:
        kb = InlineKeyboardBuilder()
        kb.button(text=t("btn_other_playlists", lang), callback_data=back)
        await _edit(message, t("pl_empty", lang, name=name), kb.as_markup())
        return
    # Committed before anything is shown: recommendations and delivery read this playlist.
    await session.commit()
    await playlists.publish(session, result)
    await delivery.choose_playlist(runtime.redis, owner.id, result.playlist_id)
    runtime.events.log(
        EventKind.playlist_selected,
        owner.id,
        playlist_id=result.playlist_id,
        source="spotify",
        tracks=result.total,
        matched=result.matched,
        added=result.added,
    )
    lines = [t("pl_summary", lang, name=name, matched=result.matched, total=result.total)]
    if result.added:
        lines.append(t("pl_summary_added", lang, n=result.added))
    lines.append(t("pl_summary_next", lang))
    await _edit(message, "\n".join(lines))
    await show_recommendations(
        bot, message.chat.id, session, runtime, owner, state, lang, result.playlist_id
    )
