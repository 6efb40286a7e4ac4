"""The bot's own web app: /healthz, /metrics, the Telegram webhook (webhook mode)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

if TYPE_CHECKING:
    from bot.runtime import Runtime

RUNTIME_KEY: web.AppKey[Runtime] = web.AppKey("runtime")


async def _timed(coro) -> dict[str, object]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(coro, 2.0)
        return {"up": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    except Exception as exc:  # a health check reports, it never raises
        return {"up": False, "error": type(exc).__name__}


async def check_stores(rt: Runtime) -> dict[str, dict[str, object]]:
    async def pg() -> None:
        async with rt.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    results = await asyncio.gather(
        _timed(pg()), _timed(rt.redis.ping()), _timed(rt.events.db.command("ping"))
    )
    checks = dict(zip(("postgres", "redis", "mongo"), results, strict=True))
    checks["mongo"]["outbox"] = len(rt.events.outbox)
    return checks


async def healthz(request: web.Request) -> web.Response:
    checks = await check_stores(request.app[RUNTIME_KEY])
    ok = all(c["up"] for c in checks.values())
    return web.json_response(
        {"status": "ok" if ok else "degraded", "checks": checks}, status=200 if ok else 503
    )


async def metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def build_app(rt: Runtime) -> web.Application:
    app = web.Application()
    app[RUNTIME_KEY] = rt
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    # Imported here: bot.oauth needs RUNTIME_KEY from this module.
    from bot.oauth import register as register_oauth

    register_oauth(app)
    return app
