"""End to end: a playlist screenshot sent as a photo -> rows shown -> remove one, fix one ->
"Use this playlist" -> recommendations, through the real bot process, real OCR and stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from tests.botproc import BotProcess, bot_env
from tests.fakes.telegram import FakeTelegram, buttons
from tests.screens import render

OWNER = 7301
WAIT = 60

SONGS = [
    ("밤편지", "아이유"),
    ("My Funny Valentine", "Chet Baker"),
    ("너의 의미", "아이유"),
    ("But Not for Me", "Chet Baker"),
    ("Blueming", "아이유"),
    ("I Fall in Love Too Easily", "Chet Baker"),
]


@pytest.fixture(scope="module")
async def bot(
    tg: FakeTelegram, services, data_dir: Path, tmp_path_factory
) -> AsyncIterator[BotProcess]:
    env = bot_env(data_dir, tg.base_url, THROTTLE_RATE="1000")
    proc = BotProcess(env, tmp_path_factory.mktemp("shot") / "bot.log")
    proc.start()
    await proc.wait_ready(timeout=120)
    yield proc
    assert proc.stop() == 0, proc.log()


async def test_photo_rows_remove_fix_use(tg: FakeTelegram, bot: BotProcess, services) -> None:
    screen = render("spotify", SONGS, theme="dark", seed=3)
    await tg.send_photo(OWNER, screen.telegram_jpeg())
    shown = await tg.wait_message(OWNER, contains="I read", timeout=WAIT)
    text = shown["text"]
    assert "✅" in text
    matched_titles = [t for t, _ in SONGS if t in text]
    assert len(matched_titles) >= 4  # the rows it read, matched to the catalog

    removes = [b for b in buttons(shown) if b["text"].startswith("✖")]
    assert len(removes) >= 5
    before = len(tg.calls)
    await tg.press(OWNER, shown, removes[0]["callback_data"])
    await tg.wait_for(
        lambda c: (
            c.method == "editMessageText"
            and c.params.get("message_id") == shown["message_id"]
            and tg.calls.index(c) >= before
        ),
        timeout=WAIT,
    )
    after_remove = next(m for m in tg.bot_messages(OWNER) if m["message_id"] == shown["message_id"])
    assert "✖ 1" not in [b["text"] for b in buttons(after_remove)]

    fix = next(b for b in buttons(after_remove) if "Fix" in b["text"])
    await tg.press(OWNER, after_remove, fix["callback_data"])
    await tg.wait_message(OWNER, contains="row number", timeout=WAIT)
    await tg.send_text(OWNER, "2 what is this")  # bad input: a clear message, nothing lost
    await tg.wait_message(OWNER, contains="couldn't read that", timeout=WAIT)
    await tg.send_text(OWNER, "2 But Not for Me - Chet Baker")
    await tg.wait_message(OWNER, contains="Row 2 updated", timeout=WAIT)
    fixed = await tg.wait_message(
        OWNER, contains="I read", timeout=WAIT, newer_than=after_remove["message_id"]
    )
    assert "2. But Not for Me — Chet Baker" in fixed["text"]

    use = next(b for b in buttons(fixed) if "Use this playlist" in b["text"])
    await tg.press(OWNER, fixed, use["callback_data"])
    page = await tg.wait_message(OWNER, contains="Songs for your shop", timeout=WAIT)
    assert "Screenshot" in page["text"]  # based on the screenshot playlist
    recommended = page["text"]
    for title, _ in SONGS[1:]:
        assert (
            f"<b>{title} —" not in recommended
            and f"{title} — Chet" not in recommended.split("\n", 2)[-1]
        )

    client: AsyncMongoClient = AsyncMongoClient(services.mongodb_url)
    coll = client.get_default_database()["events"]
    doc = None
    for _ in range(100):
        doc = await coll.find_one({"owner": OWNER, "kind": "ocr_import"})
        if doc:
            break
        import asyncio

        await asyncio.sleep(0.1)
    assert doc is not None
    assert doc["removed"] == 1 and doc["corrected"][0]["title"] == "But Not for Me"
    await client.close()


def _gif() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (300, 600), "white").save(buf, "GIF")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("payload", "filename", "needle"),
    [
        (_gif(), "anim.gif", "PNG, JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png", "damaged"),
    ],
)
async def test_bad_files_get_a_clear_message(
    tg: FakeTelegram, bot: BotProcess, payload: bytes, filename: str, needle: str
) -> None:
    user = 7302 + len(filename)
    await tg.send_document(user, payload, filename)
    msg = await tg.wait_message(user, contains=needle, timeout=WAIT)
    assert msg["text"]
