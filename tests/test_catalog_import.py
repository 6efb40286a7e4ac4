"""`tys catalog import`: validation with line numbers, one transaction, upsert by normalised
(title, artist), idempotent reruns, streaming memory. Runs against the real embedded
PostgreSQL; every test uses its own title prefix because the database is shared."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tracemalloc
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.catalog import importer
from core.catalog.importer import ImportInputError, import_file, parse_file

REPO = Path(__file__).resolve().parent.parent


def _prefix() -> str:
    return "imp" + uuid.uuid4().hex[:8]


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


async def _tracks(engine: AsyncEngine, prefix: str) -> dict[str, dict]:
    """title -> row (with sorted tag keys) for every track whose title starts with prefix."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT t.title, t.artist, t.album, t.year, t.language, t.popularity, "
                "t.duration_ms, t.source, "
                "COALESCE((SELECT array_agg(g.key ORDER BY g.key) FROM track_tags tt "
                "JOIN tags g ON g.id = tt.tag_id WHERE tt.track_id = t.id), '{}') AS tags "
                "FROM tracks t WHERE t.title LIKE :p ORDER BY t.title"
            ),
            {"p": prefix + "%"},
        )
        return {r.title: dict(r._mapping) for r in rows}


def _lines(report) -> dict[int, str]:
    return {p.line: p.message for p in report.bad_rows}


async def test_csv_good_and_bad_rows(engine: AsyncEngine, tmp_path: Path) -> None:
    p = _prefix()
    long_title = p + "x" * 300
    csv_text = (
        "title,artist,year,language,tags,popularity,album,duration_ms\n"
        f"{p} Morning Steam,Velvet Lamps,2019,en,jazz|cozy,70,Kettle,214000\n"  # 2 good
        f",Nobody,2001,en,jazz,10,,\n"  # 3 no title
        f"{long_title},Somebody,2001,en,jazz,10,,\n"  # 4 too long
        f"{p} Blank Year,Mina Harbor,,ko,smooth jazz;xyzzy-not-a-tag,,,\n"  # 5 good, warn
        f"{p} Bad Year,Mina Harbor,19x9,en,jazz,5,,\n"  # 6 bad year
        f"{p} Too Popular,Mina Harbor,2000,en,jazz,150,,\n"  # 7 bad popularity
        f"{p} morning steam,VELVET LAMPS,2020,en,calm,1,,\n"  # 8 duplicate of line 2
        f'"{p} Quoted, Comma",Seoul Lanterns,2021,ko,"k-indie | acoustic",40,,\n'  # 9 good
        f"{p} No Artist,,2021,ko,cozy,40,,\n"  # 10 no artist
    )
    path = _write(tmp_path / "good_bad.csv", csv_text)
    report = await import_file(path, engine)

    assert (report.rows, report.new, report.updated, report.unchanged) == (9, 3, 0, 0)
    assert report.bad == 5 and report.duplicates == 1
    bad = _lines(report)
    assert bad[3] == "title is missing"
    assert bad[4].startswith("title is ") and "at most 300" in bad[4]
    assert "year '19x9' is not a whole number" in bad[6]
    assert "popularity 150 is out of range" in bad[7]
    assert bad[10] == "artist is missing"
    warnings = {(w.line, w.message) for w in report.warnings}
    assert (5, "tag 'xyzzy-not-a-tag' is not in the vocabulary and maps to nothing; dropped") in (
        warnings
    )
    assert (8, "same track as line 2; row ignored") in warnings

    rows = await _tracks(engine, p)
    assert set(rows) == {f"{p} Morning Steam", f"{p} Blank Year", f"{p} Quoted, Comma"}
    first = rows[f"{p} Morning Steam"]
    # The first row of a duplicated key wins: year 2019, not the duplicate's 2020.
    assert (first["year"], first["popularity"], first["album"], first["duration_ms"]) == (
        2019,
        70,
        "Kettle",
        214000,
    )
    assert first["tags"] == ["cozy", "jazz"] and first["source"] == "import"
    blank = rows[f"{p} Blank Year"]
    assert blank["year"] is None and blank["popularity"] == 0
    # "smooth jazz" is a Last.fm tag: mapped to the vocabulary; the unknown one is dropped.
    assert "jazz" in blank["tags"]
    assert rows[f"{p} Quoted, Comma"]["tags"] == ["acoustic", "k-indie"]

    # Human output: a summary line, then one line per bad row.
    out = report.lines()
    assert out[0].startswith(f"imported {path}: 9 rows read; 3 new, 0 updated, 0 unchanged, 5 bad")
    assert "line 3: title is missing" in out


