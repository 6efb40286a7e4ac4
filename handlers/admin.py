"""Admin commands: /stats, /retrain, /model (+ rollback), /health, /jobs.

Only for Telegram ids in ADMIN_IDS. For anyone else the router's filter fails, so the update
goes on to the other routers and ends at the fallback's "unknown" answer, exactly like a typo:
these commands do not exist for them and nothing reveals them.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import os
import sys
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from core import stats as stats_service
from core.embeddings import serving_version
from core.texts import MENU_COMMANDS, t

log = logging.getLogger(__name__)
router = Router(name="admin")

ADMIN_COMMANDS = ("stats", "retrain", "model", "health", "jobs")
# Telegram allows about one edit per second per chat; progress edits are spaced wider.
PROGRESS_EDIT_EVERY_S = 3.0
_tasks: set[asyncio.Task[Any]] = set()


class IsAdmin(Filter):
    async def __call__(self, event: TelegramObject, runtime: Any) -> bool:
        user = getattr(event, "from_user", None)
        return user is not None and user.id in runtime.settings.admin_ids


router.message.filter(IsAdmin())
router.callback_query.filter(IsAdmin())


class ModelCb(CallbackData, prefix="am"):
    v: int


async def set_admin_commands(bot: Bot, admin_ids: list[int], lang: str) -> None:
    """The admin commands in the menu of admins' own chats only (public menu unchanged)."""
    commands = [BotCommand(command=c, description=t(f"cmd_{c}", lang)) for c in MENU_COMMANDS]
    commands += [BotCommand(command=c, description=t(f"cmd_{c}", lang)) for c in ADMIN_COMMANDS]
    for admin in admin_ids:
        # An admin who never opened the chat cannot get a chat scope yet: not an error.
        with contextlib.suppress(Exception):
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=admin))


def _local(value: datetime | None, tz: str) -> str:
    return "-" if value is None else f"{value.astimezone(ZoneInfo(tz)):%m-%d %H:%M}"


def _num(d: dict[str, Any], key: str) -> str:
    value = d.get(key)
    return "-" if value is None else f"{float(value):.4f}"


# --- /stats ------------------------------------------------------------------------------


@router.message(Command("stats"))
async def cmd_stats(message: Message, session: AsyncSession, runtime: Any, lang: str) -> None:
    s = await stats_service.compute(session, runtime.events, runtime.settings.scheduler_timezone)
    await message.answer(render_stats(s, lang))


def render_stats(s: stats_service.Stats, lang: str) -> str:
    body = t(
        "adm_stats",
        lang,
        owners=s.owners,
        new_7d=s.new_7d,
        active_7d=s.active_7d,
        onboarded=s.onboarded,
        onb_rate=f"{s.onboarding_rate:.0%}",
        linked=s.spotify_linked,
        imports=s.screenshot_imports,
        shown=s.shown,
        added=s.added,
        add_rate=f"{s.add_rate:.1%}",
        vetoed=s.vetoed,
        table=stats_service.day_table(s, t("adm_stats_header", lang)),
    )
    return body if s.events_ok else f"{body}\n{t('adm_stats_events_down', lang)}"


# --- /retrain ----------------------------------------------------------------------------


@router.message(Command("retrain"))
async def cmd_retrain(message: Message, runtime: Any, lang: str) -> None:
    status = await message.answer(
        t("adm_retrain_progress", lang, phase="start", detail="", elapsed=0)
    )
    task = asyncio.create_task(_retrain(runtime, status, lang), name="admin-retrain")
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _retrain(runtime: Any, status: Message, lang: str) -> None:
    from core.training import Progress
    from scheduler.jobs import job_retrain, run_recorded

    last_edit = 0.0
    last_text = ""

    async def edit(text_: str, force: bool = False) -> None:
        nonlocal last_edit, last_text
        now = time.monotonic()
        if text_ == last_text or (not force and now - last_edit < PROGRESS_EDIT_EVERY_S):
            return
        last_edit, last_text = now, text_
        with contextlib.suppress(TelegramBadRequest):
            await status.edit_text(text_)

    async def progress(p: Progress) -> None:
        if p.phase != "done":
            await edit(
                t(
                    "adm_retrain_progress",
                    lang,
                    phase=p.phase,
                    detail=_html(p.detail),
                    elapsed=f"{p.elapsed_s:.0f}",
                )
            )

    outcome = await run_recorded(
        runtime.engine,
        "retrain",
        lambda: job_retrain(runtime, progress=progress),
        trigger="manual",
    )
    if outcome.status == "locked":
        await edit(t("adm_retrain_busy", lang), force=True)
    elif outcome.status == "ok":
        await edit(render_retrain(outcome.result, lang), force=True)
    else:
        await edit(t("adm_retrain_error", lang, error=_html(outcome.error or "")), force=True)


