"""End to end, a Spotify-linked owner, through the real `tys run` process, the fake Bot API,
the fake Spotify, the fake Last.fm and the real stores:

/start -> link (consent at the fake) -> "Linked as …" -> onboarding (tags + 10 pairs) ->
"My Spotify playlists" (paged: Next) -> a 5xx while reading -> "try again" (behind a 429 with
Retry-After) -> tracks matched -> recommendations -> select 2 -> Add (double tap) -> the fake
playlist holds exactly 2 new URIs; then an empty playlist, a 1,000-track playlist, and typing
where a button is expected.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.botproc import REPO, BotProcess, bot_env
from tests.fakes.lastfm import FakeLastfm
from tests.fakes.spotify import FakeSpotify
from tests.fakes.telegram import FakeTelegram, buttons
from tests.test_spotify_e2e import _browser_get, _login_url, _to_consent

OWNER = 5301
USER = "mina.linked"
FILLERS = 9  # with the 3 playlists below: 12, so the list has a second page
WAIT = 60  # seconds; the machine is shared and slow


def _catalog() -> list[dict]:
    rows = []
    for name in ("catalog_intl.jsonl", "catalog_ko.jsonl"):
        for line in (REPO / "core" / "data" / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


@pytest.fixture(scope="module")
async def lastfm() -> AsyncIterator[FakeLastfm]:
    async with FakeLastfm() as fake:
        yield fake


@pytest.fixture(scope="module")
async def spotify() -> AsyncIterator[FakeSpotify]:
    async with FakeSpotify() as fake:
        fake.add_user(USER, "Mina Linked")
        # Every catalog song exists on Spotify (so adds can resolve their URIs).
        ids = [fake.add_track(r["title"], r["artist"])["id"] for r in _catalog()]
        for i in range(FILLERS):
            fake.add_playlist(USER, f"Filler {i + 1}", ids[i : i + 1])
        cafe = [
            *ids[:30],
            fake.add_track("Slow Coffee", "Velvet Lamps")["id"],  # on Last.fm (jazz, lounge)
            fake.add_track("Paper Boats", "Mina Harbor")["id"],  # on Last.fm (bossa nova)
            fake.add_track("Completely Unknown Tune", "Nobody At All")["id"],
        ]
        fake.add_playlist(USER, "Cafe mornings", cafe, playlist_id="cafeMornings0000000001")
        fake.add_playlist(USER, "Empty for now", [], playlist_id="emptyForNow00000000001")
        fake.add_playlist(USER, "Everything", ids[:1000], playlist_id="everything0000000000001")
        yield fake


@pytest.fixture(scope="module")
async def bot(
    tg: FakeTelegram,
    spotify: FakeSpotify,
    lastfm: FakeLastfm,
    services,
    data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[BotProcess]:
    env = bot_env(
        data_dir,
        tg.base_url,
        THROTTLE_RATE="1000",  # the test taps faster than any thumb
        LASTFM_API_KEY=lastfm.api_key,
        LASTFM_API_BASE=lastfm.base_url,
        **spotify.env(),
    )
    proc = BotProcess(env, tmp_path_factory.mktemp("linked") / "bot.log")
    proc.start()
    await proc.wait_ready(timeout=120)
    yield proc
    assert proc.stop() == 0, proc.log()


@pytest.fixture(scope="module")
def state() -> dict:
    return {}


def _button(message: dict, starts: str) -> dict:
    return next(b for b in buttons(message) if b["text"].startswith(starts))


def _current(tg: FakeTelegram, message_id: int) -> dict:
    return next(m for m in tg.bot_messages(OWNER) if m["message_id"] == message_id)


def _last_id(tg: FakeTelegram) -> int:
    msgs = tg.bot_messages(OWNER)
    return msgs[-1]["message_id"] if msgs else 0


async def _until(tg: FakeTelegram, message_id: int, contains: str, timeout: float = WAIT) -> dict:
    """Wait until the message (edited in place) contains the text."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        msg = _current(tg, message_id)
        if contains in msg.get("text", ""):
            return msg
        if loop.time() > deadline:
            raise AssertionError(f"message {message_id} never said {contains!r}: {msg['text']!r}")
        await asyncio.sleep(0.1)