async def test_rerun_changes_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    p = _prefix()
    path = _write(
        tmp_path / "rerun.jsonl",
        "\n".join(
            json.dumps({"title": f"{p} Song {i}", "artist": "Rerun Band", "year": 2000 + i,
                        "tags": ["jazz", "calm"], "popularity": i})
            for i in range(5)
        ) + "\n",
    )  # fmt: skip
    first = await import_file(path, engine)
    assert (first.new, first.updated, first.unchanged) == (5, 0, 0)
    before = await _tracks(engine, p)
    async with engine.connect() as conn:
        xmins = (
            await conn.execute(
                text("SELECT xmin::text FROM tracks WHERE title LIKE :p ORDER BY id"),
                {"p": p + "%"},
            )
        ).scalars()
        xmins_before = list(xmins)

    again = await import_file(path, engine)
    assert (again.new, again.updated, again.unchanged, again.bad) == (0, 0, 5, 0)
    assert await _tracks(engine, p) == before
    async with engine.connect() as conn:
        xmins_after = list(
            (
                await conn.execute(
                    text("SELECT xmin::text FROM tracks WHERE title LIKE :p ORDER BY id"),
                    {"p": p + "%"},
                )
            ).scalars()
        )
    # Not even rewritten with the same values: the row versions are the same.
    assert xmins_after == xmins_before


