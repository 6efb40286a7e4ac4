"""`tys ocr IMAGE [IMAGE...] [--json] [--no-match] [--provider NAME]`

Prints the song rows read from each screenshot and, unless --no-match, the catalog track
each row matched. With --json, one JSON object per image (one line each):
{"file", "rows": [{"title", "artist", "truncated", "match"}], "provider", "seconds"}, or
{"file", "error": {"key", "message"}} for an image that was refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from core.ocr.base import OcrError
from core.ocr.pipeline import OcrResult, get_provider, match_rows, read_screenshot_sync
from core.texts import TEXTS, t

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tys ocr", description="read playlist screenshots")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.add_argument("--no-match", action="store_true", help="do not match rows to the catalog")
    p.add_argument(
        "--provider",
        choices=("tesseract", "tesseract-page", "upstage"),
        help="override OCR_PROVIDER",
    )
    return p


async def load_matcher(database_url: str) -> Any:
    """The catalog matcher over the database (the starter catalog is seeded if missing)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from core.catalog.matching import CatalogMatcher
    from core.catalog.seed import seed_if_empty
    from core.db import make_engine

    engine = make_engine(database_url)
    try:
        await seed_if_empty(engine)
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            return await CatalogMatcher().load(session)
    finally:
        await engine.dispose()


def _read_file(path: Path) -> bytes:
    if not path.exists():
        raise OcrError("no such file")
    if path.is_dir():
        raise OcrError("is a directory, not an image")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise OcrError(f"cannot read it ({exc.strerror})") from None


def _print_text(path: Path, result: OcrResult) -> None:
    print(f"{path}  ({len(result.rows)} rows, {result.provider}, {result.seconds:.2f} s)")
    for i, row in enumerate(result.rows, 1):
        title = row.title + ("…" if row.truncated else "")
        line = f"{i:3}. {title} — {row.artist or '?'}"
        if row.match is not None:
            m = row.match
            line += f"   => #{m.track_id} {m.title} — {m.artist} ({m.score:.2f})"
        print(line)


def main(argv: list[str], urls: Any = None, settings: Any = None) -> int:
    args = _parser().parse_args(argv)
    provider_name = args.provider or str(
        getattr(getattr(settings, "ocr_provider", None), "value", None) or "tesseract"
    )
    try:
        provider = get_provider(
            provider_name,
            api_key=getattr(settings, "upstage_api_key", None),
            api_base=getattr(settings, "upstage_api_base", None),
        )
    except OcrError as exc:
        print(f"tys ocr: {exc}", file=sys.stderr)
        return 1
    matcher = None
    if not args.no_match:
        if urls is None or not getattr(urls, "database_url", ""):
            print("tys ocr: no database to match against; use --no-match", file=sys.stderr)
            return EXIT_USAGE
        matcher = asyncio.run(load_matcher(urls.database_url))
    failed = 0
    for path in args.images:
        try:
            result = read_screenshot_sync(_read_file(path), provider)
        except OcrError as exc:
            failed += 1
            if args.json:
                doc = {"file": str(path), "error": {"key": exc.key, "message": str(exc)}}
                print(json.dumps(doc, ensure_ascii=False))
            else:
                hint = t(exc.key if exc.key in TEXTS else "ocr_failed", "en")
                print(f"{path}: {exc}\n  -> {hint}", file=sys.stderr)
            continue
        rows = match_rows(result.rows, matcher) if matcher is not None else result.rows
        result = OcrResult(rows, result.provider, result.seconds)
        if args.json:
            doc = {
                "file": str(path),
                "rows": [r.to_json() for r in result.rows],
                "provider": result.provider,
                "seconds": result.seconds,
            }
            print(json.dumps(doc, ensure_ascii=False))
        else:
            _print_text(path, result)
    return 1 if failed else 0