async def test_link_and_onboard(
    tg: FakeTelegram, spotify: FakeSpotify, bot: BotProcess, state: dict
) -> None:
    consent = await _to_consent(bot, spotify, await _login_url(tg, OWNER))
    status, _ = await _browser_get(spotify.approve(consent, USER))
    assert status == 200
    linked = await tg.wait_message(OWNER, contains="Linked as Mina Linked", timeout=WAIT)

    # A newly linked owner goes straight on to onboarding, no command needed.
    tags = await tg.wait_message(
        OWNER,
        contains="What does your shop feel like",
        timeout=WAIT,
        newer_than=linked["message_id"],
    )
    labels = {b["text"]: b["callback_data"] for b in buttons(tags)}
    msg_id = tags["message_id"]
    for label in ("Cafe", "Jazz"):
        await tg.press(OWNER, _current(tg, msg_id), labels[label])
        await _until_marked(tg, msg_id, label)
    await tg.press(OWNER, _current(tg, msg_id), labels["Next ›"])
    for step in range(1, 11):
        pair = await _until(tg, msg_id, f"{step}/10")
        await tg.press(OWNER, pair, buttons(pair)[0]["callback_data"])
    done = await _until(tg, msg_id, "taste is set")
    assert any("My Spotify playlists" in b["text"] for b in buttons(done))
    state["done"] = done


async def _until_marked(tg: FakeTelegram, message_id: int, label: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not any(b["text"] == f"✅ {label}" for b in buttons(_current(tg, message_id))):
        assert loop.time() < deadline, f"{label} never marked"
        await asyncio.sleep(0.1)


async def test_paged_list_and_typing_instead_of_tapping(
    tg: FakeTelegram, bot: BotProcess, state: dict
) -> None:
    done = state["done"]
    before = _last_id(tg)
    await tg.press(OWNER, done, _button(done, "🎧 My Spotify playlists")["callback_data"])
    listing = await tg.wait_message(
        OWNER, contains="Your Spotify playlists", timeout=WAIT, newer_than=before
    )
    msg_id = listing["message_id"]
    names = [b["text"] for b in buttons(listing)]
    assert len([n for n in names if n.startswith("Filler")]) == 8
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(listing))
    assert not any("cafeMornings" in b["callback_data"] for b in buttons(listing))

    await tg.press(OWNER, listing, _button(listing, "Next")["callback_data"])
    page2 = await _until(tg, msg_id, "page 2")
    names = [b["text"] for b in buttons(page2)]
    assert "Filler 9 · 1 songs" in names
    assert "Cafe mornings · 33 songs" in names and "Everything · 1000 songs" in names
    assert any(n.startswith("‹") for n in names) and not any(n.startswith("Next") for n in names)
    assert len(tg.message_history(OWNER, msg_id)) >= 3  # one message, edited in place

    # Typing where a button is expected: a hint, and the list is untouched.
    before = _last_id(tg)
    await tg.send_text(OWNER, "Cafe mornings")
    await tg.wait_message(OWNER, contains="Use the buttons", timeout=WAIT, newer_than=before)
    assert _current(tg, msg_id)["text"] == page2["text"]
    state["listing"] = msg_id


async def test_choose_playlist_with_5xx_then_429(
    tg: FakeTelegram, spotify: FakeSpotify, lastfm: FakeLastfm, bot: BotProcess, state: dict
) -> None:
    msg_id = state["listing"]
    page2 = _current(tg, msg_id)
    spotify.fail_next(r"^/v1/playlists/cafeMornings\w*/items$", 503)
    await tg.press(OWNER, page2, _button(page2, "Cafe mornings")["callback_data"])
    failed = await _until(tg, msg_id, "Spotify is not answering properly")
    retry = _button(failed, "🔄 Try again")

    # Behind the retry, Spotify asks to wait once: the bot waits and carries on.
    spotify.fail_next(r"^/v1/playlists/cafeMornings\w*/items$", 429, retry_after=1)
    before = _last_id(tg)
    await tg.press(OWNER, failed, retry["callback_data"])
    summary = await _until(tg, msg_id, "songs matched")
    assert re.search(r"“Cafe mornings”: \d+ of 33 songs matched", summary["text"])
    statuses = [r.status for r in spotify.calls(r"^/v1/playlists/cafeMornings\w*/items$")]
    assert statuses[:3] == [503, 429, 200]
    history = [m["text"] for m in tg.message_history(OWNER, msg_id)]
    assert any("Reading 33 songs" in h for h in history)
    # New songs were looked up on Last.fm.
    assert lastfm.calls("track.getinfo", ("velvet lamps", "slow coffee"))

    recs = await tg.wait_message(
        OWNER, contains="Songs for your shop", timeout=WAIT, newer_than=before
    )
    assert "Based on “Cafe mornings”" in recs["text"]
    state["recs"] = recs["message_id"]