def render_retrain(r: dict[str, Any], lang: str) -> str:
    old, new, data = r.get("old") or {}, r.get("new") or {}, r.get("data") or {}
    return t(
        "adm_retrain_done",
        lang,
        status=r.get("status"),
        reason=_html(str(r.get("reason"))),
        version=r.get("version_id"),
        old_version=r.get("old_version"),
        old_recall=_num(old, "recall@20"),
        new_recall=_num(new, "recall@20"),
        old_ndcg=_num(old, "ndcg@20"),
        new_ndcg=_num(new, "ndcg@20"),
        owners=data.get("owners", 0),
        edges=data.get("edges", 0),
        holdout=data.get("holdout", 0),
        wall=f"{r.get('wall_s', 0):.0f}",
        train=f"{r.get('train_wall_s', 0):.0f}",
        rss=f"{r.get('child_peak_rss_mb', 0):.0f}",
    )


# --- /model ------------------------------------------------------------------------------


async def model_view(session: AsyncSession, tz: str, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    from core.training import list_versions

    current = await serving_version(session)
    versions = await list_versions(session)
    kb = InlineKeyboardBuilder()
    if current is None:
        text_ = t("adm_model_none", lang)
    else:
        metrics = current.metrics or {}
        text_ = t(
            "adm_model",
            lang,
            id=current.id,
            kind=(current.params or {}).get("kind", "?"),
            trained_at=_local(current.trained_at, tz),
            promoted_at=_local(current.promoted_at, tz),
            n_users=current.n_users,
            n_items=current.n_items,
            n_interactions=current.n_interactions,
            recall=_num(metrics, "recall@20"),
            ndcg=_num(metrics, "ndcg@20"),
            note=_html(current.note or ""),
        )
    earlier = [v for v in versions if current is None or v["id"] != current.id]
    if earlier:
        lines = [t("adm_model_versions", lang)]
        for v in earlier:
            lines.append(
                f"{v['id']} {v['status']} {_local(v['trained_at'], tz)} "
                f"r@20 {v['recall']} {_html((v['note'] or '')[:80])}"
            )
            if v["kept"]:
                kb.button(text=t("btn_rollback", lang, v=v["id"]), callback_data=ModelCb(v=v["id"]))
        text_ += "\n\n" + "\n".join(lines)
    kb.adjust(2)
    return text_, kb.as_markup()


@router.message(Command("model"))
async def cmd_model(message: Message, session: AsyncSession, runtime: Any, lang: str) -> None:
    text_, kb = await model_view(session, runtime.settings.scheduler_timezone, lang)
    await message.answer(text_, reply_markup=kb)


@router.callback_query(ModelCb.filter())
async def on_rollback(
    query: CallbackQuery, callback_data: ModelCb, session: AsyncSession, runtime: Any, lang: str
) -> None:
    from core.training import TrainingError, rollback

    try:
        v = await rollback(session, callback_data.v)
        await session.commit()
        note = t("adm_rollback_done", lang, v=v)
    except TrainingError as exc:
        await session.rollback()
        note = t("adm_rollback_failed", lang, error=_html(str(exc)))
    await query.answer(note[:200])
    if query.message is not None:
        text_, kb = await model_view(session, runtime.settings.scheduler_timezone, lang)
        with contextlib.suppress(TelegramBadRequest):
            await query.message.edit_text(f"{note}\n\n{text_}", reply_markup=kb)


# --- /health and /jobs -------------------------------------------------------------------


async def _probe(url: str) -> str:
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            resp = await client.get(url)
        ms = (time.perf_counter() - started) * 1000
        # Any answer below 500 means the service is there (without credentials it says 4xx).
        return f"up {ms:.0f} ms" if resp.status_code < 500 else f"down (HTTP {resp.status_code})"
    except Exception as exc:
        return f"down ({type(exc).__name__})"


async def external_checks(runtime: Any, bot: Bot) -> dict[str, str]:
    s = runtime.settings
    out: dict[str, str] = {}

    async def telegram() -> str:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(bot.get_me(), 3.0)
            return f"up {(time.perf_counter() - started) * 1000:.0f} ms"
        except Exception as exc:
            return f"down ({type(exc).__name__})"

    names = ["telegram", "spotify", "lastfm", "upstage"]
    probes = [
        telegram(),
        _probe(s.spotify_api_base) if s.spotify_client_id else _const("not configured"),
        _probe(s.lastfm_api_base) if s.lastfm_api_key else _const("not configured"),
        _probe(s.upstage_api_base) if s.upstage_api_key else _const("not configured"),
    ]
    for name, result in zip(names, await asyncio.gather(*probes), strict=True):
        out[name] = result
    return out


async def _const(value: str) -> str:
    return value


async def jobs_lines(runtime: Any) -> tuple[str, list[str]]:
    from scheduler.jobs import last_runs
    from scheduler.lock import is_locked
    from scheduler.runner import next_fire_times, schedules

    s = runtime.settings
    tz = s.scheduler_timezone
    if runtime.scheduler is not None:
        where, nxt = "in this process", runtime.scheduler.next_run_times()
    else:
        where, nxt = "not in this process; by schedule", next_fire_times(s)
    history = await last_runs(runtime.engine)
    lines = []
    for name, expr in schedules(s).items():
        last = history.get(name)
        running = await is_locked(runtime.engine, name)
        if last is None:
            last_txt = "never ran"
        else:
            dur = last["duration_s"]
            last_txt = (
                f"last {last['status']} {_local(last['started_at'], tz)}"
                f" ({last['trigger']}{'' if dur is None else f', {dur:.1f} s'})"
            )
            if last["error"]:
                last_txt += f" — {_html(last['error'][:120])}"
        lines.append(
            f"• <b>{name}</b> [{expr}] next {_local(nxt.get(name), tz)}; {last_txt}"
            + (" — running now" if running else "")
        )
    return where, lines


def _html(value: str) -> str:
    # Notes and errors carry "<" (e.g. "recall@20 0.28 < 0.29"): escape for parse_mode HTML.
    return html.escape(value, quote=False)


@router.message(Command("health"))
async def cmd_health(message: Message, bot: Bot, runtime: Any, lang: str) -> None:
    from bot.web import check_stores

    stores, apis, (where, jobs) = await asyncio.gather(
        check_stores(runtime), external_checks(runtime, bot), jobs_lines(runtime)
    )
    store_lines = [
        f"• {name}: " + (f"up {c['ms']} ms" if c["up"] else f"down ({c.get('error')})")
        for name, c in stores.items()
    ]
    api_lines = [f"• {name}: {_html(v)}" for name, v in apis.items()]
    await message.answer(
        t(
            "adm_health",
            lang,
            stores="\n".join(store_lines),
            apis="\n".join(api_lines),
            where=where,
            jobs="\n".join(jobs),
            pid=os.getpid(),
            # Honest, from the running process: the bot must never have imported torch.
            torch="loaded" if "torch" in sys.modules else "not loaded",
        )
    )


@router.message(Command("jobs"))
async def cmd_jobs(message: Message, runtime: Any, lang: str) -> None:
    where, jobs = await jobs_lines(runtime)
    await message.answer(t("adm_jobs", lang, where=where, jobs="\n".join(jobs)))
