"""The Spotify Web API client: spotipy in a worker thread, with our own retry policy.

spotipy is blocking (requests), so every call runs in `asyncio.to_thread`. Its own retries are
off (`retries=0, status_retries=0`): we honour `Retry-After` on 429 ourselves (bounded, see
core/limits.py), refresh the token once on 401, and turn 5xx into `SpotifyUnavailable`.
The base URL comes from the settings (`prefix`), so tests reach a local fake.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests
import spotipy

from core.limits import (
    PLAYLISTS_PER_PAGE,
    SPOTIFY_ADD_BATCH,
    SPOTIFY_HTTP_TIMEOUT_S,
    SPOTIFY_MAX_429_RETRIES,
    SPOTIFY_MAX_RETRY_AFTER_S,
    SPOTIFY_PAGE_LIMIT,
    SPOTIFY_SEARCH_LIMIT,
)
from core.spotify import RateLimited, RequestRejected, SpotifyUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")


class TokenProvider(Protocol):
    async def token(self) -> str: ...

    async def refreshed(self, rejected: str | None) -> str: ...


class StaticToken:
    """A token we just received (the callback's /me): nothing to refresh it with."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token

    async def refreshed(self, rejected: str | None) -> str:
        return self._token


class _ApiBase(Protocol):
    api_base: str


@dataclass(frozen=True)
class SpotifyUser:
    id: str
    display_name: str | None


@dataclass(frozen=True)
class SpotifyTrack:
    id: str
    uri: str
    name: str
    artists: tuple[str, ...]
    album: str | None = None
    duration_ms: int | None = None
    explicit: bool = False
    popularity: int = 0

    @property
    def artist(self) -> str:
        return ", ".join(self.artists)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> SpotifyTrack:
        return cls(
            id=str(obj["id"]),
            uri=str(obj.get("uri") or f"spotify:track:{obj['id']}"),
            name=str(obj.get("name") or ""),
            artists=tuple(str(a.get("name") or "") for a in obj.get("artists") or []),
            album=(obj.get("album") or {}).get("name"),
            duration_ms=obj.get("duration_ms"),
            explicit=bool(obj.get("explicit", False)),
            popularity=int(obj.get("popularity") or 0),
        )


@dataclass(frozen=True)
class SpotifyPlaylist:
    id: str
    name: str
    owner_id: str
    owner_name: str | None
    collaborative: bool
    public: bool | None
    total: int
    uri: str
    url: str | None

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> SpotifyPlaylist:
        owner = obj.get("owner") or {}
        # 2026 reference: `items` {href,total}; older answers only have `tracks`.
        ref = obj.get("items") if isinstance(obj.get("items"), dict) else None
        ref = ref or obj.get("tracks") or {}
        return cls(
            id=str(obj["id"]),
            name=str(obj.get("name") or ""),
            owner_id=str(owner.get("id") or ""),
            owner_name=owner.get("display_name"),
            collaborative=bool(obj.get("collaborative", False)),
            public=obj.get("public"),
            total=int(ref.get("total") or 0),
            uri=str(obj.get("uri") or f"spotify:playlist:{obj['id']}"),
            url=(obj.get("external_urls") or {}).get("spotify"),
        )


@dataclass(frozen=True)
class PlaylistPage:
    items: list[SpotifyPlaylist]
    offset: int
    has_more: bool


@dataclass(frozen=True)
class AddResult:
    added: list[str]
    skipped: list[str]  # already in the playlist (or repeated in the request)
    snapshot_id: str | None


def _quote(value: str) -> str:
    # A double quote would end the field filter early; Spotify ignores it inside words anyway.
    return value.replace('"', " ").strip()


def search_query(title: str, artist: str) -> str:
    return f'track:"{_quote(title)}" artist:"{_quote(artist)}"'


class SpotifyClient:
    """One owner's (or the app's) view of the Web API."""

    def __init__(
        self,
        cfg: _ApiBase,
        tokens: TokenProvider,
        *,
        timeout_s: float = SPOTIFY_HTTP_TIMEOUT_S,
        max_retry_after_s: float = SPOTIFY_MAX_RETRY_AFTER_S,
        max_429_retries: int = SPOTIFY_MAX_429_RETRIES,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.prefix = cfg.api_base.rstrip("/") + "/"
        self.tokens = tokens
        self.timeout_s = timeout_s
        self.max_retry_after_s = max_retry_after_s
        self.max_429_retries = max_429_retries
        self._sleep = sleep
        self._sp: spotipy.Spotify | None = None
        self._sp_token: str | None = None

    def _spotipy(self, token: str) -> spotipy.Spotify:
        # One spotipy object (and HTTP connection pool) per token; a new token gets a new one.
        if self._sp is None or self._sp_token != token:
            # A plain requests session: spotipy's own session mounts a urllib3 Retry with a
            # status list (429, 5xx) that turns a 429 into "Max Retries" and drops the
            # Retry-After header, even with retries=0. Ours returns every answer as it is.
            sp = spotipy.Spotify(
                auth=token,
                requests_timeout=self.timeout_s,
                retries=0,
                status_retries=0,
                requests_session=requests.Session(),
            )
            # spotipy joins `prefix + "me/playlists"`: the prefix carries the version and a "/".
            sp.prefix = self.prefix
            self._sp, self._sp_token = sp, token
        return self._sp

    async def _call(self, fn: Callable[[spotipy.Spotify], T]) -> T:
        token = await self.tokens.token()
        refreshed = False
        waits = 0
        while True:
            sp = self._spotipy(token)
            try:
                return await asyncio.to_thread(fn, sp)
            except spotipy.SpotifyException as exc:
                status = int(exc.http_status or 0)
                if status == 429:
                    retry_after = _retry_after(exc.headers)
                    if waits >= self.max_429_retries or retry_after > self.max_retry_after_s:
                        raise RateLimited(retry_after) from None
                    waits += 1
                    log.info("Spotify 429: waiting %.1f s as asked (Retry-After)", retry_after)
                    await self._sleep(retry_after)
                    continue
                if status == 401 and not refreshed:
                    refreshed = True
                    token = await self.tokens.refreshed(token)
                    continue
                if status >= 500:
                    raise SpotifyUnavailable(
                        f"Spotify is having trouble (HTTP {status})", status
                    ) from None
                raise RequestRejected(status, _message(exc)) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise SpotifyUnavailable(f"Spotify unreachable: {type(exc).__name__}") from None

    # --- operations -------------------------------------------------------------------

    async def me(self) -> SpotifyUser:
        body = await self._call(lambda sp: sp.me())
        return SpotifyUser(str(body["id"]), body.get("display_name"))

    async def my_playlists(
        self, offset: int = 0, limit: int = PLAYLISTS_PER_PAGE, *, user_id: str | None = None
    ) -> PlaylistPage:
        """The owner's own and collaborative playlists (others' followed playlists are left out:
        their items cannot be read or changed), `limit` of them from the `offset`-th."""
        uid = user_id or (await self.me()).id
        wanted = offset + limit + 1  # one more tells whether a next page exists
        kept: list[SpotifyPlaylist] = []
        raw = 0
        while len(kept) < wanted:
            body = await self._call(
                lambda sp, o=raw: sp.current_user_playlists(limit=SPOTIFY_PAGE_LIMIT, offset=o)
            )
            items = [i for i in body.get("items") or [] if i]
            for item in items:
                pl = SpotifyPlaylist.from_json(item)
                if pl.owner_id == uid or pl.collaborative:
                    kept.append(pl)
            raw += len(items)
            if not body.get("next") or not items:
                break
        return PlaylistPage(kept[offset : offset + limit], offset, len(kept) > offset + limit)

    async def playlist_items(self, playlist_id: str) -> list[SpotifyTrack]:
        """Every track of a playlist (all pages); episodes, local files and gone tracks skipped."""
        out: list[SpotifyTrack] = []
        offset = 0
        while True:
            body = await self._call(
                lambda sp, o=offset: sp.playlist_items(
                    playlist_id, limit=SPOTIFY_PAGE_LIMIT, offset=o, additional_types=("track",)
                )
            )
            entries = body.get("items") or []
            for entry in entries:
                # 2026 reference: `item`; `track` is the deprecated name of the same object.
                obj = (entry or {}).get("item") or (entry or {}).get("track")
                if obj and obj.get("type", "track") == "track" and obj.get("id"):
                    if not entry.get("is_local") and not obj.get("is_local"):
                        out.append(SpotifyTrack.from_json(obj))
            offset += len(entries)
            if not body.get("next") or not entries:
                return out

    async def add_items(self, playlist_id: str, uris: Iterable[str]) -> AddResult:
        """Append URIs not already in the playlist, in batches of at most 100."""
        present = {t.uri for t in await self.playlist_items(playlist_id)}
        added: list[str] = []
        skipped: list[str] = []
        for uri in uris:
            (skipped if uri in present else added).append(uri)
            present.add(uri)
        snapshot = None
        for start in range(0, len(added), SPOTIFY_ADD_BATCH):
            batch = added[start : start + SPOTIFY_ADD_BATCH]
            # The reference body is {"uris": [...]}; spotipy's playlist_add_items sends a bare
            # list, so the documented shape is posted through spotipy's request helper.
            body = await self._call(
                lambda sp, b=batch: sp._post(f"playlists/{playlist_id}/items", payload={"uris": b})
            )
            snapshot = (body or {}).get("snapshot_id", snapshot)
        return AddResult(added, skipped, snapshot)

    async def create_playlist(
        self, name: str, description: str = "", public: bool = False
    ) -> SpotifyPlaylist:
        body = await self._call(
            lambda sp: sp.current_user_playlist_create(
                name, public=public, collaborative=False, description=description
            )
        )
        return SpotifyPlaylist.from_json(body)

    async def search_track(self, title: str, artist: str) -> list[SpotifyTrack]:
        body = await self._call(
            lambda sp: sp.search(
                search_query(title, artist), limit=SPOTIFY_SEARCH_LIMIT, type="track"
            )
        )
        items = ((body or {}).get("tracks") or {}).get("items") or []
        return [SpotifyTrack.from_json(i) for i in items if i and i.get("id")]


def _retry_after(headers: Any) -> float:
    try:
        value = float((headers or {}).get("Retry-After", 1))
    except (TypeError, ValueError):
        value = 1.0
    return max(0.0, value)


def _message(exc: spotipy.SpotifyException) -> str:
    msg = str(exc.msg or "")
    # spotipy prefixes the URL ("http://...:\n message"); the owner does not need it.
    return msg.split(":\n", 1)[-1].strip() or f"HTTP {exc.http_status}"
