"""Linking (core.spotify.auth) against the fake Spotify and the real embedded PostgreSQL."""

from __future__ import annotations

import base64
import itertools
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import owners
from core.crypto import sign
from core.models import OAuthState, Owner, SpotifyToken
from core.spotify import LinkExpired, NotLinked, StateError
from core.spotify.auth import (
    SCOPES,
    OwnerTokens,
    SpotifyConfig,
    authorize_redirect,
    cancel_login,
    code_challenge,
    complete_login,
    create_login,
    unlink,
)
from core.spotify.client import SpotifyClient
from tests.fakes.spotify import FakeSpotify

_ids = itertools.count(7_100_000)


@pytest.fixture(scope="module")
async def spotify() -> AsyncIterator[FakeSpotify]:
    async with FakeSpotify() as fake:
        fake.add_user("mina.cafe", "Mina's Cafe")
        yield fake


@pytest.fixture(scope="module")
def cfg(spotify: FakeSpotify) -> SpotifyConfig:
    return SpotifyConfig(
        client_id=spotify.client_id,
        client_secret=spotify.client_secret,
        redirect_uri="http://127.0.0.1:9/callback",
        api_base=spotify.api_base,
        accounts_base=spotify.accounts_base,
        base_url="http://127.0.0.1:9",
        state_secret=secrets.token_bytes(32),
        encryption_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    )


