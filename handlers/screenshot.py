"""Screenshot import in the chat: photo (or image file) in -> rows shown -> remove / fix /
another screenshot -> "Use this playlist" -> recommendations."""

from __future__ import annotations

import html
import io
from datetime import date

from aiogram import Bot, F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import Runtime
from core import delivery, screenshots
from core.events import EventKind
from core.limits import SCREENSHOT_MAX_BYTES
from core.models import Owner
from core.texts import TEXTS, t
from handlers.recommend import show_recommendations

router = Router(name="screenshot")

_DATA = "shot"  # FSM data key holding the import in progress


class Shot(StatesGroup):
    fixing = State()


class ShotCb(CallbackData, prefix="sh"):
    a: str  # rm | fix | more | use
    n: int = 0


def render(imp: screenshots.Import, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    visible = imp.visible
    matched = sum(1 for _, r in visible if r.matched)
    lines = [t("shot_rows", lang, n=len(visible), m=matched), ""]
    for number, row in visible:
        if row.matched:
            name = f"{row.match_title} — {row.match_artist}"
            lines.append(f"✅ {number}. {html.escape(name)}")
        else:
            shown = row.title + ("…" if row.truncated else "")
            name = f"{shown} — {row.artist}" if row.artist else shown
            lines.append(f"❔ {number}. {html.escape(name)} <i>({t('shot_not_found', lang)})</i>")
    lines += ["", t("shot_help", lang)]
    kb = InlineKeyboardBuilder()
    for number, _ in visible:
        kb.button(text=f"✖ {number}", callback_data=ShotCb(a="rm", n=number))
    kb.button(text=t("shot_btn_fix", lang), callback_data=ShotCb(a="fix"))
    kb.button(text=t("shot_btn_more", lang), callback_data=ShotCb(a="more"))
    kb.button(text=t("shot_btn_use", lang), callback_data=ShotCb(a="use"))
    kb.adjust(
        *([5] * (len(visible) // 5)), *([len(visible) % 5] if len(visible) % 5 else []), 1, 1, 1
    )
    return "\n".join(lines), kb.as_markup()


def _error_text(key: str, lang: str) -> str:
    return t(key if key in TEXTS else "ocr_failed", lang)


async def _image_bytes(message: Message, bot: Bot) -> tuple[bytes | None, str | None]:
    """The largest photo size, or an image document; (None, error key) when refused early."""
    if message.photo:
        item = message.photo[-1]
    elif message.document is not None:
        item = message.document
    else:
        return None, "ocr_unsupported_format"
    if item.file_size and item.file_size > SCREENSHOT_MAX_BYTES:
        return None, "ocr_too_large"
    buf = io.BytesIO()
    await bot.download(item, destination=buf)
    return buf.getvalue(), None


@router.message(F.photo | F.document)
async def on_screenshot(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    lang: str,
) -> None:
    data, error = await _image_bytes(message, bot)
    if error is not None or data is None:
        await message.answer(t(error or "ocr_unsupported_format", lang))
        return
    progress = await message.answer(t("shot_reading", lang))
    from core.ocr.base import OcrError
    from core.ocr.pipeline import read_screenshot

    try:
        result = await read_screenshot(data, settings=runtime.settings)
    except OcrError as exc:
        await progress.edit_text(_error_text(exc.key, lang))
        return
    rows = await screenshots.match_rows(session, result.rows)
    if not rows:
        await progress.edit_text(t("ocr_not_playlist", lang))
        return
    stored = await state.get_data()
    imp = screenshots.Import.from_json(stored.get(_DATA))
    screenshots.merge(imp, rows)
    await state.update_data({_DATA: imp.to_json()})
    body, markup = render(imp, lang)
    await progress.edit_text(body, reply_markup=markup)


async def _load(state: FSMContext) -> screenshots.Import | None:
    stored = (await state.get_data()).get(_DATA)
    return screenshots.Import.from_json(stored) if stored else None


@router.callback_query(ShotCb.filter())
async def on_shot_button(
    query: CallbackQuery,
    callback_data: ShotCb,
    state: FSMContext,
    session: AsyncSession,
    runtime: Runtime,
    owner: Owner,
    lang: str,
    bot: Bot,
) -> None:
    imp = await _load(state)
    if imp is None or query.message is None:
        await query.answer(t("stale_button", lang))
        return
    action = callback_data.a
    if action == "rm":
        await query.answer()
        if screenshots.remove(imp, callback_data.n):
            await state.update_data({_DATA: imp.to_json()})
            body, markup = render(imp, lang)
            await query.message.edit_text(body, reply_markup=markup)
        return
    if action == "fix":
        await query.answer()
        await state.set_state(Shot.fixing)
        await query.message.answer(t("shot_fix_prompt", lang))
        return
    if action == "more":
        await query.answer()
        await query.message.answer(t("shot_more_hint", lang))
        return
    if action != "use":
        await query.answer(t("stale_button", lang))
        return
    if not imp.kept_tracks:
        await query.answer(t("shot_nothing_matched", lang), show_alert=True)
        return
    await query.answer()
    name = t("shot_playlist_name", lang, date=date.today().isoformat())
    playlist_id = await screenshots.save_playlist(session, owner.id, imp, name)
    runtime.events.log(
        EventKind.ocr_import, owner.id, playlist_id=playlist_id, **screenshots.summary(imp)
    )
    await state.update_data({_DATA: None})
    await state.set_state(None)
    await delivery.choose_playlist(runtime.redis, owner.id, playlist_id)
    await query.message.edit_reply_markup(reply_markup=None)
    await show_recommendations(
        bot, query.from_user.id, session, runtime, owner, state, lang, playlist_id
    )


@router.message(Shot.fixing, F.text, ~F.text.startswith("/"))
async def on_fix_text(
    message: Message, state: FSMContext, session: AsyncSession, lang: str, bot: Bot
) -> None:
    imp = await _load(state)
    if imp is None:
        await state.set_state(None)
        await message.answer(t("stale_button", lang))
        return
    try:
        number, title, artist = screenshots.parse_fix(message.text or "", imp)
    except screenshots.FixError as exc:
        await message.answer(t(exc.key, lang))  # still in fixing state: they can type again
        return
    await screenshots.apply_fix(session, imp, number, title, artist)
    await state.update_data({_DATA: imp.to_json()})
    await state.set_state(None)
    body, markup = render(imp, lang)
    await message.answer(t("shot_fixed", lang, n=number))
    await message.answer(body, reply_markup=markup)
