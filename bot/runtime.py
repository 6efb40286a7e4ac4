"""Wiring of one bot process: stores, Bot, Dispatcher, web app; `serve()` runs it to the end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import middlewares as mw
from bot.settings import Settings, TelegramMode
from bot.web import build_app
from core.db import make_engine, make_sessionmaker, upgrade
from core.events import EventLog
from core.texts import LANGUAGES, MENU_COMMANDS, t
from handlers import all_routers

log = logging.getLogger("tys")


class StartupError(Exception):
    """A clear one-line reason the bot cannot start."""


@dataclass
class Runtime:
    settings: Settings
    database_url: str
    redis_url: str
    mongodb_url: str
    engine: AsyncEngine = field(init=False)
    sessionmaker: async_sessionmaker[AsyncSession] = field(init=False)
    redis: Redis = field(init=False)
    events: EventLog = field(init=False)
    # Set by serve(): web routes (OAuth callback) and jobs send messages through it.
    bot: Bot | None = field(init=False, default=None)
    dispatcher: Dispatcher | None = field(init=False, default=None)
    # scheduler.runner.JobScheduler when jobs run in this process (None otherwise).
    scheduler: Any = field(init=False, default=None)

    async def connect(self) -> None:
        """Open the stores; PostgreSQL and Redis must answer, the event log may be down."""
        self.engine = make_engine(self.database_url)
        self.sessionmaker = make_sessionmaker(self.engine)
        try:
            async with asyncio.timeout(15):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception as exc:
            raise StartupError(f"cannot reach DATABASE_URL: {_reason(exc)}") from None
        self.redis = Redis.from_url(self.redis_url, socket_connect_timeout=5)
        try:
            async with asyncio.timeout(10):
                await self.redis.ping()
        except Exception as exc:
            raise StartupError(f"cannot reach REDIS_URL: {_reason(exc)}") from None
        outbox = self.settings.data_dir / "outbox" / "bot.sqlite"
        self.events = EventLog.from_url(self.mongodb_url, outbox)
        try:
            await self.events.ensure_indexes()
        except Exception as exc:
            log.warning("event store not reachable yet (%s); events wait in the outbox", exc)
        self.events.start()

    async def migrate(self) -> None:
        await upgrade(self.database_url)
        # Connections opened before the first migration created the vector extension lack
        # its codec; start the pool afresh.
        await self.engine.dispose()

    async def close(self) -> None:
        for closer in (
            getattr(getattr(self, "events", None), "close", None),
            getattr(getattr(self, "redis", None), "aclose", None),
            getattr(getattr(self, "engine", None), "dispose", None),
        ):
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()


def _reason(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text_}" if text_ else type(exc).__name__


# aiogram parses every Bot API answer as Response[<method's return type>]. pydantic keeps
# parametrised generics in a weak cache, so once a request is done the class is collected and
# the next request rebuilds it (schema + validator, ~0.3-0.5 ms; ~18% of the bot's CPU in
# `python -m tests.bench_bot`). Holding one reference per return type makes it a cache hit.
_RESPONSE_TYPES: list[type] = []


def _keep_response_types() -> None:
    import aiogram.methods
    from aiogram.methods.base import Response, TelegramMethod

    if _RESPONSE_TYPES:
        return
    for name in aiogram.methods.__all__:
        cls = getattr(aiogram.methods, name, None)
        if isinstance(cls, type) and issubclass(cls, TelegramMethod) and cls is not TelegramMethod:
            _RESPONSE_TYPES.append(Response[cls.__returning__])


def make_bot(settings: Settings) -> Bot:
    assert settings.telegram_bot_token
    _keep_response_types()
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return Bot(
        settings.telegram_bot_token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def make_dispatcher(rt: Runtime) -> Dispatcher:
    s = rt.settings
    dp = Dispatcher(storage=RedisStorage(rt.redis), events=rt.events, runtime=rt)
    dp["spotify_configured"] = bool(s.spotify_client_id)
    dp.update.outer_middleware(mw.ErrorMiddleware(s.default_language))
    dp.update.outer_middleware(mw.DedupMiddleware(rt.redis, s.update_dedup_ttl_s))
    dp.update.outer_middleware(
        mw.ThrottlingMiddleware(rt.redis, s.throttle_rate, s.throttle_window_s, s.default_language)
    )
    dp.update.outer_middleware(mw.SerialPerOwnerMiddleware())
    dp.update.outer_middleware(mw.DbSessionMiddleware(rt.sessionmaker))
    dp.update.outer_middleware(mw.OwnerMiddleware(s.default_language))
    timing = mw.TimingMiddleware()
    dp.message.middleware(timing)
    dp.callback_query.middleware(timing)
    dp.include_routers(*all_routers())
    return dp


async def set_commands(bot: Bot) -> None:
    for lang in LANGUAGES:
        commands = [BotCommand(command=c, description=t(f"cmd_{c}", lang)) for c in MENU_COMMANDS]
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=lang)
    # Users whose Telegram language is neither gets English.
    await bot.set_my_commands(
        [BotCommand(command=c, description=t(f"cmd_{c}", "en")) for c in MENU_COMMANDS],
        scope=BotCommandScopeDefault(),
    )


async def serve(rt: Runtime, on_startup_hooks: list | None = None) -> None:
    """Run the web app and the bot (polling or webhook) until SIGINT/SIGTERM."""
    s = rt.settings
    bot = make_bot(s)
    rt.bot = bot
    dp = make_dispatcher(rt)
    rt.dispatcher = dp
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    app = build_app(rt)
    try:
        try:
            me = await bot.get_me()
        except TelegramUnauthorizedError:
            raise StartupError("Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized)") from None
        except Exception as exc:
            raise StartupError(
                f"cannot reach the Bot API at {s.telegram_api_base}: {_reason(exc)}"
            ) from None
        await set_commands(bot)
        if s.admin_ids:
            from handlers.admin import set_admin_commands

            await set_admin_commands(bot, s.admin_ids, s.default_language)
        if s.telegram_mode is TelegramMode.webhook:
            secret = s.webhook_secret or _derived_secret(s)
            SimpleRequestHandler(dp, bot, secret_token=secret).register(app, path=s.webhook_path)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, s.web_host, s.web_port)
        try:
            await site.start()
        except OSError as exc:
            raise StartupError(
                f"WEB_PORT {s.web_port} on {s.web_host} is not available ({exc.strerror})"
            ) from None
        for hook in on_startup_hooks or []:
            await hook()
        try:
            if s.telegram_mode is TelegramMode.webhook:
                await bot.set_webhook(
                    f"{s.base_url}{s.webhook_path}",
                    secret_token=secret,
                    allowed_updates=dp.resolve_used_update_types(),
                )
                log.info("@%s receiving updates by webhook at %s", me.username, s.base_url)
                await dp.emit_startup(bot=bot)
                await stop.wait()
                await dp.emit_shutdown(bot=bot)
            else:
                await bot.delete_webhook(drop_pending_updates=False)
                log.info("@%s polling %s", me.username, s.telegram_api_base)
                polling = asyncio.create_task(
                    dp.start_polling(bot, handle_signals=False, close_bot_session=False)
                )
                stopper = asyncio.create_task(stop.wait())
                done, _ = await asyncio.wait(
                    {polling, stopper}, return_when=asyncio.FIRST_COMPLETED
                )
                if polling not in done:
                    await dp.stop_polling()
                with contextlib.suppress(Exception):
                    await polling
                stopper.cancel()
        finally:
            await runner.cleanup()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await bot.session.close()


def _derived_secret(s: Settings) -> str:
    import hashlib

    # Stable across restarts and replicas without another setting to manage.
    return hashlib.sha256(s.state_secret() + b"webhook").hexdigest()[:48]
