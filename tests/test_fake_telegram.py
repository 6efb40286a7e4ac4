"""The fake Bot API is faithful enough for aiogram itself: these tests drive it with aiogram's
real client (Bot + AiohttpSession pointed at the fake's base URL) and tiny routers defined here;
no code of our bot is involved."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.fakes.telegram import FakeTelegram

TOKEN = "123456:TEST-token"
OWNER = 4242


def png(width: int, height: int) -> bytes:
    """A small but valid grey PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80" * width for _ in range(height)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data) for text, data in row]
            for row in rows
        ]
    )


def make_bot(tg: FakeTelegram, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url)))


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    client = make_bot(tg)
    yield client
    await client.session.close()


@contextlib.asynccontextmanager
async def polling(tg: FakeTelegram, bot: Bot, dp: Dispatcher) -> AsyncIterator[None]:
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    await tg.wait_for(lambda c: c.method == "getUpdates", include_pending=True)
    try:
        yield
    finally:
        await dp.stop_polling()
        await task


@contextlib.asynccontextmanager
async def webhook_server(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_get_me_and_unauthorized_token(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "tune_your_shop_bot")
    assert tg.calls[-1].method == "getMe" and tg.calls[-1].status == 200

    intruder = make_bot(tg, "999:wrong")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await intruder.session.close()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{tg.base_url}/bot999:wrong/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }


async def test_polling_start_keyboard_press_and_edit(tg: FakeTelegram, bot: Bot) -> None:
    router = Router()
    seen: dict[str, object] = {}

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        assert message.from_user is not None
        seen["language"] = message.from_user.language_code
        markup = keyboard([("Open menu", "menu:open")])
        markup.inline_keyboard.append(
            [InlineKeyboardButton(text="Site", url="https://example.com/shop")]
        )
        await message.answer("<b>Welcome</b> to the shop", parse_mode="HTML", reply_markup=markup)

    @router.callback_query(F.data == "menu:open")
    async def open_menu(query: CallbackQuery) -> None:
        await query.answer("Opening")
        assert isinstance(query.message, Message)
        seen["pressed_text"] = query.message.text
        await query.message.edit_text("Menu", reply_markup=keyboard([("Back", "menu:back")]))

    dp = Dispatcher()
    dp.include_router(router)
    async with polling(tg, bot, dp):
        update = await tg.send_text(OWNER, "/start", language_code="ru", first_name="Anna")
        assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        sent = await tg.wait_message(OWNER, contains="Welcome")
        query_id = await tg.press(OWNER, sent, "menu:open")
        edited = await tg.wait_message(OWNER, contains="Menu")
        last = edited["reply_markup"]
        confirming = update["update_id"] + 2  # the press was update_id + 1
        await tg.wait_for(
            lambda c: c.method == "getUpdates" and c.params.get("offset") == confirming,
            include_pending=True,
        )

    assert seen == {"language": "ru", "pressed_text": "Welcome to the shop"}
    assert sent["text"] == "Welcome to the shop"
    assert sent["entities"] == [{"type": "bold", "offset": 0, "length": 7}]
    assert sent["from"]["is_bot"] is True and sent["from"]["id"] == 123456
    assert sent["chat"] == {"id": OWNER, "first_name": "Anna", "type": "private"}
    assert sent["reply_markup"]["inline_keyboard"] == [
        [{"text": "Open menu", "callback_data": "menu:open"}],
        [{"text": "Site", "url": "https://example.com/shop"}],
    ]
    assert tg.answered_callbacks[query_id] == {"text": "Opening"}
    assert edited["message_id"] == sent["message_id"] and "edit_date" in edited
    assert last == {"inline_keyboard": [[{"text": "Back", "callback_data": "menu:back"}]]}
    assert [m["text"] for m in tg.bot_messages(OWNER)] == ["Menu"]
    history = tg.message_history(OWNER, sent["message_id"])
    assert [m["text"] for m in history] == ["Welcome to the shop", "Menu"]
    assert tg.pending_updates == []  # aiogram confirmed both updates with its offset
    assert sorted(tg.calls_to("getUpdates")[0].params["allowed_updates"]) == [
        "callback_query",
        "message",
    ]