async def test_existing_track_is_updated_not_duplicated(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    p = _prefix()
    a = _write(
        tmp_path / "a.csv",
        f"title,artist,year,tags,popularity,album\n"
        f"{p} Yesterday,The Dawns,1965,nostalgic,50,Help\n",
    )
    assert (await import_file(a, engine)).new == 1
    # Same song by normalised key (case, version suffix), new popularity and tags; the blank
    # album must not erase the known one.
    b = _write(
        tmp_path / "b.csv",
        f"title,artist,year,tags,popularity,album\n"
        f"{p} YESTERDAY - Remastered 2009,the dawns,,calm|warm,80,\n",
    )
    report = await import_file(b, engine)
    assert (report.new, report.updated, report.unchanged) == (0, 1, 0)
    rows = await _tracks(engine, p)
    assert len(rows) == 1
    (row,) = rows.values()
    assert row["title"] == f"{p} YESTERDAY - Remastered 2009"
    assert (row["year"], row["popularity"], row["album"]) == (1965, 80, "Help")
    assert row["tags"] == ["calm", "warm"]


async def test_jsonl_malformed_and_non_object_lines(engine: AsyncEngine, tmp_path: Path) -> None:
    p = _prefix()
    path = _write(
        tmp_path / "mixed.jsonl",
        json.dumps({"title": f"{p} One", "artist": "J Band", "tags": "jazz;cozy"}) + "\n"
        '{"title": "broken", "artist": \n'
        "\n"
        '["a", "list"]\n' + json.dumps({"title": f"{p} Two", "artist": "J Band", "year": 1999.0})
        + "\n" + json.dumps({"title": f"{p} Three", "artist": "J Band", "tags": [1, 2]}) + "\n",
    )  # fmt: skip
    report = await import_file(path, engine)
    bad = _lines(report)
    assert bad[2].startswith("malformed JSON (")
    assert bad[4] == "expected a JSON object, got list"
    assert bad[6].startswith("tags must be a list of strings")
    assert report.new == 2 and report.bad == 3
    rows = await _tracks(engine, p)
    assert rows[f"{p} One"]["tags"] == ["cozy", "jazz"]
    assert rows[f"{p} Two"]["year"] == 1999


async def test_not_utf8_writes_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    p = _prefix()
    good = "".join(f"{p} Song {i},Latin Band,2000,en,jazz,1,,\n" for i in range(5))
    content = (
        b"title,artist,year,language,tags,popularity,album,duration_ms\n"
        + good.encode()
        + f"{p} Caf".encode()
        + b"\xe9 Noir,Latin Band,2000,en,jazz,1,,\n"
    )
    path = _write(tmp_path / "latin1.csv", content)
    # batch_size=2: earlier batches were already written inside the transaction when the bad
    # line shows up, so this also proves the rollback.
    with pytest.raises(ImportInputError) as info:
        await import_file(path, engine, batch_size=2)
    message = str(info.value)
    assert "line 7 is not valid UTF-8" in message
    assert "0xe9" in message and "byte offset" in message
    assert "nothing was imported" in message
    assert await _tracks(engine, p) == {}


async def test_unusable_inputs_exit_2(engine: AsyncEngine, database_url: str, tmp_path) -> None:
    urls = SimpleNamespace(database_url=database_url)

    async def run(*argv: str) -> int:
        # main() runs its own event loop (asyncio.run), so it gets a thread of its own.
        return await asyncio.to_thread(importer.main, list(argv), urls, None)

    missing_cols = _write(tmp_path / "cols.csv", "title,year\nA Song,2000\n")
    with pytest.raises(ImportInputError, match=r"has no 'artist' column; required: title, artist"):
        await import_file(missing_cols, engine)
    assert await run(str(missing_cols)) == 2

    assert await run(str(tmp_path / "nope.csv")) == 2
    with pytest.raises(ImportInputError, match="no such file"):
        await import_file(tmp_path / "nope.csv", engine)

    unknown = _write(tmp_path / "notes.dat", "hello world\nnothing here\n")
    with pytest.raises(ImportInputError, match="cannot tell the format"):
        await import_file(unknown, engine)
    assert await run(str(unknown)) == 2

    array = _write(tmp_path / "array.json", '[{"title": "x", "artist": "y"}]\n')
    with pytest.raises(ImportInputError, match="JSON array"):
        await import_file(array, engine)

    assert await run() == 2  # no FILE argument: usage error


async def test_duplicates_across_batches(engine: AsyncEngine, tmp_path: Path) -> None:
    p = _prefix()
    lines = ["title,artist,tags"]
    lines += [f"{p} Track {i},Batch Band,jazz" for i in range(6)]  # lines 2..7
    lines += [f"{p} track 1,batch band,calm", f"{p} Track 5 (Live),Batch Band,calm"]  # 8, 9
    path = _write(tmp_path / "batches.csv", "\n".join(lines) + "\n")
    report = await import_file(path, engine, batch_size=2)
    assert (report.new, report.duplicates) == (6, 2)
    warnings = {w.line: w.message for w in report.warnings}
    assert warnings[8] == "same track as line 3; row ignored"
    assert warnings[9] == "same track as line 7; row ignored"
    rows = await _tracks(engine, p)
    assert len(rows) == 6 and rows[f"{p} Track 1"]["tags"] == ["jazz"]


async def test_dry_run_writes_nothing(engine: AsyncEngine, tmp_path: Path) -> None:
    p = _prefix()
    path = _write(tmp_path / "dry.csv", f"title,artist\n{p} Dry,Dry Band\n")
    report = await import_file(path, engine, dry_run=True)
    assert report.new == 1 and report.dry_run
    assert await _tracks(engine, p) == {}


def _generate(path: Path, rows: int, fmt: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        if fmt == "csv":
            fh.write("title,artist,year,language,tags,popularity,album,duration_ms\n")
            for i in range(rows):
                fh.write(
                    f"Generated Song Number {i},Artist {i % 997},{1950 + i % 70},en,"
                    f"jazz|cozy|smooth jazz,{i % 101},Album {i % 313},{180000 + i}\n"
                )
        else:
            for i in range(rows):
                fh.write(
                    json.dumps({"title": f"Generated Song Number {i}", "artist": f"Artist {i}",
                                "year": 1950 + i % 70, "tags": ["jazz", "calm"],
                                "popularity": i % 101})
                    + "\n"
                )  # fmt: skip


@pytest.mark.parametrize(("fmt", "rows"), [("jsonl", 200_000), ("csv", 50_000)])
def test_reading_streams_in_bounded_memory(tmp_path: Path, fmt: str, rows: int) -> None:
    # The reader (decode + CSV/JSON records) is the only layer that could hold the file; the
    # validation after it is per row and the writer holds one batch. Its peak must stay far
    # below the file's size, which is what lets a 1 GB file through. (CSV is checked on fewer
    # rows only because Python's csv reader is slow under tracemalloc.)
    path = tmp_path / f"big.{fmt}"
    _generate(path, rows, fmt)
    size = path.stat().st_size
    read = importer._csv_records if fmt == "csv" else importer._jsonl_records
    tracemalloc.start()
    try:
        records = sum(1 for _, rec in read(path, importer.Position()) if isinstance(rec, dict))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert records == rows
    assert size > 4_000_000
    assert peak < size / 50, (peak, size)


def test_validation_keeps_nothing_per_row(tmp_path: Path) -> None:
    # The full parse (validation, tag mapping, normalisation) on a smaller file: the memory
    # it keeps does not grow with the rows read.
    path = tmp_path / "small.csv"
    _generate(path, 3_000, "csv")
    list(parse_file(path))  # warm the tag-mapping cache and regex compilation
    tracemalloc.start()
    try:
        for n, _ in enumerate(parse_file(path), start=1):
            if n == 500:
                early = tracemalloc.get_traced_memory()[0]
        late = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert late - early < 50_000, (early, late)


def test_cli_json_report_end_to_end(database_url: str, tmp_path: Path) -> None:
    p = _prefix()
    path = _write(
        tmp_path / "cli.csv", f"title,artist,year\n{p} Cli Song,Cli Band,\n,Nobody,2000\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_URL")}
    env |= {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(REPO),
    }
    cmd = [sys.executable, "-m", "bot.cli", "catalog", "import"]
    proc = subprocess.run(
        [*cmd, str(path), "--json"], env=env, cwd=tmp_path, capture_output=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr.decode()
    doc = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    assert (doc["ok"], doc["new"], doc["bad"]) == (True, 1, 1)
    assert doc["bad_rows"] == [{"line": 3, "message": "title is missing"}]

    latin = _write(tmp_path / "latin.csv", b"title,artist\nCaf\xe9,X\n")
    proc = subprocess.run(
        [*cmd, str(latin)], env=env, cwd=tmp_path, capture_output=True, timeout=120
    )
    assert proc.returncode == 2
    assert "line 2 is not valid UTF-8" in proc.stderr.decode()
