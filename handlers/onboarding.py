"""Onboarding (/retune, and after /start for a new owner): mood tags, then 10 song pairs.

Everything happens in one message that is edited in place; progress lives in Redis (FSM), so
an owner who leaves mid-way continues where they stopped.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from core import recommend
from core.catalog.tags import vocabulary
from core.events import EventKind
from core.limits import ONBOARDING_PAIRS
from core.models import Owner
from core.texts import t

router = Router(name="onboarding")


class Onboarding(StatesGroup):
    tags = State()
    pairs = State()


class TagCb(CallbackData, prefix="ot"):
    key: str  # a tag key, or "" for Next


class PairCb(CallbackData, prefix="op"):
    step: int
    side: int


class NextStepCb(CallbackData, prefix="nx"):
    action: str  # rec | shot | spotify


def tag_keyboard(selected: set[str], lang: str) -> InlineKeyboardMarkup:
    # Rows built directly (three tags a row, then Next): KeyboardBuilder deep-copies the
    # markup on every added button, ~13% of the bot's CPU while owners pick tags
    # (`python -m tests.bench_bot` profile).
    buttons = [
        InlineKeyboardButton(
            text=("✅ " if tag.key in selected else "") + tag.label(lang),
            callback_data=TagCb(key=tag.key).pack(),
        )
        for tag in vocabulary().values()
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    next_button = InlineKeyboardButton(text=t("onb_next", lang), callback_data=TagCb(key="").pack())
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [next_button]])


def pair_text(step: int, lang: str) -> str:
    return t("onb_pair", lang, n=step + 1, total=ONBOARDING_PAIRS)


def pair_keyboard(step: int, pair: list[dict]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for side, card in enumerate(pair):
        label = f"{card['title']} — {card['artist']}"
        kb.button(text=label[:60], callback_data=PairCb(step=step, side=side))
    kb.adjust(1)
    return kb.as_markup()


def next_keyboard(lang: str, linked: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=t("btn_recommend_now", lang), callback_data=NextStepCb(action="rec"))
    kb.button(text=t("btn_screenshot", lang), callback_data=NextStepCb(action="shot"))
    if linked:
        kb.button(text=t("btn_spotify_playlists", lang), callback_data=NextStepCb(action="spotify"))
    kb.adjust(1)
    return kb.as_markup()


async def begin(bot: Bot, chat_id: int, state: FSMContext, lang: str) -> None:
    """Send the tag keyboard (a new message) and remember it."""
    msg = await bot.send_message(
        chat_id, t("onb_tags", lang), reply_markup=tag_keyboard(set(), lang)
    )
    await state.set_state(Onboarding.tags)
    await state.set_data({"tags": [], "msg": msg.message_id})


@router.message(Command("retune"))
async def cmd_retune(message: Message, state: FSMContext, lang: str, bot: Bot) -> None:
    await begin(bot, message.chat.id, state, lang)


@router.callback_query(TagCb.filter())
async def on_tag(
    query: CallbackQuery,
    callback_data: TagCb,
    state: FSMContext,
    session: AsyncSession,
    runtime: Runtime,
    lang: str,
) -> None:
    data = await state.get_data()
    if await state.get_state() != Onboarding.tags.state or query.message is None:
        await query.answer(t("stale_button", lang))
        return
    selected = set(data.get("tags", []))
    if callback_data.key:
        if callback_data.key not in vocabulary():
            await query.answer(t("stale_button", lang))
            return
        selected ^= {callback_data.key}
        await state.update_data(tags=sorted(selected))
        await query.answer()
        await query.message.edit_reply_markup(reply_markup=tag_keyboard(selected, lang))
        return
    if not selected:
        await query.answer(t("onb_need_tag", lang), show_alert=True)
        return
    candidates = await recommend.onboarding_candidates(session, runtime.redis, sorted(selected))
    pairs = recommend.pairs_from(candidates)
    if len(pairs) < ONBOARDING_PAIRS:
        await query.answer(t("onb_no_tracks", lang), show_alert=True)
        return
    plain = [[{"id": c.id, "title": c.title, "artist": c.artist} for c in p] for p in pairs]
    await state.set_state(Onboarding.pairs)
    await state.update_data(pairs=plain[:ONBOARDING_PAIRS], step=0, picks=[])
    await query.answer()
    await query.message.edit_text(pair_text(0, lang), reply_markup=pair_keyboard(0, plain[0]))


@router.callback_query(PairCb.filter())
async def on_pick(
    query: CallbackQuery,
    callback_data: PairCb,
    state: FSMContext,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    lang: str,
) -> None:
    data = await state.get_data()
    step = data.get("step")
    # A double tap or an old message's button: the step no longer matches, nothing happens.
    if await state.get_state() != Onboarding.pairs.state or step != callback_data.step:
        await query.answer(t("stale_button", lang))
        return
    if query.message is None or callback_data.side not in (0, 1):
        await query.answer(t("stale_button", lang))
        return
    pair = data["pairs"][step]
    chosen = pair[callback_data.side]
    picks = [*data["picks"], chosen["id"]]
    runtime.events.log(
        EventKind.onboarding_pick,
        owner.id,
        track_id=chosen["id"],
        other_id=pair[1 - callback_data.side]["id"],
        step=step,
        tags=data.get("tags", []),
    )
    await query.answer()
    step += 1
    if step < len(data["pairs"]):
        await state.update_data(step=step, picks=picks)
        nxt = data["pairs"][step]
        await query.message.edit_text(pair_text(step, lang), reply_markup=pair_keyboard(step, nxt))
        return
    await recommend.record_picks(session, owner.id, picks, data.get("tags", []))
    await state.clear()
    await query.message.edit_text(
        t("onb_done", lang), reply_markup=next_keyboard(lang, owner.spotify_state == "linked")
    )


@router.message(Onboarding.tags, F.text, ~F.text.startswith("/"))
@router.message(Onboarding.pairs, F.text, ~F.text.startswith("/"))
async def on_text_during_onboarding(message: Message, lang: str) -> None:
    await message.answer(t("onb_text_instead_of_button", lang))