async def test_edit_errors_and_text_validation(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(OWNER)
    markup = keyboard([("A", "a")])
    sent = await bot.send_message(OWNER, "Same", reply_markup=markup)
    with pytest.raises(TelegramBadRequest, match="message is not modified") as err:
        await bot.edit_message_text(
            "Same", chat_id=OWNER, message_id=sent.message_id, reply_markup=markup
        )
    assert tg.calls[-1].response == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message is not modified: specified new message content and "
        "reply markup are exactly the same as a current content and reply markup of the message",
    }
    assert err.value.message.startswith("Bad Request: message is not modified")

    # Without reply_markup the edit drops the keyboard, as Telegram does.
    edited = await bot.edit_message_text("Same", chat_id=OWNER, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=OWNER, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=OWNER, message_id=999)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(777, "nobody here")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(OWNER, "x" * 4097)
    assert (await bot.send_message(OWNER, "x" * 4096)).text == "x" * 4096
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(OWNER, "   ")
    assert await bot.delete_message(OWNER, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(OWNER, sent.message_id)
    assert sent.message_id not in [m["message_id"] for m in tg.bot_messages(OWNER)]


async def test_parse_modes_produce_real_entities(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(OWNER)
    html = await bot.send_message(OWNER, "🎵 <b>Simon &amp; Garfunkel</b>", parse_mode="HTML")
    assert html.text == "🎵 Simon & Garfunkel"
    assert html.entities is not None
    # offsets are UTF-16 code units: the emoji counts as 2
    assert [(e.type, e.offset, e.length) for e in html.entities] == [("bold", 3, 17)]
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "br"'):
        await bot.send_message(OWNER, "a<br>b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(OWNER, "Price 5.00", parse_mode="MarkdownV2")
    md = await bot.send_message(
        OWNER, "*Price* 5\\.00 [shop](https://x.example/a)", parse_mode="MarkdownV2"
    )
    assert md.text == "Price 5.00 shop"
    assert md.entities is not None
    assert [(e.type, e.offset, e.length, e.url) for e in md.entities] == [
        ("bold", 0, 5, None),
        ("text_link", 11, 4, "https://x.example/a"),
    ]


async def test_callback_data_is_limited_to_64_bytes(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(OWNER)
    fits = "é" * 32  # 32 characters, 64 bytes
    ok = await bot.send_message(OWNER, "fits", reply_markup=keyboard([("b", fits)]))
    assert ok.reply_markup is not None
    assert ok.reply_markup.inline_keyboard[0][0].callback_data == fits
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(OWNER, "too long", reply_markup=keyboard([("b", fits + "x")]))
    bare = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="no action")]])
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(OWNER, "bare", reply_markup=bare)
    assert [m["text"] for m in tg.bot_messages(OWNER)] == ["fits"]


