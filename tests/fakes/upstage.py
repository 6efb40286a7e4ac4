"""A local fake of Upstage Document OCR (`POST /v1/document-digitization`).

Speaks the real request and answer shapes: bearer key (401 with Upstage's error envelope on a
wrong one), multipart field `document`, form field `model=ocr`, and an answer with
`pages[].words[]` (`text`, `confidence`, `boundingBox.vertices[4]{x,y}`, `id`). What it
"reads" comes from `answer(image_bytes) -> [(text, x0, y0, x1, y1), ...]`, which a test sets
(e.g. the word boxes tests/screens.py recorded while drawing the screenshot).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from PIL import Image

Word = tuple[str, int, int, int, int]


@dataclass
class UpstageCall:
    model: str | None
    filename: str | None
    content_type: str | None
    size: int
    authorized: bool


@dataclass
class FakeUpstage:
    api_key: str = "up_test_key"
    answer: Callable[[bytes], list[Word]] = field(default=lambda data: [])
    calls: list[UpstageCall] = field(default_factory=list)
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeUpstage:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/v1/document-digitization", self._digitize)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def _error(status: int, message: str, code: str) -> web.Response:
        body = {"error": {"message": message, "type": "invalid_request_error", "code": code}}
        return web.json_response(body, status=status)

    async def _digitize(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        authorized = auth == f"Bearer {self.api_key}"
        model = filename = ctype = None
        data = b""
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.name == "document":
                    filename, ctype = part.filename, part.headers.get("Content-Type")
                    data = bytes(await part.read())
                elif part.name == "model":
                    model = (await part.text()).strip()
        self.calls.append(UpstageCall(model, filename, ctype, len(data), authorized))
        if not authorized:
            return self._error(
                401, "Invalid API key. Please check your API key.", "invalid_api_key"
            )
        if not data:
            return self._error(400, "document is required", "invalid_request")
        if model != "ocr":
            return self._error(400, f"model '{model}' is not supported", "invalid_model")
        try:
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
        except Exception:  # the real service answers 415 to anything not an image
            return self._error(415, "Unsupported document format", "unsupported_format")
        return web.json_response(self._body(self.answer(data), width, height))

    @staticmethod
    def _body(words: list[Word], width: int, height: int) -> dict[str, Any]:
        items = [
            {
                "boundingBox": {
                    "vertices": [
                        {"x": x0, "y": y0},
                        {"x": x1, "y": y0},
                        {"x": x1, "y": y1},
                        {"x": x0, "y": y1},
                    ]
                },
                "confidence": 0.98,
                "id": i,
                "text": text,
            }
            for i, (text, x0, y0, x1, y1) in enumerate(words)
        ]
        full = " ".join(w[0] for w in words)
        return {
            "apiVersion": "1.1",
            "confidence": 0.98,
            "metadata": {"pages": [{"height": height, "page": 1, "width": width}]},
            "mimeType": "multipart/form-data",
            "modelVersion": "ocr-2.2.1",
            "numBilledPages": 1,
            "pages": [
                {
                    "confidence": 0.98,
                    "height": height,
                    "id": 0,
                    "text": full,
                    "width": width,
                    "words": items,
                }
            ],
            "stored": False,
            "text": full,
        }
