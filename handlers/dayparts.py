"""/dayparts: opening hours and up to four dayparts (start + mood), all by buttons; one
message edited in place. Pause / resume, also from a push message. Rules: core/dayparts.py."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from core import dayparts as dp
from core.catalog.tags import vocabulary
from core.limits import DAYPARTS_MAX
from core.models import Owner
from core.texts import t

router = Router(name="dayparts")

MOOD_KEYS = list(dp.MOODS)
PRESET_KEYS = list(dp.PRESETS)
CIRCLED = "①②③④"


class DpCb(CallbackData, prefix="dp"):
    a: str  # action, see on_button
    i: int = 0  # slot / mood index / preset index / opening hour
    v: int = 0  # hour / mood index


def _tags(tags: tuple[str, ...] | list[str], lang: str) -> str:
    vocab = vocabulary()
    return " · ".join(vocab[k].label(lang) for k in tags if k in vocab)


def home(schedule: dp.Schedule | None, owner: Owner, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    lines = [t("dp_title", lang), t("dp_intro", lang), ""]
    kb = InlineKeyboardBuilder()
    widths: list[int] = []
    if schedule is None:
        lines.append(t("dp_empty", lang))
    else:
        lines.append(
            t(
                "dp_hours",
                lang,
                open=dp.hhmm(schedule.open),
                close=dp.hhmm(schedule.close),
                tz=owner.timezone,
            )
        )
        ordered = schedule.ordered()
        if not ordered:
            lines.append(t("dp_no_parts", lang))
        for n, part in enumerate(ordered):
            mood = t(f"mood_{part.mood}", lang)
            lines.append(
                f"{CIRCLED[n]} <b>{dp.hhmm(part.start)}</b> {mood} — {_tags(part.tags, lang)}"
            )
            kb.button(
                text=f"{CIRCLED[n]} {dp.hhmm(part.start)} {mood}",
                callback_data=DpCb(a="part", i=part.slot),
            )
            widths.append(1)
        lines += ["", t("dp_status_paused" if schedule.paused else "dp_status_on", lang)]
        if len(schedule.parts) < DAYPARTS_MAX:
            kb.button(text=t("dp_btn_add", lang), callback_data=DpCb(a="add"))
            widths.append(1)
    kb.button(text=t("dp_btn_presets", lang), callback_data=DpCb(a="presets"))
    kb.button(text=t("dp_btn_hours", lang), callback_data=DpCb(a="hours"))
    widths.append(2)
    if schedule is not None:
        paused = schedule.paused
        kb.button(
            text=t("dp_btn_resume" if paused else "dp_btn_pause", lang),
            callback_data=DpCb(a="resume" if paused else "pause"),
        )
        widths.append(1)
    kb.adjust(*widths)
    return "\n".join(lines), kb.as_markup()


def hour_grid(
    hours: list[int], make: DpCb, lang: str, back: DpCb | None = None
) -> InlineKeyboardMarkup:
    """Hour buttons, six a row; `make` is copied with v=<hour>."""
    kb = InlineKeyboardBuilder()
    for h in hours:
        kb.button(text=f"{h:02d}:00", callback_data=make.model_copy(update={"v": h}))
    kb.adjust(6)
    back_cb = (back or DpCb(a="home")).pack()
    kb.row(InlineKeyboardButton(text=t("dp_btn_back", lang), callback_data=back_cb))
    return kb.as_markup()


def hours_within(schedule: dp.Schedule) -> list[int]:
    """Full hours inside opening hours, from opening time on (also across midnight)."""
    return [
        h
        for h in ((schedule.open // 60 + k) % 24 for k in range(24))
        if schedule.offset(h * 60) < schedule.span
    ]


def mood_picker(action: str, slot: int, lang: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for n, key in enumerate(MOOD_KEYS):
        kb.button(
            text=f"{t(f'mood_{key}', lang)} · {_tags(dp.MOODS[key][:2], lang)}",
            callback_data=DpCb(a=action, i=slot, v=n),
        )
    kb.button(text=t("dp_btn_back", lang), callback_data=DpCb(a="home"))
    kb.adjust(1)
    return kb.as_markup()


@router.message(Command("dayparts"))
async def cmd_dayparts(message: Message, session: AsyncSession, owner: Owner, lang: str) -> None:
    body, markup = home(await dp.load(session, owner.id), owner, lang)
    await message.answer(body, reply_markup=markup)


async def _show(query: CallbackQuery, body: str, markup: InlineKeyboardMarkup) -> None:
    msg = query.message
    if msg is None or not isinstance(msg, Message):
        return
    if body != msg.html_text or markup != msg.reply_markup:
        await msg.edit_text(body, reply_markup=markup)


@router.callback_query(DpCb.filter())
async def on_button(
    query: CallbackQuery, callback_data: DpCb, session: AsyncSession, owner: Owner, lang: str
) -> None:
    a, i, v = callback_data.a, callback_data.i, callback_data.v
    schedule = await dp.load(session, owner.id)
    try:
        # Screens (nothing saved yet).
        if a == "presets":
            kb = InlineKeyboardBuilder()
            for n, key in enumerate(PRESET_KEYS):
                kb.button(text=t(f"preset_{key}", lang), callback_data=DpCb(a="pp", i=n))
            kb.button(text=t("dp_btn_back", lang), callback_data=DpCb(a="home"))
            kb.adjust(2, 2, 1)
            await query.answer()
            await _show(query, t("dp_pick_preset", lang), kb.as_markup())
            return
        if a == "hours":
            await query.answer()
            await _show(
                query, t("dp_pick_open", lang), hour_grid(list(range(24)), DpCb(a="ho"), lang)
            )
            return
        if a == "ho":
            close_hours = [(v + k) % 24 for k in range(1, 24)]
            await query.answer()
            await _show(
                query,
                t("dp_pick_close", lang, open=dp.hhmm(v * 60)),
                hour_grid(close_hours, DpCb(a="hc", i=v), lang, back=DpCb(a="hours")),
            )
            return
        if a == "add":
            if schedule is None:
                raise dp.DaypartError("dp_err_no_hours")
            if len(schedule.parts) >= DAYPARTS_MAX:
                raise dp.DaypartError("dp_err_too_many", n=DAYPARTS_MAX)
            await query.answer()
            await _show(query, t("dp_pick_mood", lang), mood_picker("am", 0, lang))
            return
        if a in ("am", "pt"):
            if schedule is None:
                raise dp.DaypartError("dp_err_no_hours")
            # am: new daypart with mood v; pt: new time for the daypart in slot i.
            if a == "am":
                if not 0 <= v < len(MOOD_KEYS):
                    raise dp.DaypartError("dp_err_tags")
                mood, make = MOOD_KEYS[v], DpCb(a="as", i=v)
            else:
                part = next((p for p in schedule.parts if p.slot == i), None)
                if part is None:
                    raise dp.DaypartError("dp_err_unknown")
                mood, make = part.mood, DpCb(a="ps", i=i)
            text = t(
                "dp_pick_start",
                lang,
                mood=t(f"mood_{mood}", lang),
                open=dp.hhmm(schedule.open),
                close=dp.hhmm(schedule.close),
            )
            await query.answer()
            await _show(query, text, hour_grid(hours_within(schedule), make, lang))
            return
        if a == "part":
            part = next((p for p in (schedule.parts if schedule else ()) if p.slot == i), None)
            if part is None:
                raise dp.DaypartError("dp_err_unknown")
            kb = InlineKeyboardBuilder()
            kb.button(text=t("dp_btn_time", lang), callback_data=DpCb(a="pt", i=i))
            kb.button(text=t("dp_btn_mood", lang), callback_data=DpCb(a="pm", i=i))
            kb.button(text=t("dp_btn_delete", lang), callback_data=DpCb(a="del", i=i))
            kb.button(text=t("dp_btn_back", lang), callback_data=DpCb(a="home"))
            kb.adjust(2, 1, 1)
            body = t(
                "dp_part_menu",
                lang,
                time=dp.hhmm(part.start),
                mood=t(f"mood_{part.mood}", lang),
                tags=_tags(part.tags, lang),
            )
            await query.answer()
            await _show(query, body, kb.as_markup())
            return
        if a == "pm":
            await query.answer()
            await _show(query, t("dp_pick_mood", lang), mood_picker("pmm", i, lang))
            return
        # Changes: validated and saved by core.dayparts; a refusal leaves the screen as it is.
        note = "dp_saved"
        if a == "pp":
            if not 0 <= i < len(PRESET_KEYS):
                raise dp.DaypartError("dp_err_unknown")
            schedule = await dp.apply_preset(session, owner.id, PRESET_KEYS[i])
        elif a == "hc":
            schedule = await dp.set_hours(session, owner.id, (i % 24) * 60, (v % 24) * 60)
        elif a == "as":
            if not 0 <= i < len(MOOD_KEYS):
                raise dp.DaypartError("dp_err_tags")
            schedule = await dp.add_part(session, owner.id, v * 60, MOOD_KEYS[i])
        elif a == "ps":
            schedule = await dp.edit_part(session, owner.id, i, start=v * 60)
        elif a == "pmm":
            if not 0 <= v < len(MOOD_KEYS):
                raise dp.DaypartError("dp_err_tags")
            schedule = await dp.edit_part(session, owner.id, i, mood=MOOD_KEYS[v])
        elif a == "del":
            schedule = await dp.delete_part(session, owner.id, i)
        elif a in ("pause", "resume", "pz"):
            schedule = await dp.set_paused(session, owner.id, a != "resume")
            note = "dp_resumed" if a == "resume" else "dp_paused"
        elif a != "home":
            await query.answer(t("stale_button", lang))
            return
    except dp.DaypartError as exc:
        await session.rollback()
        await query.answer(t(exc.key, lang, **exc.params), show_alert=True)
        return
    if a == "pz":
        # Pressed under a push: the songs stay in that message; the alert says how to resume.
        await query.answer(t(note, lang), show_alert=True)
        return
    await query.answer(None if a == "home" else t(note, lang))
    body, markup = home(schedule, owner, lang)
    await _show(query, body, markup)
