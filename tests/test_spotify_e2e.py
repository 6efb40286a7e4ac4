"""End to end: the real `tys run` process, the fake Bot API, the fake Spotify, real stores.

The owner's linking journey as it happens on a phone: /start -> Link Spotify -> a URL button ->
the browser follows /login to Spotify's consent page -> Agree (or Cancel) -> /callback on the
bot -> "Linked as ..." in the chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import text

from bot.settings import load_settings
from core.crypto import sign
from tests.botproc import BotProcess, bot_env
from tests.fakes.spotify import FakeSpotify
from tests.fakes.telegram import FakeTelegram, buttons

OWNER = 5101
CANCELLER = 5102


@pytest.fixture(scope="module")
async def spotify() -> AsyncIterator[FakeSpotify]:
    async with FakeSpotify() as fake:
        fake.add_user("mina.cafe", "Mina & Co")
        yield fake


@pytest.fixture(scope="module")
async def bot(
    tg: FakeTelegram, spotify: FakeSpotify, services, data_dir: Path, tmp_path_factory
) -> AsyncIterator[BotProcess]:
    env = bot_env(data_dir, tg.base_url, **spotify.env())
    proc = BotProcess(env, tmp_path_factory.mktemp("log") / "bot.log")
    proc.start()
    await proc.wait_ready()
    yield proc
    assert proc.stop() == 0, proc.log()


async def _login_url(tg: FakeTelegram, user: int) -> str:
    """/start, press "Link Spotify", and read the URL button the message turns into."""
    await tg.send_text(user, "/start", language_code="en", first_name="Mina")
    welcome = await tg.wait_message(user, contains="Tune Your Shop", timeout=10)
    link = next(b for b in buttons(welcome) if "Link Spotify" in b["text"])
    assert len(link["callback_data"].encode()) <= 64
    await tg.press(user, welcome, link["callback_data"])
    edited = await tg.wait_message(user, contains="expires in 10 minutes", timeout=10)
    url_buttons = [b for b in buttons(edited) if "url" in b]
    assert len(url_buttons) == 1
    return url_buttons[0]["url"]


async def _to_consent(bot: BotProcess, spotify: FakeSpotify, login_url: str) -> str:
    """The browser opens the login link and lands on Spotify's consent page; -> state."""
    assert login_url.startswith(f"{bot.web_base}/login?s=")
    async with aiohttp.ClientSession() as http:
        async with http.get(login_url, allow_redirects=False) as resp:
            assert resp.status == 302  # a redirect, not a page
            target = resp.headers["Location"]
        assert target.startswith(f"{spotify.accounts_base}/authorize?")
        async with http.get(target) as resp:
            assert resp.status == 200
    q = parse_qs(urlsplit(target).query)
    assert q["redirect_uri"] == [f"{bot.web_base}/callback"]
    assert q["code_challenge_method"] == ["S256"]
    return q["state"][0]


async def _browser_get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


async def test_linking_journey(
    tg: FakeTelegram, spotify: FakeSpotify, bot: BotProcess, engine
) -> None:
    state = await _to_consent(bot, spotify, await _login_url(tg, OWNER))
    callback_url = spotify.approve(state)
    status, page = await _browser_get(callback_url)
    assert status == 200
    assert "go back to Telegram" in page and "텔레그램" in page
    msg = await tg.wait_message(OWNER, contains="Linked as", timeout=10)
    assert "Linked as Mina & Co" in msg["text"]

    access = next(t for t, i in spotify.access_tokens.items() if i.user_id == "mina.cafe")
    refresh = next(t for t, i in spotify.refresh_tokens.items() if i.user_id == "mina.cafe")
    async with engine.connect() as conn:
        owner = (
            await conn.execute(
                text("SELECT spotify_state, spotify_display_name FROM owners WHERE id = :i"),
                {"i": OWNER},
            )
        ).one()
        row = (
            await conn.execute(
                text(
                    "SELECT t::text AS whole, access_token_enc, refresh_token_enc "
                    "FROM spotify_tokens t WHERE owner_id = :i"
                ),
                {"i": OWNER},
            )
        ).one()
    assert tuple(owner) == ("linked", "Mina & Co")
    for raw in (access, refresh):
        assert raw not in row.whole
        assert raw.encode() not in bytes(row.access_token_enc)
        assert raw.encode() not in bytes(row.refresh_token_enc)
        assert raw.encode().hex() not in row.whole

    # The same callback again (browser back button, or an attacker): refused, nothing stored.
    exchanges = len(spotify.calls("/api/token"))
    status, page = await _browser_get(callback_url)
    assert status == 400 and "already used" in page
    assert len(spotify.calls("/api/token")) == exchanges


