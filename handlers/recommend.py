"""Recommendation pages: one message, edited in place by toggles, vetoes and "More"; "Add"."""

from __future__ import annotations

import asyncio
import html

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from core import dayparts, delivery, embeddings, playlists, recommend, recsets
from core.catalog.tags import vocabulary
from core.events import EventKind
from core.models import Owner
from core.texts import t
from handlers.dayparts import DpCb
from handlers.onboarding import NextStepCb, begin

router = Router(name="recommend")


class RecCb(CallbackData, prefix="rc"):
    set: int
    a: str  # t = toggle, v = veto, add, more
    i: int = 0


def render(
    rec: recsets.RecSet, lang: str, playlist_name: str | None
) -> tuple[str, InlineKeyboardMarkup]:
    vocab = vocabulary()
    lines = [rec.header, ""] if rec.header else []
    lines.append(t("rec_title", lang, page=rec.page))
    if playlist_name:
        lines.append(t("rec_based_on", lang, name=html.escape(playlist_name)))
    lines.append("")
    for item in rec.items:
        name = f"{html.escape(item.title)} — {html.escape(item.artist)}"
        why = " · ".join(vocab[k].label(lang) for k in item.why if k in vocab)
        if item.vetoed:
            lines.append(f"{item.rank}. <s>{name}</s>")
            continue
        mark = "✅ " if item.added else ""
        lines.append(f"{item.rank}. {mark}<b>{name}</b>" + (f"\n    <i>{why}</i>" if why else ""))
    lines += ["", t("rec_hint", lang)]

    # Rows are built directly: aiogram's KeyboardBuilder deep-copies the whole markup on every
    # button it adds (quadratic in pydantic copies), which was ~17% of the bot's CPU per page
    # turn in `python -m tests.bench_bot`. Same layout: one row per track, then Add | More.
    def button(text: str, a: str, i: int = 0) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=RecCb(set=rec.id, a=a, i=i).pack())

    rows: list[list[InlineKeyboardButton]] = []
    for item in rec.items:
        if item.vetoed:
            continue
        if item.added:
            rows.append([button(f"✅ {item.rank}. {item.title}"[:48], "t", item.rank)])
            continue
        box = "☑️" if item.selected else "⬜"
        rows.append(
            [
                button(f"{box} {item.rank}. {item.title} — {item.artist}"[:56], "t", item.rank),
                button("🚫", "v", item.rank),
            ]
        )
    n = rec.pending
    rows.append(
        [
            button(t("rec_add", lang, n=n) if n else t("rec_add_none", lang), "add"),
            button(t("rec_more", lang), "more"),
        ]
    )
    if rec.mood_tags:  # a daypart push: its pause button stays with it
        rows.append(
            [InlineKeyboardButton(text=t("dp_btn_pause", lang), callback_data=DpCb(a="pz").pack())]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def _new_page(
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    set_id: int,
    playlist_id: int | None,
    prev: recsets.RecSet | None = None,
) -> recsets.RecSet | None:
    """Write the set's next page; None when there is nothing left to recommend. `prev`: the
    set as it was (its pending selections and daypart carry over)."""
    shown = list(prev.shown) if prev is not None else []  # a new set has shown nothing
    if prev is not None and prev.mood_tags:  # "More" on a daypart push: more of that mood
        recs = await dayparts.push_recs(
            session,
            owner.id,
            prev.mood_tags,
            playlist_id=playlist_id,
            explicit_ok=not owner.explicit_filter,
            exclude=shown,
        )
    else:
        recs = await recommend.recommend(
            session,
            owner.id,
            playlist_id=playlist_id,
            exclude=shown,
            blend=runtime.settings.rec_playlist_blend,
            explicit_ok=not owner.explicit_filter,
            why_tags=owner.taste_tags or [],
        )
    if not recs:
        return None
    page = await recsets.add_page(session, set_id, recs)
    runtime.events.log(
        EventKind.rec_shown,
        owner.id,
        set_id=set_id,
        page=page,
        track_ids=[r.track.id for r in recs],
        playlist_id=playlist_id,
    )
    return recsets.page_view(prev, set_id, owner.id, playlist_id, page, recs)


async def show_recommendations(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    state: FSMContext,
    lang: str,
    playlist_id: int | None = None,
) -> None:
    """Start a recommendation set (a new message) for the owner and the chosen playlist."""
    if await embeddings.owner_embedding(session, owner.id) is None and playlist_id is None:
        await bot.send_message(chat_id, t("rec_no_taste", lang))
        await begin(bot, chat_id, state, lang)
        return
    version = await embeddings.serving_version(session)
    set_id = await recsets.create(session, owner.id, playlist_id, version.id if version else None)
    rec = await _new_page(session, runtime, owner, set_id, playlist_id)
    if rec is None:
        await bot.send_message(chat_id, t("rec_empty", lang))
        return
    body, markup = render(rec, lang, await playlists.name(session, playlist_id))
    msg = await bot.send_message(chat_id, body, reply_markup=markup)
    await recsets.set_message(session, set_id, chat_id, msg.message_id)


@router.message(Command("recommend"))
async def cmd_recommend(
    message: Message,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    state: FSMContext,
    lang: str,
    bot: Bot,
) -> None:
    playlist_id = await delivery.current_playlist(runtime.redis, owner.id)
    await show_recommendations(
        bot, message.chat.id, session, runtime, owner, state, lang, playlist_id
    )


@router.callback_query(NextStepCb.filter(F.action == "rec"))
async def on_recommend_now(
    query: CallbackQuery,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    state: FSMContext,
    lang: str,
    bot: Bot,
) -> None:
    await query.answer()
    await delivery.choose_playlist(runtime.redis, owner.id, None)
    await show_recommendations(bot, query.from_user.id, session, runtime, owner, state, lang, None)


@router.callback_query(NextStepCb.filter(F.action == "shot"))
async def on_screenshot_hint(query: CallbackQuery, lang: str) -> None:
    await query.answer()
    if query.message is not None:
        await query.message.answer(t("screenshot_hint", lang))


@router.callback_query(RecCb.filter())
async def on_rec_button(
    query: CallbackQuery,
    callback_data: RecCb,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    lang: str,
    bot: Bot,
) -> None:
    rec = await recsets.load(session, callback_data.set, owner.id)
    if rec is None or query.message is None:
        await query.answer(t("stale_button", lang))
        return
    action = callback_data.a
    fresh: recsets.RecSet | None = rec
    ack: str | None = None  # the callback's answer, sent together with the edit
    if action == "t":
        fresh = await recsets.toggle(session, rec, callback_data.i)
    elif action == "v":
        track_id, fresh = await recsets.veto(session, rec, callback_data.i)
        if track_id is not None:
            runtime.events.log(EventKind.veto, owner.id, track_id=track_id, set_id=rec.id)
        ack = t("rec_vetoed", lang)
    elif action == "more":
        skipped = await recsets.skipped_on_page(session, rec)
        if skipped:
            runtime.events.log(EventKind.rec_skipped, owner.id, set_id=rec.id, track_ids=skipped)
        fresh = await _new_page(session, runtime, owner, rec.id, rec.playlist_id, rec)
        if fresh is None:
            await query.answer(t("rec_empty", lang), show_alert=True)
            return
    elif action == "add":
        if not await _add(query, session, runtime, owner, rec, lang, bot):
            return  # nothing was added: the page did not change
        fresh = await recsets.load(session, rec.id, owner.id)
        if fresh is not None:
            await _show(query, session, fresh, lang)
        return
    else:
        await query.answer(t("stale_button", lang))
        return
    assert fresh is not None
    # The answer and the edit go out together: one Bot API round trip of waiting, not two.
    await asyncio.gather(_answer(query, ack), _show(query, session, fresh, lang))


async def _answer(query: CallbackQuery, text: str | None) -> None:
    # A coroutine: asyncio.gather cannot take aiogram's awaitable method object itself.
    await query.answer(text)


async def _show(
    query: CallbackQuery, session: AsyncSession, rec: recsets.RecSet, lang: str
) -> None:
    """Edit the page's message to the set as it now is (nothing sent when nothing changed)."""
    assert query.message is not None
    body, markup = render(rec, lang, await playlists.name(session, rec.playlist_id))
    # Markup first: it differs after nearly every press and is cheap to compare, while
    # Message.html_text re-renders every entity (~1 ms, ~15% of a toggle in the bot bench).
    if markup != query.message.reply_markup or body != query.message.html_text:
        await query.message.edit_text(body, reply_markup=markup)


async def _add(
    query: CallbackQuery,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    rec: recsets.RecSet,
    lang: str,
    bot: Bot,
) -> bool:
    """Add what is selected; False when nothing was added (nothing left, or Spotify failed)."""
    from core.spotify import SpotifyError
    from handlers.spotify import spotify_error_reply

    track_ids = await recsets.claim_selected_for_add(session, rec)
    if not track_ids:
        already = any(i.added for i in rec.items)
        await query.answer(t("rec_already_added" if already else "rec_add_none", lang))
        return False
    # The claim is durable before Spotify is called: a double tap finds nothing to claim, and
    # no row lock of this update is held while the token store refreshes or marks the owner.
    await session.commit()
    await query.answer()
    try:
        outcome = await delivery.deliver(session, runtime, owner, rec.playlist_id, track_ids)
    except SpotifyError as exc:
        await session.rollback()
        await recsets.unclaim(session, rec.id, track_ids)  # nothing lost: the owner can retry
        await session.commit()
        text_, markup = spotify_error_reply(exc, lang)
        await bot.send_message(query.from_user.id, text_, reply_markup=markup)
        return False
    except Exception:
        await session.rollback()
        await recsets.unclaim(session, rec.id, track_ids)
        await session.commit()
        raise
    await recommend.record_adds(session, owner.id, track_ids)
    runtime.events.log(
        EventKind.rec_added, owner.id, set_id=rec.id, track_ids=track_ids, target=outcome.target
    )
    for doc in outcome.documents:
        await bot.send_document(query.from_user.id, BufferedInputFile(doc.data, doc.filename))
    await bot.send_message(query.from_user.id, outcome.message(lang), disable_web_page_preview=True)
    return True
