"""Async Last.fm client (httpx): the four read methods the catalog needs.

Every call goes through one per-client rate limiter (Last.fm asks for about 5 requests/s)
and one retry policy: error 29 (rate limited), 8/11/16 (temporary), HTTP 429/5xx and network
timeouts are retried with exponential backoff a bounded number of times; error 6 (not found),
10/26 (bad or suspended key) and every other API error are raised at once as typed errors.

Last.fm's JSON has quirks this module absorbs so callers see plain dataclasses: numbers
arrive as strings, a list with one element may arrive as a bare object, and a track's
duration is seconds in tag.getTopTracks but milliseconds in track.getInfo.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)

# Last.fm's published guidance: about 5 requests per second per key.
LASTFM_MAX_RPS = 5.0
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0

# Last.fm error codes (https://www.last.fm/api/errorcodes).
ERR_INVALID_METHOD = 3
ERR_AUTH_FAILED = 4
ERR_NOT_FOUND = 6
ERR_OPERATION_FAILED = 8
ERR_INVALID_KEY = 10
ERR_OFFLINE = 11
ERR_TEMPORARY = 16
ERR_SUSPENDED_KEY = 26
ERR_RATE_LIMITED = 29
RETRYABLE_CODES = frozenset({ERR_OPERATION_FAILED, ERR_OFFLINE, ERR_TEMPORARY, ERR_RATE_LIMITED})
AUTH_CODES = frozenset({ERR_AUTH_FAILED, ERR_INVALID_KEY, ERR_SUSPENDED_KEY})


# --- errors -------------------------------------------------------------------------------


class LastfmError(Exception):
    """Anything that went wrong talking to Last.fm; `str()` is one readable line."""

    def __init__(self, message: str, *, method: str = "") -> None:
        super().__init__(f"{method}: {message}" if method else message)
        self.method = method


class LastfmApiError(LastfmError):
    """Last.fm answered with {"error": code, "message": ...}."""

    def __init__(self, code: int, message: str, *, method: str = "") -> None:
        super().__init__(f"Last.fm error {code}: {message}", method=method)
        self.code = code
        self.api_message = message


class LastfmNotFound(LastfmApiError):
    """Error 6: the track/artist/tag does not exist on Last.fm (never retried)."""


class LastfmAuthError(LastfmApiError):
    """Error 4/10/26: the API key is missing, invalid or suspended (never retried)."""


class LastfmRateLimited(LastfmApiError):
    """Error 29 still coming back after every retry."""


class LastfmUnavailable(LastfmError):
    """HTTP 5xx, timeouts, network errors or temporary API errors after every retry."""


class LastfmMalformedResponse(LastfmError):
    """The body is not the JSON we expect (not JSON at all, or the wrong shape)."""


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopTrack:
    name: str
    artist: str
    rank: int
    url: str | None = None
    mbid: str | None = None
    duration_ms: int | None = None


@dataclass(frozen=True)
class TopTracksPage:
    tag: str
    page: int
    per_page: int
    total_pages: int
    total: int
    tracks: list[TopTrack]


@dataclass(frozen=True)
class TagCount:
    name: str
    count: int  # 0..100, relative to the track's strongest tag


@dataclass(frozen=True)
class TrackInfo:
    name: str
    artist: str
    url: str | None
    mbid: str | None
    duration_ms: int | None
    listeners: int
    playcount: int
    album: str | None
    toptags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SimilarTrack:
    name: str
    artist: str
    match: float
    url: str | None = None
    mbid: str | None = None
    duration_ms: int | None = None


# --- rate limiting --------------------------------------------------------------------------


class RateLimiter:
    """At most `rate` requests per `period` seconds *as the server sees them*, shared by all
    tasks of one client.

    Each request holds one of `rate` slots from the moment it starts until `period` seconds
    after its answer came back. The server receives a request somewhere between our start
    and our answer, so any two requests using the same slot arrive at least `period` apart,
    whatever the network jitter (a start-time window alone let a slow first connection put
    6 arrivals into one second). The cost is a little throughput: rate / (period + latency).
    """

    def __init__(self, rate: float = LASTFM_MAX_RPS, period: float = 1.0) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        # A fractional rate (0.5/s) becomes 1 request per 2 s.
        self.slots = max(1, int(rate))
        self.period = period * (self.slots / rate)
        self._sem = asyncio.Semaphore(self.slots)

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self._sem.acquire()
        try:
            yield
        finally:
            asyncio.get_running_loop().call_later(self.period, self._sem.release)


# --- parsing helpers ------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    # Last.fm sends a lone element as an object instead of a one-item list.
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _float(value: Any, default: float = 0.0) -> float:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return default


def _opt_str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _artist_name(value: Any) -> str:
    # Artist is {"name": ...} in most methods, {"#text": ...} in some, a bare string in others.
    if isinstance(value, dict):
        return str(value.get("name") or value.get("#text") or "").strip()
    return str(value or "").strip()


def _duration(value: Any, *, unit_ms: int) -> int | None:
    n = _int(value, 0)
    return n * unit_ms if n > 0 else None


def _require(doc: Any, key: str, method: str) -> Any:
    if not isinstance(doc, dict) or key not in doc:
        raise LastfmMalformedResponse(f"expected a '{key}' object in the answer", method=method)
    return doc[key]


# --- the client -----------------------------------------------------------------------------


class LastfmClient:
    """One client per process (or per crawl); share it so the rate limit is shared."""

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://ws.audioscrobbler.com/2.0/",
        *,
        rate_per_s: float = LASTFM_MAX_RPS,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff_s: float = DEFAULT_BACKOFF_S,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not api_key:
            raise LastfmAuthError(ERR_INVALID_KEY, "no API key configured (set LASTFM_API_KEY)")
        self.api_key = api_key
        self.base_url = base_url
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self.limiter = RateLimiter(rate_per_s)
        self.requests_sent = 0
        self._http = httpx.AsyncClient(
            timeout=timeout_s,
            transport=transport,
            headers={"User-Agent": "TuneYourShop/0.1 (catalog crawler)"},
        )

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> LastfmClient:
        return cls(settings.lastfm_api_key or "", settings.lastfm_api_base, **kwargs)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> LastfmClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- transport + retry --

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(MAX_BACKOFF_S, max(0.0, float(retry_after)))
            except ValueError:
                pass
        base = min(MAX_BACKOFF_S, self.backoff_s * (2**attempt))
        # Jitter so several crawlers that were throttled together do not retry together.
        return base * (0.8 + 0.4 * random.random())

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """GET one method; the decoded JSON object, or a typed LastfmError."""
        query = {
            "method": method,
            "api_key": self.api_key,
            "format": "json",
            **{k: str(v) for k, v in params.items() if v is not None},
        }
        # What the last failed attempt said, and how long the server asked us to wait.
        reason = ""
        rate_limited: LastfmApiError | None = None
        retry_after: str | None = None
        for attempt in range(self.attempts):
            if attempt:
                delay = self._delay(attempt - 1, retry_after)
                log.info("Last.fm %s: %s; retry %d in %.2fs", method, reason, attempt, delay)
                await asyncio.sleep(delay)
            retry_after = None
            rate_limited = None
            self.requests_sent += 1
            try:
                async with self.limiter.slot():
                    resp = await self._http.get(self.base_url, params=query)
            except httpx.TimeoutException:
                reason = "timed out"
                continue
            except httpx.TransportError as exc:
                reason = f"network error ({type(exc).__name__})"
                continue
            try:
                doc = resp.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                doc = None
            if isinstance(doc, dict) and "error" in doc:
                code = _int(doc.get("error"), -1)
                message = str(doc.get("message") or "no message")
                if code == ERR_NOT_FOUND:
                    raise LastfmNotFound(code, message, method=method)
                if code in AUTH_CODES:
                    raise LastfmAuthError(code, message, method=method)
                if code in RETRYABLE_CODES:
                    reason = f"Last.fm error {code}: {message}"
                    if code == ERR_RATE_LIMITED:
                        rate_limited = LastfmRateLimited(code, message, method=method)
                    retry_after = resp.headers.get("Retry-After")
                    continue
                raise LastfmApiError(code, message, method=method)
            if resp.status_code == 429 or resp.status_code >= 500:
                reason = f"HTTP {resp.status_code}"
                retry_after = resp.headers.get("Retry-After")
                continue
            if resp.status_code >= 400:
                raise LastfmApiError(resp.status_code, f"HTTP {resp.status_code}", method=method)
            if not isinstance(doc, dict):
                snippet = resp.text[:60].replace("\n", " ")
                raise LastfmMalformedResponse(
                    f"answer is not a JSON object (HTTP {resp.status_code}, starts {snippet!r})",
                    method=method,
                )
            return doc
        if rate_limited is not None:
            raise LastfmRateLimited(
                rate_limited.code,
                f"{rate_limited.api_message} (still limited after {self.attempts} attempts)",
                method=method,
            )
        raise LastfmUnavailable(f"{reason} (after {self.attempts} attempts)", method=method)

    # -- the four methods --

    async def tag_top_tracks(self, tag: str, *, page: int = 1, limit: int = 50) -> TopTracksPage:
        method = "tag.getTopTracks"
        doc = await self.call(method, tag=tag, page=page, limit=limit)
        body = _require(doc, "tracks", method)
        try:
            attr = body.get("@attr") or {}
            tracks = []
            for i, t in enumerate(_as_list(body.get("track"))):
                name = str(t.get("name") or "").strip()
                artist = _artist_name(t.get("artist"))
                if not name or not artist:
                    continue
                rank = _int((t.get("@attr") or {}).get("rank"), (page - 1) * limit + i + 1)
                tracks.append(
                    TopTrack(
                        name=name,
                        artist=artist,
                        rank=rank,
                        url=_opt_str(t.get("url")),
                        mbid=_opt_str(t.get("mbid")),
                        duration_ms=_duration(t.get("duration"), unit_ms=1000),
                    )
                )
            return TopTracksPage(
                tag=str(attr.get("tag") or tag),
                page=_int(attr.get("page"), page),
                per_page=_int(attr.get("perPage"), limit),
                total_pages=_int(attr.get("totalPages"), page),
                total=_int(attr.get("total"), len(tracks)),
                tracks=tracks,
            )
        except (AttributeError, TypeError) as exc:
            raise LastfmMalformedResponse(f"unexpected shape ({exc})", method=method) from None

    async def track_top_tags(self, artist: str, track: str) -> list[TagCount]:
        method = "track.getTopTags"
        doc = await self.call(method, artist=artist, track=track, autocorrect=1)
        body = _require(doc, "toptags", method)
        try:
            out = []
            for t in _as_list(body.get("tag")):
                name = str(t.get("name") or "").strip()
                if name:
                    out.append(TagCount(name=name, count=_int(t.get("count"), 0)))
            return out
        except (AttributeError, TypeError) as exc:
            raise LastfmMalformedResponse(f"unexpected shape ({exc})", method=method) from None

    async def track_info(self, artist: str, track: str) -> TrackInfo:
        method = "track.getInfo"
        doc = await self.call(method, artist=artist, track=track, autocorrect=1)
        t = _require(doc, "track", method)
        try:
            album = t.get("album") or {}
            tags = t.get("toptags") or {}
            return TrackInfo(
                name=str(t.get("name") or track).strip(),
                artist=_artist_name(t.get("artist")) or artist,
                url=_opt_str(t.get("url")),
                mbid=_opt_str(t.get("mbid")),
                duration_ms=_duration(t.get("duration"), unit_ms=1),
                listeners=_int(t.get("listeners"), 0),
                playcount=_int(t.get("playcount"), 0),
                album=_opt_str(album.get("title")) if isinstance(album, dict) else None,
                toptags=[
                    str(x.get("name")).strip()
                    for x in _as_list(tags.get("tag") if isinstance(tags, dict) else None)
                    if isinstance(x, dict) and x.get("name")
                ],
            )
        except (AttributeError, TypeError) as exc:
            raise LastfmMalformedResponse(f"unexpected shape ({exc})", method=method) from None

    async def track_similar(
        self, artist: str, track: str, *, limit: int = 50
    ) -> list[SimilarTrack]:
        method = "track.getSimilar"
        doc = await self.call(method, artist=artist, track=track, limit=limit, autocorrect=1)
        body = _require(doc, "similartracks", method)
        try:
            out = []
            for t in _as_list(body.get("track")):
                name = str(t.get("name") or "").strip()
                who = _artist_name(t.get("artist"))
                if name and who:
                    out.append(
                        SimilarTrack(
                            name=name,
                            artist=who,
                            match=_float(t.get("match"), 0.0),
                            url=_opt_str(t.get("url")),
                            mbid=_opt_str(t.get("mbid")),
                            duration_ms=_duration(t.get("duration"), unit_ms=1000),
                        )
                    )
            return out
        except (AttributeError, TypeError) as exc:
            raise LastfmMalformedResponse(f"unexpected shape ({exc})", method=method) from None
