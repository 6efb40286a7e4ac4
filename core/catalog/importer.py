"""`tys catalog import FILE`: load tracks from a CSV (header row) or JSONL file.

The file is streamed: lines are read and decoded one at a time, validated, and written in
batches of `BATCH_SIZE` rows, all inside ONE transaction, so a file of any size costs a
bounded amount of memory and an import either lands completely or not at all (a fatal
problem found late, such as a non-UTF-8 line, rolls back every batch written before it).

Rows are upserted by normalised (title, artist) (core.normalize):
- new: no track with that key yet -> inserted with source='import';
- updated: the key exists and a provided field or the tag set differs -> those fields change
  (blank optional fields never erase what the catalog already knows);
- unchanged: the key exists with the same values -> not written at all, so a rerun of the same
  file writes nothing and reports 0 new, 0 updated.
A key that appears twice in the file keeps its first row (the later one is reported), which is
what keeps a rerun idempotent; the keys seen so far live in a temporary table, not in Python
memory, so duplicate detection also works for files far larger than RAM.

Bad rows are reported with their line number and reason and skipped; the good rows still go
in (exit 0). Unusable input (missing file, unknown format, not UTF-8, CSV without the required
columns) exits 2 and writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import re
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.catalog.tags import map_tags, vocabulary
from core.normalize import normalize_artist, normalize_title

# Limits of the schema (core/models.py Track) and of plausible values.
TITLE_MAX = 300
ARTIST_MAX = 300
ALBUM_MAX = 300
LANGUAGE_MAX = 16
YEAR_MIN, YEAR_MAX = 1800, 2100
POPULARITY_MIN, POPULARITY_MAX = 0, 100
DURATION_MS_MAX = 24 * 3600 * 1000
# Rows per INSERT/UPDATE statement: large enough to amortise round trips, small enough to keep
# memory flat and stay far below PostgreSQL's 32767 bind parameters (arrays are 1 parameter).
BATCH_SIZE = 1000
# Bad rows / warnings kept in the report; the rest are only counted (a broken 1 GB file must
# not build a 1 GB report).
REPORT_MAX_ITEMS = 1000

FIELDS = ("title", "artist", "album", "year", "language", "tags", "popularity", "duration_ms")
REQUIRED = ("title", "artist")
EXIT_OK = 0
EXIT_USAGE = 2
_TAG_SPLIT = re.compile(r"[|;]")


class ImportInputError(Exception):
    """The file cannot be used at all (exit 2, nothing written)."""


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


@dataclass(frozen=True)
class Note(Problem):
    """Something worth telling that does not make a row bad (e.g. ignored columns)."""


@dataclass
class GoodRow:
    line: int
    title: str
    artist: str
    norm_title: str
    norm_artist: str
    album: str | None = None
    year: int | None = None
    language: str | None = None
    duration_ms: int | None = None
    popularity: int | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    file: str
    format: str = ""
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: int = 0
    duplicates: int = 0
    warnings_total: int = 0
    bad_rows: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    elapsed_s: float = 0.0

    def add_bad(self, problem: Problem) -> None:
        self.bad += 1
        if len(self.bad_rows) < REPORT_MAX_ITEMS:
            self.bad_rows.append(problem)

    def add_warning(self, problem: Problem) -> None:
        self.warnings_total += 1
        if len(self.warnings) < REPORT_MAX_ITEMS:
            self.warnings.append(problem)

    def summary(self) -> str:
        rate = f", {self.rows / self.elapsed_s:,.0f} rows/s" if self.elapsed_s > 0 else ""
        head = "checked (dry run, nothing written)" if self.dry_run else "imported"
        return (
            f"{head} {self.file}: {self.rows} rows read; {self.new} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.bad} bad, {self.duplicates} duplicate in file, "
            f"{self.warnings_total} warnings ({self.elapsed_s:.1f} s{rate})"
        )

    def lines(self) -> list[str]:
        out = [self.summary()]
        out += [f"line {p.line}: {p.message}" for p in self.bad_rows]
        if self.bad > len(self.bad_rows):
            out.append(f"... and {self.bad - len(self.bad_rows)} more bad rows")
        out += [f"line {p.line}: warning: {p.message}" for p in self.warnings]
        if self.warnings_total > len(self.warnings):
            out.append(f"... and {self.warnings_total - len(self.warnings)} more warnings")
        return out

    def as_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["ok"] = True
        return doc


# --- reading ------------------------------------------------------------------------------


class Position:
    """How far the reader got (bytes), for the progress display."""

    offset = 0


def _decoded_lines(path: Path, pos: Position | None = None) -> Iterator[tuple[int, str]]:
    """(line number, text) for every line, decoded strictly as UTF-8, one line in memory."""
    offset = 0
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 1].hex()
                raise ImportInputError(
                    f"{path}: line {number} is not valid UTF-8 (byte 0x{bad} at byte offset "
                    f"{offset + exc.start} of the file); save the file as UTF-8 and retry "
                    "- nothing was imported"
                ) from None
            if number == 1:
                line = line.removeprefix("\ufeff")  # a BOM from spreadsheet exports
            offset += len(raw)
            if pos is not None:
                pos.offset = offset
            yield number, line


def detect_format(path: Path, forced: str | None = None) -> str:
    if forced:
        return forced
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    # Unknown extension: look at the first non-blank line.
    with path.open("rb") as fh:
        for raw in fh:
            head = raw.lstrip(b"\xef\xbb\xbf").strip()
            if not head:
                continue
            if head.startswith(b"{"):
                return "jsonl"
            lowered = head.lower()
            if b"title" in lowered and (b"," in head or b"\t" in head):
                return "csv"
            break
    raise ImportInputError(
        f"{path}: cannot tell the format; use a .csv file with a header row "
        "(title,artist,...) or a .jsonl file with one JSON object per line, or pass --format"
    )


def _csv_records(path: Path, pos: Position) -> Iterator[tuple[int, dict[str, Any] | Problem]]:
    lines = _decoded_lines(path, pos)
    current = [0]

    def feed() -> Iterator[str]:
        for number, line in lines:
            current[0] = number
            yield line

    source = feed()
    # The header decides the delimiter: a tab-separated export has no commas in its header.
    first = next(source, None)
    while first is not None and not first.strip():
        first = next(source, None)
    if first is None:
        raise ImportInputError(f"{path}: the file is empty (a CSV needs a header row)")
    delimiter = "\t" if "\t" in first and "," not in first else ","
    header_line = current[0]
    header = [h.strip().lower() for h in next(csv.reader([first], delimiter=delimiter))]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportInputError(
            f"{path}: the CSV header (line {header_line}) has no {', '.join(map(repr, missing))} "
            f"column; required: {', '.join(REQUIRED)}; found: {', '.join(header) or 'nothing'}"
        )
    unknown = [h for h in header if h and h not in FIELDS]
    if unknown:
        yield header_line, Note(header_line, f"ignored unknown column(s): {', '.join(unknown)}")
    reader = csv.reader(source, delimiter=delimiter, strict=True)
    while True:
        start = current[0] + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # A broken quote swallows the rest of the line; report it and go on.
            yield start, Problem(start, f"malformed CSV ({exc})")
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            yield (
                start,
                Problem(
                    start,
                    f"{len(values)} fields but the header has {len(header)} (unquoted comma?)",
                ),
            )
            continue
        yield start, dict(zip(header, values, strict=False))


def _jsonl_records(path: Path, pos: Position) -> Iterator[tuple[int, dict[str, Any] | Problem]]:
    for number, line in _decoded_lines(path, pos):
        stripped = line.strip()
        if not stripped:
            continue
        if number == 1 and stripped.startswith("["):
            raise ImportInputError(
                f"{path}: this is a JSON array; the import reads JSON Lines (one object per line)"
            )
        try:
            doc = json.loads(stripped)
        except json.JSONDecodeError as exc:
            yield number, Problem(number, f"malformed JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(doc, dict):
            yield number, Problem(number, f"expected a JSON object, got {type(doc).__name__}")
            continue
        yield number, doc


# --- validation ----------------------------------------------------------------------------


def _text(value: Any, name: str, limit: int, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"{name} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name} must be text, got {type(value).__name__}")
    out = " ".join(str(value).split())
    if len(out) > limit:
        raise ValueError(f"{name} is {len(out)} characters long (at most {limit})")
    return out


def _integer(value: Any, name: str, low: int, high: int) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} {value!r} is not a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{name} {value!r} is not a whole number")
        value = int(value)
    if isinstance(value, str):
        raw = value.strip()
        if not re.fullmatch(r"[+-]?\d+", raw):
            raise ValueError(f"{name} {raw!r} is not a whole number")
        value = int(raw)
    if not isinstance(value, int):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is out of range ({low}-{high})")
    return value


def _raw_tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [t.strip() for t in _TAG_SPLIT.split(value) if t.strip()]
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return [t.strip() for t in value if t.strip()]
    raise ValueError("tags must be a list of strings (JSON) or text separated by | or ;")


@lru_cache(maxsize=65536)
def _map_one(tag: str) -> tuple[tuple[str, ...], bool]:
    # map_tags rebuilds its label index on every call (~5 ms); imports repeat the same few
    # tags millions of times, so each distinct tag is mapped once.
    keys, dropped = map_tags([tag])
    return tuple(keys), bool(dropped)


def map_vocabulary(raw: list[str]) -> tuple[list[str], list[str]]:
    """map_tags(raw), one cached tag at a time (same order and de-duplication)."""
    keys: list[str] = []
    dropped: list[str] = []
    for tag in raw:
        found, lost = _map_one(tag)
        if lost:
            dropped.append(tag)
        keys.extend(k for k in found if k not in keys)
    return keys, dropped


def validate(line: int, record: dict[str, Any]) -> tuple[GoodRow | Problem, list[Problem]]:
    """One raw record -> a good row (plus warnings) or the problem that makes it bad."""
    try:
        title = _text(record.get("title"), "title", TITLE_MAX, required=True)
        artist = _text(record.get("artist"), "artist", ARTIST_MAX, required=True)
        assert title is not None and artist is not None
        norm_title, norm_artist = normalize_title(title), normalize_artist(artist)
        if not norm_title:
            raise ValueError(f"title {title!r} has no letters or digits")
        if not norm_artist:
            raise ValueError(f"artist {artist!r} has no letters or digits")
        album = _text(record.get("album"), "album", ALBUM_MAX, required=False)
        language = _text(record.get("language"), "language", LANGUAGE_MAX, required=False)
        year = _integer(record.get("year"), "year", YEAR_MIN, YEAR_MAX)
        popularity = _integer(record.get("popularity"), "popularity", 0, POPULARITY_MAX)
        duration = _integer(record.get("duration_ms"), "duration_ms", 1, DURATION_MS_MAX)
        raw_tags = _raw_tags(record.get("tags"))
    except ValueError as exc:
        return Problem(line, str(exc)), []
    keys, dropped = map_vocabulary(raw_tags)
    warnings = [
        Problem(line, f"tag {t!r} is not in the vocabulary and maps to nothing; dropped")
        for t in dropped
    ]
    row = GoodRow(
        line=line,
        title=title,
        artist=artist,
        norm_title=norm_title,
        norm_artist=norm_artist,
        album=album,
        year=year,
        language=language.lower() if language else None,
        duration_ms=duration,
        popularity=popularity,
        tags=keys,
    )
    return row, warnings


def parse_file(
    path: Path, fmt: str | None = None, pos: Position | None = None
) -> Iterator[tuple[GoodRow | Problem, list[Problem]]]:
    """Stream (row, warnings) or (problem, []) over the whole file; a Note is not a row.
    Raises ImportInputError for unusable input."""
    kind = detect_format(path, fmt)
    pos = pos or Position()
    records = _csv_records(path, pos) if kind == "csv" else _jsonl_records(path, pos)
    for line, record in records:
        if isinstance(record, Problem):
            yield record, []
        else:
            yield validate(line, record)


# --- writing --------------------------------------------------------------------------------


async def ensure_vocabulary(conn: AsyncConnection) -> dict[str, int]:
    """Tag key -> id; inserts the vocabulary rows first when the table lacks them."""
    vocab = list(vocabulary().values())
    await conn.execute(
        text(
            'INSERT INTO tags (key, "group", label_en, label_ko) '
            "SELECT * FROM unnest(CAST(:k AS text[]), CAST(:g AS text[]), "
            "CAST(:e AS text[]), CAST(:o AS text[])) ON CONFLICT (key) DO NOTHING"
        ),
        {
            "k": [t.key for t in vocab],
            "g": [t.group for t in vocab],
            "e": [t.en for t in vocab],
            "o": [t.ko for t in vocab],
        },
    )
    rows = await conn.execute(text("SELECT key, id FROM tags"))
    return {k: i for k, i in rows.all()}


_SEEN_TABLE = """
CREATE TEMP TABLE import_seen (
    nt text NOT NULL, na text NOT NULL, line integer NOT NULL, PRIMARY KEY (nt, na)
) ON COMMIT DROP
"""

_EXISTING = text(
    """
    SELECT t.id, t.norm_title, t.norm_artist, t.title, t.artist, t.album, t.year, t.language,
           t.duration_ms, t.popularity,
           COALESCE((SELECT array_agg(g.key ORDER BY g.key) FROM track_tags tt
                     JOIN tags g ON g.id = tt.tag_id WHERE tt.track_id = t.id), '{}') AS tags
    FROM tracks t
    JOIN unnest(CAST(:nt AS text[]), CAST(:na AS text[])) AS k(nt, na)
      ON t.norm_title = k.nt AND t.norm_artist = k.na
    """
)

_COLUMNS = (
    "CAST(:title AS text[]), CAST(:artist AS text[]), CAST(:album AS text[]), "
    "CAST(:year AS smallint[]), CAST(:language AS text[]), CAST(:duration_ms AS int[]), "
    "CAST(:popularity AS smallint[]), CAST(:nt AS text[]), CAST(:na AS text[])"
)
_U = "u(title, artist, album, year, language, duration_ms, popularity, nt, na)"

_INSERT = text(
    f"""
    INSERT INTO tracks (title, artist, album, year, language, duration_ms, popularity, explicit,
                        source, spotify_status, interaction_count, norm_title, norm_artist)
    SELECT u.title, u.artist, u.album, u.year, u.language, u.duration_ms,
           COALESCE(u.popularity, 0), false, 'import', 'unresolved', 0, u.nt, u.na
    FROM unnest({_COLUMNS}) AS {_U}
    ON CONFLICT ON CONSTRAINT uq_track_norm DO UPDATE SET
        title = EXCLUDED.title, artist = EXCLUDED.artist,
        album = COALESCE(EXCLUDED.album, tracks.album),
        year = COALESCE(EXCLUDED.year, tracks.year),
        language = COALESCE(EXCLUDED.language, tracks.language),
        duration_ms = COALESCE(EXCLUDED.duration_ms, tracks.duration_ms)
    RETURNING id, norm_title, norm_artist
    """
)

_UPDATE = text(
    f"""
    UPDATE tracks t SET
        title = u.title, artist = u.artist,
        album = COALESCE(u.album, t.album),
        year = COALESCE(u.year, t.year),
        language = COALESCE(u.language, t.language),
        duration_ms = COALESCE(u.duration_ms, t.duration_ms),
        popularity = COALESCE(u.popularity, t.popularity)
    FROM unnest({_COLUMNS}) AS {_U}
    WHERE t.norm_title = u.nt AND t.norm_artist = u.na
    RETURNING t.id, t.norm_title, t.norm_artist
    """
)


def _columns(rows: list[GoodRow]) -> dict[str, list[Any]]:
    return {
        "title": [r.title for r in rows],
        "artist": [r.artist for r in rows],
        "album": [r.album for r in rows],
        "year": [r.year for r in rows],
        "language": [r.language for r in rows],
        "duration_ms": [r.duration_ms for r in rows],
        "popularity": [r.popularity for r in rows],
        "nt": [r.norm_title for r in rows],
        "na": [r.norm_artist for r in rows],
    }


def _differs(row: GoodRow, old: Any) -> bool:
    if (row.title, row.artist) != (old.title, old.artist):
        return True
    for name in ("album", "year", "language", "duration_ms", "popularity"):
        value = getattr(row, name)
        if value is not None and value != getattr(old, name):
            return True
    return bool(row.tags) and sorted(row.tags) != list(old.tags)


class _Writer:
    """Writes batches of good rows inside the caller's transaction."""

    def __init__(self, conn: AsyncConnection, report: ImportReport) -> None:
        self.conn = conn
        self.report = report
        self.tag_ids: dict[str, int] = {}

    async def start(self) -> None:
        self.tag_ids = await ensure_vocabulary(self.conn)
        await self.conn.execute(text(_SEEN_TABLE))

    async def write(self, batch: list[GoodRow]) -> None:
        report = self.report
        # 1. Duplicates inside the file: the first row of a key wins.
        firsts: dict[tuple[str, str], GoodRow] = {}
        for row in batch:
            key = (row.norm_title, row.norm_artist)
            if key in firsts:
                report.duplicates += 1
                report.add_warning(
                    Problem(row.line, f"same track as line {firsts[key].line}; row ignored")
                )
            else:
                firsts[key] = row
        rows = list(firsts.values())
        fresh = await self.conn.execute(
            text(
                "INSERT INTO import_seen (nt, na, line) SELECT * FROM unnest("
                "CAST(:nt AS text[]), CAST(:na AS text[]), CAST(:line AS int[])) "
                "ON CONFLICT DO NOTHING RETURNING nt, na"
            ),
            {
                "nt": [r.norm_title for r in rows],
                "na": [r.norm_artist for r in rows],
                "line": [r.line for r in rows],
            },
        )
        fresh_keys = {(a, b) for a, b in fresh.all()}
        earlier = [r for r in rows if (r.norm_title, r.norm_artist) not in fresh_keys]
        if earlier:
            seen = await self.conn.execute(
                text(
                    "SELECT s.nt, s.na, s.line FROM import_seen s JOIN unnest("
                    "CAST(:nt AS text[]), CAST(:na AS text[])) AS k(nt, na) "
                    "ON s.nt = k.nt AND s.na = k.na"
                ),
                {"nt": [r.norm_title for r in earlier], "na": [r.norm_artist for r in earlier]},
            )
            first_line = {(a, b): n for a, b, n in seen.all()}
            for row in earlier:
                report.duplicates += 1
                line = first_line.get((row.norm_title, row.norm_artist), "?")
                report.add_warning(Problem(row.line, f"same track as line {line}; row ignored"))
        rows = [r for r in rows if (r.norm_title, r.norm_artist) in fresh_keys]
        if not rows:
            return
        # 2. Compare with the catalog: new / updated / unchanged.
        existing = await self.conn.execute(
            _EXISTING,
            {"nt": [r.norm_title for r in rows], "na": [r.norm_artist for r in rows]},
        )
        old = {(r.norm_title, r.norm_artist): r for r in existing.all()}
        new_rows = [r for r in rows if (r.norm_title, r.norm_artist) not in old]
        changed = [
            r for r in rows if (k := (r.norm_title, r.norm_artist)) in old and _differs(r, old[k])
        ]
        report.new += len(new_rows)
        report.updated += len(changed)
        report.unchanged += len(rows) - len(new_rows) - len(changed)
        # 3. Write only what differs, then replace the tag sets the file provided.
        ids: dict[tuple[str, str], int] = {}
        if new_rows:
            result = await self.conn.execute(_INSERT, _columns(new_rows))
            ids.update({(a, b): i for i, a, b in result.all()})
        if changed:
            result = await self.conn.execute(_UPDATE, _columns(changed))
            ids.update({(a, b): i for i, a, b in result.all()})
        tagged = [r for r in new_rows + changed if r.tags]
        if tagged:
            track_ids = [ids[(r.norm_title, r.norm_artist)] for r in tagged]
            await self.conn.execute(
                text("DELETE FROM track_tags WHERE track_id = ANY(CAST(:ids AS int[]))"),
                {"ids": track_ids},
            )
            pairs = [
                (ids[(r.norm_title, r.norm_artist)], self.tag_ids[k])
                for r in tagged
                for k in r.tags
                if k in self.tag_ids
            ]
            await self.conn.execute(
                text(
                    "INSERT INTO track_tags (track_id, tag_id, weight) "
                    "SELECT t, g, 1.0 FROM unnest(CAST(:t AS int[]), CAST(:g AS smallint[])) "
                    "AS p(t, g) ON CONFLICT DO NOTHING"
                ),
                {"t": [p[0] for p in pairs], "g": [p[1] for p in pairs]},
            )


