"""Admin commands through the real `tys run` process and the fake Bot API: they answer
admins, and for anyone else they do not exist (the same answer as a typo). The bot process
runs the scheduler and a retrain, and never loads torch itself."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from core.texts import t
from tests.botproc import BotProcess, bot_env
from tests.fakes.telegram import FakeTelegram

ADMIN = 8101
OTHER = 8102
UNKNOWN = t("unknown_text", "en")


@pytest.fixture(scope="module")
async def db_url(services) -> AsyncIterator[str]:
    """An empty database of its own: the bot migrates and seeds it, and the retrain here
    changes the serving model of this database only."""
    name = "t_admin_" + uuid.uuid4().hex[:8]
    admin_url = services.database_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f"CREATE DATABASE {name}")
    try:
        yield services.database_url.replace("/tys?", f"/{name}?")
    finally:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.close()


@pytest.fixture(scope="module")
async def bot(
    tg: FakeTelegram, db_url: str, services, data_dir: Path, tmp_path_factory
) -> AsyncIterator[BotProcess]:
    env = bot_env(
        data_dir,
        tg.base_url,
        DATABASE_URL=db_url,
        ADMIN_IDS=str(ADMIN),
        THROTTLE_RATE="1000",
        RETRAIN_TIME_LIMIT_S="15",
        # Whatever the metrics say, this retrain is promoted (the gate has its own tests).
        RETRAIN_GATE_TOLERANCE="1.0",
    )
    proc = BotProcess(env, tmp_path_factory.mktemp("admin") / "bot.log")
    proc.start()
    await proc.wait_ready(timeout=180)
    yield proc
    assert proc.stop() == 0, proc.log()


@pytest.fixture(scope="module")
async def engine(db_url: str, bot: BotProcess) -> AsyncIterator:
    from core.db import make_engine

    eng = make_engine(db_url, pool_size=2)
    yield eng
    await eng.dispose()


def _maps(bot: BotProcess) -> str:
    """The shared libraries mapped into the running bot process."""
    assert bot.proc is not None
    return Path(f"/proc/{bot.proc.pid}/maps").read_text()


async def _reply(tg: FakeTelegram, user: int, command: str, contains: str | None = None) -> dict:
    before = max([m["message_id"] for m in tg.bot_messages(user)], default=0)
    await tg.send_text(user, command)
    return await tg.wait_message(user, contains=contains, newer_than=before, timeout=60)


async def test_admin_commands_do_not_exist_for_others(
    tg: FakeTelegram, bot: BotProcess, engine
) -> None:
    typo = await _reply(tg, OTHER, "/statz")
    assert typo["text"] == UNKNOWN
    for command in ("/stats", "/retrain", "/model", "/health", "/jobs"):
        answer = await _reply(tg, OTHER, command)
        assert answer["text"] == typo["text"], command
        assert answer.get("reply_markup") is None
    # A forged rollback button press is an unknown button, and changes nothing.
    await tg.press(OTHER, typo, "am:1", stale_ok=True)
    await tg.wait_for(
        lambda c: (
            c.method == "answerCallbackQuery" and c.params.get("text") == t("stale_button", "en")
        ),
        timeout=30,
    )
    async with engine.connect() as conn:
        # Only retrain runs: the minutely daypart job may well have run meanwhile.
        runs = (
            await conn.execute(text("SELECT count(*) FROM job_runs WHERE job = 'retrain'"))
        ).scalar()
        versions = (await conn.execute(text("SELECT count(*) FROM model_versions"))).scalar()
    assert runs == 0 and versions == 1  # no retrain started; only the day-one version
    # The public menu has no admin commands; the admin's own chat menu has them.
    commands = tg.commands
    public = {c["command"] for c in commands[("default", "")]}
    admin_menu = {c["command"] for c in commands[(f"chat:{ADMIN}", "")]}
    assert "stats" not in public and "retrain" not in public
    assert {"stats", "retrain", "model", "health", "jobs"} <= admin_menu
    assert (f"chat:{OTHER}", "") not in commands


async def test_stats_health_jobs_for_admin(tg: FakeTelegram, bot: BotProcess) -> None:
    stats = await _reply(tg, ADMIN, "/stats", contains="Owners")
    assert "Onboarding completed" in stats["text"] and "add rate" in stats["text"]
    assert stats["text"].count("\n") > 14  # one row per day for 14 days
    health = await _reply(tg, ADMIN, "/health", contains="Health")
    body = health["text"]
    assert "postgres: up" in body and "redis: up" in body and "telegram: up" in body
    assert "lastfm: not configured" in body
    assert "in this process" in body  # the scheduler runs inside `tys run`
    # The bot process never loaded torch: its own sys.modules, and its memory map.
    assert "torch not loaded" in body
    assert f"pid {bot.proc.pid}" in body
    maps = _maps(bot)
    assert "libssl" in maps or "libc" in maps  # a real map of a running process
    assert "libtorch" not in maps and "torch/lib" not in maps
    jobs = await _reply(tg, ADMIN, "/jobs", contains="Jobs")
    for name in ("retrain", "owner_refresh", "backfill", "housekeeping"):
        assert name in jobs["text"]


async def test_retrain_then_rollback(tg: FakeTelegram, bot: BotProcess, engine) -> None:
    sent_before = len(tg.calls_to("sendMessage"))
    msg = await _reply(tg, ADMIN, "/retrain", contains="Retrain")
    done = await tg.wait_message(ADMIN, contains="Retrain promoted", timeout=300)
    # One message, edited in place from progress to the result.
    assert done["message_id"] == msg["message_id"]
    assert len(tg.calls_to("sendMessage")) == sent_before + 1
    assert "recall@20" in done["text"] and "peak memory" in done["text"]
    async with engine.connect() as conn:
        serving = (
            await conn.execute(text("SELECT id FROM model_versions WHERE status = 'serving'"))
        ).scalar()
        run = (
            await conn.execute(text("SELECT status, trigger FROM job_runs WHERE job = 'retrain'"))
        ).one()
    assert serving == 2 and tuple(run) == ("ok", "manual")
    maps = _maps(bot)
    assert "libtorch" not in maps  # trained in a child process

    model = await _reply(tg, ADMIN, "/model", contains="Model in service")
    assert "version 2" in model["text"]
    buttons = [b for row in model["reply_markup"]["inline_keyboard"] for b in row]
    back = next(b for b in buttons if b["text"] == "↩ Serve version 1")
    await tg.press(ADMIN, model, back["callback_data"])
    await tg.wait_message(ADMIN, contains="Version 1 is serving again", timeout=30)
    async with engine.connect() as conn:
        serving = (
            await conn.execute(text("SELECT id FROM model_versions WHERE status = 'serving'"))
        ).scalar()
    assert serving == 1


def test_retrain_result_is_html_safe() -> None:
    from handlers.admin import render_retrain

    out = render_retrain(
        {
            "status": "rejected",
            "reason": "recall@20 0.2883 < 0.2942 (old 0.3002, tolerance 0.02)",
            "old": {"recall@20": 0.3002},
            "new": {"recall@20": 0.2883},
            "data": {"owners": 1000, "edges": 51062, "holdout": 4215},
            "wall_s": 323.4,
            "train_wall_s": 318.2,
            "child_peak_rss_mb": 420.3,
        },
        "en",
    )
    assert "0.2883 &lt; 0.2942" in out and "< 0.2942" not in out
    assert "recall@20 0.3002 → 0.2883" in out and "peak memory 420 MB" in out
