"""The shop-mood tag vocabulary (core/data/tags.json) and the Last.fm tag mapping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class TagDef:
    key: str
    group: str  # mood | genre | setting
    en: str
    ko: str

    def label(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, TagDef]:
    rows = json.loads((DATA / "tags.json").read_text(encoding="utf-8"))
    return {r["key"]: TagDef(r["key"], r["group"], r["en"], r["ko"]) for r in rows}


@lru_cache(maxsize=1)
def lastfm_map() -> dict[str, list[str]]:
    path = DATA / "lastfm_tag_map.json"
    if not path.exists():
        return {}
    return {k.casefold(): v for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def _canon(tag: str) -> str:
    return re.sub(r"[\s_]+", " ", tag.casefold().strip())


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    """English and Korean labels -> key (built once; map_tags runs per imported row)."""
    vocab = vocabulary()
    return {_canon(t.en): t.key for t in vocab.values()} | {
        _canon(t.ko): t.key for t in vocab.values()
    }


def map_tags(raw: Iterable[str]) -> tuple[list[str], list[str]]:
    """Free-form tags -> (vocabulary keys in first-seen order, tags that mapped to nothing).

    A vocabulary key or label is taken as is; anything else goes through the Last.fm map.
    """
    vocab = vocabulary()
    by_label = _labels()
    mapping = lastfm_map()
    keys: list[str] = []
    dropped: list[str] = []
    for tag in raw:
        c = _canon(tag)
        if not c:
            continue
        hyphen = c.replace(" ", "-")
        found = (
            [hyphen]
            if hyphen in vocab
            else [by_label[c]]
            if c in by_label
            else mapping.get(c) or mapping.get(hyphen) or mapping.get(c.replace("-", " "))
        )
        if not found:
            dropped.append(tag)
            continue
        keys.extend(k for k in found if k in vocab and k not in keys)
    return keys, dropped
