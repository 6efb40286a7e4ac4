"""Build the screenshot benchmark set: `python scripts/make_ocr_set.py DIR [--screens N]`.

Renders every app style of tests/screens.py in dark and light themes, each screen saved as a
full-size PNG and as the JPEG Telegram delivers (long side 1280 px, quality 80). Songs are
real catalog tracks (core/data/catalog_ko.jsonl and catalog_intl.jsonl) mixed with invented
ones that are in no catalog. Ground truth goes to DIR/truth.json. Images are not committed;
the set is rebuilt the same way from the same seed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.screens import APP_STYLES, Song, decorate, invented_songs, render  # noqa: E402

# Tesseract reads Korean and Latin scripts here (kor + eng models); titles in other scripts
# (Japanese kana/kanji) are left out of the set rather than counted as misses by design.


def readable(text: str) -> bool:
    return all(
        ch.isascii() or "\uac00" <= ch <= "\ud7a3" or ch in "’'éèáíóúñüöäàçâêîôû…" for ch in text
    )


def load_catalog() -> list[tuple[str, str]]:
    songs: list[tuple[str, str]] = []
    for name in ("catalog_ko.jsonl", "catalog_intl.jsonl"):
        for line in (REPO / "core" / "data" / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            doc = json.loads(line)
            if readable(doc["title"]) and readable(doc["artist"]):
                songs.append((doc["title"], doc["artist"]))
    return songs


def pick_songs(catalog: list[tuple[str, str]], rng: random.Random, seed: int) -> list[Song]:
    ko = [s for s in catalog if any("\uac00" <= ch <= "\ud7a3" for ch in s[0] + s[1])]
    intl = [s for s in catalog if s not in ko]
    chosen = rng.sample(ko, 6) + rng.sample(intl, 6)
    rng.shuffle(chosen)
    songs = decorate(chosen, seed=seed)
    # Two songs per screen that no catalog has: they must come back unmatched.
    for k, extra in enumerate(invented_songs(2, seed=seed)):
        songs.insert(3 + 4 * k, extra)
    return songs


def build(out: Path, screens_per_theme: int, seed: int) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    catalog = load_catalog()
    catalog_keys = set(catalog)
    rng = random.Random(seed)
    images = []
    for style in APP_STYLES:
        for theme in ("dark", "light"):
            for k in range(screens_per_theme):
                s_seed = rng.randrange(1 << 30)
                songs = pick_songs(catalog, random.Random(s_seed), s_seed)
                screen = render(style, songs, theme=theme, seed=s_seed)
                rows = [
                    {
                        "title": r.shown_title,
                        "artist": r.shown_artist,
                        "truncated": r.truncated,
                        "full_title": r.title,
                        "full_artist": r.artist,
                        "in_catalog": (r.title, r.artist) in catalog_keys,
                    }
                    for r in screen.rows
                ]
                stem = f"{style}-{theme}-{k}"
                for size, data, ext in (
                    ("full", screen.png(), "png"),
                    ("telegram", screen.telegram_jpeg(), "jpg"),
                ):
                    name = f"{stem}-{size}.{ext}"
                    (out / name).write_bytes(data)
                    images.append(
                        {"file": name, "style": style, "theme": theme, "size": size, "rows": rows}
                    )
    truth = {"seed": seed, "images": images}
    (out / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return truth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--screens", type=int, default=2, help="screens per style and theme")
    ap.add_argument("--seed", type=int, default=20260314)
    args = ap.parse_args(argv)
    truth = build(args.dir, args.screens, args.seed)
    n_rows = sum(len(i["rows"]) for i in truth["images"])
    styles = {i["style"] for i in truth["images"]}
    print(f"{len(truth['images'])} images, {n_rows} rows, {len(styles)} app styles -> {args.dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