@pytest.fixture
def sm(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def new_owner(session: AsyncSession) -> int:
    oid = next(_ids)
    await owners.get_or_create(session, oid, language="en", first_name="Mina")
    await session.commit()
    return oid


def signed_of(login_url: str) -> str:
    return parse_qs(urlsplit(login_url).query)["s"][0]


async def browse_to_consent(authorize_url: str) -> str:
    """The browser opens Spotify's authorize page; returns the state it carries."""
    async with aiohttp.ClientSession() as http, http.get(authorize_url) as resp:
        assert resp.status == 200, await resp.text()
    return parse_qs(urlsplit(authorize_url).query)["state"][0]


async def link(session: AsyncSession, cfg: SpotifyConfig, spotify: FakeSpotify, oid: int) -> str:
    signed = signed_of(await create_login(session, cfg, oid))
    await session.commit()
    state = await browse_to_consent(await authorize_redirect(session, cfg, signed))
    code = parse_qs(urlsplit(spotify.approve(state)).query)["code"][0]
    await complete_login(session, cfg, state, code)
    return signed


async def test_authorize_url_has_pkce_scopes_and_the_signed_state(
    session: AsyncSession, cfg: SpotifyConfig, spotify: FakeSpotify
) -> None:
    oid = await new_owner(session)
    login_url = await create_login(session, cfg, oid)
    await session.commit()
    assert login_url.startswith("http://127.0.0.1:9/login?s=")
    signed = signed_of(login_url)
    target = await authorize_redirect(session, cfg, signed)
    parts = urlsplit(target)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{spotify.accounts_base}/authorize"
    row = await session.get(OAuthState, (await _nonce_rows(session, oid))[0])
    assert q["client_id"] == spotify.client_id
    assert q["response_type"] == "code"
    assert q["redirect_uri"] == cfg.redirect_uri
    assert q["code_challenge_method"] == "S256"
    assert q["code_challenge"] == code_challenge(row.code_verifier)
    assert set(q["scope"].split()) == set(SCOPES)
    assert q["state"] == signed
    assert 43 <= len(row.code_verifier) <= 128


async def _nonce_rows(session: AsyncSession, oid: int) -> list[str]:
    rows = await session.execute(select(OAuthState.nonce).where(OAuthState.owner_id == oid))
    return [n for (n,) in rows]


async def test_linking_stores_encrypted_tokens_and_marks_owner_linked(
    session: AsyncSession, cfg: SpotifyConfig, spotify: FakeSpotify
) -> None:
    oid = await new_owner(session)
    issued_before = set(spotify.access_tokens)
    await link(session, cfg, spotify, oid)
    owner = await session.get(Owner, oid, populate_existing=True)
    assert owner.spotify_state == "linked"
    assert owner.spotify_user_id == "mina.cafe"
    assert owner.spotify_display_name == "Mina's Cafe"
    row = await session.get(SpotifyToken, oid, populate_existing=True)
    access = next(iter(set(spotify.access_tokens) - issued_before))
    refresh = next(
        r for r, i in spotify.refresh_tokens.items() if i is spotify.access_tokens[access]
    )
    assert access.encode() not in row.access_token_enc
    assert refresh.encode() not in row.refresh_token_enc
    assert cfg.cipher().decrypt(row.access_token_enc) == access
    assert cfg.cipher().decrypt(row.refresh_token_enc) == refresh
    assert row.expires_at > datetime.now(UTC) + timedelta(minutes=50)
    # The exchange proved PKCE: the fake checked the verifier against the challenge.
    exchange = spotify.calls("/api/token")[-1]
    assert exchange.body["grant_type"] == "authorization_code"
    assert exchange.body["code_verifier"]


async def test_forged_state_is_refused(session: AsyncSession, cfg: SpotifyConfig) -> None:
    oid = await new_owner(session)
    signed = signed_of(await create_login(session, cfg, oid))
    await session.commit()
    raw, mac = signed.split(".")
    tampered = raw[:-2] + ("AA" if raw[-2:] != "AA" else "BB") + "." + mac
    other_key = sign({"n": "made-up"}, b"x" * 32, 600)
    for bad in (tampered, other_key, "garbage", "", None):
        with pytest.raises(StateError) as err:
            await authorize_redirect(session, cfg, bad)
        assert err.value.reason == "forged"
        with pytest.raises(StateError):
            await consume_state_and_commit(session, cfg, bad)
    # A correctly signed nonce that we never stored is not accepted either.
    with pytest.raises(StateError):
        await authorize_redirect(session, cfg, sign({"n": "never-stored"}, cfg.state_secret, 600))


async def consume_state_and_commit(session: AsyncSession, cfg: SpotifyConfig, s: str | None) -> int:
    return await cancel_login(session, cfg, s)


async def test_replayed_state_is_refused(
    session: AsyncSession, cfg: SpotifyConfig, spotify: FakeSpotify
) -> None:
    oid = await new_owner(session)
    signed = await link(session, cfg, spotify, oid)
    with pytest.raises(StateError) as err:
        await complete_login(session, cfg, signed, "another-code")
    assert err.value.reason == "replayed"
    with pytest.raises(StateError) as err:
        await authorize_redirect(session, cfg, signed)
    assert err.value.reason == "replayed"


async def test_expired_state_is_refused(session: AsyncSession, cfg: SpotifyConfig) -> None:
    oid = await new_owner(session)
    signed = signed_of(await create_login(session, cfg, oid))
    await session.commit()
    # The row outlived its 10 minutes (the signature alone would still pass).
    await session.execute(
        update(OAuthState)
        .where(OAuthState.owner_id == oid)
        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    await session.commit()
    with pytest.raises(StateError) as err:
        await authorize_redirect(session, cfg, signed)
    assert err.value.reason == "expired"
    with pytest.raises(StateError) as err:
        await complete_login(session, cfg, signed, "code")
    assert err.value.reason == "expired"
    # And a token whose signed expiry passed.
    nonce = (await _nonce_rows(session, oid))[0]
    with pytest.raises(StateError) as err:
        await authorize_redirect(session, cfg, sign({"n": nonce}, cfg.state_secret, -5))
    assert err.value.reason == "expired"


async def test_cancel_spends_the_state_and_stores_nothing(
    session: AsyncSession, cfg: SpotifyConfig, spotify: FakeSpotify
) -> None:
    oid = await new_owner(session)
    signed = signed_of(await create_login(session, cfg, oid))
    await session.commit()
    state = await browse_to_consent(await authorize_redirect(session, cfg, signed))
    assert "error=access_denied" in spotify.deny(state)
    assert await cancel_login(session, cfg, state) == oid
    assert await session.get(SpotifyToken, oid) is None
    assert (await session.get(Owner, oid, populate_existing=True)).spotify_state == "none"
    with pytest.raises(StateError):
        await cancel_login(session, cfg, state)


async def test_refresh_before_expiry(
    session: AsyncSession,
    cfg: SpotifyConfig,
    spotify: FakeSpotify,
    sm: async_sessionmaker[AsyncSession],
) -> None:
    oid = await new_owner(session)
    await link(session, cfg, spotify, oid)
    tokens = OwnerTokens(sm, cfg, oid)
    first = await tokens.token()
    assert await tokens.token() == first  # still fresh: no refresh
    refreshes = len(spotify.calls("/api/token"))
    # 30 s left is inside the refresh margin: a new token is fetched before the call.
    await session.execute(
        update(SpotifyToken)
        .where(SpotifyToken.owner_id == oid)
        .values(expires_at=datetime.now(UTC) + timedelta(seconds=30))
    )
    await session.commit()
    second = await tokens.token()
    assert second != first
    assert len(spotify.calls("/api/token")) == refreshes + 1
    assert spotify.calls("/api/token")[-1].body["grant_type"] == "refresh_token"
    row = await session.get(SpotifyToken, oid, populate_existing=True)
    assert cfg.cipher().decrypt(row.access_token_enc) == second
    assert row.expires_at > datetime.now(UTC) + timedelta(minutes=50)


async def test_invalid_grant_marks_owner_expired_and_deletes_tokens(
    session: AsyncSession,
    cfg: SpotifyConfig,
    spotify: FakeSpotify,
    sm: async_sessionmaker[AsyncSession],
) -> None:
    oid = await new_owner(session)
    await link(session, cfg, spotify, oid)
    spotify.revoke("mina.cafe")
    spotify.expire_access_tokens()
    client = SpotifyClient(cfg, OwnerTokens(sm, cfg, oid))
    with pytest.raises(LinkExpired):
        await client.me()  # 401 -> refresh -> invalid_grant
    answer = spotify.calls("/api/token")[-1]
    assert answer.status == 400 and answer.body["grant_type"] == "refresh_token"
    owner = await session.get(Owner, oid, populate_existing=True)
    assert owner.spotify_state == "expired"
    assert await session.get(SpotifyToken, oid, populate_existing=True) is None
    with pytest.raises(NotLinked):
        await client.me()


async def test_unlink_deletes_tokens_and_resets_state(
    session: AsyncSession, cfg: SpotifyConfig, spotify: FakeSpotify
) -> None:
    oid = await new_owner(session)
    await link(session, cfg, spotify, oid)
    assert await session.get(SpotifyToken, oid) is not None
    unused = signed_of(await create_login(session, cfg, oid))
    await session.commit()
    assert await unlink(session, oid) is True
    await session.commit()
    owner = await session.get(Owner, oid, populate_existing=True)
    assert (owner.spotify_state, owner.spotify_user_id, owner.spotify_display_name) == (
        "none",
        None,
        None,
    )
    assert await session.get(SpotifyToken, oid, populate_existing=True) is None
    with pytest.raises(StateError):  # pending login links die with the link
        await authorize_redirect(session, cfg, unused)
    assert await unlink(session, oid) is False


async def test_invalid_grant_leads_to_a_relink_offer(
    session: AsyncSession,
    cfg: SpotifyConfig,
    spotify: FakeSpotify,
    sm: async_sessionmaker[AsyncSession],
) -> None:
    from handlers.spotify import SpCb, spotify_error_reply

    oid = await new_owner(session)
    await link(session, cfg, spotify, oid)
    spotify.revoke("mina.cafe")
    await session.execute(
        update(SpotifyToken)
        .where(SpotifyToken.owner_id == oid)
        .values(expires_at=datetime.now(UTC))  # due for refresh before the next call
    )
    await session.commit()
    with pytest.raises(LinkExpired) as err:
        await SpotifyClient(cfg, OwnerTokens(sm, cfg, oid)).my_playlists()
    text, markup = spotify_error_reply(err.value, "en")
    assert "Link Spotify again" in text
    button = markup.inline_keyboard[0][0]
    assert SpCb.unpack(button.callback_data).action == "link"
    assert len(button.callback_data.encode()) <= 64
    ko_text, _ = spotify_error_reply(err.value, "ko")
    assert "다시 연결" in ko_text
    assert (await session.get(Owner, oid, populate_existing=True)).spotify_state == "expired"
