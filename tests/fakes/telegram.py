"""A local fake of the Telegram Bot API for tests.

``FakeTelegram`` is an aiohttp server on 127.0.0.1 (ephemeral port) speaking the HTTP Bot API:
methods at ``{base_url}/bot{token}/{method}``, downloads at ``{base_url}/file/bot{token}/{path}``,
with the real envelopes (``{"ok": true, "result": ...}``), object shapes and error descriptions.
The bot under test only receives ``base_url`` (aiogram: ``TelegramAPIServer.from_base(base_url)``)
and cannot tell it from api.telegram.org.  A test plays the shop owner (``send_text``, ``press``,
``send_photo``...) and inspects what the bot did (``calls``, ``bot_messages``, ``wait_message``...).

Shapes follow Bot API 10.x.  Deliberate simplifications: private chats only; photos are not
re-encoded (every PhotoSize serves the original bytes, the largest has the original dimensions);
webhook deliveries are not retried; inline-mode messages (``inline_message_id``) are refused;
unknown methods answer ``true`` and are recorded with ``known=False``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import mimetypes
import re
import secrets
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import aiohttp
from aiohttp import web

JSON = dict[str, Any]


def buttons(message: JSON) -> list[JSON]:
    """Every inline button of a message the bot sent, row after row."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b for row in rows for b in row]


_UPDATE_BASE = [int(time.time() * 1000) % 1_000_000_000]


def _fresh_update_base() -> int:
    _UPDATE_BASE[0] += 10_000_000
    return _UPDATE_BASE[0]


T = TypeVar("T")

UPDATE_TYPES: tuple[str, ...] = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages",
    "message_reaction", "message_reaction_count", "inline_query", "chosen_inline_result",
    "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll",
    "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
    "removed_chat_boost",
)  # fmt: skip
# Delivered only when asked for explicitly in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# How form values (always strings on the wire) are typed back; anything else stays a string.
_INT_FIELDS = frozenset({
    "chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "max_connections",
    "reply_to_message_id", "user_id", "from_chat_id", "message_thread_id", "until_date",
})  # fmt: skip
_BOOL_FIELDS = frozenset({
    "show_alert", "drop_pending_updates", "disable_notification", "protect_content",
    "disable_web_page_preview", "has_spoiler", "disable_content_type_detection",
    "allow_sending_without_reply", "show_caption_above_media", "allow_paid_broadcast",
})  # fmt: skip
_JSON_FIELDS = frozenset({
    "reply_markup", "entities", "caption_entities", "link_preview_options", "commands", "scope",
    "allowed_updates", "reply_parameters", "media", "results", "message_ids", "menu_button",
})  # fmt: skip
_FILE_FIELDS = frozenset({
    "photo", "document", "thumbnail", "certificate", "audio", "video", "voice", "animation",
    "sticker", "video_note",
})  # fmt: skip
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})  # fmt: skip
_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_COMMAND_SCOPES = frozenset({
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
})  # fmt: skip
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_URL_BUTTON_RE = re.compile(r"^(?:(?:https?|tg|ton)://\S+|[\w-]+(?:\.[\w-]+)+(?:[/?#]\S*)?)$", re.I)
_TEXT_LIMIT, _CAPTION_LIMIT = 4096, 1024
_DOWNLOAD_LIMIT = 20 * 1024 * 1024
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
_UNAUTHORIZED: JSON = {"ok": False, "error_code": 401, "description": "Unauthorized"}
_NOT_FOUND: JSON = {"ok": False, "error_code": 404, "description": "Not Found"}


class _ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass
class UploadedFile:
    """A file part of a multipart request (or a file fetched from an HTTP URL)."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class StoredFile:
    """A file the fake knows: downloadable via getFile + /file/bot<token>/<file_path>."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo" or "document"
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class ApiCall:
    """One Bot API request the bot made."""

    method: str  # canonical spelling, e.g. "sendMessage"
    params: JSON  # decoded: nested JSON parsed, ints/bools typed, uploads as UploadedFile
    received_at: float  # time.monotonic() when the request arrived
    via: str = "http"  # "http", or "webhook-reply" for a method returned in a webhook answer
    known: bool = True  # False: answered by the generic {"ok": true, "result": true} fallback
    status: int | None = None  # HTTP status answered; None while in progress (long poll)
    response: JSON | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")


@dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook."""

    update: JSON
    url: str
    headers: dict[str, str]
    status: int | None = None  # HTTP status the bot answered; None if it did not answer
    error: str | None = None
    reply_method: str | None = None  # method the bot returned in the webhook answer, if any


@dataclass
class _Record:
    data: JSON  # the Message object as it is now
    from_bot: bool
    deleted: bool = False
    history: list[JSON] = field(default_factory=list)  # earlier versions (before edits)


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _Described:
    result: Any
    description: str


# --------------------------------------------------------------------------- text & entities


class _ParseError(Exception):
    pass


def _u16(text: str) -> int:
    """Length in UTF-16 code units: the unit of MessageEntity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def _byte_at(src: str, index: int) -> int:
    return len(src[:index].encode())


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip
_HTML_ATTR_RE = re.compile(r"""([a-zA-Z_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_HTML_ENTITY_RE = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _parse_html(src: str) -> tuple[str, list[JSON]]:
    """parse_mode=HTML -> (text, entities with *character* offsets)."""
    out: list[str] = []
    stack: list[tuple[str, int, dict[str, str]]] = []
    ents: list[JSON] = []
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "&":
            m = _HTML_ENTITY_RE.match(src, i)
            if m:
                code = int(m[1] or m[2] or "0", 10 if m[1] else 16)
                char = chr(code) if 0 < code < 0x110000 else "\ufffd"
                out.append(_HTML_NAMED.get(m[3] or "") or char)
                i = m.end()
            else:
                out.append("&")
                i += 1
            continue
        if ch != "<":
            out.append(ch)
            i += 1
            continue
        at, close = _byte_at(src, i), src.find(">", i)
        if close < 0:
            raise _ParseError(f"Unclosed start tag at byte offset {at}")
        inner, i = src[i + 1 : close], close + 1
        pos = len(out)
        if inner.startswith("/"):
            name = inner[1:].strip().lower()
            if not stack:
                raise _ParseError(f"Unexpected end tag at byte offset {at}")
            tag, start, attrs = stack.pop()
            if name != tag:
                raise _ParseError(
                    f'Unmatched end tag at byte offset {at}, expected "</{tag}>", found "</{name}>"'
                )
            lang = attrs.get("class", "")
            if tag == "code" and stack and stack[-1][0] == "pre":
                if lang.startswith("language-"):
                    stack[-1][2]["language"] = lang.removeprefix("language-")
                continue
            if pos == start or (tag == "a" and not attrs.get("href")):
                continue
            ent = {"type": _HTML_TAGS[tag], "offset": start, "length": pos - start}
            if tag == "a":
                ent["url"] = attrs["href"]
            elif tag == "pre" and attrs.get("language"):
                ent["language"] = attrs["language"]
            elif tag == "blockquote" and "expandable" in attrs:
                ent["type"] = "expandable_blockquote"
            elif tag == "tg-emoji":
                ent["custom_emoji_id"] = attrs.get("emoji-id", "")
            ents.append(ent)
            continue
        m = re.match(r"[a-zA-Z][a-zA-Z0-9-]*", inner)
        name = m.group().lower() if m else ""
        if name not in _HTML_TAGS:
            raise _ParseError(f'Unsupported start tag "{name}" at byte offset {at}')
        attrs = {
            key.lower(): a or b or c for key, a, b, c in _HTML_ATTR_RE.findall(inner[len(name) :])
        }
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
        stack.append((name, pos, attrs))
    if stack:
        raise _ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), ents


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_MARKS = {
    "*": ("bold", "Bold"), "_": ("italic", "Italic"), "__": ("underline", "Underline"),
    "~": ("strikethrough", "Strikethrough"), "||": ("spoiler", "Spoiler"),
    "[": ("text_link", "TextUrl"), "![": ("custom_emoji", "CustomEmoji"),
}  # fmt: skip


def _mdv2_until(src: str, i: int, end: str) -> tuple[str, int] | None:
    """Read escaped text from i up to the unescaped `end`; -> (text, index after `end`)."""
    buf: list[str] = []
    while i < len(src):
        if src[i] == "\\" and i + 1 < len(src) and 0 < ord(src[i + 1]) <= 126:
            buf.append(src[i + 1])
            i += 2
        elif src.startswith(end, i):
            return "".join(buf), i + len(end)
        else:
            buf.append(src[i])
            i += 1
    return None


def _parse_markdown_v2(src: str) -> tuple[str, list[JSON]]:
    out: list[str] = []
    stack: list[tuple[str, int, int]] = []  # (mark, char offset, byte offset)
    ents: list[JSON] = []
    quote: tuple[int, bool] | None = None  # (start, expandable)
    i = 0
    while i < len(src):
        pos, ch = len(out), src[i]
        if i == 0 or src[i - 1] == "\n":
            expandable = src.startswith("**>", i)
            if expandable or ch == ">":
                quote = quote or (pos, expandable)
                i += 3 if expandable else 1
                continue
            if quote is not None:  # the quote ended with the previous line
                _close_quote(ents, quote, pos - 1)
                quote = None
        if ch == "\\" and i + 1 < len(src) and 0 < ord(src[i + 1]) <= 126:
            out.append(src[i + 1])
            i += 2
        elif ch == "`":
            fence = "```" if src.startswith("```", i) else "`"
            got = _mdv2_until(src, i + len(fence), fence)
            if got is None:
                kind = "Pre" if fence == "```" else "Code"
                at = _byte_at(src, i)
                raise _ParseError(f"Can't find end of {kind} entity at byte offset {at}")
            content, i = got
            ent: JSON = {"type": "code" if fence == "`" else "pre"}
            if fence == "```" and "\n" in content:
                first, rest = content.split("\n", 1)
                if not first or not any(c.isspace() for c in first):
                    content = rest
                    if first:
                        ent["language"] = first
            if content:
                ents.append({**ent, "offset": pos, "length": len(content)})
            out.extend(content)
        elif ch == "[" or src.startswith("![", i):
            mark = "[" if ch == "[" else "!["
            stack.append((mark, pos, _byte_at(src, i)))
            i += len(mark)
        elif ch == "]" and stack and stack[-1][0] in ("[", "!["):
            mark, start, _ = stack.pop()
            i += 1
            url = ""
            if src.startswith("(", i):
                got = _mdv2_until(src, i + 1, ")")
                if got is None:
                    raise _ParseError(f"Can't find end of a URL at byte offset {_byte_at(src, i)}")
                url, i = got
            if url and pos > start:
                ent = {"type": _MDV2_MARKS[mark][0], "offset": start, "length": pos - start}
                if mark == "![":
                    ent["custom_emoji_id"] = url.partition("id=")[2]
                else:
                    ent["url"] = url
                ents.append(ent)
        elif quote and quote[1] and src.startswith("||", i) and src[i + 2 : i + 3] in ("", "\n"):
            i += 2  # the expandable-blockquote end mark
        elif ch in "*_~" or src.startswith("||", i):
            mark = "__" if src.startswith("__", i) else "||" if src.startswith("||", i) else ch
            if mark == "__" and stack and stack[-1][0] == "_":
                mark = "_"
            if stack and stack[-1][0] == mark:
                _, start, _ = stack.pop()
                if pos > start:
                    kind = _MDV2_MARKS[mark][0]
                    ents.append({"type": kind, "offset": start, "length": pos - start})
            else:
                stack.append((mark, pos, _byte_at(src, i)))
            i += len(mark)
        elif ch in _MDV2_RESERVED:
            raise _ParseError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.append(ch)
            i += 1
    if stack:
        mark, _, at = stack[-1]
        raise _ParseError(f"Can't find end of {_MDV2_MARKS[mark][1]} entity at byte offset {at}")
    if quote is not None:
        _close_quote(ents, quote, len(out))
    return "".join(out), ents


def _close_quote(ents: list[JSON], quote: tuple[int, bool], end: int) -> None:
    if end > quote[0]:
        kind = "expandable_blockquote" if quote[1] else "blockquote"
        ents.append({"type": kind, "offset": quote[0], "length": end - quote[0]})


_MD_TYPES = {"_": "italic", "*": "bold", "`": "code", "```": "pre", "]": "text_link"}


def _parse_markdown(src: str) -> tuple[str, list[JSON]]:
    """Legacy parse_mode=Markdown: *bold* _italic_ `code` ```pre``` [text](url), no nesting."""
    out: list[str] = []
    ents: list[JSON] = []
    i = 0
    while i < len(src):
        ch, pos = src[i], len(out)
        if ch == "\\" and src[i + 1 : i + 2] in ("_", "*", "`", "["):
            out.append(src[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.append(ch)
            i += 1
            continue
        fence = "```" if src.startswith("```", i) else "]" if ch == "[" else ch
        start = i + (3 if fence == "```" else 1)
        end = src.find(fence, start)
        if end < 0:
            raise _ParseError(
                f"Can't find end of the entity starting at byte offset {_byte_at(src, i)}"
            )
        content, i = src[start:end], end + len(fence)
        ent: JSON = {"type": _MD_TYPES[fence]}
        if fence == "]":
            close = src.find(")", i) if src.startswith("(", i) else -1
            if close < 0:
                ent = {}  # "[text]" without a URL stays plain text
            else:
                ent["url"], i = src[i + 1 : close], close + 1
        elif fence == "```":
            first, newline, rest = content.partition("\n")
            if newline and " " not in first:
                content = rest
                if first:
                    ent["language"] = first
        if ent and content and ent.get("url", True):
            ents.append({**ent, "offset": pos, "length": len(content)})
        out.extend(content)
    return "".join(out), ents


_PARSERS: dict[str, Callable[[str], tuple[str, list[JSON]]]] = {
    "html": _parse_html,
    "markdownv2": _parse_markdown_v2,
    "markdown": _parse_markdown,
}
_AUTO_ENTITIES = (
    ("url", re.compile(r"\bhttps?://[^\s<>\"']*[^\s<>\"'.,;:!?)\]}]", re.I)),
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/@])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)
_STYLE_TYPES = frozenset(
    {"bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
     "expandable_blockquote"}
)  # fmt: skip
_WHITESPACE = " \t\n\r\x0b\x0c"


def _auto_entities(text: str, existing: list[JSON]) -> list[JSON]:
    """Entities Telegram detects by itself: links, /commands, @mentions, #hashtags."""
    taken = [
        (e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] not in _STYLE_TYPES
    ]
    found: list[JSON] = []
    for kind, pattern in _AUTO_ENTITIES:
        for m in pattern.finditer(text):
            start = _u16(text[: m.start()])
            end = start + _u16(m.group())
            if not any(start < b and a < end for a, b in taken):
                taken.append((start, end))
                found.append({"type": kind, "offset": start, "length": end - start})
    return found


def _format_text(raw: str, parse_mode: Any, entities: Any) -> tuple[str, list[JSON]]:
    """Text + parse_mode/entities -> (text as stored, entities in UTF-16 units), like Telegram."""
    if entities:
        if not isinstance(entities, list) or not all(
            isinstance(e, dict) and isinstance(e.get("type"), str)
            and isinstance(e.get("offset"), int) and isinstance(e.get("length"), int)
            for e in entities
        ):  # fmt: skip
            raise _bad("can't parse entities JSON object")
        text, ents = raw, [dict(e) for e in entities]
    elif parse_mode:
        parser = _PARSERS.get(str(parse_mode).lower())
        if parser is None:
            raise _bad("unsupported parse_mode")
        try:
            text, char_ents = parser(raw)
        except _ParseError as exc:
            raise _bad(f"can't parse entities: {exc}") from None
        ents = [
            {**e, "offset": _u16(text[: e["offset"]]),
             "length": _u16(text[e["offset"] : e["offset"] + e["length"]])}
            for e in char_ents
        ]  # fmt: skip
    else:
        text, ents = raw, []
    stripped = text.strip(_WHITESPACE)  # Telegram trims; entities shift and get clipped
    lead, total = _u16(text[: len(text) - len(text.lstrip(_WHITESPACE))]), _u16(stripped)
    trimmed: list[JSON] = []
    for e in ents:
        start = min(max(e["offset"] - lead, 0), total)
        end = min(max(e["offset"] + e["length"] - lead, 0), total)
        if end > start:
            trimmed.append({**e, "offset": start, "length": end - start})
    trimmed += _auto_entities(stripped, trimmed)
    trimmed.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, trimmed


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not any(key in button for key in _BUTTON_ACTIONS):
        raise _bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = button.get("callback_data")
    if "callback_data" in button and (
        not isinstance(data, str) or not 1 <= len(data.encode()) <= 64
    ):
        raise _bad("BUTTON_DATA_INVALID")
    url = button.get("url")
    if "url" in button and not (isinstance(url, str) and _URL_BUTTON_RE.match(url)):
        raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


# --------------------------------------------------------------------------- images


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, JPEG, GIF or WebP image, None if it is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8 ":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X":
            w, h = int.from_bytes(data[24:27], "little"), int.from_bytes(data[27:30], "little")
            return w + 1, h + 1
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01, 0xFF) or 0xD0 <= marker <= 0xD7:
                i += 1 if marker == 0xFF else 2
                continue
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return w, h
            i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return None


