"""Merging the readings of one line (core/ocr/tesseract.py), on readings the engines really
gave for lines of the benchmark screens (text, confidence, box in crop pixels)."""

from __future__ import annotations

from core.ocr.tesseract import _replace_digit_runs, _replace_garbled


def test_a_digit_run_the_english_model_reads_as_letters_is_replaced() -> None:
    # "ABBA • 봄": kor+eng read the artist as digits; eng reads it right, but unsurely.
    first = [("4684", 0.43, (10, 8, 150, 40)), ("봄", 0.92, (200, 5, 240, 42))]
    latin = [("ABBA", 0.05, (12, 8, 148, 40))]
    assert _replace_digit_runs(first, latin) == [
        ("ABBA", 0.43, (12, 8, 148, 40)),
        ("봄", 0.92, (200, 5, 240, 42)),
    ]
    # One digit run may be several English words ("No. 1 in G" read as "No. 110 6").
    first = [("No.", 0.96, (0, 0, 60, 30)), ("110", 0.79, (70, 0, 130, 30))]
    latin = [
        ("No.", 0.96, (0, 0, 60, 30)),
        ("1", 0.57, (70, 0, 82, 30)),
        ("in", 0.5, (95, 0, 130, 30)),
    ]
    assert [t for t, _, _ in _replace_digit_runs(first, latin)] == ["No.", "1", "in"]


def test_numbers_the_english_model_reads_as_digits_stay() -> None:
    first = [("Auto", 0.96, (0, 0, 80, 30)), ("124", 0.85, (90, 0, 140, 30))]
    assert _replace_digit_runs(first, list(first)) == first
    # Short numbers (ranks, "No. 1") are not runs; Hangul never replaces.
    first = [("12", 0.9, (0, 0, 30, 30))]
    assert _replace_digit_runs(first, [("Iz", 0.9, (0, 0, 30, 30))]) == first
    first = [("1004", 0.9, (0, 0, 80, 30))]
    assert _replace_digit_runs(first, [("천사", 0.9, (0, 0, 80, 30))]) == first


def test_a_garbled_token_on_a_hangul_line_takes_the_korean_models_hangul() -> None:
    # "꿈과 책과 힘과 벽" as kor+eng read it: one syllable pair taken for Latin ("AD}").
    first = [("꿈과", 0.93, (0, 0, 80, 40)), ("AD}", 0.7, (96, 0, 175, 40))]
    first += [("힘과", 0.93, (192, 0, 270, 40))]
    second = [("꿈과", 0.9, (0, 0, 80, 40)), ("책과", 0.85, (95, 0, 176, 40))]
    second += [("힘과", 0.9, (192, 0, 270, 40))]
    assert [t for t, _, _ in _replace_garbled(first, second)] == ["꿈과", "책과", "힘과"]
    # Only Hangul replaces it, and words without stray symbols are left alone.
    latin = [("꿈과", 0.9, (0, 0, 80, 40)), ("4D3", 0.85, (95, 0, 176, 40))]
    assert _replace_garbled(first, latin) == first
    plain = [("Are", 0.59, (96, 0, 175, 40))]
    assert _replace_garbled(plain, second) == plain