async def test_photo_document_and_download_round_trip(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(OWNER)
    image = png(1000, 500)
    photo_msg = await bot.send_photo(OWNER, BufferedInputFile(image, "cover.png"), caption="Cover")
    assert photo_msg.photo is not None and photo_msg.caption == "Cover"
    assert [(p.width, p.height) for p in photo_msg.photo] == [
        (90, 45),
        (320, 160),
        (800, 400),
        (1000, 500),
    ]
    largest = photo_msg.photo[-1]
    assert tg.file_bytes(largest.file_id) == image
    file = await bot.get_file(largest.file_id)
    assert file.file_path and file.file_size == len(image)
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == image
    again = await bot.send_photo(OWNER, largest.file_id)  # re-send by file_id
    assert again.photo is not None and again.photo[-1].file_id == largest.file_id

    doc_msg = await bot.send_document(OWNER, BufferedInputFile(b"a,b\n1,2\n", "report.csv"))
    assert doc_msg.document is not None
    assert (doc_msg.document.file_name, doc_msg.document.mime_type) == ("report.csv", "text/csv")
    assert doc_msg.document.file_size == 8
    stored = tg.files[doc_msg.document.file_id]
    assert (stored.data, stored.file_name) == (b"a,b\n1,2\n", "report.csv")

    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(OWNER, BufferedInputFile(b"not an image", "x.png"))
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")

    # The owner's side: what they upload, the bot can fetch.
    update = await tg.send_photo(OWNER, png(64, 48), caption="my shop")
    sizes = update["message"]["photo"]
    assert [(s["width"], s["height"]) for s in sizes] == [(64, 48)]
    assert (await bot.download(sizes[-1]["file_id"])).read() == png(64, 48)  # type: ignore[union-attr]
    update = await tg.send_document(OWNER, b"%PDF-1.4 menu", "menu.pdf", "application/pdf")
    document = update["message"]["document"]
    assert document["mime_type"] == "application/pdf" and document["file_name"] == "menu.pdf"
    assert (await bot.download(document["file_id"])).read() == b"%PDF-1.4 menu"  # type: ignore[union-attr]
    assert len(tg.downloads) == 3
    with pytest.raises(ValueError, match="real image bytes"):
        await tg.send_photo(OWNER, b"garbage")


async def test_set_my_commands_per_language_and_scope(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="Начать")], language_code="ru"
    )
    await bot.set_my_commands(
        [BotCommand(command="help", description="Help")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="en",
    )
    assert tg.commands == {
        ("default", ""): [{"command": "start", "description": "Start"}],
        ("default", "ru"): [{"command": "start", "description": "Начать"}],
        ("all_private_chats", "en"): [{"command": "help", "description": "Help"}],
    }
    ru = await bot.get_my_commands(language_code="ru")
    assert [(c.command, c.description) for c in ru] == [("start", "Начать")]
    assert await bot.get_my_commands(language_code="de") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="/Start", description="x")])
    await bot.delete_my_commands(language_code="ru")
    assert ("default", "ru") not in tg.commands


