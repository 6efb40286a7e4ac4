"""Webhook mode: the bot registers its webhook with a secret and refuses requests without it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.botproc import BotProcess, bot_env, free_port
from tests.fakes.telegram import FakeTelegram

SECRET = "s3cret-Token_42"


@pytest.fixture(scope="module")
async def bot(
    tg: FakeTelegram, services, data_dir: Path, tmp_path_factory
) -> AsyncIterator[BotProcess]:
    port = free_port()
    env = bot_env(
        data_dir,
        tg.base_url,
        TELEGRAM_MODE="webhook",
        WEB_PORT=str(port),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        WEBHOOK_SECRET=SECRET,
    )
    proc = BotProcess(env, tmp_path_factory.mktemp("wh") / "bot.log")
    proc.start()
    await proc.wait_ready()
    yield proc
    assert proc.stop() == 0, proc.log()


async def test_webhook_registered_with_secret(tg: FakeTelegram, bot: BotProcess) -> None:
    call = await tg.wait_for(lambda c: c.method == "setWebhook", timeout=10)
    assert call.params["url"] == f"{bot.web_base}/telegram/webhook"
    assert call.params["secret_token"] == SECRET


async def test_update_by_webhook_is_answered(tg: FakeTelegram, bot: BotProcess) -> None:
    await tg.send_text(6001, "/start")
    msg = await tg.wait_message(6001, contains="Tune Your Shop", timeout=10)
    assert msg["reply_markup"]["inline_keyboard"]
    assert tg.webhook_deliveries[-1].status == 200


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
async def test_request_without_the_secret_gets_401_and_is_not_processed(
    tg: FakeTelegram, bot: BotProcess, headers: dict[str, str]
) -> None:
    update = {
        "update_id": 990001 + len(headers),
        "message": {
            "message_id": 1,
            "date": 1700000000,
            "text": "/help",
            "chat": {"id": 6002, "type": "private", "first_name": "X"},
            "from": {"id": 6002, "is_bot": False, "first_name": "X"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{bot.web_base}/telegram/webhook", json=update, headers=headers) as r:
            assert r.status == 401
    # Prove nothing was processed: a real update after it is answered, the forged one never.
    await tg.send_text(6003, "/help")
    await tg.wait_message(6003, contains="How it works", timeout=10)
    assert not [c for c in tg.calls if c.params.get("chat_id") == 6002]
