"""`tys ocr` and `tys bench ocr` entry points (the functions bot/cli.py delegates to)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.ocr import bench, cli
from tests.screens import Song, render


def test_ocr_json_output_has_the_documented_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img = tmp_path / "shot.png"
    img.write_bytes(render("flo", [Song("밤편지", "아이유"), Song("Ditto", "NewJeans")]).png())
    gif = tmp_path / "anim.gif"
    gif.write_bytes(b"GIF89a" + b"\x00" * 64)
    code = cli.main([str(img), str(gif), str(tmp_path / "missing.png"), "--json", "--no-match"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1  # some inputs were refused
    ok, bad_gif, missing = lines
    assert set(ok) == {"file", "rows", "provider", "seconds"}
    assert ok["rows"] == [
        {"title": "밤편지", "artist": "아이유", "truncated": False, "match": None},
        {"title": "Ditto", "artist": "NewJeans", "truncated": False, "match": None},
    ]
    assert ok["provider"] == "tesseract" and ok["seconds"] > 0
    assert bad_gif["error"]["key"] in ("ocr_unsupported_format", "ocr_corrupt")
    assert missing["error"]["message"] == "no such file"


def test_ocr_needs_a_database_to_match(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    img = tmp_path / "shot.png"
    img.write_bytes(render("flo", [Song("밤편지", "아이유")]).png())
    assert cli.main([str(img)], None, None) == 2
    assert "--no-match" in capsys.readouterr().err


def test_bench_reads_a_small_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import make_ocr_set

    truth = make_ocr_set.build(tmp_path, screens_per_theme=1, seed=5)
    assert {i["style"] for i in truth["images"]} >= {"spotify", "melon", "vibe"}
    assert bench.main([str(tmp_path), "--limit", "2", "--no-match", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["images"] == 2 and doc["rows"] == sum(len(i["rows"]) for i in truth["images"][:2])
    assert doc["exact"] >= doc["rows"] * 0.7 and doc["p95_s"] > 0


def test_bench_explains_a_missing_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main([str(tmp_path)]) == 2
    assert "make_ocr_set.py" in capsys.readouterr().err
