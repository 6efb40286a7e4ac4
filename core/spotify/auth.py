"""Linking an owner's Spotify account: Authorization Code with PKCE, tokens encrypted at rest.

The flow, and who calls what:
1. the bot's "Link Spotify" button -> `create_login()` stores a single-use state row (nonce,
   PKCE verifier) and returns `{base}/login?s=<signed nonce>` for a URL button;
2. the browser opens it -> `authorize_redirect()` checks the signature and the row and answers
   the Spotify authorize URL (the same signed token travels as `state`);
3. Spotify sends the browser to `/callback` -> `complete_login()` consumes the state (once),
   exchanges the code with the verifier, stores the tokens encrypted, reads /me and marks the
   owner linked; `cancel_login()` handles `error=access_denied`.

Afterwards `OwnerTokens` hands out access tokens to the client, refreshing them before they
expire; a dead refresh token (`invalid_grant`) marks the owner `expired`, deletes the tokens
and raises `LinkExpired` so the caller can offer a re-link button.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.crypto import BadSignature, TokenCipher, sign, unsign
from core.limits import OAUTH_STATE_TTL_S, SPOTIFY_HTTP_TIMEOUT_S, SPOTIFY_REFRESH_MARGIN_S
from core.models import OAuthState, Owner, SpotifyToken
from core.spotify import (
    LinkExpired,
    NotConfigured,
    NotLinked,
    SpotifyUnavailable,
    StateError,
    TokenExchangeError,
)

SCOPES = (
    "playlist-read-private",
    "playlist-read-collaborative",
    "playlist-modify-public",
    "playlist-modify-private",
)


@dataclass(frozen=True)
class SpotifyConfig:
    """What the Spotify code needs from the settings (core does not import the bot)."""

    client_id: str | None
    client_secret: str | None
    redirect_uri: str
    api_base: str  # with the version: https://api.spotify.com/v1
    accounts_base: str  # host root: https://accounts.spotify.com
    base_url: str  # the bot's own public base (the /login link)
    state_secret: bytes
    encryption_key: str
    timeout_s: float = SPOTIFY_HTTP_TIMEOUT_S

    @classmethod
    def from_settings(cls, settings: Any) -> SpotifyConfig:
        return cls(
            client_id=settings.spotify_client_id,
            client_secret=settings.spotify_client_secret,
            redirect_uri=settings.redirect_uri,
            api_base=settings.spotify_api_base.rstrip("/"),
            accounts_base=settings.spotify_accounts_base.rstrip("/"),
            base_url=settings.base_url.rstrip("/"),
            state_secret=settings.state_secret(),
            encryption_key=settings.encryption_key(),
        )

    @property
    def configured(self) -> bool:
        return bool(self.client_id)

    def cipher(self) -> TokenCipher:
        return TokenCipher(self.encryption_key)


@dataclass(frozen=True)
class LinkResult:
    owner_id: int
    spotify_user_id: str
    display_name: str


def _now() -> datetime:
    return datetime.now(UTC)


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --- state ------------------------------------------------------------------------------


async def create_login(session: AsyncSession, cfg: SpotifyConfig, owner_id: int) -> str:
    """A fresh single-use login link for the owner: `{base}/login?s=<signed state>`."""
    if not cfg.configured:
        raise NotConfigured("SPOTIFY_CLIENT_ID is not set")
    nonce = secrets.token_urlsafe(24)
    # 64 random bytes -> 86 characters, inside PKCE's 43..128.
    verifier = secrets.token_urlsafe(64)
    session.add(
        OAuthState(
            nonce=nonce,
            owner_id=owner_id,
            code_verifier=verifier,
            expires_at=_now() + timedelta(seconds=OAUTH_STATE_TTL_S),
        )
    )
    await session.flush()
    signed = sign({"n": nonce}, cfg.state_secret, OAUTH_STATE_TTL_S)
    return f"{cfg.base_url}/login?{urlencode({'s': signed})}"


def _nonce(cfg: SpotifyConfig, signed: str | None) -> str:
    if not signed:
        raise StateError("forged")
    try:
        body = unsign(signed, cfg.state_secret)
    except BadSignature as exc:
        raise StateError("expired" if str(exc) == "expired" else "forged") from None
    nonce = body.get("n")
    if not isinstance(nonce, str):
        raise StateError("forged")
    return nonce


def _row_problem(row: OAuthState | None) -> str | None:
    if row is None:
        # Signed by us but unknown: the row was cleaned up after it expired.
        return "expired"
    if row.used_at is not None:
        return "replayed"
    if row.expires_at <= _now():
        return "expired"
    return None


async def authorize_redirect(session: AsyncSession, cfg: SpotifyConfig, signed: str | None) -> str:
    """The Spotify authorize URL for a login link; StateError when the link is not good."""
    nonce = _nonce(cfg, signed)
    row = await session.get(OAuthState, nonce)
    if (problem := _row_problem(row)) is not None:
        raise StateError(problem)
    assert row is not None and signed is not None
    query = {
        "client_id": cfg.client_id,
        "response_type": "code",
        "redirect_uri": cfg.redirect_uri,
        "code_challenge_method": "S256",
        "code_challenge": code_challenge(row.code_verifier),
        "scope": " ".join(SCOPES),
        "state": signed,
    }
    return f"{cfg.accounts_base}/authorize?{urlencode(query)}"


async def consume_state(
    session: AsyncSession, cfg: SpotifyConfig, signed: str | None
) -> OAuthState:
    """Spend the state exactly once (an atomic UPDATE, so two callbacks cannot both win)."""
    nonce = _nonce(cfg, signed)
    now = _now()
    stmt = (
        update(OAuthState)
        .where(OAuthState.nonce == nonce, OAuthState.used_at.is_(None), OAuthState.expires_at > now)
        .values(used_at=now)
        .returning(OAuthState)
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise StateError(_row_problem(await session.get(OAuthState, nonce)) or "replayed")
    return row


async def cancel_login(session: AsyncSession, cfg: SpotifyConfig, signed: str | None) -> int:
    """The owner pressed Cancel on Spotify: spend the state; returns the owner id to tell."""
    row = await consume_state(session, cfg, signed)
    await session.commit()
    return row.owner_id


# --- token endpoint ---------------------------------------------------------------------


async def _token_request(cfg: SpotifyConfig, form: dict[str, str]) -> dict[str, Any]:
    if not cfg.client_id:
        raise NotConfigured("SPOTIFY_CLIENT_ID is not set")
    auth = None
    if cfg.client_secret:
        # A confidential client authenticates with Basic; PKCE still proves the same browser.
        auth = httpx.BasicAuth(cfg.client_id, cfg.client_secret)
    else:
        form = {**form, "client_id": cfg.client_id}
    try:
        async with httpx.AsyncClient(timeout=cfg.timeout_s) as http:
            resp = await http.post(f"{cfg.accounts_base}/api/token", data=form, auth=auth)
    except httpx.HTTPError as exc:
        raise SpotifyUnavailable(f"Spotify accounts service unreachable: {exc!r}") from None
    if resp.status_code >= 500:
        raise SpotifyUnavailable(f"Spotify accounts service answered {resp.status_code}", 502)
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if resp.status_code != 200 or "access_token" not in body:
        raise TokenExchangeError(
            str(body.get("error") or f"http_{resp.status_code}"),
            str(body.get("error_description") or ""),
            resp.status_code,
        )
    return body


async def exchange_code(cfg: SpotifyConfig, code: str, verifier: str) -> dict[str, Any]:
    return await _token_request(
        cfg,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": cfg.redirect_uri,
            "code_verifier": verifier,
        },
    )


async def client_credentials(cfg: SpotifyConfig) -> dict[str, Any]:
    """An app-level token (no user): enough for search, used for bulk resolution."""
    if not (cfg.client_id and cfg.client_secret):
        raise NotConfigured("SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET must both be set")
    return await _token_request(cfg, {"grant_type": "client_credentials"})


# --- token store ------------------------------------------------------------------------


async def store_tokens(
    session: AsyncSession, cfg: SpotifyConfig, owner_id: int, body: dict[str, Any]
) -> None:
    """Upsert the owner's tokens, encrypted. A refresh answer may omit the refresh token:
    then the stored one is kept."""
    cipher = cfg.cipher()
    values: dict[str, Any] = {
        "access_token_enc": cipher.encrypt(str(body["access_token"])),
        "expires_at": _now() + timedelta(seconds=int(body.get("expires_in", 3600))),
        "scope": str(body.get("scope", "")),
        "updated_at": _now(),
    }
    if not body.get("refresh_token"):
        # A refresh answer: the row exists (an INSERT would need the refresh token column).
        await session.execute(
            update(SpotifyToken).where(SpotifyToken.owner_id == owner_id).values(**values)
        )
        return
    values["refresh_token_enc"] = cipher.encrypt(str(body["refresh_token"]))
    stmt = insert(SpotifyToken).values(owner_id=owner_id, **values)
    stmt = stmt.on_conflict_do_update(index_elements=[SpotifyToken.owner_id], set_=values)
    await session.execute(stmt)


async def complete_login(
    session: AsyncSession, cfg: SpotifyConfig, signed: str | None, code: str
) -> LinkResult:
    """The callback with a code: spend the state, exchange, store, read /me, mark linked.

    Commits twice: the state is spent even if the exchange then fails (a code is single-use
    at Spotify too, so a retry must start from a new link)."""
    from core.spotify.client import SpotifyClient, StaticToken

    state = await consume_state(session, cfg, signed)
    owner_id = state.owner_id
    await session.commit()
    body = await exchange_code(cfg, code, state.code_verifier)
    if not body.get("refresh_token"):
        raise TokenExchangeError("no_refresh_token", "Spotify returned no refresh token")
    me = await SpotifyClient(cfg, StaticToken(str(body["access_token"]))).me()
    await store_tokens(session, cfg, owner_id, body)
    name = me.display_name or me.id
    await session.execute(
        update(Owner)
        .where(Owner.id == owner_id)
        .values(spotify_state="linked", spotify_user_id=me.id, spotify_display_name=name)
    )
    await session.commit()
    return LinkResult(owner_id, me.id, name)


async def mark_expired(session: AsyncSession, owner_id: int) -> None:
    await session.execute(delete(SpotifyToken).where(SpotifyToken.owner_id == owner_id))
    await session.execute(update(Owner).where(Owner.id == owner_id).values(spotify_state="expired"))


async def unlink(session: AsyncSession, owner_id: int) -> bool:
    """Delete the tokens and forget the account; True if there was a link to remove."""
    deleted = await session.execute(
        delete(SpotifyToken)
        .where(SpotifyToken.owner_id == owner_id)
        .returning(SpotifyToken.owner_id)
    )
    had_tokens = deleted.first() is not None
    owner = await session.get(Owner, owner_id)
    was_linked = owner is not None and owner.spotify_state != "none"
    await session.execute(
        update(Owner)
        .where(Owner.id == owner_id)
        .values(spotify_state="none", spotify_user_id=None, spotify_display_name=None)
    )
    # Unused login links of this owner die with the link.
    await session.execute(
        delete(OAuthState).where(OAuthState.owner_id == owner_id, OAuthState.used_at.is_(None))
    )
    return had_tokens or was_linked


# --- token providers for the client -----------------------------------------------------


class OwnerTokens:
    """Access tokens of one owner from the encrypted store, refreshed before they expire.

    Each call uses its own short session so a long Spotify operation holds no transaction."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], cfg: SpotifyConfig, owner_id: int
    ) -> None:
        self.sessionmaker = sessionmaker
        self.cfg = cfg
        self.owner_id = owner_id

    async def token(self) -> str:
        async with self.sessionmaker() as session:
            row = await session.get(SpotifyToken, self.owner_id)
            if row is None:
                raise NotLinked(f"owner {self.owner_id} has no Spotify tokens")
            if row.expires_at - timedelta(seconds=SPOTIFY_REFRESH_MARGIN_S) > _now():
                return self.cfg.cipher().decrypt(row.access_token_enc)
        return await self.refreshed(None)

    async def refreshed(self, rejected: str | None) -> str:
        """A new access token (after a 401 for `rejected`, or because it is about to expire)."""
        cipher = self.cfg.cipher()
        dead = False
        async with self.sessionmaker() as session:
            # The row lock serialises refreshes of one owner across tasks and replicas.
            row = (
                await session.execute(
                    select(SpotifyToken)
                    .where(SpotifyToken.owner_id == self.owner_id)
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if row is None:
                raise NotLinked(f"owner {self.owner_id} has no Spotify tokens")
            current = cipher.decrypt(row.access_token_enc)
            fresh = row.expires_at - timedelta(seconds=SPOTIFY_REFRESH_MARGIN_S) > _now()
            if fresh and current != rejected:
                return current  # someone else refreshed while we waited for the lock
            try:
                body = await _token_request(
                    self.cfg,
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": cipher.decrypt(row.refresh_token_enc),
                    },
                )
            except TokenExchangeError as exc:
                if exc.error != "invalid_grant":
                    raise
                dead = True
                await mark_expired(session, self.owner_id)
            else:
                await store_tokens(session, self.cfg, self.owner_id, body)
            await session.commit()
        if dead:
            raise LinkExpired(f"owner {self.owner_id}: refresh token refused (invalid_grant)")
        return str(body["access_token"])


class AppToken:
    """Client-credentials token of the app itself (search only), cached until near expiry."""

    def __init__(self, cfg: SpotifyConfig) -> None:
        self.cfg = cfg
        self._token: str | None = None
        self._expires = 0.0

    async def token(self) -> str:
        if self._token is None or self._expires - SPOTIFY_REFRESH_MARGIN_S <= time.monotonic():
            return await self.refreshed(None)
        return self._token

    async def refreshed(self, rejected: str | None) -> str:
        body = await client_credentials(self.cfg)
        self._token = str(body["access_token"])
        self._expires = time.monotonic() + int(body.get("expires_in", 3600))
        return self._token
