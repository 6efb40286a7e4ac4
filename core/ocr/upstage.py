"""Upstage Document OCR, the optional cloud provider (OCR_PROVIDER=upstage).

`POST {UPSTAGE_API_BASE}/document-digitization`, bearer key, multipart field `document` and
`model=ocr`; the answer's `pages[].words[]` carry `text`, `confidence` and
`boundingBox.vertices[4]{x,y}` in image pixels. The image passes the same input checks as
for the local engine first, so a bad file is refused before it leaves the machine.
"""

from __future__ import annotations

import logging

import httpx

from core.ocr.base import OcrError, ProviderUnavailable, WordBox
from core.ocr.preprocess import image_format, open_image

log = logging.getLogger(__name__)

_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
TIMEOUT_S = 30.0


class UpstageProvider:
    name = "upstage"

    def __init__(
        self,
        api_key: str | None,
        api_base: str = "https://api.upstage.ai/v1",
        *,
        timeout: float = TIMEOUT_S,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not api_key:
            raise ProviderUnavailable("OCR_PROVIDER=upstage needs UPSTAGE_API_KEY")
        self._url = api_base.rstrip("/") + "/document-digitization"
        # One client per provider keeps the TLS connection warm between screenshots.
        self._client = httpx.Client(
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}"},
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def read(self, data: bytes) -> list[WordBox]:
        img = open_image(data)  # limits and format, same refusals as the local engine
        fmt = image_format(data)
        files = {"document": (f"screenshot.{fmt.lower()}", data, _MIME.get(fmt, "image/png"))}
        try:
            resp = self._client.post(self._url, files=files, data={"model": "ocr"})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"Upstage OCR unreachable: {exc!r}") from None
        if resp.status_code in (401, 403):
            raise ProviderUnavailable(f"Upstage refused the API key (HTTP {resp.status_code})")
        if resp.status_code == 429:
            raise ProviderUnavailable("Upstage OCR rate limit reached (HTTP 429)")
        if resp.status_code == 413:
            raise OcrError("Upstage refused the file as too large (HTTP 413)")
        if resp.status_code >= 400:
            raise ProviderUnavailable(
                f"Upstage OCR failed: HTTP {resp.status_code} {resp.text[:200]}"
            )
        try:
            doc = resp.json()
        except ValueError:
            raise ProviderUnavailable(
                "Upstage OCR answered with something that is not JSON"
            ) from None
        return parse_response(doc, img.size)


def parse_response(doc: dict, size: tuple[int, int] | None = None) -> list[WordBox]:
    """Word boxes of an Upstage OCR answer (every page; a screenshot has one)."""
    words: list[WordBox] = []
    for page in doc.get("pages") or []:
        for w in page.get("words") or []:
            text = str(w.get("text") or "").strip()
            vertices = ((w.get("boundingBox") or {}).get("vertices")) or []
            if not text or not vertices:
                continue
            xs = [float(v.get("x", 0)) for v in vertices]
            ys = [float(v.get("y", 0)) for v in vertices]
            # Some Upstage answers give coordinates relative to the page (0..1).
            if size and max(xs) <= 1.0 and max(ys) <= 1.0:
                xs = [x * size[0] for x in xs]
                ys = [y * size[1] for y in ys]
            conf = float(w.get("confidence", 1.0))
            words.append(
                WordBox(text, conf, round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys)))
            )
    words.sort(key=lambda b: (b.y0, b.x0))
    return words
