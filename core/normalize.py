"""Text normalisation for catalog de-duplication, Spotify resolution and screenshot matching.

Two forms:
- `normalize_title` / `normalize_artist`: readable, spaced, lower-case forms stored on the
  track (`norm_title`, `norm_artist`) and used for the unique key and the pg_trgm index.
- `match_key`: the compact Hangul-aware key for fuzzy matching: no spaces or punctuation, and
  Hangul syllables decomposed to jamo (NFD) so a one-letter OCR slip costs one jamo, not a
  whole syllable.
"""

from __future__ import annotations

import re
import unicodedata

# Version suffixes that name the same song: "- Remastered 2011", "(Live)", "[Mono]"...
_VERSION_WORDS = (
    r"remaster(?:ed)?|live|mono|stereo|single|radio|edit|version|ver\.?|demo|acoustic|"
    r"instrumental|inst\.?|mix|remix|original|album|explicit|clean|deluxe|bonus|from|feat\.?|"
    r"ft\.?|featuring|with|prod\.?|produced|bonus track|mv|official|audio|video|lyric|lyrics"
)
_BRACKETS = re.compile(r"\s*[\(\[\{（【「『<〈][^\)\]\}）】」』>〉]*[\)\]\}）】」』>〉]")
_DASH_SUFFIX = re.compile(
    rf"\s+[-–—]\s+(?:.*\b(?:{_VERSION_WORDS})\b.*|\d{{4}}(?:\s+\w+)?)$", re.IGNORECASE
)
_VERSION_RE = re.compile(rf"\b(?:{_VERSION_WORDS})\b|\b\d{{4}}\b", re.IGNORECASE)
_FEAT = re.compile(r"\s+(?:feat\.?|ft\.?|featuring|with)\s+.*$", re.IGNORECASE)
# In a title "with" is too often part of the name ("Dance with Me"): only explicit feat. markers.
_TITLE_FEAT = re.compile(r"\s+(?:feat\.|ft\.|featuring)\s+.*$", re.IGNORECASE)
# A bracket opened but never closed: what is left of "Blueming (feat. …" after the ellipsis.
_OPEN_BRACKET = re.compile(r"\s*[\(\[\{（【「『<〈][^\)\]\}）】」』>〉]*$")
# Separators between the names of several artists ("Stan Getz & João Gilberto", "A x B").
_ARTIST_SEP = re.compile(r"\s*(?:,|&|\+|/|;|\band\b|\bx\b|\bwith\b|\bfeat\.?|\bft\.?)\s*")
_LEADING_THE = re.compile(r"^the\s+")
# Combining accents, which OCR and keyboards drop freely (João / Joao). Kana voicing marks
# (U+3099/U+309A, か/が) are letters in their own right and are not in these ranges.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_ELLIPSIS = ("…", "...", "..")


_APOSTROPHES = re.compile(r"[\'’‘`´]")


def _nfkc(text: str) -> str:
    # "Don't" and "Dont" are the same title: apostrophes vanish rather than split words.
    return _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).casefold()).strip()


def _clean(text: str) -> str:
    text = _NON_WORD.sub(" ", text).replace("_", " ")
    return _SPACES.sub(" ", text).strip()


def strip_version(title: str) -> str:
    """'Yesterday - Remastered 2009' -> 'Yesterday'; 'Blueming (feat. X)' -> 'Blueming'."""
    base = _nfkc(title)
    base = _DASH_SUFFIX.sub("", base)
    base = _TITLE_FEAT.sub("", base)
    stripped = _OPEN_BRACKET.sub("", _BRACKETS.sub("", base)).strip()
    # A title that is only a bracket ("(Intro)") keeps its words.
    return stripped or base


def normalize_title(title: str) -> str:
    return _clean(strip_version(title)) or _clean(_nfkc(title))


def normalize_artist(artist: str) -> str:
    base = _nfkc(artist)
    base = _BRACKETS.sub("", base)
    base = _FEAT.sub("", base)
    return _clean(base) or _clean(_nfkc(artist))


def title_variants(title: str) -> list[str]:
    """Normalised forms to try: without and with bracketed parts ('봄날 (Spring Day)')."""
    out = [normalize_title(title)]
    base = _DASH_SUFFIX.sub("", _nfkc(title))
    inners = [_clean(i) for i in re.findall(r"[\(\[]([^\)\]]+)[\)\]]", base)]
    kept = [i for i in inners if i and not _VERSION_RE.search(i)]
    if kept:
        candidates = [_clean(f"{out[0]} {' '.join(kept)}"), *kept]
        out += [c for c in candidates if c and c not in out]
    return out


def is_truncated(text: str) -> bool:
    return text.rstrip().endswith(_ELLIPSIS)


def strip_ellipsis(text: str) -> str:
    text = text.rstrip()
    for mark in _ELLIPSIS:
        if text.endswith(mark):
            return text[: -len(mark)].rstrip()
    return text


def match_key(text: str) -> str:
    """Compact Hangul-aware key: NFKC, casefold, no spaces/punctuation, then NFD (jamo).

    Hangul syllables decompose to conjoining jamo (letters, kept); Latin accents decompose to
    combining marks, which are dropped so 'João' and 'Joao' share a key.
    """
    return _decompose(_NON_WORD.sub("", _nfkc(text)).replace("_", ""))


def key_from_norm(norm: str) -> str:
    """`match_key` of a string that is already a `normalize_title`/`normalize_artist` output
    (the stored norm_title / norm_artist): only spaces are left to remove. Much cheaper, which
    matters when a whole catalog is indexed."""
    return _decompose(norm.replace(" ", ""))


def _decompose(compact: str) -> str:
    if compact.isascii():
        return compact
    return _MARKS.sub("", unicodedata.normalize("NFD", compact))


def artist_key(artist: str) -> str:
    """Match key of an artist name without a leading 'The' ('The Beatles' == 'Beatles')."""
    return match_key(_LEADING_THE.sub("", normalize_artist(artist)))


def artist_parts(artist: str) -> list[str]:
    """Keys of the individual names in a credit: 'Stan Getz & João Gilberto' -> both names.

    Duos whose name contains '&' ('Simon & Garfunkel') still match as a whole through
    `artist_key`; the parts only add ways to match a credit that names one of them.
    """
    base = _BRACKETS.sub(" ", _nfkc(artist))
    out: list[str] = []
    for part in _ARTIST_SEP.split(base):
        key = match_key(_LEADING_THE.sub("", _clean(part)))
        if key and key not in out:
            out.append(key)
    return out
