"""A local fake of Spotify (accounts service + Web API) over real HTTP, for tests.

One aiohttp server plays both hosts: the accounts service at the root (``/authorize``,
``/api/token``) and the Web API under ``/v1``. Point the bot at it with::

    SPOTIFY_ACCOUNTS_BASE = fake.accounts_base   # http://127.0.0.1:PORT
    SPOTIFY_API_BASE      = fake.api_base        # http://127.0.0.1:PORT/v1

Shapes follow the Web API reference of 2026: playlist items are ``/playlists/{id}/items``
whose entries carry ``item`` (and the deprecated ``track``), simplified playlists carry
``items`` {href,total} (and the deprecated ``tracks``), new playlists are ``POST /me/playlists``,
search allows ``limit`` <= 10 (development mode), adds take at most 100 URIs.

Test helpers: ``add_user``, ``add_track``, ``add_playlist``, ``approve(state)``/``deny(state)``
(the user presses Agree/Cancel: returns the URL the browser is sent to), ``revoke(user_id)``
(refresh tokens die: ``invalid_grant``), ``expire_access_tokens()``, ``fail_next(...)``
(429 with Retry-After, 5xx, 401 expired), ``requests`` (the request log), ``playlist_uris``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

JSON = dict[str, Any]

SEARCH_MAX_LIMIT = 10  # development-mode apps (2026)
PAGE_MAX_LIMIT = 50
ADD_MAX_URIS = 100


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class _Fault:
    method: str | None
    path_re: re.Pattern[str]
    status: int
    retry_after: int | None
    message: str


@dataclass
class _Token:
    user_id: str | None  # None: an app token (client credentials)
    client_id: str
    scope: str
    expires_at: float


@dataclass
class FakeUser:
    id: str
    display_name: str | None
    product: str = "premium"


@dataclass
class FakePlaylist:
    id: str
    name: str
    owner_id: str
    public: bool = True
    collaborative: bool = False
    description: str | None = None
    uris: list[str] = field(default_factory=list)
    added_at: list[str] = field(default_factory=list)
    followers: set[str] = field(default_factory=set)  # users who follow without owning
    collaborators: set[str] = field(default_factory=set)
    snapshot: int = 1


def _b62(n: int = 22) -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^\w]+", text.casefold()) if w]


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _api_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"status": status, "message": message}}, status=status, headers=headers
    )


def _oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


class FakeSpotify:
    def __init__(
        self,
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        *,
        token_ttl_s: int = 3600,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl_s = token_ttl_s
        self.requests: list[FakeRequest] = []
        self.authorize_requests: list[dict[str, str]] = []
        self.users: dict[str, FakeUser] = {}
        self.tracks: dict[str, JSON] = {}  # id -> full track object
        self.playlists: dict[str, FakePlaylist] = {}
        self.access_tokens: dict[str, _Token] = {}
        self.refresh_tokens: dict[str, _Token] = {}
        self.revoked_refresh: set[str] = set()
        self._pending: dict[str, dict[str, str]] = {}  # state -> authorize params
        self._codes: dict[str, dict[str, str]] = {}
        self._faults: list[_Fault] = []
        self._clock = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(middlewares=[self._log_middleware])
        r = app.router
        r.add_get("/authorize", self._authorize)
        r.add_post("/api/token", self._token)
        r.add_get("/v1/me", self._me)
        r.add_get("/v1/me/", self._me)  # spotipy asks for "me/"; Spotify answers both
        r.add_get("/v1/me/playlists", self._my_playlists)
        r.add_post("/v1/me/playlists", self._create_playlist)
        r.add_get("/v1/playlists/{id}/items", self._playlist_items)
        r.add_post("/v1/playlists/{id}/items", self._add_items)
        r.add_get("/v1/search", self._search)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSpotify:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def accounts_base(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeSpotify is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        return f"{self.accounts_base}/v1"

    def env(self) -> dict[str, str]:
        """The settings that point the bot at this fake."""
        return {
            "SPOTIFY_CLIENT_ID": self.client_id,
            "SPOTIFY_CLIENT_SECRET": self.client_secret,
            "SPOTIFY_API_BASE": self.api_base,
            "SPOTIFY_ACCOUNTS_BASE": self.accounts_base,
        }

    # ------------------------------------------------------------------ library

    def add_user(self, user_id: str, display_name: str | None = None) -> FakeUser:
        user = FakeUser(user_id, display_name)
        self.users[user_id] = user
        return user

    def add_track(
        self,
        name: str,
        artists: str | list[str],
        *,
        album: str = "Album",
        track_id: str | None = None,
        duration_ms: int = 200_000,
        explicit: bool = False,
        popularity: int = 50,
    ) -> JSON:
        """Add a track to the catalog; returns its full track object (spec TrackObject)."""
        tid = track_id or _b62()
        names = [artists] if isinstance(artists, str) else list(artists)
        base = self.api_base if self._port else "https://api.spotify.com/v1"
        artist_objs = [
            {
                "id": f"ar{abs(hash(a)) % 10**12}",
                "name": a,
                "type": "artist",
                "uri": f"spotify:artist:ar{abs(hash(a)) % 10**12}",
                "href": f"{base}/artists/ar{abs(hash(a)) % 10**12}",
                "external_urls": {"spotify": f"https://open.spotify.com/artist/{a}"},
            }
            for a in names
        ]
        track = {
            "id": tid,
            "name": name,
            "type": "track",
            "uri": f"spotify:track:{tid}",
            "href": f"{base}/tracks/{tid}",
            "external_urls": {"spotify": f"https://open.spotify.com/track/{tid}"},
            "artists": artist_objs,
            "album": {
                "id": f"al{tid}",
                "name": album,
                "album_type": "album",
                "type": "album",
                "uri": f"spotify:album:al{tid}",
                "artists": artist_objs,
                "release_date": "2020-01-01",
                "release_date_precision": "day",
                "total_tracks": 10,
                "images": [],
                "external_urls": {"spotify": f"https://open.spotify.com/album/al{tid}"},
            },
            "duration_ms": duration_ms,
            "explicit": explicit,
            "popularity": popularity,
            "disc_number": 1,
            "track_number": 1,
            "is_local": False,
            "is_playable": True,
            "external_ids": {},
            "preview_url": None,
        }
        self.tracks[tid] = track
        return track

    def add_playlist(
        self,
        owner_id: str,
        name: str,
        track_ids: list[str] | None = None,
        *,
        collaborative: bool = False,
        public: bool = True,
        followed_by: list[str] | None = None,
        collaborators: list[str] | None = None,
        playlist_id: str | None = None,
    ) -> FakePlaylist:
        pl = FakePlaylist(
            playlist_id or _b62(),
            name,
            owner_id,
            public=public and not collaborative,
            collaborative=collaborative,
            followers=set(followed_by or []) | set(collaborators or []),
            collaborators=set(collaborators or []),
        )
        for tid in track_ids or []:
            pl.uris.append(f"spotify:track:{tid}")
            pl.added_at.append(self._stamp())
        self.playlists[pl.id] = pl
        return pl

    def playlist_uris(self, playlist_id: str) -> list[str]:
        return list(self.playlists[playlist_id].uris)

    # ------------------------------------------------------------------ user actions, faults

    def approve(self, state: str, user_id: str | None = None) -> str:
        """The user presses Agree on the consent page: the URL the browser is sent to."""
        params = self._pending.pop(state)
        uid = user_id or next(iter(self.users))
        code = secrets.token_urlsafe(24)
        self._codes[code] = {**params, "user_id": uid}
        return f"{params['redirect_uri']}?{urlencode({'code': code, 'state': state})}"

    def deny(self, state: str) -> str:
        """The user presses Cancel on the consent page."""
        params = self._pending.pop(state)
        query = urlencode({"error": "access_denied", "state": state})
        return f"{params['redirect_uri']}?{query}"

    def revoke(self, user_id: str) -> None:
        """The user's refresh tokens die (revoked access, or six months passed)."""
        for token, info in self.refresh_tokens.items():
            if info.user_id == user_id:
                self.revoked_refresh.add(token)

    def expire_access_tokens(self) -> None:
        for info in self.access_tokens.values():
            info.expires_at = time.time() - 1

    def fail_next(
        self,
        path: str,
        status: int,
        *,
        method: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        message: str | None = None,
    ) -> None:
        """The next `times` requests whose path matches the regex `path` fail with `status`."""
        text = message or {
            429: "API rate limit exceeded",
            401: "The access token expired",
            500: "Server error",
            502: "Bad gateway",
            503: "Service unavailable",
        }.get(status, "Injected failure")
        for _ in range(times):
            self._faults.append(_Fault(method, re.compile(path), status, retry_after, text))

    def calls(self, path: str, method: str | None = None) -> list[FakeRequest]:
        return [
            r
            for r in self.requests
            if re.search(path, r.path) and (method is None or r.method == method)
        ]

    # ------------------------------------------------------------------ plumbing

    def _stamp(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_700_000_000 + next(self._clock)))

    @web.middleware
    async def _log_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        body: Any = raw.decode(errors="replace")
        if request.content_type == "application/json" and raw:
            try:
                body = await request.json()
            except ValueError:
                body = raw.decode(errors="replace")
        elif request.content_type == "application/x-www-form-urlencoded":
            body = dict(await request.post())
        entry = FakeRequest(
            request.method, request.path, dict(request.query), dict(request.headers), body
        )
        self.requests.append(entry)
        response = self._injected(request) or await handler(request)
        entry.status = response.status
        return response

    def _injected(self, request: web.Request) -> web.Response | None:
        for fault in self._faults:
            if fault.path_re.search(request.path) and fault.method in (None, request.method):
                self._faults.remove(fault)
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
                return _api_error(fault.status, fault.message, headers)
        return None

    def _bearer(self, request: web.Request, *, user: bool = True) -> _Token | web.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return _api_error(401, "No token provided")
        info = self.access_tokens.get(auth[7:])
        if info is None:
            return _api_error(401, "Invalid access token")
        if info.expires_at <= time.time():
            return _api_error(401, "The access token expired")
        if user and info.user_id is None:
            return _api_error(403, "This request requires user authentication")
        return info

    def _page(
        self, request: web.Request, items: list[Any], *, max_limit: int = PAGE_MAX_LIMIT
    ) -> JSON | web.Response:
        try:
            limit = int(request.query.get("limit", "20"))
            offset = int(request.query.get("offset", "0"))
        except ValueError:
            return _api_error(400, "Invalid limit or offset")
        if not 1 <= limit <= max_limit or offset < 0:
            return _api_error(400, "Invalid limit")
        url = f"{self.accounts_base}{request.path}"
        keep = {k: v for k, v in request.query.items() if k not in ("limit", "offset")}

        def link(off: int) -> str:
            return f"{url}?{urlencode({**keep, 'offset': off, 'limit': limit})}"

        return {
            "href": link(offset),
            "items": items[offset : offset + limit],
            "limit": limit,
            "next": link(offset + limit) if offset + limit < len(items) else None,
            "offset": offset,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
            "total": len(items),
        }

    def _simplified(self, pl: FakePlaylist) -> JSON:
        owner = self.users.get(pl.owner_id)
        ref = {"href": f"{self.api_base}/playlists/{pl.id}/items", "total": len(pl.uris)}
        return {
            "id": pl.id,
            "name": pl.name,
            "type": "playlist",
            "uri": f"spotify:playlist:{pl.id}",
            "href": f"{self.api_base}/playlists/{pl.id}",
            "external_urls": {"spotify": f"https://open.spotify.com/playlist/{pl.id}"},
            "collaborative": pl.collaborative,
            "public": pl.public,
            "description": pl.description,
            "images": [],
            "snapshot_id": f"snap-{pl.id}-{pl.snapshot}",
            "owner": {
                "id": pl.owner_id,
                "display_name": owner.display_name if owner else None,
                "type": "user",
                "uri": f"spotify:user:{pl.owner_id}",
                "href": f"{self.api_base}/users/{pl.owner_id}",
                "external_urls": {"spotify": f"https://open.spotify.com/user/{pl.owner_id}"},
            },
            "items": ref,
            "tracks": dict(ref),  # deprecated in the 2026 reference, still sent
        }

    def _can_edit(self, pl: FakePlaylist, user_id: str) -> bool:
        return pl.owner_id == user_id or (pl.collaborative and user_id in pl.collaborators)

    # ------------------------------------------------------------------ accounts service

    async def _authorize(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        self.authorize_requests.append(q)
        if q.get("client_id") != self.client_id:
            return web.Response(status=400, text="INVALID_CLIENT: Invalid client")
        if q.get("response_type") != "code":
            return web.Response(status=400, text="unsupported_response_type")
        redirect = q.get("redirect_uri", "")
        if not (redirect.startswith("https://") or redirect.startswith("http://127.0.0.1")):
            return web.Response(status=400, text="INVALID_CLIENT: Insecure redirect URI")
        if "code_challenge" in q and q.get("code_challenge_method") != "S256":
            return web.Response(status=400, text="code_challenge_method must be S256")
        self._pending[q.get("state", "")] = q
        # The consent page; tests act on it with approve()/deny().
        return web.Response(
            text=f"<html><body>Allow access? scopes: {q.get('scope', '')}</body></html>",
            content_type="text/html",
        )

    def _client_auth(self, request: web.Request, form: dict[str, str]) -> str | None:
        """The client_id if the client authenticated (Basic header or body) or is a PKCE
        public client that sent its id; None when the credentials are wrong."""
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                cid, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return None
            return cid if (cid, secret) == (self.client_id, self.client_secret) else None
        cid = form.get("client_id")
        if cid != self.client_id:
            return None
        if "client_secret" in form and form["client_secret"] != self.client_secret:
            return None
        return cid

    def _issue(self, user_id: str | None, scope: str, *, refresh: str | None = None) -> JSON:
        access = "BQ" + secrets.token_urlsafe(40)
        info = _Token(user_id, self.client_id, scope, time.time() + self.token_ttl_s)
        self.access_tokens[access] = info
        body: JSON = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.token_ttl_s,
            "scope": scope,
        }
        if user_id is not None:
            if refresh is None:
                refresh = "AQ" + secrets.token_urlsafe(40)
                self.refresh_tokens[refresh] = info
                body["refresh_token"] = refresh
        return body

    async def _token(self, request: web.Request) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return _oauth_error("invalid_request", "Content-Type must be form-urlencoded")
        form = {k: str(v) for k, v in (await request.post()).items()}
        grant = form.get("grant_type")
        cid = self._client_auth(request, form)
        if cid is None:
            return _oauth_error("invalid_client", "Invalid client", 400)
        basic = request.headers.get("Authorization", "").startswith("Basic ")
        if grant == "authorization_code":
            code = self._codes.pop(form.get("code", ""), None)
            if code is None:
                return _oauth_error("invalid_grant", "Invalid authorization code")
            if form.get("redirect_uri") != code["redirect_uri"]:
                return _oauth_error("invalid_grant", "Invalid redirect URI")
            if "code_challenge" in code:
                if _s256(form.get("code_verifier", "")) != code["code_challenge"]:
                    return _oauth_error("invalid_grant", "code_verifier was incorrect")
            elif not basic and "client_secret" not in form:
                return _oauth_error("invalid_client", "Invalid client")
            return web.json_response(self._issue(code["user_id"], code.get("scope", "")))
        if grant == "refresh_token":
            token = form.get("refresh_token", "")
            info = self.refresh_tokens.get(token)
            if info is None or token in self.revoked_refresh:
                return _oauth_error("invalid_grant", "Refresh token revoked")
            # Spotify keeps the refresh token unless it rotates it; the fake keeps it.
            return web.json_response(self._issue(info.user_id, info.scope, refresh=token))
        if grant == "client_credentials":
            if not basic and "client_secret" not in form:
                return _oauth_error("invalid_client", "Invalid client")
            return web.json_response(self._issue(None, ""))
        return _oauth_error("unsupported_grant_type", f"grant_type {grant!r} is not supported")

    # ------------------------------------------------------------------ Web API

    async def _me(self, request: web.Request) -> web.Response:
        auth = self._bearer(request)
        if isinstance(auth, web.Response):
            return auth
        user = self.users[auth.user_id or ""]
        return web.json_response(
            {
                "id": user.id,
                "display_name": user.display_name,
                "type": "user",
                "uri": f"spotify:user:{user.id}",
                "href": f"{self.api_base}/users/{user.id}",
                "external_urls": {"spotify": f"https://open.spotify.com/user/{user.id}"},
                "images": [],
                "product": user.product,
            }
        )

    async def _my_playlists(self, request: web.Request) -> web.Response:
        auth = self._bearer(request)
        if isinstance(auth, web.Response):
            return auth
        uid = auth.user_id or ""
        mine = [
            self._simplified(p)
            for p in self.playlists.values()
            if p.owner_id == uid or uid in p.followers
        ]
        page = self._page(request, mine)
        return page if isinstance(page, web.Response) else web.json_response(page)

    async def _create_playlist(self, request: web.Request) -> web.Response:
        auth = self._bearer(request)
        if isinstance(auth, web.Response):
            return auth
        if "playlist-modify" not in auth.scope:
            return _api_error(403, "Insufficient client scope")
        try:
            body = await request.json()
        except ValueError:
            return _api_error(400, "Error parsing JSON.")
        if not isinstance(body, dict) or not body.get("name"):
            return _api_error(400, "Missing required field: name")
        pl = self.add_playlist(
            auth.user_id or "",
            str(body["name"]),
            collaborative=bool(body.get("collaborative", False)),
            public=bool(body.get("public", True)),
        )
        pl.description = body.get("description") or None
        full = self._simplified(pl)
        full["followers"] = {"href": None, "total": 0}
        page = {
            "href": full["items"]["href"],
            "items": [],
            "limit": 100,
            "next": None,
            "offset": 0,
            "previous": None,
            "total": 0,
        }
        full["items"], full["tracks"] = page, dict(page)
        return web.json_response(full, status=201)

    async def _playlist_items(self, request: web.Request) -> web.Response:
        auth = self._bearer(request)
        if isinstance(auth, web.Response):
            return auth
        pl = self.playlists.get(request.match_info["id"])
        if pl is None:
            return _api_error(404, "Resource not found")
        uid = auth.user_id or ""
        if not (pl.owner_id == uid or (pl.collaborative and uid in pl.followers)):
            return _api_error(403, "Forbidden")
        entries = []
        for uri, added in zip(pl.uris, pl.added_at, strict=True):
            track = self.tracks.get(uri.rsplit(":", 1)[-1])
            entries.append(
                {
                    "added_at": added,
                    "added_by": {"id": pl.owner_id, "type": "user"},
                    "is_local": False,
                    "item": track,
                    "track": track,  # deprecated in the 2026 reference, still sent
                }
            )
        page = self._page(request, entries)
        return page if isinstance(page, web.Response) else web.json_response(page)

    async def _add_items(self, request: web.Request) -> web.Response:
        auth = self._bearer(request)
        if isinstance(auth, web.Response):
            return auth
        pl = self.playlists.get(request.match_info["id"])
        if pl is None:
            return _api_error(404, "Resource not found")
        if not self._can_edit(pl, auth.user_id or ""):
            return _api_error(403, "Forbidden")
        position: Any = request.query.get("position")
        if "uris" in request.query:
            uris = [u.strip() for u in request.query["uris"].split(",") if u.strip()]
        else:
            try:
                body = await request.json()
            except ValueError:
                return _api_error(400, "Error parsing JSON.")
            if not isinstance(body, dict) or not isinstance(body.get("uris"), list):
                return _api_error(400, "Missing required field: uris")
            uris = [str(u) for u in body["uris"]]
            position = body.get("position", position)
        if not uris:
            return _api_error(400, "No uris provided")
        if len(uris) > ADD_MAX_URIS:
            return _api_error(400, "Too many ids requested")
        for uri in uris:
            if not re.fullmatch(r"spotify:(track|episode):[0-9A-Za-z]+", uri):
                return _api_error(400, f"Invalid base62 id: {uri}")
        stamps = [self._stamp() for _ in uris]
        at = len(pl.uris) if position is None else max(0, min(int(position), len(pl.uris)))
        pl.uris[at:at] = uris
        pl.added_at[at:at] = stamps
        pl.snapshot += 1
        return web.json_response({"snapshot_id": f"snap-{pl.id}-{pl.snapshot}"}, status=201)

    async def _search(self, request: web.Request) -> web.Response:
        auth = self._bearer(request, user=False)
        if isinstance(auth, web.Response):
            return auth
        q = request.query.get("q", "")
        types = request.query.get("type", "")
        if not q or not types:
            return _api_error(400, "No search query" if not q else "Missing parameter type")
        if "track" not in types.split(","):
            return _api_error(400, "Unsupported type in this fake")
        filters = dict(re.findall(r'(track|artist|album):"([^"]*)"', q))
        filters.update(re.findall(r"(track|artist|album):([^\s\"]+)", q))
        free = re.sub(r'(track|artist|album):("[^"]*"|\S+)', " ", q)
        want_title = _words(filters.get("track", "")) + _words(free)
        want_artist = _words(filters.get("artist", ""))

        # Loose like the real search: any word of the title or artist scores, best first, so
        # a search also returns near misses (same title by someone else) that callers must
        # refuse.
        scored = []
        for order, track in enumerate(self.tracks.values()):
            name_words = set(_words(track["name"]))
            artist_words = {w for a in track["artists"] for w in _words(a["name"])}
            score = sum(w in name_words for w in want_title) * 2
            score += sum(w in artist_words for w in want_artist) * 2
            if score:
                scored.append((-score, -track["popularity"], order, track))
        scored.sort(key=lambda s: s[:3])
        page = self._page(request, [s[3] for s in scored], max_limit=SEARCH_MAX_LIMIT)
        if isinstance(page, web.Response):
            return page
        return web.json_response({"tracks": page})
