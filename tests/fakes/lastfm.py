"""A local fake of the Last.fm web API (2.0) for tests.

``FakeLastfm`` is an aiohttp server on 127.0.0.1 (ephemeral port). The client under test only
gets ``base_url`` (``http://127.0.0.1:PORT/2.0/``) and calls it exactly like
ws.audioscrobbler.com: ``GET {base}?method=tag.getTopTracks&tag=jazz&api_key=...&format=json``.
Answers use Last.fm's JSON shapes, quirks included (numbers as strings, errors as
``{"error": 6, "message": ..., "links": []}``).

Methods: tag.getTopTracks, track.getTopTags, track.getInfo, track.getSimilar.
Faults (``inject``): error 29/11/16/10, HTTP 500, malformed JSON, for the next K calls or
forever, optionally only for one method or one track; ``not_found`` tracks answer error 6.
Every request is logged with its arrival time (``requests``) so a test can check the rate.
The library is made-up data (no real catalog content).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

from aiohttp import web

JSON = dict[str, Any]

METHODS = ("tag.gettoptracks", "track.gettoptags", "track.getinfo", "track.getsimilar")
ERROR_MESSAGES = {
    3: "Invalid Method - No method with that name in this package",
    6: "Track not found",
    10: "Invalid API key - You must be granted a valid key by last.fm",
    11: "Service Offline - This service is temporarily offline. Try again later.",
    16: "There was a temporary error processing your request. Please try again",
    29: "Rate Limit Exceeded - Your IP has made too many requests in a short period",
}
# HTTP statuses Last.fm pairs with its error bodies (not found answers 200 with an error body).
ERROR_STATUS = {3: 400, 6: 200, 10: 403, 11: 503, 16: 503, 29: 429}


@dataclass
class FakeTrack:
    artist: str
    name: str
    album: str | None = None
    duration_s: int = 200
    listeners: int = 1000
    playcount: int = 5000
    # (tag name, count 0..100), strongest first, as track.getTopTags returns them.
    tags: list[tuple[str, int]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.artist.casefold(), self.name.casefold())

    @property
    def url(self) -> str:
        return f"https://www.last.fm/music/{quote_plus(self.artist)}/_/{quote_plus(self.name)}"


@dataclass
class Fault:
    """What to answer instead of the real thing: kind is an error code ("error29",
    "error6", "error10", "error11", "error16"), "http500" or "malformed"."""

    kind: str
    remaining: int | None = 1  # None: forever
    method: str | None = None  # lower-case method name, or any
    track: tuple[str, str] | None = None  # (artist, name) casefolded, or any

    def matches(self, method: str, track: tuple[str, str] | None) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.method and self.method != method:
            return False
        return not (self.track and self.track != track)


@dataclass(frozen=True)
class LoggedRequest:
    ts: float  # time.monotonic() at arrival
    method: str
    params: dict[str, str]
    status: int
    answer: str  # "ok", "error6", "http500", "malformed"...

    @property
    def track(self) -> tuple[str, str] | None:
        if "track" in self.params:
            return (self.params.get("artist", ""), self.params["track"])
        return None


def default_library() -> tuple[list[FakeTrack], dict[str, list[tuple[str, str]]]]:
    """A small made-up library: tracks and each tag's top list (artist, name)."""
    tracks = [
        FakeTrack("Velvet Lamps", "Slow Coffee", "Morning Steam", 214, 182000, 900000,
                  [("jazz", 100), ("lounge", 62), ("chill", 40), ("seen live", 5)]),
        FakeTrack("Velvet Lamps", "Copper Kettle", "Morning Steam", 188, 90500, 310000,
                  [("jazz", 100), ("cafe", 51), ("smooth jazz", 33)]),
        FakeTrack("Mina Harbor", "Paper Boats", "Tidal", 241, 15400, 60000,
                  [("bossa nova", 100), ("acoustic", 70), ("summer", 22)]),
        FakeTrack("Mina Harbor", "Salt Wind", None, 199, 4200, 9000,
                  [("bossa nova", 100), ("jazz", 48)]),
        FakeTrack("The Quiet Ovens", "Bread at Dawn", "Bakery Hours", 176, 800, 1500,
                  [("indie", 100), ("cozy", 60), ("acoustic", 45)]),
        FakeTrack("Noel Grain", "Nothing Maps", None, 230, 120, 300,
                  [("albums i own", 100), ("favorites", 80)]),
        FakeTrack("Seoul Lanterns", "Night Bus", "Late Lines", 252, 66000, 400000,
                  [("k-indie", 100), ("korean", 80), ("dreamy", 30)]),
        FakeTrack("Seoul Lanterns", "Rooftop Tea", "Late Lines", 205, 23000, 91000,
                  [("k-indie", 100), ("acoustic", 55), ("cozy", 20)]),
    ]  # fmt: skip
    top = {
        "jazz": [
            ("Velvet Lamps", "Slow Coffee"),
            ("Velvet Lamps", "Copper Kettle"),
            ("Mina Harbor", "Salt Wind"),
        ],
        "bossa nova": [("Mina Harbor", "Paper Boats"), ("Mina Harbor", "Salt Wind")],
        "indie": [("The Quiet Ovens", "Bread at Dawn"), ("Noel Grain", "Nothing Maps")],
        "k-indie": [("Seoul Lanterns", "Night Bus"), ("Seoul Lanterns", "Rooftop Tea")],
    }
    return tracks, top