async def test_select_two_and_add_once(
    tg: FakeTelegram, spotify: FakeSpotify, bot: BotProcess, state: dict, engine
) -> None:
    msg_id = state["recs"]
    before_uris = spotify.playlist_uris("cafeMornings0000000001")
    page = _current(tg, msg_id)
    toggles = [b for b in buttons(page) if b["text"].startswith("⬜")]
    await tg.press(OWNER, page, toggles[0]["callback_data"])
    await _until_buttons(tg, msg_id, "☑️", 1)
    await tg.press(OWNER, _current(tg, msg_id), toggles[1]["callback_data"])
    page = await _until_buttons(tg, msg_id, "☑️", 2)
    add = _button(page, "➕")
    assert add["text"] == "➕ Add 2"
    before = _last_id(tg)
    await tg.press(OWNER, page, add["callback_data"])
    await tg.press(OWNER, page, add["callback_data"], stale_ok=True)  # a double tap
    await tg.wait_message(OWNER, contains="Added 2 songs to", timeout=WAIT, newer_than=before)
    await asyncio.sleep(1.0)
    after_uris = spotify.playlist_uris("cafeMornings0000000001")
    new = after_uris[len(before_uris) :]
    assert after_uris[: len(before_uris)] == before_uris
    assert len(new) == 2 and len(set(after_uris)) == len(after_uris)
    async with engine.connect() as conn:
        stored = await conn.execute(
            text(
                "SELECT p.source, count(pt.track_id) FROM playlists p "
                "JOIN playlist_tracks pt ON pt.playlist_id = p.id "
                "WHERE p.owner_id = :o AND p.external_id = 'cafeMornings0000000001' "
                "GROUP BY p.source"
            ),
            {"o": OWNER},
        )
        assert stored.one() == ("spotify", 35)  # 33 read + the 2 added


async def _until_buttons(tg: FakeTelegram, message_id: int, mark: str, n: int) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        msg = _current(tg, message_id)
        if sum(b["text"].startswith(mark) for b in buttons(msg)) == n:
            return msg
        assert loop.time() < deadline, f"never {n} buttons marked {mark}"
        await asyncio.sleep(0.1)


async def _second_page(tg: FakeTelegram) -> dict:
    before = _last_id(tg)
    await tg.send_text(OWNER, "/playlists")
    listing = await tg.wait_message(
        OWNER, contains="Your Spotify playlists", timeout=WAIT, newer_than=before
    )
    await tg.press(OWNER, listing, _button(listing, "Next")["callback_data"])
    return await _until(tg, listing["message_id"], "page 2")


async def test_empty_playlist(tg: FakeTelegram, bot: BotProcess) -> None:
    page2 = await _second_page(tg)
    await tg.press(OWNER, page2, _button(page2, "Empty for now")["callback_data"])
    empty = await _until(tg, page2["message_id"], "has no songs yet")
    assert _button(empty, "‹ Other playlists")


async def test_thousand_tracks_without_timing_out(
    tg: FakeTelegram, spotify: FakeSpotify, bot: BotProcess
) -> None:
    page2 = await _second_page(tg)
    msg_id = page2["message_id"]
    before = _last_id(tg)
    query = await tg.press(OWNER, page2, _button(page2, "Everything")["callback_data"])
    # The press is answered at once, long before the reading is done.
    await tg.wait_for(
        lambda c: c.method == "answerCallbackQuery" and c.params.get("callback_query_id") == query,
        timeout=15,
    )
    assert "songs matched" not in _current(tg, msg_id)["text"]
    summary = await _until(tg, msg_id, "songs matched", timeout=180)
    assert re.search(r"“Everything”: \d+ of 1000 songs matched", summary["text"])
    matched = int(re.search(r"(\d+) of 1000", summary["text"]).group(1))  # type: ignore[union-attr]
    assert matched >= 990
    assert len(spotify.calls(r"^/v1/playlists/everything\w*/items$")) == 20
    await tg.wait_message(OWNER, contains="Based on “Everything”", timeout=WAIT, newer_than=before)


async def test_dead_refresh_token_offers_relink(
    tg: FakeTelegram, spotify: FakeSpotify, bot: BotProcess, engine
) -> None:
    # Six months later: the access token expired and Spotify refuses the refresh token.
    spotify.revoke(USER)
    spotify.expire_access_tokens()
    before = _last_id(tg)
    await tg.send_text(OWNER, "/playlists")
    # The "Looking at your playlists…" message turns into the re-link offer.
    offer = await tg.wait_message(
        OWNER, contains="expired or was revoked", timeout=WAIT, newer_than=before
    )
    assert _button(offer, "🎧 Link Spotify again")
    async with engine.connect() as conn:
        row = await conn.execute(
            text("SELECT spotify_state FROM owners WHERE id = :o"), {"o": OWNER}
        )
        assert row.scalar_one() == "expired"
    # Asked again, the bot knows at once: the re-link offer, no Spotify call.
    calls = len(spotify.requests)
    before = _last_id(tg)
    await tg.send_text(OWNER, "/playlists")
    await tg.wait_message(OWNER, contains="expired or was revoked", timeout=WAIT, newer_than=before)
    assert len(spotify.requests) == calls
