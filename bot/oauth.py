"""Spotify OAuth web endpoints: GET /login (redirect to Spotify) and GET /callback.

The browser arrives at /login from the bot's URL button and at /callback from Spotify. The pages
are tiny and bilingual (the browser's owner is not known before the state is checked); the
real answer goes to the chat.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web import RUNTIME_KEY

if TYPE_CHECKING:
    from bot.runtime import Runtime
from core import owners
from core.crypto import BadSignature, unsign
from core.models import OAuthState
from core.spotify import NotConfigured, SpotifyError, StateError
from core.spotify.auth import (
    SpotifyConfig,
    authorize_redirect,
    cancel_login,
    complete_login,
)
from core.texts import LANGUAGES, t
from handlers.spotify import retry_keyboard

log = logging.getLogger("tys.oauth")

_STATE_PAGES = {"forged": "web_state_forged", "replayed": "web_state_replayed"}


def _page(key: str, status: int = 200) -> web.Response:
    # Korean first: the product's home market; English below.
    lines = "".join(f"<p lang='{lang}'>{html.escape(t(key, lang))}</p>" for lang in LANGUAGES)
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(t('web_title', 'en'))}</title></head>"
        f"<body style='font-family:sans-serif;max-width:32em;margin:3em auto'>{lines}</body></html>"
    )
    return web.Response(text=body, status=status, content_type="text/html")


def _state_page(exc: StateError) -> web.Response:
    return _page(_STATE_PAGES.get(exc.reason, "web_state_expired"), 400)


async def login(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME_KEY]
    cfg = SpotifyConfig.from_settings(rt.settings)
    if not cfg.configured:
        return _page("web_not_configured", 503)
    try:
        async with rt.sessionmaker() as session:
            target = await authorize_redirect(session, cfg, request.query.get("s"))
    except StateError as exc:
        log.info("login refused: state %s", exc.reason)
        return _state_page(exc)
    raise web.HTTPFound(target)


async def _tell(request: web.Request, owner_id: int, key: str, **fmt: object) -> None:
    """Send the outcome to the owner's chat; the page is shown whatever happens here."""
    rt = request.app[RUNTIME_KEY]
    if rt.bot is None:
        return
    try:
        async with rt.sessionmaker() as session:
            owner = await owners.get(session, owner_id)
        lang = owner.language if owner else rt.settings.default_language
        markup = None if key == "spotify_linked" else retry_keyboard(lang)
        await rt.bot.send_message(owner_id, t(key, lang, **fmt), reply_markup=markup)
        if key == "spotify_linked":
            await _onboard_if_new(rt, owner_id, lang)
    except Exception:  # the browser still gets its page
        log.exception("could not tell owner %s about the Spotify link", owner_id)


async def _onboard_if_new(rt: Runtime, owner_id: int, lang: str) -> None:
    """A newly linked owner with no taste yet goes straight on to onboarding."""
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.storage.base import StorageKey

    from core.embeddings import owner_embedding
    from handlers.onboarding import begin

    async with rt.sessionmaker() as session:
        if await owner_embedding(session, owner_id) is not None:
            return
    if rt.bot is None or rt.dispatcher is None:
        return
    key = StorageKey(bot_id=rt.bot.id, chat_id=owner_id, user_id=owner_id)
    await begin(rt.bot, owner_id, FSMContext(storage=rt.dispatcher.storage, key=key), lang)


async def callback(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME_KEY]
    cfg = SpotifyConfig.from_settings(rt.settings)
    if not cfg.configured:
        return _page("web_not_configured", 503)
    state = request.query.get("state")
    error = request.query.get("error")
    code = request.query.get("code")
    async with rt.sessionmaker() as session:
        if error or not code:
            try:
                owner_id = await cancel_login(session, cfg, state)
            except StateError as exc:
                return _state_page(exc)
            log.info("owner %s cancelled Spotify linking (%s)", owner_id, error or "no code")
            await _tell(request, owner_id, "spotify_link_cancelled")
            return _page("web_cancelled")
        try:
            result = await complete_login(session, cfg, state, code)
        except StateError as exc:
            log.info("callback refused: state %s", exc.reason)
            return _state_page(exc)
        except NotConfigured:
            return _page("web_not_configured", 503)
        except SpotifyError as exc:
            await session.rollback()
            log.warning("Spotify linking failed: %s", exc)
            owner_id = await _owner_of_state(session, cfg, state)
            if owner_id is not None:
                await _tell(request, owner_id, "spotify_link_failed")
            return _page("web_spotify_down", 502)
    log.info("owner %s linked Spotify user %s", result.owner_id, result.spotify_user_id)
    await _tell(request, result.owner_id, "spotify_linked", name=html.escape(result.display_name))
    return _page("web_linked")


async def _owner_of_state(
    session: AsyncSession, cfg: SpotifyConfig, state: str | None
) -> int | None:
    try:
        nonce = unsign(state or "", cfg.state_secret).get("n")
    except BadSignature:
        return None
    row = await session.get(OAuthState, nonce) if isinstance(nonce, str) else None
    return row.owner_id if row else None


def register(app: web.Application) -> None:
    app.router.add_get("/login", login)
    app.router.add_get("/callback", callback)