def generated_library(
    prefix: str, tags: Iterable[str], per_tag: int
) -> tuple[list[FakeTrack], dict[str, list[tuple[str, str]]]]:
    """`per_tag` distinct made-up tracks under each tag; names carry `prefix` so tests sharing
    one database never collide."""
    tracks: list[FakeTrack] = []
    top: dict[str, list[tuple[str, str]]] = {}
    for t_i, tag in enumerate(tags):
        top[tag] = []
        for i in range(per_tag):
            tr = FakeTrack(
                artist=f"{prefix} Artist {t_i}-{i % 3}",
                name=f"{prefix} Song {t_i}-{i}",
                album=f"{prefix} Album {t_i}",
                duration_s=150 + i,
                listeners=10 ** (2 + i % 5),
                playcount=10 ** (3 + i % 5),
                tags=[(tag, 100), ("chill", 40 + i % 50), ("awesome", 10)],
            )
            tracks.append(tr)
            top[tag].append((tr.artist, tr.name))
    return tracks, top


class FakeLastfm:
    def __init__(
        self,
        library: tuple[list[FakeTrack], dict[str, list[tuple[str, str]]]] | None = None,
        *,
        api_key: str = "test-lastfm-key",
    ) -> None:
        tracks, top = library or default_library()
        self.api_key = api_key
        self.tracks: dict[tuple[str, str], FakeTrack] = {t.key: t for t in tracks}
        self.top: dict[str, list[tuple[str, str]]] = {k.casefold(): v for k, v in top.items()}
        self.not_found: set[tuple[str, str]] = set()
        self.faults: list[Fault] = []
        self.requests: list[LoggedRequest] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle --

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/2.0/"

    async def start(self) -> FakeLastfm:
        app = web.Application()
        app.router.add_route("GET", "/2.0/", self._handle)
        app.router.add_route("POST", "/2.0/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeLastfm:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- test controls --

    def inject(
        self,
        kind: str,
        count: int | None = 1,
        *,
        method: str | None = None,
        track: tuple[str, str] | None = None,
    ) -> Fault:
        fault = Fault(
            kind,
            count,
            method.lower() if method else None,
            (track[0].casefold(), track[1].casefold()) if track else None,
        )
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    def mark_not_found(self, artist: str, name: str) -> None:
        self.not_found.add((artist.casefold(), name.casefold()))

    def calls(self, method: str | None = None, track: tuple[str, str] | None = None) -> list:
        out = self.requests
        if method:
            out = [r for r in out if r.method == method.lower()]
        if track:
            want = (track[0].casefold(), track[1].casefold())
            out = [
                r for r in out if r.track and (r.track[0].casefold(), r.track[1].casefold()) == want
            ]
        return out

    def max_in_window(self, window_s: float = 1.0) -> int:
        """The most requests that arrived within any `window_s` seconds (half-open)."""
        ts = sorted(r.ts for r in self.requests)
        best = 0
        j = 0
        for i, t in enumerate(ts):
            while t - ts[j] >= window_s:
                j += 1
            best = max(best, i - j + 1)
        return best

    # -- the API --

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        method = params.get("method", "").lower()
        track_key = None
        if "track" in params:
            track_key = (params.get("artist", "").casefold(), params["track"].casefold())
        status, body, answer = self._answer(method, params, track_key)
        self.requests.append(LoggedRequest(arrived, method, params, status, answer))
        if isinstance(body, str):
            return web.Response(status=status, text=body, content_type="application/json")
        return web.json_response(body, status=status)

    def _error(self, code: int, message: str | None = None) -> tuple[int, JSON, str]:
        body = {"error": code, "message": message or ERROR_MESSAGES.get(code, "error"), "links": []}
        return ERROR_STATUS.get(code, 400), body, f"error{code}"

    def _answer(
        self, method: str, params: dict[str, str], track_key: tuple[str, str] | None
    ) -> tuple[int, JSON | str, str]:
        for fault in self.faults:
            if fault.matches(method, track_key):
                if fault.remaining is not None:
                    fault.remaining -= 1
                if fault.kind == "http500":
                    return 500, "<html><body>500 Internal Server Error</body></html>", "http500"
                if fault.kind == "malformed":
                    return 200, '{"track": {"name": "Slow Co', "malformed"
                if fault.kind.startswith("error"):
                    return self._error(int(fault.kind[5:]))
                raise ValueError(f"unknown fault kind {fault.kind!r}")
        if params.get("api_key") != self.api_key:
            return self._error(10)
        if params.get("format") != "json":
            # The real service answers XML without format=json; our client must always ask.
            return 400, "<lfm status='failed'>format=json missing</lfm>", "xml"
        if method not in METHODS:
            return self._error(3)
        if method == "tag.gettoptracks":
            return 200, self._top_tracks(params), "ok"
        if track_key is None or "artist" not in params:
            return self._error(6, "You must supply either a track & artist name or a track mbid.")
        track = self.tracks.get(track_key)
        if track is None or track_key in self.not_found:
            return self._error(6)
        if method == "track.gettoptags":
            return 200, self._top_tags(track), "ok"
        if method == "track.getinfo":
            return 200, self._info(track), "ok"
        return 200, self._similar(track, int(params.get("limit", "50"))), "ok"

    def _artist(self, name: str) -> JSON:
        return {"name": name, "mbid": "", "url": f"https://www.last.fm/music/{quote_plus(name)}"}

    def _top_tracks(self, params: dict[str, str]) -> JSON:
        tag = params.get("tag", "")
        page = max(1, int(params.get("page", "1")))
        limit = max(1, int(params.get("limit", "50")))
        keys = self.top.get(tag.casefold(), [])
        chunk = keys[(page - 1) * limit : page * limit]
        items = []
        for i, (artist, name) in enumerate(chunk):
            t = self.tracks[(artist.casefold(), name.casefold())]
            items.append(
                {
                    "name": t.name,
                    "duration": str(t.duration_s),
                    "mbid": "",
                    "url": t.url,
                    "streamable": {"#text": "0", "fulltrack": "0"},
                    "artist": self._artist(t.artist),
                    "image": [{"#text": "", "size": "small"}],
                    "@attr": {"rank": str((page - 1) * limit + i + 1)},
                }
            )
        return {
            "tracks": {
                "track": items,
                "@attr": {
                    "tag": tag,
                    "page": str(page),
                    "perPage": str(limit),
                    "totalPages": str(max(1, math.ceil(len(keys) / limit))),
                    "total": str(len(keys)),
                },
            }
        }

    def _tag_list(self, track: FakeTrack) -> list[JSON]:
        return [
            {"count": count, "name": name, "url": f"https://www.last.fm/tag/{quote_plus(name)}"}
            for name, count in track.tags
        ]

    def _top_tags(self, track: FakeTrack) -> JSON:
        return {
            "toptags": {
                "tag": self._tag_list(track),
                "@attr": {"artist": track.artist, "track": track.name},
            }
        }

    def _info(self, track: FakeTrack) -> JSON:
        doc: JSON = {
            "name": track.name,
            "mbid": "",
            "url": track.url,
            "duration": str(track.duration_s * 1000),
            "streamable": {"#text": "0", "fulltrack": "0"},
            "listeners": str(track.listeners),
            "playcount": str(track.playcount),
            "artist": self._artist(track.artist),
            "toptags": {
                "tag": [
                    {"name": n, "url": f"https://www.last.fm/tag/{quote_plus(n)}"}
                    for n, _ in track.tags[:5]
                ]
            },
        }
        if track.album:
            doc["album"] = {
                "artist": track.artist,
                "title": track.album,
                "url": f"https://www.last.fm/music/{quote_plus(track.artist)}/{quote_plus(track.album)}",
                "image": [{"#text": "", "size": "small"}, {"#text": "", "size": "large"}],
                "@attr": {"position": "1"},
            }
        return {"track": doc}

    def _similar(self, track: FakeTrack, limit: int) -> JSON:
        mine = {n for n, _ in track.tags}
        scored = []
        for other in self.tracks.values():
            if other.key == track.key:
                continue
            shared = len(mine & {n for n, _ in other.tags})
            if shared:
                scored.append((shared / max(1, len(mine)), other))
        scored.sort(key=lambda p: (-p[0], p[1].name))
        return {
            "similartracks": {
                "track": [
                    {
                        "name": o.name,
                        "playcount": o.playcount,
                        "mbid": "",
                        "match": round(m, 6),
                        "url": o.url,
                        "streamable": {"#text": "0", "fulltrack": "0"},
                        "duration": o.duration_s,
                        "artist": self._artist(o.artist),
                        "image": [{"#text": "", "size": "small"}],
                    }
                    for m, o in scored[:limit]
                ],
                "@attr": {"artist": track.artist},
            }
        }
