"""End to end: the real `tys run` process against the fake Bot API and the embedded stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.botproc import BotProcess, bot_env
from tests.fakes.telegram import FakeTelegram, buttons

OWNER = 5001


@pytest.fixture(scope="module")
async def bot(
    tg: FakeTelegram, services, data_dir: Path, tmp_path_factory
) -> AsyncIterator[BotProcess]:
    proc = BotProcess(bot_env(data_dir, tg.base_url), tmp_path_factory.mktemp("log") / "bot.log")
    proc.start()
    await proc.wait_ready()
    yield proc
    assert proc.stop() == 0, proc.log()


async def test_start_shows_welcome_with_buttons(tg: FakeTelegram, bot: BotProcess) -> None:
    loop = asyncio.get_running_loop()
    sent_at = loop.time()
    await tg.send_text(OWNER, "/start", language_code="en", first_name="Mina")
    msg = await tg.wait_message(OWNER, contains="Tune Your Shop", timeout=10)
    assert loop.time() - sent_at < 2.0  # answers /start within 2 s of the update
    labels = [b["text"] for b in buttons(msg)]
    assert any("Spotify" in label for label in labels)
    assert any("without" in label.lower() for label in labels)


async def test_button_press_edits_the_message(tg: FakeTelegram, bot: BotProcess) -> None:
    welcome = await tg.wait_message(OWNER, contains="Tune Your Shop")
    nolink = next(b for b in buttons(welcome) if "without" in b["text"].lower())
    await tg.press(OWNER, welcome, nolink["callback_data"])
    await tg.wait_for(lambda c: c.method == "editMessageText", timeout=10)
    edited = tg.bot_messages(OWNER)[-1]
    assert edited["message_id"] == welcome["message_id"]
    assert "screenshot" in edited["text"]
    assert tg.answered_callbacks  # the spinner on the owner's phone stops


async def test_lang_switches_language(tg: FakeTelegram, bot: BotProcess) -> None:
    await tg.send_text(OWNER, "/lang")
    chooser = await tg.wait_message(OWNER, contains="language", timeout=10)
    korean = next(b for b in buttons(chooser) if b["text"].endswith("한국어"))
    await tg.press(OWNER, chooser, korean["callback_data"])
    await tg.wait_message(OWNER, contains="한국어로", timeout=10)
    await tg.send_text(OWNER, "/help")
    help_msg = await tg.wait_message(OWNER, contains="사용 방법", timeout=10)
    nxt = buttons(help_msg)[0]
    await tg.press(OWNER, help_msg, nxt["callback_data"])
    await tg.wait_message(OWNER, contains="허가되지 않아요", timeout=10)


async def test_language_follows_telegram_for_a_new_owner(tg: FakeTelegram, bot: BotProcess) -> None:
    await tg.send_text(5002, "/start", language_code="ko-KR")
    msg = await tg.wait_message(5002, contains="Tune Your Shop", timeout=10)
    assert "매장" in msg["text"]


async def test_menu_commands_set_per_language(tg: FakeTelegram, bot: BotProcess) -> None:
    ko = tg.commands[("default", "ko")]
    en = tg.commands[("default", "en")]
    assert [c["command"] for c in ko] == [c["command"] for c in en]
    assert ko[0]["description"] != en[0]["description"]
    assert ("default", "") in tg.commands


async def test_same_update_twice_is_processed_once(tg: FakeTelegram, bot: BotProcess) -> None:
    update = await tg.send_text(5003, "/start")
    await tg.wait_message(5003, contains="Tune Your Shop", timeout=10)
    await tg.redeliver(update)
    await tg.send_text(5003, "/help")  # a later update proves the redelivery was consumed
    await tg.wait_message(5003, contains="How it works", timeout=10)
    welcomes = [m for m in tg.chat_history(5003) if "Tune Your Shop" in (m.get("text") or "")]
    assert len(welcomes) == 1


async def test_unknown_text_and_stale_button_get_a_clear_answer(
    tg: FakeTelegram, bot: BotProcess
) -> None:
    await tg.send_text(5004, "play something nice")
    await tg.wait_message(5004, contains="/help", timeout=10)
    update = await tg.push_update(
        "callback_query",
        {
            "id": "cq-stale-1",
            "from": {"id": 5004, "is_bot": False, "first_name": "U"},
            "chat_instance": "1",
            "data": "zz:tampered",
        },
    )
    assert update["update_id"]
    call = await tg.wait_for(
        lambda c: (
            c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == "cq-stale-1"
        ),
        timeout=10,
    )
    assert "older message" in call.params.get("text", "")


async def test_healthz_and_metrics(tg: FakeTelegram, bot: BotProcess) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{bot.web_base}/healthz") as resp:
            body = await resp.json()
            assert resp.status == 200, body
            assert {k for k, v in body["checks"].items() if v["up"]} == {
                "postgres",
                "redis",
                "mongo",
            }
        async with http.get(f"{bot.web_base}/metrics") as resp:
            text = await resp.text()
            assert 'tys_updates_total{type="message"}' in text
            assert "tys_handler_seconds_bucket" in text


async def test_owner_persisted_in_postgres(tg: FakeTelegram, bot: BotProcess, engine) -> None:
    from sqlalchemy import text

    async with engine.connect() as conn:
        lang = (
            await conn.execute(text("SELECT language FROM owners WHERE id = :i"), {"i": OWNER})
        ).scalar_one()
    assert lang == "ko"


async def test_events_flow_to_the_log_store(bot: BotProcess, data_dir: Path) -> None:
    # The bot process's outbox exists on disk and is drained while the store is up.
    outbox = data_dir / "outbox" / "bot.sqlite"
    assert outbox.exists()


async def test_second_run_on_same_data_dir_refuses(
    bot: BotProcess, data_dir: Path, tmp_path
) -> None:
    from tests.botproc import run_tys

    result = await asyncio.to_thread(run_tys, ["run"], dict(bot.env, WEB_PORT="0"))
    assert result.returncode == 1
    assert "already using DATA_DIR" in result.stderr
    assert "Traceback" not in result.stderr


async def test_restart_keeps_the_data(tg: FakeTelegram, bot: BotProcess, tmp_path: Path) -> None:
    assert bot.stop() == 0
    again = BotProcess(bot.env, tmp_path / "bot2.log")
    again.start()
    try:
        await again.wait_ready()
        before = len(tg.bot_messages(OWNER))
        await tg.send_text(OWNER, "/start", language_code="en")
        await tg.wait_for(
            lambda c: (
                c.method == "sendMessage"
                and c.params.get("chat_id") == OWNER
                and len(tg.bot_messages(OWNER)) > before
            ),
            timeout=10,
        )
        # The owner chose Korean in the first run; Telegram's language_code does not override it.
        assert "매장" in tg.bot_messages(OWNER)[-1]["text"]
    finally:
        assert again.stop() == 0, again.log()
    bot.start()  # the module fixture stops it again at the end
    await bot.wait_ready()


async def test_flood_from_one_owner_is_throttled(tg: FakeTelegram, bot: BotProcess) -> None:
    user = 5077
    for i in range(40):
        await tg.send_text(user, f"/help {i}")
    await tg.wait_message(user, contains="How it works", timeout=10)
    await asyncio.sleep(2.0)
    answered = [m for m in tg.chat_history(user) if "How it works" in (m.get("text") or "")]
    # The default allows 20 updates per 2 s window: a flood is cut, a person is never slowed.
    assert 15 <= len(answered) < 40
    # After the window, the owner is answered again.
    await tg.send_text(user, "/help")
    await tg.wait_message(
        user, contains="How it works", timeout=10, newer_than=answered[-1]["message_id"]
    )