# --------------------------------------------------------------------------- the fake


class FakeTelegram:
    """Fake Bot API server::

        async with FakeTelegram(token="123:abc") as tg:
            api = TelegramAPIServer.from_base(tg.base_url)  # all the bot is told
            bot = Bot(tg.token, session=AiohttpSession(api=api))
            await tg.send_text(42, "/start")  # the owner writes to the bot
            msg = await tg.wait_message(42, "Welcome")  # the bot's answer, in its current state
            await tg.press(42, msg, "menu:open")  # the owner presses an inline button

    The user side: ``add_user``, ``send_text``, ``send_photo``, ``send_document``, ``press``,
    ``push_update``, ``redeliver``, ``block``/``unblock``.  Inspection: ``calls``, ``calls_to``,
    ``wait_for``, ``bot_messages``, ``wait_message``, ``message_history``, ``chat_history``,
    ``answered_callbacks``, ``commands``, ``files``/``file_bytes``, ``downloads``,
    ``pending_updates``, ``dropped_updates``, ``webhook_deliveries``.  Faults: ``fail_next``.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        bot_username: str = "tune_your_shop_bot",
        bot_name: str = "Tune Your Shop",
        first_update_id: int | None = None,
        webhook_timeout: float = 10.0,
    ) -> None:
        if not _TOKEN_RE.match(token):
            raise ValueError(f"not a bot token (digits:chars): {token!r}")
        self.token = token
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]), "is_bot": True, "first_name": bot_name,
            "username": bot_username,
        }  # fmt: skip
        self.webhook_timeout = webhook_timeout
        # What tests inspect.
        self.calls: list[ApiCall] = []
        self.answered_callbacks: dict[str, JSON] = {}  # callback query id -> answer params
        self.files: dict[str, StoredFile] = {}  # file_id -> file
        self.downloads: list[str] = []  # file paths the bot downloaded
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.dropped_updates: list[JSON] = []  # not in allowed_updates, never delivered
        # Internal state.
        self._users: dict[int, JSON] = {}
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], _Record] = {}
        self._last_message_id: dict[int, int] = {}
        # Unique per fake in a test run: the bot de-duplicates update ids per bot id in Redis,
        # and every fake bot has the same id.
        self._next_update_id = first_update_id or _fresh_update_base()
        self._queue: list[JSON] = []  # unconfirmed updates for getUpdates
        self._redeliveries: list[JSON] = []  # forced re-deliveries, ignore the offset
        self._allowed_updates: list[str] | None = None  # None: the default set
        self._poll_generation = 0
        self._poll_terminator = "other getUpdates request"
        self._webhook: _Webhook | None = None
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._callbacks: dict[str, JSON] = {}
        self._faults: list[tuple[str, _ApiError]] = []
        self._photo_sets: dict[str, list[JSON]] = {}  # any size's file_id -> all sizes
        self._files_by_path: dict[str, StoredFile] = {}
        self._changed = asyncio.Event()
        self._delivery_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._port: int | None = None
        self._methods: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            "getMe": self._get_me, "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook, "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info, "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "deleteMessage": self._delete_message, "sendPhoto": self._send_photo,
            "sendDocument": self._send_document, "getFile": self._get_file,
            "setMyCommands": self._set_my_commands, "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands, "sendChatAction": self._send_chat_action,
        }  # fmt: skip
        self._canonical = {name.lower(): name for name in self._methods}

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_download)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner, self._closing = runner, False
        self._http = aiohttp.ClientSession()

    async def stop(self) -> None:
        self._closing = True
        self._notify()  # long polls return at once
        if self._background:
            _, pending = await asyncio.wait(self._background, timeout=1)
            for task in pending:
                task.cancel()
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self._port}"

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_method(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            method = self._canonical.get(name.lower(), name)
            self.calls.append(
                ApiCall(method, {}, time.monotonic(), status=401, response=_UNAUTHORIZED)
            )
            return web.json_response(_UNAUTHORIZED, status=401)
        if not name:
            return web.json_response(_NOT_FOUND, status=404)
        try:
            raw, files = await self._read_request(request)
        except _ApiError as exc:
            return web.json_response(exc.body(), status=exc.code)
        status, body = await self._execute(name, raw, files, via="http")
        return web.json_response(body, status=status)

    async def _handle_download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(_UNAUTHORIZED, status=401)
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response(_NOT_FOUND, status=404)
        self.downloads.append(stored.file_path)
        self._notify()
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.data, content_type=content_type)

    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return web.json_response(_NOT_FOUND, status=404)

    @staticmethod
    async def _read_request(request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
        """Query string + a JSON, urlencoded or multipart body -> (raw fields, uploads)."""
        raw: JSON = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if not request.can_read_body:
            return raw, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _bad("can't parse JSON object")
            raw.update(body)
            return raw, files
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(value.filename, value.content_type, value.file.read())
            elif isinstance(value, bytes | bytearray):
                raw[key] = bytes(value).decode("utf-8", "replace")
            else:
                raw[key] = value
        return raw, files

    async def _execute(
        self, name: str, raw: JSON, files: dict[str, UploadedFile], via: str
    ) -> tuple[int, JSON]:
        method = self._canonical.get(name.lower(), name)
        call = ApiCall(method, dict(raw), time.monotonic(), via=via, known=method in self._methods)
        self.calls.append(call)
        self._notify()
        try:
            call.params = self._decode(raw, files)
            for index, (target, error) in enumerate(self._faults):
                if target.lower() == method.lower():
                    del self._faults[index]
                    raise error
            handler = self._methods.get(method)
            result = await handler(call.params) if handler is not None else True
            if isinstance(result, _Described):
                body = {"ok": True, "result": result.result, "description": result.description}
            else:
                body = {"ok": True, "result": copy.deepcopy(result)}
            status = 200
        except _ApiError as exc:
            status, body = exc.code, exc.body()
        call.status, call.response = status, body
        self._notify()
        return status, body

    @staticmethod
    def _decode(raw: JSON, files: dict[str, UploadedFile]) -> JSON:
        params: JSON = {}
        for key, value in raw.items():
            if not isinstance(value, str):
                params[key] = value
            elif key in _FILE_FIELDS and value.startswith("attach://"):
                upload = files.get(value.removeprefix("attach://"))
                if upload is None:
                    raise _bad(f"file {value} not found in the request")
                params[key] = upload
            elif key in _JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    what = "reply keyboard markup" if key == "reply_markup" else key
                    raise _bad(f"can't parse {what} JSON object") from None
            elif key in _INT_FIELDS:
                try:
                    params[key] = int(value)
                except ValueError:
                    if key != "chat_id":
                        raise _bad(f"invalid {key} specified") from None
                    params[key] = value  # "@username"
            elif key in _BOOL_FIELDS:
                params[key] = value.strip().lower() in ("true", "1")
            else:
                params[key] = value
        for key, upload in files.items():  # a file sent directly in its own field
            if key in _FILE_FIELDS and key not in params:
                params[key] = upload
        return params

    # ------------------------------------------------------------------ updates & webhook

    async def _get_me(self, p: JSON) -> JSON:
        return {
            **self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False, "can_connect_to_business": False,
            "has_main_web_app": False,
        }  # fmt: skip

    async def _get_updates(self, p: JSON) -> list[JSON]:
        if self._webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset, limit, timeout = p.get("offset", 0), p.get("limit", 100), p.get("timeout", 0)
        if not all(isinstance(v, int) for v in (offset, limit, timeout)):
            raise _bad("wrong parameter type in getUpdates")
        limit = min(max(limit, 1), 100)
        self._set_allowed(p.get("allowed_updates"))
        if offset > 0:  # confirms every update below the offset
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif offset < 0:  # the last -offset updates; all earlier ones are forgotten
            self._queue = self._queue[offset:]
        self._poll_generation += 1
        generation, self._poll_terminator = self._poll_generation, "other getUpdates request"
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0)
        while True:
            if generation != self._poll_generation:
                raise _ApiError(
                    409,
                    f"Conflict: terminated by {self._poll_terminator}; "
                    "make sure that only one bot instance is running",
                )
            batch = self._redeliveries[:limit]
            del self._redeliveries[: len(batch)]
            batch += self._queue[: limit - len(batch)]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                return copy.deepcopy(batch)
            await self._wait_change(remaining)

    def _set_allowed(self, value: Any) -> None:
        if value is None:
            return  # "If not specified, the previous setting will be used."
        if not isinstance(value, list):
            raise _bad("can't parse allowed_updates JSON object")
        self._allowed_updates = [str(v) for v in value] or None

    def _is_allowed(self, update: JSON) -> bool:
        kind = next(k for k in update if k != "update_id")
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed_updates

    async def _set_webhook(self, p: JSON) -> _Described:
        url = p.get("url") or ""
        if not url:
            return await self._delete_webhook(p)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:  # real one: https only
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        self._set_allowed(p.get("allowed_updates"))
        if p.get("drop_pending_updates"):
            self._queue.clear()
            self._redeliveries.clear()
        already = self._webhook is not None and self._webhook.url == url
        self._webhook = _Webhook(url, secret, p.get("max_connections") or 40)
        self._poll_generation += 1  # a pending getUpdates is terminated
        self._poll_terminator = "setWebhook request"
        self._notify()
        if self._queue or self._redeliveries:
            self._spawn(self._flush_to_webhook())
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, p: JSON) -> _Described:
        if p.get("drop_pending_updates"):
            self._queue.clear()
            self._redeliveries.clear()
        was_set, self._webhook = self._webhook is not None, None
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _get_webhook_info(self, p: JSON) -> JSON:
        info: JSON = {
            "url": "", "has_custom_certificate": False,
            "pending_update_count": len(self._queue) + len(self._redeliveries),
        }  # fmt: skip
        hook = self._webhook
        if hook is not None:
            info.update(url=hook.url, ip_address="127.0.0.1", max_connections=hook.max_connections)
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
            if self._allowed_updates is not None:
                info["allowed_updates"] = list(self._allowed_updates)
        return info

    async def _flush_to_webhook(self) -> None:
        while self._webhook is not None and (self._redeliveries or self._queue):
            source = self._redeliveries if self._redeliveries else self._queue
            await self._deliver(source.pop(0))

    async def _deliver(self, update: JSON) -> WebhookDelivery | None:
        """POST one update to the webhook; run a method the bot returns in its answer."""
        async with self._delivery_lock:
            hook = self._webhook
            if hook is None or self._http is None:  # webhook removed meanwhile: queue it
                self._queue.append(update)
                self._notify()
                return None
            headers = {"Content-Type": "application/json"}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            delivery = WebhookDelivery(copy.deepcopy(update), hook.url, dict(headers))
            reply: tuple[str, JSON, dict[str, UploadedFile]] | None = None
            try:
                async with self._http.post(
                    hook.url,
                    data=json.dumps(update, ensure_ascii=False).encode(),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                ) as resp:
                    delivery.status = resp.status
                    if 200 <= resp.status < 300:
                        reply = await self._read_webhook_reply(resp)
                    else:
                        why = f"{resp.status} {resp.reason}"
                        delivery.error = f"Wrong response from the webhook: {why}"
            except TimeoutError:
                delivery.error = "Read timeout expired"
            except aiohttp.ClientConnectorError:
                delivery.error = "Connection refused"
            except aiohttp.ClientError as exc:
                delivery.error = f"{type(exc).__name__}: {exc}"
            if delivery.error:
                hook.last_error_date, hook.last_error_message = int(time.time()), delivery.error
            self.webhook_deliveries.append(delivery)
            self._notify()
        if reply is not None:
            delivery.reply_method = reply[0]
            await self._execute(*reply, via="webhook-reply")
        return delivery

    @staticmethod
    async def _read_webhook_reply(
        resp: aiohttp.ClientResponse,
    ) -> tuple[str, JSON, dict[str, UploadedFile]] | None:
        raw: JSON = {}
        files: dict[str, UploadedFile] = {}
        if resp.content_type == "application/json":
            with contextlib.suppress(ValueError, aiohttp.ContentTypeError):
                body = await resp.json()
                raw = body if isinstance(body, dict) else {}
        elif resp.content_type == "application/x-www-form-urlencoded":
            raw = dict(parse_qsl(await resp.text()))
        elif resp.content_type == "multipart/form-data":
            reader = aiohttp.MultipartReader(resp.headers, resp.content)
            while (part := await reader.next()) is not None:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                data = bytes(await part.read())
                if part.filename:
                    ctype = part.headers.get("Content-Type", "application/octet-stream")
                    files[part.name] = UploadedFile(part.filename, ctype, data)
                else:
                    raw[part.name] = data.decode("utf-8", "replace")
        method = raw.pop("method", None)
        return (method, raw, files) if isinstance(method, str) and method else None

    # ------------------------------------------------------------------ messages

    def _target_chat(self, p: JSON) -> int:
        chat_id = p.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if not isinstance(chat_id, int) or chat_id not in self._users:
            raise _bad("chat not found")
        if chat_id in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _chat_json(self, user_id: int) -> JSON:
        user = self._users[user_id]
        chat = {"id": user_id, "first_name": user["first_name"]}
        chat.update({k: user[k] for k in ("last_name", "username") if k in user})
        return {**chat, "type": "private"}

    def _bot_sender(self) -> JSON:
        return dict(self.bot_user)

    def _new_message(self, chat: int, sender: JSON, p: JSON | None = None) -> JSON:
        reply = self._replied_message(chat, p) if p is not None else None
        self._last_message_id[chat] = self._last_message_id.get(chat, 0) + 1
        msg: JSON = {
            "message_id": self._last_message_id[chat], "from": sender,
            "chat": self._chat_json(chat), "date": int(time.time()),
        }  # fmt: skip
        if reply is not None:
            msg["reply_to_message"] = reply
        return msg

    def _replied_message(self, chat: int, p: JSON) -> JSON | None:
        params = p.get("reply_parameters") if isinstance(p.get("reply_parameters"), dict) else {}
        message_id = params.get("message_id", p.get("reply_to_message_id"))
        if message_id is None:
            return None
        rec = self._messages.get((chat, message_id))
        if rec is None or rec.deleted:
            if params.get("allow_sending_without_reply") or p.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        replied = copy.deepcopy(rec.data)
        replied.pop("reply_to_message", None)
        return replied

    def _store(self, msg: JSON, *, from_bot: bool, markup: JSON | None = None) -> JSON:
        if markup is not None:
            msg["reply_markup"] = markup
        self._messages[(msg["chat"]["id"], msg["message_id"])] = _Record(msg, from_bot)
        self._notify()
        return copy.deepcopy(msg)

    @staticmethod
    def _text(
        p: JSON, key: str, entities_key: str, *, limit: int, too_long: str, empty: str | None
    ) -> tuple[str, list[JSON]]:
        raw = p.get(key)
        if raw is None or raw == "":
            if empty:
                raise _bad(empty)
            return "", []
        text, ents = _format_text(str(raw), p.get("parse_mode"), p.get(entities_key))
        if empty and not text:
            raise _bad(empty)
        if _u16(text) > limit:
            raise _bad(too_long)
        return text, ents

    @staticmethod
    def _reply_markup(p: JSON, *, inline_only: bool = False) -> JSON | None:
        """Validated InlineKeyboardMarkup, or None (reply keyboards are not part of Message)."""
        markup = p.get("reply_markup")
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
            for row in rows:
                for button in row:
                    _check_button(button)
            rows = [row for row in rows if row]
            return {"inline_keyboard": rows} if rows else None
        reply_kinds = ("keyboard", "remove_keyboard", "force_reply")
        if inline_only or not any(k in markup for k in reply_kinds):
            raise _bad("can't parse reply keyboard markup JSON object")
        return None

    def _add_caption(self, msg: JSON, p: JSON) -> None:
        caption, ents = self._text(
            p, "caption", "caption_entities", limit=_CAPTION_LIMIT,
            too_long="message caption is too long", empty=None,
        )  # fmt: skip
        if caption:
            msg["caption"] = caption
        if ents:
            msg["caption_entities"] = ents

    async def _send_message(self, p: JSON) -> JSON:
        chat = self._target_chat(p)
        text, ents = self._text(
            p, "text", "entities", limit=_TEXT_LIMIT, too_long="message is too long",
            empty="message text is empty",
        )  # fmt: skip
        markup = self._reply_markup(p)
        msg = self._new_message(chat, self._bot_sender(), p)
        msg["text"] = text
        if ents:
            msg["entities"] = ents
        if isinstance(p.get("link_preview_options"), dict) and p["link_preview_options"]:
            msg["link_preview_options"] = p["link_preview_options"]
        return self._store(msg, from_bot=True, markup=markup)

    def _editable(self, p: JSON) -> _Record:
        if p.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")  # inline-mode messages are not simulated
        if p.get("chat_id") is None or not isinstance(p.get("message_id"), int):
            raise _bad("message identifier is not specified")
        rec = self._messages.get((self._target_chat(p), p["message_id"]))
        if rec is None or rec.deleted:
            raise _bad("message to edit not found")
        if not rec.from_bot:
            raise _bad("message can't be edited")
        return rec

    def _apply_edit(self, rec: _Record, changes: JSON) -> JSON:
        if {key: rec.data.get(key) for key in changes} == changes:
            raise _bad(_NOT_MODIFIED)
        rec.history.append(copy.deepcopy(rec.data))
        for key, value in changes.items():
            if value is None:
                rec.data.pop(key, None)
            else:
                rec.data[key] = value
        rec.data["edit_date"] = int(time.time())
        if "reply_markup" in rec.data:  # keep it last, like Telegram
            rec.data["reply_markup"] = rec.data.pop("reply_markup")
        self._notify()
        return copy.deepcopy(rec.data)

    async def _edit_message_text(self, p: JSON) -> JSON:
        rec = self._editable(p)
        text, ents = self._text(
            p, "text", "entities", limit=_TEXT_LIMIT, too_long="MESSAGE_TOO_LONG",
            empty="message text is empty",
        )  # fmt: skip
        markup = self._reply_markup(p, inline_only=True)  # omitted: the keyboard is removed
        if "text" not in rec.data:
            raise _bad("there is no text in the message to edit")
        changes = {"text": text, "entities": ents or None, "reply_markup": markup}
        return self._apply_edit(rec, changes)

    async def _edit_message_caption(self, p: JSON) -> JSON:
        rec = self._editable(p)
        probe: JSON = {}
        self._add_caption(probe, p)
        markup = self._reply_markup(p, inline_only=True)
        if "text" in rec.data:
            raise _bad("there is no caption in the message to edit")
        changes = {
            "caption": probe.get("caption"), "caption_entities": probe.get("caption_entities"),
            "reply_markup": markup,
        }  # fmt: skip
        return self._apply_edit(rec, changes)

    async def _edit_message_reply_markup(self, p: JSON) -> JSON:
        rec = self._editable(p)
        return self._apply_edit(rec, {"reply_markup": self._reply_markup(p, inline_only=True)})

    async def _delete_message(self, p: JSON) -> bool:
        rec = self._messages.get((self._target_chat(p), p.get("message_id") or 0))
        if rec is None or rec.deleted:
            raise _bad("message to delete not found")
        rec.deleted = True
        self._notify()
        return True

    async def _answer_callback_query(self, p: JSON) -> bool:
        query_id = p.get("callback_query_id")
        if query_id not in self._callbacks or query_id in self.answered_callbacks:
            raise _bad(_QUERY_TOO_OLD)
        if len(str(p.get("text") or "")) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        keys = ("text", "show_alert", "url", "cache_time")
        self.answered_callbacks[query_id] = {k: p[k] for k in keys if k in p}
        return True

    async def _send_chat_action(self, p: JSON) -> bool:
        self._target_chat(p)
        if p.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    # ------------------------------------------------------------------ files

    def _store_file(
        self, data: bytes, kind: str, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        number = len(self.files) + 1
        if kind == "photo":
            file_path, prefix, unique = f"photos/file_{number}.jpg", "AgACAgIAAxkBAAI", "AQAD"
        else:
            suffix = PurePosixPath(file_name or "").suffix
            file_path = f"documents/file_{number}{suffix}"
            prefix, unique = "BQACAgIAAxkBAAI", "AgAD"
        stored = StoredFile(
            prefix + secrets.token_urlsafe(36), unique + secrets.token_urlsafe(9), kind,
            data, file_path, file_name, mime_type,
        )  # fmt: skip
        self.files[stored.file_id] = stored
        self._files_by_path[file_path] = stored
        return stored

    def _store_photo(self, data: bytes, width: int, height: int) -> list[JSON]:
        """PhotoSize list like Telegram's (thumbnails first, largest last)."""
        longest = max(width, height)
        dims = [
            (max(1, round(width * side / longest)), max(1, round(height * side / longest)))
            for side in (90, 320, 800)
            if longest > side
        ]
        sizes = []
        for w, h in [*dims, (width, height)]:
            stored = self._store_file(data, "photo")
            sizes.append({
                "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(data), "width": w, "height": h,
            })  # fmt: skip
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return copy.deepcopy(sizes)

    @staticmethod
    def _document_json(stored: StoredFile) -> JSON:
        return {
            "file_name": stored.file_name, "mime_type": stored.mime_type,
            "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
        }  # fmt: skip

    async def _fetch_url(self, url: str) -> UploadedFile:
        if not url.startswith(("http://", "https://")) or self._http is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        try:
            async with self._http.get(url, timeout=aiohttp.ClientTimeout(total=10)) as resp:
                if resp.status != 200:
                    raise _bad("failed to get HTTP URL content")
                data, ctype = await resp.read(), resp.content_type
        except (aiohttp.ClientError, TimeoutError):
            raise _bad("failed to get HTTP URL content") from None
        return UploadedFile(PurePosixPath(urlsplit(url).path).name or "file", ctype, data)

    async def _send_photo(self, p: JSON) -> JSON:
        chat = self._target_chat(p)
        msg_caption: JSON = {}
        self._add_caption(msg_caption, p)
        markup = self._reply_markup(p)
        photo = p.get("photo")
        if photo is None or photo == "":
            raise _bad("there is no photo in the request")
        if isinstance(photo, str) and photo in self._photo_sets:
            sizes = copy.deepcopy(self._photo_sets[photo])
        elif isinstance(photo, str) and photo in self.files:
            raise _bad("type of file mismatch")
        else:
            upload = photo
            if not isinstance(upload, UploadedFile):
                upload = await self._fetch_url(str(photo))
            size = _image_size(upload.data)
            if size is None:
                if photo is not upload:  # fetched from a URL
                    raise _bad("wrong type of the web page content")
                raise _bad("IMAGE_PROCESS_FAILED")
            if sum(size) > 10_000 or max(size) > 20 * max(min(size), 1):
                raise _bad("PHOTO_INVALID_DIMENSIONS")
            sizes = self._store_photo(upload.data, *size)
        msg = self._new_message(chat, self._bot_sender(), p)
        msg["photo"] = sizes
        return self._store({**msg, **msg_caption}, from_bot=True, markup=markup)

    async def _send_document(self, p: JSON) -> JSON:
        chat = self._target_chat(p)
        msg_caption: JSON = {}
        self._add_caption(msg_caption, p)
        markup = self._reply_markup(p)
        document = p.get("document")
        if document is None or document == "":
            raise _bad("there is no document in the request")
        if isinstance(document, str) and document in self.files:
            stored = self.files[document]
            if stored.kind != "document":
                raise _bad("type of file mismatch")
        else:
            upload = document
            if not isinstance(upload, UploadedFile):
                upload = await self._fetch_url(str(document))
            if not upload.data:
                raise _bad("file must be non-empty")
            stored = self._store_file(upload.data, "document", upload.filename, _mime(upload))
        msg = self._new_message(chat, self._bot_sender(), p)
        msg["document"] = self._document_json(stored)
        return self._store({**msg, **msg_caption}, from_bot=True, markup=markup)

    async def _get_file(self, p: JSON) -> JSON:
        stored = self.files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > _DOWNLOAD_LIMIT:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data), "file_path": stored.file_path,
        }  # fmt: skip

    # ------------------------------------------------------------------ commands

    @staticmethod
    def _commands_key(p: JSON) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind not in _COMMAND_SCOPES:
            raise _bad("can't parse BotCommandScope JSON object")
        if kind in ("chat", "chat_administrators"):
            kind = f"{kind}:{scope.get('chat_id')}"
        elif kind == "chat_member":
            kind = f"chat_member:{scope.get('chat_id')}:{scope.get('user_id')}"
        return kind, str(p.get("language_code") or "")

    async def _set_my_commands(self, p: JSON) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise _bad('parameter "commands" is required')
        if len(commands) > 100:
            raise _bad("too many commands")
        clean = []
        for cmd in commands:
            name = cmd.get("command") if isinstance(cmd, dict) else None
            description = cmd.get("description") if isinstance(cmd, dict) else None
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = self._commands_key(p)
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, p: JSON) -> list[JSON]:
        return copy.deepcopy(self._commands.get(self._commands_key(p), []))

    async def _delete_my_commands(self, p: JSON) -> bool:
        self._commands.pop(self._commands_key(p), None)
        return True

    # ------------------------------------------------------------------ the user's side

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        language_code: str | None = "en",
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSON:
        """Register (or update) a user who has started the bot; returns the User object."""
        old = self._users.get(user_id, {})
        user: JSON = {
            "id": user_id, "is_bot": False,
            "first_name": first_name or old.get("first_name") or f"Owner{user_id}",
        }  # fmt: skip
        for key, value in (("last_name", last_name), ("username", username)):
            if value or old.get(key):
                user[key] = value or old[key]
        if language_code or old.get("language_code"):
            user["language_code"] = language_code or old["language_code"]
        self._users[user_id] = user
        return dict(user)

    def _acting_user(self, user_id: int, first_name: str | None, language_code: str | None) -> JSON:
        if user_id in self._blocked:
            raise RuntimeError(f"user {user_id} has blocked the bot; call unblock() first")
        return self.add_user(user_id, first_name, language_code=language_code)

    async def _user_sends(self, user: JSON, content: JSON, reply_to: int | None) -> JSON:
        replied = None
        if reply_to is not None:
            rec = self._messages.get((user["id"], reply_to))
            if rec is None or rec.deleted:
                raise ValueError(f"no message {reply_to} in chat {user['id']}")
            replied = copy.deepcopy(rec.data)
            replied.pop("reply_to_message", None)
        msg = self._new_message(user["id"], user)
        if replied is not None:
            msg["reply_to_message"] = replied
        self._store({**msg, **content}, from_bot=False)
        return await self._emit(self._new_update("message", copy.deepcopy({**msg, **content})))

    async def send_text(
        self,
        user_id: int,
        text: str,
        language_code: str = "en",
        first_name: str | None = None,
        *,
        reply_to: int | None = None,
    ) -> JSON:
        """The user sends a text message (commands get a bot_command entity). -> the Update."""
        user = self._acting_user(user_id, first_name, language_code)
        content: JSON = {"text": text}
        if ents := _auto_entities(text, []):
            content["entities"] = sorted(ents, key=lambda e: e["offset"])
        return await self._user_sends(user, content, reply_to)

    async def send_photo(
        self,
        user_id: int,
        image_bytes: bytes,
        caption: str | None = None,
        *,
        language_code: str = "en",
        first_name: str | None = None,
    ) -> JSON:
        """The user sends a photo (PNG/JPEG/GIF/WebP bytes); the bot can getFile + download it."""
        size = _image_size(image_bytes)
        if size is None:
            raise ValueError("send_photo needs real image bytes (PNG, JPEG, GIF or WebP)")
        user = self._acting_user(user_id, first_name, language_code)
        content: JSON = {"photo": self._store_photo(image_bytes, *size)}
        if caption:
            content["caption"] = caption
            if ents := _auto_entities(caption, []):
                content["caption_entities"] = ents
        return await self._user_sends(user, content, None)

    async def send_document(
        self,
        user_id: int,
        data: bytes,
        filename: str,
        mime_type: str | None = None,
        *,
        caption: str | None = None,
        language_code: str = "en",
        first_name: str | None = None,
    ) -> JSON:
        """The user sends a file as a document. -> the Update."""
        user = self._acting_user(user_id, first_name, language_code)
        upload = UploadedFile(filename, mime_type or "application/octet-stream", data)
        stored = self._store_file(data, "document", filename, mime_type or _mime(upload))
        content: JSON = {"document": self._document_json(stored)}
        if caption:
            content["caption"] = caption
        return await self._user_sends(user, content, None)

    async def press(
        self, user_id: int, message: JSON | int, callback_data: str, *, stale_ok: bool = False
    ) -> str:
        """The user presses an inline button of a bot message. -> the callback query id.

        stale_ok: the button may be from an older rendering of the message (a double tap that
        lands after the bot already edited it, or a button from an old screen)."""
        chat = message["chat"]["id"] if isinstance(message, dict) else user_id
        message_id = message["message_id"] if isinstance(message, dict) else message
        rec = self._messages.get((chat, message_id))
        if rec is None or rec.deleted or not rec.from_bot:
            raise ValueError(f"no bot message {message_id} in chat {chat}")
        rows = rec.data.get("reply_markup", {}).get("inline_keyboard", [])
        datas = [b.get("callback_data") for row in rows for b in row]
        if callback_data not in datas and not stale_ok:
            raise ValueError(f"message {message_id} has no button {callback_data!r}; has {datas}")
        user = self._acting_user(user_id, None, None)
        query_id = str(10**18 + secrets.randbelow(9 * 10**18))
        query = {
            "id": query_id, "from": user, "message": copy.deepcopy(rec.data),
            "chat_instance": str(-(abs(hash(("chat_instance", chat))) % 10**19)),
            "data": callback_data,
        }  # fmt: skip
        self._callbacks[query_id] = query
        await self._emit(self._new_update("callback_query", query))
        return query_id

    async def push_update(self, kind: str, payload: JSON) -> JSON:
        """Deliver an arbitrary update (`kind` is an Update field, e.g. "my_chat_member")."""
        if kind not in UPDATE_TYPES:
            raise ValueError(f"unknown update type {kind!r}")
        return await self._emit(self._new_update(kind, copy.deepcopy(payload)))

    async def redeliver(self, update: JSON) -> None:
        """Deliver the very same update (same update_id) again, as Telegram does after a crash."""
        update = copy.deepcopy(update)
        if self._webhook is not None:
            await self._deliver(update)
        else:
            self._redeliveries.append(update)
            self._notify()

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to them get 403; a my_chat_member update is emitted."""
        if user_id not in self._blocked:
            self.add_user(user_id, language_code=None)
            self._blocked.add(user_id)
            self._emit_soon(self._member_update(user_id, "member", "kicked"))

    def unblock(self, user_id: int) -> None:
        if user_id in self._blocked:
            self._blocked.discard(user_id)
            self._emit_soon(self._member_update(user_id, "kicked", "member"))

    def fail_next(
        self,
        method: str,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        *,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` fail with this error (429: pass retry_after)."""
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                403: "Forbidden: bot was blocked by the user",
                500: "Internal Server Error",
            }.get(error_code, "Bad Request: injected failure")
        for _ in range(times):
            self._faults.append((method, _ApiError(error_code, description, retry_after)))

    def _member_update(self, user_id: int, old: str, new: str) -> JSON:
        def member(status: str) -> JSON:
            extra = {"until_date": 0} if status == "kicked" else {}
            return {"user": self._bot_sender(), "status": status, **extra}

        return self._new_update("my_chat_member", {
            "chat": self._chat_json(user_id), "from": dict(self._users[user_id]),
            "date": int(time.time()), "old_chat_member": member(old),
            "new_chat_member": member(new),
        })  # fmt: skip

    def _new_update(self, kind: str, payload: JSON) -> JSON:
        self._next_update_id += 1
        return {"update_id": self._next_update_id - 1, kind: payload}

    async def _emit(self, update: JSON) -> JSON:
        if not self._is_allowed(update):
            self.dropped_updates.append(update)
            self._notify()
        elif self._webhook is not None:
            await self._deliver(update)
        else:
            self._queue.append(update)
            self._notify()
        return copy.deepcopy(update)

    def _emit_soon(self, update: JSON) -> None:
        if self._webhook is not None and self._is_allowed(update):
            self._spawn(self._deliver(update))
        elif self._is_allowed(update):
            self._queue.append(update)
            self._notify()
        else:
            self.dropped_updates.append(update)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------------ inspection

    @property
    def commands(self) -> dict[tuple[str, str], list[JSON]]:
        """What setMyCommands stored: (scope, language_code) -> commands.  Scope is "default",
        "all_private_chats", ..., "chat:<id>" or "chat_member:<chat>:<user>"; language "" = all."""
        return copy.deepcopy(self._commands)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued for getUpdates and not yet confirmed by an offset."""
        return copy.deepcopy(self._redeliveries + self._queue)

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def bot_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[JSON]:
        """Current state (after edits) of the messages the bot sent into the chat, oldest first."""
        return [
            copy.deepcopy(rec.data)
            for (chat, _), rec in sorted(self._messages.items())
            if chat == chat_id and rec.from_bot and (include_deleted or not rec.deleted)
        ]

    def chat_history(self, chat_id: int) -> list[JSON]:
        """Every message (the user's and the bot's) still in the chat, oldest first."""
        return [
            copy.deepcopy(rec.data)
            for (chat, _), rec in sorted(self._messages.items())
            if chat == chat_id and not rec.deleted
        ]

    def message_history(self, chat_id: int, message_id: int) -> list[JSON]:
        """All versions of one message, the original first and the current one last."""
        rec = self._messages[(chat_id, message_id)]
        return copy.deepcopy([*rec.history, rec.data])

    def file_bytes(self, file_id: str) -> bytes:
        return self.files[file_id].data

    async def wait_for(
        self,
        predicate: Callable[[ApiCall], bool],
        timeout: float = 5,
        *,
        include_pending: bool = False,
    ) -> ApiCall:
        """The first recorded (already answered, unless include_pending) call matching."""

        def probe() -> ApiCall | None:
            done = (c for c in self.calls if include_pending or c.status is not None)
            return next((c for c in done if predicate(c)), None)

        return await self._wait(probe, timeout, "no matching API call")

    async def wait_message(
        self,
        chat_id: int,
        contains: str | None = None,
        timeout: float = 5,
        *,
        newer_than: int = 0,
    ) -> JSON:
        """The first bot message in the chat (message_id > newer_than) whose text or caption
        contains `contains`, in its current state; waits for it to be sent or edited."""

        def probe() -> JSON | None:
            for msg in self.bot_messages(chat_id):
                body = msg.get("text", msg.get("caption", ""))
                if msg["message_id"] > newer_than and (contains is None or contains in body):
                    return msg
            return None

        return await self._wait(probe, timeout, f"no bot message with {contains!r} in {chat_id}")

    async def _wait(self, probe: Callable[[], T | None], budget: float, what: str) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        while True:
            event = self._changed
            found = probe()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = ", ".join(f"{c.method}->{c.status}" for c in self.calls[-15:])
                raise AssertionError(f"{what} within {budget}s; last calls: [{recent}]")
            await self._wait_change(remaining, event)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, budget: float, event: asyncio.Event | None = None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for((event or self._changed).wait(), budget)


def _mime(upload: UploadedFile) -> str:
    """Telegram derives a document's MIME type from its file name, then from the content."""
    guessed = mimetypes.guess_type(upload.filename)[0]
    if guessed:
        return guessed
    if upload.content_type and upload.content_type != "application/octet-stream":
        return upload.content_type
    return "application/octet-stream"
