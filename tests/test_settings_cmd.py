"""/settings end to end (the real bot process, fake Bot API, fake Spotify, real stores): one
message edited in place — explicit filter, language, shop name typed in (bad inputs refused
with a clear message, cancel), and unlinking the Spotify account shown there."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.botproc import BotProcess, bot_env
from tests.fakes.spotify import FakeSpotify
from tests.fakes.telegram import FakeTelegram, buttons
from tests.test_spotify_e2e import _browser_get, _login_url, _to_consent

OWNER = 5401
USER = "settings.shop"
WAIT = 60


@pytest.fixture(scope="module")
async def spotify() -> AsyncIterator[FakeSpotify]:
    async with FakeSpotify() as fake:
        fake.add_user(USER, "Settings & Shop")
        yield fake


@pytest.fixture(scope="module")
async def bot(
    tg: FakeTelegram,
    spotify: FakeSpotify,
    services,
    data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[BotProcess]:
    env = bot_env(data_dir, tg.base_url, THROTTLE_RATE="1000", **spotify.env())
    proc = BotProcess(env, tmp_path_factory.mktemp("settings") / "bot.log")
    proc.start()
    await proc.wait_ready(timeout=120)
    yield proc
    assert proc.stop() == 0, proc.log()


def _button(message: dict, starts: str) -> dict:
    return next(b for b in buttons(message) if b["text"].startswith(starts))


def _current(tg: FakeTelegram, message_id: int) -> dict:
    return next(m for m in tg.bot_messages(OWNER) if m["message_id"] == message_id)


def _last_id(tg: FakeTelegram) -> int:
    msgs = tg.bot_messages(OWNER)
    return msgs[-1]["message_id"] if msgs else 0


async def _until(tg: FakeTelegram, message_id: int, contains: str) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while contains not in (msg := _current(tg, message_id)).get("text", ""):
        assert loop.time() < deadline, f"never {contains!r}: {msg['text']!r}"
        await asyncio.sleep(0.1)
    return msg


async def _press(tg: FakeTelegram, message_id: int, starts: str, then: str) -> dict:
    await tg.press(
        OWNER, _current(tg, message_id), _button(_current(tg, message_id), starts)["callback_data"]
    )
    return await _until(tg, message_id, then)


async def _owner(engine, column: str):
    async with engine.connect() as conn:
        row = await conn.execute(text(f"SELECT {column} FROM owners WHERE id = :o"), {"o": OWNER})
        return row.scalar_one()


async def test_settings_in_one_message(
    tg: FakeTelegram, spotify: FakeSpotify, bot: BotProcess, engine
) -> None:
    consent = await _to_consent(bot, spotify, await _login_url(tg, OWNER))
    await _browser_get(spotify.approve(consent, USER))
    await tg.wait_message(OWNER, contains="Linked as", timeout=WAIT)

    before = _last_id(tg)
    await tg.send_text(OWNER, "/settings")
    shown = await tg.wait_message(OWNER, contains="Settings", timeout=WAIT, newer_than=before)
    msg_id = shown["message_id"]
    assert "linked as Settings & Shop" in shown["text"]  # rendered, not shown escaped
    assert "Explicit-content filter: off" in shown["text"]
    assert "Shop name: not set" in shown["text"]

    # Explicit filter: toggled on and stored (recommendations read owners.explicit_filter).
    await _press(tg, msg_id, "🔞", "Explicit-content filter: on")
    assert await _owner(engine, "explicit_filter") is True

    # Language: to Korean and back, in place.
    await _press(tg, msg_id, "🌐 한국어", "설정")
    assert await _owner(engine, "language") == "ko"
    # Not just "Settings": the Korean text holds the display name "Settings & Shop" too, and a
    # press sent before the English edit lands can be overwritten by it.
    await _press(tg, msg_id, "🌐 English", "Language: English")

    # Shop name: refused inputs get a clear message and leave the owner in the form.
    await _press(tg, msg_id, "✏️", "Type your shop's name")
    before = _last_id(tg)
    await tg.send_text(OWNER, "x" * 70)
    await tg.wait_message(OWNER, contains="at most 64", timeout=WAIT, newer_than=before)
    before = _last_id(tg)
    await tg.send_text(OWNER, "Mina\nCafe")
    await tg.wait_message(OWNER, contains="on one line", timeout=WAIT, newer_than=before)
    await tg.send_text(OWNER, "  Mina's Café ☕ ")
    named = await _until(tg, msg_id, "Shop name: Mina's Café ☕")
    assert "Explicit-content filter: on" in named["text"]
    assert await _owner(engine, "shop_name") == "Mina's Café ☕"

    # Cancel: typing afterwards is not taken as a name.
    await _press(tg, msg_id, "✏️", "Type your shop's name")
    await _press(tg, msg_id, "Cancel", "Shop name: Mina's Café ☕")
    before = _last_id(tg)
    await tg.send_text(OWNER, "Another Name")
    await tg.wait_message(OWNER, contains="Use the buttons", timeout=WAIT, newer_than=before)
    assert await _owner(engine, "shop_name") == "Mina's Café ☕"

    # Unlink from settings: confirm, then the tokens are gone and the message says so.
    await _press(tg, msg_id, "Unlink Spotify", "Disconnect Spotify account")
    unlinked = await _press(tg, msg_id, "Yes", "Spotify: not linked")
    assert _button(unlinked, "🎧 Link Spotify")
    assert await _owner(engine, "spotify_state") == "none"
    async with engine.connect() as conn:
        tokens = await conn.execute(
            text("SELECT count(*) FROM spotify_tokens WHERE owner_id = :o"), {"o": OWNER}
        )
        assert tokens.scalar_one() == 0
    # Everything happened in the one settings message.
    assert len(tg.message_history(OWNER, msg_id)) >= 9