async def test_retry_after_blocking_and_injected_faults(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(OWNER)
    tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(TelegramRetryAfter) as err:
        await bot.send_message(OWNER, "hi")
    assert err.value.retry_after == 7
    assert tg.calls[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 7",
        "parameters": {"retry_after": 7},
    }
    assert (await bot.send_message(OWNER, "hi")).text == "hi"  # only the next call failed

    tg.block(OWNER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(OWNER, "are you there?")
    member = tg.pending_updates[-1]["my_chat_member"]
    assert (member["old_chat_member"]["status"], member["new_chat_member"]["status"]) == (
        "member",
        "kicked",
    )
    tg.unblock(OWNER)
    assert (await bot.send_message(OWNER, "welcome back")).text == "welcome back"


async def test_get_updates_offset_limit_timeout_and_filters(tg: FakeTelegram, bot: Bot) -> None:
    one = await tg.send_text(OWNER, "one")
    two = await tg.send_text(OWNER, "two")
    assert two["update_id"] == one["update_id"] + 1
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [one["update_id"]]
    assert len(await bot.get_updates()) == 2  # nothing confirmed yet
    got = await bot.get_updates(offset=two["update_id"])  # confirms `one`
    assert [u.update_id for u in got] == [two["update_id"]]
    assert got[0].message is not None and got[0].message.text == "two"
    after = two["update_id"] + 1

    started = time.monotonic()
    assert await bot.get_updates(offset=after, timeout=1) == []
    assert time.monotonic() - started >= 0.9  # the long poll waited

    poll = asyncio.create_task(bot.get_updates(offset=after, timeout=10))
    await tg.wait_for(lambda c: c.method == "getUpdates" and c.status is None, include_pending=True)
    started = time.monotonic()
    three = await tg.send_text(OWNER, "three")
    assert [u.update_id for u in await poll] == [three["update_id"]]
    assert time.monotonic() - started < 1  # answered as soon as the update arrived
    after = three["update_id"] + 1

    sent = await bot.send_message(OWNER, "menu", reply_markup=keyboard([("Go", "go")]))
    assert await bot.get_updates(offset=after, allowed_updates=["message"]) == []
    await tg.press(OWNER, sent.message_id, "go")
    assert tg.dropped_updates[-1]["callback_query"]["data"] == "go"
    assert await bot.get_updates(offset=after) == []

    await tg.redeliver(one)  # the same update again, e.g. after a crash
    again = await bot.get_updates(offset=after)
    assert [u.update_id for u in again] == [one["update_id"]]

    first = asyncio.create_task(bot.get_updates(offset=after, timeout=10))
    await tg.wait_for(lambda c: c.method == "getUpdates" and c.status is None, include_pending=True)
    second = asyncio.create_task(bot.get_updates(offset=after, timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    assert await second == []


async def test_webhook_mode_posts_with_secret_header(tg: FakeTelegram, bot: Bot) -> None:
    router = Router()

    @router.message(Command("reply"))
    async def reply_in_webhook(message: Message) -> object:
        return message.answer("answered inside the webhook response")  # not awaited: returned

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    dp = Dispatcher()
    dp.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token="s3cret", handle_in_background=False).register(
        app, path="/tg"
    )
    async with webhook_server(app) as base:
        assert await bot.set_webhook(f"{base}/tg", secret_token="s3cret") is True
        assert tg.calls[-1].response == {
            "ok": True,
            "result": True,
            "description": "Webhook was set",
        }
        info = await bot.get_webhook_info()
        assert info.url == f"{base}/tg" and info.pending_update_count == 0
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()

        await tg.send_text(OWNER, "hello")
        delivery = tg.webhook_deliveries[-1]
        assert delivery.status == 200 and delivery.url == f"{base}/tg"
        assert delivery.headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret"
        assert (await tg.wait_message(OWNER, "echo:"))["text"] == "echo: hello"

        await tg.send_text(OWNER, "/reply")
        assert tg.webhook_deliveries[-1].reply_method == "sendMessage"
        call = await tg.wait_for(lambda c: c.via == "webhook-reply")
        assert call.method == "sendMessage" and call.ok
        assert await tg.wait_message(OWNER, "inside the webhook")

        await bot.set_webhook(f"{base}/tg", secret_token="wrong-secret")
        await tg.send_text(OWNER, "rejected")
        assert tg.webhook_deliveries[-1].status == 401  # aiogram checked the header
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 401 Unauthorized"

        assert await bot.delete_webhook(drop_pending_updates=True) is True
        assert await bot.get_updates() == []
        assert tg.webhook_url is None


async def test_raw_http_json_form_query_and_fallback(tg: FakeTelegram) -> None:
    tg.add_user(OWNER, "Anna")
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    url = f"{tg.base_url}/bot{TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{url}/sendMessage", json={"chat_id": OWNER, "text": "json", "reply_markup": markup}
        ) as resp:
            body = await resp.json()
        assert body["ok"] is True and body["result"]["reply_markup"] == markup
        assert body["result"]["text"] == "json"
        form = {"chat_id": str(OWNER), "text": "form", "reply_markup": json.dumps(markup)}
        async with http.post(f"{url}/sendmessage", data=form) as resp:  # names are case-blind
            assert (await resp.json())["result"]["reply_markup"] == markup
        async with http.get(f"{url}/sendChatAction?chat_id={OWNER}&action=typing") as resp:
            assert await resp.json() == {"ok": True, "result": True}
        async with http.get(f"{url}/sendChatAction?chat_id={OWNER}&action=dancing") as resp:
            assert resp.status == 400
        async with http.post(f"{url}/setChatMenuButton", data={"chat_id": str(OWNER)}) as resp:
            assert await resp.json() == {"ok": True, "result": True}
        async with http.get(f"{tg.base_url}/file/bot{TOKEN}/photos/missing.jpg") as resp:
            assert resp.status == 404
    assert [c.method for c in tg.calls] == [
        "sendMessage",
        "sendMessage",
        "sendChatAction",
        "sendChatAction",
        "setChatMenuButton",
    ]
    assert tg.calls[1].params["chat_id"] == OWNER  # form values are typed back
    assert tg.calls[-1].known is False and tg.calls[-1].params == {"chat_id": OWNER}
    assert [m["text"] for m in tg.bot_messages(OWNER)] == ["json", "form"]
