"""`tys bench ocr DIR [--provider NAME] [--limit N] [--no-match] [--json]`

Reads every image listed in DIR/truth.json (made by scripts/make_ocr_set.py) and reports:

- rows read exactly: title and artist equal to what the screenshot shows, compared as
  `core.normalize.match_key` (case, spaces and punctuation do not count; a cut title is
  compared up to its "…");
- truncation flags right;
- right matches: rows of catalog songs matched to that very track (of those in the catalog);
- wrong matches: rows matched to a track that is not the song shown (including songs that
  are in no catalog, and rows that are not songs at all), over all rows;
- seconds per image, median and p95, with the models loaded before the clock starts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from core.normalize import match_key
from core.ocr.base import OcrError
from core.ocr.pipeline import OcrRow, get_provider, match_rows, read_screenshot_sync


@dataclass
class Tally:
    rows: int = 0
    exact: int = 0
    truncated_right: int = 0
    in_catalog: int = 0
    right: int = 0
    wrong: int = 0
    extra_rows: int = 0
    errors: int = 0
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("rows", "exact", "truncated_right", "in_catalog", "right", "wrong"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.extra_rows += other.extra_rows
        self.errors += other.errors
        self.seconds += other.seconds
        self.cpu += other.cpu


def _key(text: str | None) -> str:
    return match_key(text or "")


def align(expected: list[dict], got: list[OcrRow]) -> list[int | None]:
    """For each expected row, the index of the read row that shows it (or None): the most
    similar unused read row, if similar at all."""
    used: set[int] = set()
    out: list[int | None] = []
    for e in expected:
        want = _key(e["title"]) + "|" + _key(e["artist"])
        best, best_s = None, 60.0
        for i, r in enumerate(got):
            if i in used:
                continue
            s = fuzz.ratio(want, _key(r.title) + "|" + _key(r.artist))
            if s > best_s:
                best, best_s = i, s
        if best is not None:
            used.add(best)
        out.append(best)
    return out


def score_image(expected: list[dict], got: list[OcrRow]) -> Tally:
    t = Tally(rows=len(expected))
    pairs = align(expected, got)
    for e, idx in zip(expected, pairs, strict=True):
        row = got[idx] if idx is not None else None
        if e["in_catalog"]:
            t.in_catalog += 1
        if row is None:
            continue
        if _key(row.title) == _key(e["title"]) and _key(row.artist) == _key(e["artist"]):
            t.exact += 1
        if row.truncated == e["truncated"]:
            t.truncated_right += 1
        if row.match is not None:
            same = _key(row.match.title) == _key(e["full_title"]) and _key(
                row.match.artist
            ) == _key(e["full_artist"])
            if same and e["in_catalog"]:
                t.right += 1
            elif not same:
                t.wrong += 1
    aligned = {i for i in pairs if i is not None}
    for i, r in enumerate(got):
        if i not in aligned:
            t.extra_rows += 1
            if r.match is not None:
                t.wrong += 1
    return t


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:5.1f}%" if b else "  n/a "


def p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def _load() -> str:
    try:
        return ", ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def report(total: Tally, groups: dict[str, Tally], provider: str, matched: bool) -> str:
    lines = [f"OCR benchmark - provider {provider}", ""]
    lines.append(
        f"{'':28}{'rows':>6}{'exact':>9}{'right':>9}{'wrong':>9}{'extra':>7}{'p50 s':>8}{'p95 s':>8}"
    )

    def line(name: str, t: Tally) -> str:
        right = _pct(t.right, t.in_catalog) if matched else "  -   "
        wrong = _pct(t.wrong, t.rows) if matched else "  -   "
        med = statistics.median(t.seconds) if t.seconds else 0.0
        return (
            f"{name:28}{t.rows:6}{_pct(t.exact, t.rows):>9}{right:>9}{wrong:>9}"
            f"{t.extra_rows:7}{med:8.2f}{p95(t.seconds):8.2f}"
        )

    for name in sorted(groups):
        lines.append(line(name, groups[name]))
    lines.append(line("ALL", total))
    lines += [
        "",
        f"images {len(total.seconds) + total.errors}, refused {total.errors}; rows {total.rows} "
        f"({total.in_catalog} in the catalog)",
        f"rows read exactly           {_pct(total.exact, total.rows)}   target >= 95%",
        f"truncation flag right       {_pct(total.truncated_right, total.rows)}",
    ]
    if matched:
        lines += [
            f"right matches (in catalog)  {_pct(total.right, total.in_catalog)}   target >= 90%",
            f"wrong matches (all rows)    {_pct(total.wrong, total.rows)}   target <= 1%",
        ]
    med = statistics.median(total.seconds) if total.seconds else 0.0
    lines.append(
        f"seconds per image           median {med:.2f}, p95 {p95(total.seconds):.2f}"
        "   target p95 <= 3 s"
    )
    cpu_med = statistics.median(total.cpu) if total.cpu else 0.0
    lines.append(
        f"CPU seconds per image       median {cpu_med:.2f}, p95 {p95(total.cpu):.2f}"
        f"   (all threads; {os.cpu_count()} cores, load average now {_load()})"
    )
    return "\n".join(lines)


def main(argv: list[str], urls: Any = None, settings: Any = None) -> int:
    ap = argparse.ArgumentParser(prog="tys bench ocr", description="screenshot OCR benchmark")
    ap.add_argument("dir", type=Path, help="made by scripts/make_ocr_set.py")
    ap.add_argument("--provider", choices=("tesseract", "tesseract-page", "upstage"))
    ap.add_argument("--limit", type=int, default=0, help="read only the first N images")
    ap.add_argument("--no-match", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--by", choices=("style", "theme", "size"), default="style")
    args = ap.parse_args(argv)
    truth_path = args.dir / "truth.json"
    if not truth_path.exists():
        print(
            f"tys bench ocr: {truth_path} missing; build the set with "
            f"`python scripts/make_ocr_set.py {args.dir}`",
            file=sys.stderr,
        )
        return 2
    images = json.loads(truth_path.read_text(encoding="utf-8"))["images"]
    if args.limit:
        images = images[: args.limit]
    name = args.provider or str(
        getattr(getattr(settings, "ocr_provider", None), "value", None) or "tesseract"
    )
    provider = get_provider(
        name,
        api_key=getattr(settings, "upstage_api_key", None),
        api_base=getattr(settings, "upstage_api_base", None),
    )
    matcher = None
    if not args.no_match and urls is not None and getattr(urls, "database_url", ""):
        from core.ocr.cli import load_matcher

        matcher = asyncio.run(load_matcher(urls.database_url))
    # Load the models before timing: the bot loads them at start-up.
    first = (args.dir / images[0]["file"]).read_bytes() if images else b""
    if first:
        try:
            read_screenshot_sync(first, provider)
        except OcrError:
            pass
    total = Tally()
    groups: dict[str, Tally] = defaultdict(Tally)
    for im in images:
        data = (args.dir / im["file"]).read_bytes()
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            result = read_screenshot_sync(data, provider)
            rows = result.rows
        except OcrError as exc:
            print(f"{im['file']}: refused: {exc}", file=sys.stderr)
            rows = []
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        if matcher is not None:
            rows = match_rows(rows, matcher)
        t = score_image(im["rows"], rows)
        t.seconds.append(seconds)
        t.cpu.append(cpu)
        total.add(t)
        groups[im[args.by]].add(t)
    if args.json:
        doc = {
            "provider": provider.name,
            "images": len(images),
            "rows": total.rows,
            "in_catalog": total.in_catalog,
            "exact": total.exact,
            "truncated_right": total.truncated_right,
            "right": total.right if matcher else None,
            "wrong": total.wrong if matcher else None,
            "extra_rows": total.extra_rows,
            "median_s": statistics.median(total.seconds) if total.seconds else None,
            "p95_s": p95(total.seconds),
            "median_cpu_s": statistics.median(total.cpu) if total.cpu else None,
            "p95_cpu_s": p95(total.cpu),
        }
        print(json.dumps(doc))
    else:
        print(report(total, groups, provider.name, matcher is not None))
    return 0
