"""core.normalize: the forms every matcher and the unique track key rely on."""

from __future__ import annotations

import unicodedata

import pytest

from core.normalize import (
    artist_key,
    artist_parts,
    is_truncated,
    match_key,
    normalize_artist,
    normalize_title,
    strip_ellipsis,
    strip_version,
    title_variants,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("밤편지", "밤편지"),
        ("좋은 날", "좋은 날"),
        ("Blueming (feat. 이종훈)", "blueming"),
        ("Song feat. Somebody", "song"),
        ("Dance with Me", "dance with me"),  # "with" inside a title is part of it
        ("Yesterday - Remastered 2009", "yesterday"),
        ("Take Five - 2009 Remaster", "take five"),
        ("Hold On - Live at Wembley", "hold on"),
        ("밤편지 (Live)", "밤편지"),
        ("Creep [Radio Edit]", "creep"),
        ("Don't Know Why", "dont know why"),
        ("Don’t Know Why", "dont know why"),  # typographic apostrophe
        ("Ｈｅｌｌｏ　Ｗｏｒｌｄ", "hello world"),  # full-width letters and space
        ("Ｃａｆé（Ｌｉｖｅ）", "café"),  # full-width brackets
        ("  Lots   of    space  ", "lots of space"),
        ("Blueming (feat", "blueming"),  # what a truncated title leaves behind
        ("(Intro)", "intro"),  # a title that is only a bracket keeps its words
    ],
)
def test_normalize_title(raw: str, expected: str) -> None:
    assert normalize_title(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("아이유", "아이유"),
        ("IU", "iu"),
        ("아이유 (IU)", "아이유"),
        ("IU feat. SUGA", "iu"),
        ("Stan Getz & João Gilberto", "stan getz joão gilberto"),
        ("Ｂｌａｃｋｐｉｎｋ", "blackpink"),
        ("Zion.T", "zion t"),
    ],
)
def test_normalize_artist(raw: str, expected: str) -> None:
    assert normalize_artist(raw) == expected


def test_strip_version_keeps_plain_titles() -> None:
    assert strip_version("Fly Me to the Moon") == "fly me to the moon"


def test_title_variants_with_and_without_brackets() -> None:
    variants = title_variants("봄날 (Spring Day)")
    assert variants[0] == "봄날"
    assert "spring day" in variants
    assert "봄날 spring day" in variants
    # Version words in brackets are not alternative titles.
    assert title_variants("Yesterday (Remastered 2009)") == ["yesterday"]


def test_match_key_is_hangul_jamo_and_compact() -> None:
    key = match_key("밤 편지!")
    assert " " not in key and "!" not in key
    assert key == unicodedata.normalize("NFD", "밤편지")
    assert len(key) == 8  # ㅂㅏㅁ ㅍㅕㄴ ㅈㅣ
    # One OCR slip (편 -> 펀) changes exactly one jamo.
    slip = match_key("밤펀지")
    assert sum(a != b for a, b in zip(key, slip, strict=True)) == 1


def test_match_key_accents_and_kana() -> None:
    assert match_key("João") == match_key("Joao") == "joao"
    assert match_key("Café") == "cafe"
    # Kana voicing marks are letters: が and か stay different.
    assert match_key("が") != match_key("か")
    assert match_key("ＡＢＣ") == "abc"


def test_artist_key_and_parts() -> None:
    assert artist_key("The Beatles") == artist_key("Beatles") == "beatles"
    assert artist_parts("Stan Getz & João Gilberto") == ["stangetz", "joaogilberto"]
    assert artist_parts("IU feat. SUGA") == ["iu", "suga"]
    assert artist_parts("아이유") == [match_key("아이유")]


def test_truncation_helpers() -> None:
    assert is_truncated("Blueming (feat…")
    assert is_truncated("Some long title...")
    assert not is_truncated("Complete")
    assert strip_ellipsis("밤편…") == "밤편"
    assert strip_ellipsis("Title ...") == "Title"
    assert strip_ellipsis("Title") == "Title"