class _Progress:
    """A byte-based tqdm bar on a terminal; a line every few seconds otherwise."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self.total = path.stat().st_size
        self.enabled = enabled
        self.bar = None
        self.last = time.monotonic()
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, unit="B", unit_scale=True, desc="import")

    def update(self, rows: int, offset: int) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.n = offset
            self.bar.refresh()
        elif time.monotonic() - self.last >= 5:
            self.last = time.monotonic()
            share = offset / max(1, self.total)
            print(f"import: {rows} rows, {share:.0%} of the file", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


async def import_file(
    path: Path | str,
    engine: AsyncEngine,
    *,
    fmt: str | None = None,
    batch_size: int = BATCH_SIZE,
    dry_run: bool = False,
    progress: bool = False,
) -> ImportReport:
    """Import one file in one transaction. Raises ImportInputError (nothing written) when the
    input is unusable."""
    path = Path(path)
    if not path.exists():
        raise ImportInputError(f"{path}: no such file")
    if not path.is_file():
        raise ImportInputError(f"{path}: not a regular file")
    report = ImportReport(file=str(path), format=detect_format(path, fmt), dry_run=dry_run)
    started = time.perf_counter()
    bar = _Progress(path, progress)
    pos = Position()
    async with engine.connect() as conn:
        trans = await conn.begin()
        try:
            writer = _Writer(conn, report)
            await writer.start()
            batch: list[GoodRow] = []
            for item, warnings in parse_file(path, report.format, pos):
                for w in warnings:
                    report.add_warning(w)
                if isinstance(item, Note):
                    report.add_warning(item)
                    continue
                report.rows += 1
                if isinstance(item, Problem):
                    report.add_bad(item)
                    continue
                batch.append(item)
                if len(batch) >= batch_size:
                    await writer.write(batch)
                    batch = []
                    bar.update(report.rows, pos.offset)
            if batch:
                await writer.write(batch)
        except BaseException:
            await trans.rollback()
            bar.close()
            raise
        if dry_run:
            await trans.rollback()
        else:
            await trans.commit()
    bar.close()
    report.elapsed_s = round(time.perf_counter() - started, 3)
    return report


# --- CLI --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tys catalog import",
        description="Import tracks from a CSV (header row) or JSONL file; upsert by "
        "normalised (title, artist), all rows in one transaction.",
    )
    p.add_argument("file", type=Path, help="a .csv or .jsonl file (UTF-8)")
    p.add_argument("--format", choices=("csv", "jsonl"), help="override the format detection")
    p.add_argument("--json", action="store_true", help="print a machine-readable report")
    p.add_argument("--dry-run", action="store_true", help="validate and count; write nothing")
    p.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=argparse.SUPPRESS)
    return p


def _fail(message: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    else:
        print(f"tys catalog import: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Iterable[str], urls: Any, settings: Any) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    from core.db import make_engine

    async def run() -> ImportReport:
        engine = make_engine(urls.database_url, pool_size=1)
        try:
            return await import_file(
                args.file,
                engine,
                fmt=args.format,
                batch_size=max(1, args.batch_size),
                dry_run=args.dry_run,
                progress=not args.json,
            )
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except ImportInputError as exc:
        return _fail(str(exc), args.json)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print("\n".join(report.lines()))
    return EXIT_OK