async def test_forged_state_is_refused(bot: BotProcess, spotify: FakeSpotify) -> None:
    exchanges = len(spotify.calls("/api/token"))
    for url in (
        f"{bot.web_base}/callback?code=abc&state=forged.state",
        f"{bot.web_base}/callback?code=abc",
        f"{bot.web_base}/login?s=" + sign({"n": "x"}, b"not-our-key" * 3, 600),
        f"{bot.web_base}/login",
    ):
        status, page = await _browser_get(url)
        assert status == 400, url
        assert "not valid" in page
    assert len(spotify.calls("/api/token")) == exchanges


async def test_expired_state_is_refused(bot: BotProcess, data_dir: Path) -> None:
    # The bot's key lives under DATA_DIR; an honest token whose 10 minutes are over.
    secret = load_settings(data_dir=data_dir).state_secret()
    old = sign({"n": "whatever"}, secret, -1)
    for url in (f"{bot.web_base}/login?s={old}", f"{bot.web_base}/callback?code=c&state={old}"):
        status, page = await _browser_get(url)
        assert status == 400
        assert "expired" in page


async def test_cancel_on_spotify_offers_a_retry(
    tg: FakeTelegram, spotify: FakeSpotify, bot: BotProcess, engine
) -> None:
    state = await _to_consent(bot, spotify, await _login_url(tg, CANCELLER))
    status, page = await _browser_get(spotify.deny(state))
    assert status == 200 and "cancelled" in page
    msg = await tg.wait_message(CANCELLER, contains="cancelled on Spotify", timeout=10)
    retry = buttons(msg)[0]
    assert len(retry["callback_data"].encode()) <= 64
    async with engine.connect() as conn:
        stored = await conn.execute(
            text("SELECT count(*) FROM spotify_tokens WHERE owner_id = :i"), {"i": CANCELLER}
        )
        assert stored.scalar_one() == 0
    # The retry button gives a fresh, working login link.
    await tg.press(CANCELLER, msg, retry["callback_data"])
    edited = await tg.wait_message(
        CANCELLER, contains="expires in 10 minutes", timeout=10, newer_than=msg["message_id"] - 1
    )
    fresh = next(b["url"] for b in buttons(edited) if "url" in b)
    assert await _to_consent(bot, spotify, fresh) != state


async def test_unlink_deletes_tokens(tg: FakeTelegram, bot: BotProcess, engine) -> None:
    await tg.send_text(OWNER, "/unlink")
    confirm = await tg.wait_message(OWNER, contains="Disconnect Spotify account", timeout=10)
    assert "Mina &amp; Co" not in confirm["text"]  # rendered, not shown escaped
    yes = next(b for b in buttons(confirm) if b["text"].startswith("Yes"))
    await tg.press(OWNER, confirm, yes["callback_data"])
    await tg.wait_message(OWNER, contains="tokens are deleted", timeout=10)
    async with engine.connect() as conn:
        tokens = await conn.execute(
            text("SELECT count(*) FROM spotify_tokens WHERE owner_id = :i"), {"i": OWNER}
        )
        state = await conn.execute(
            text("SELECT spotify_state FROM owners WHERE id = :i"), {"i": OWNER}
        )
        assert tokens.scalar_one() == 0
        assert state.scalar_one() == "none"
    await tg.send_text(OWNER, "/unlink")
    await tg.wait_message(OWNER, contains="nothing to disconnect", timeout=10)
