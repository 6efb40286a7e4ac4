"""Row parsing on word boxes: synthetic boxes for each rule, then the exact word boxes the
screenshot renderer drew for every app style (a perfect OCR engine's output)."""

from __future__ import annotations

import pytest

from core.normalize import match_key
from core.ocr.base import WordBox
from core.ocr.rows import group_lines, parse_rows, split_artist, split_segments
from core.ocr.stopwords import is_noise
from tests.screens import APP_STYLES, Song, decorate, invented_songs, render


def w(text: str, x0: int, y0: int, x1: int | None = None, h: int = 40, conf: float = 0.95):
    return WordBox(text, conf, x0, y0, x1 if x1 is not None else x0 + 22 * len(text), y0 + h)


def row_words(y: int, title: str, artist: str, x: int = 200, extra=()) -> list[WordBox]:
    """A title line (40 px) with its artist line (32 px) 8 px below, words laid left to right."""
    out: list[WordBox] = []
    for text, top, h in ((title, y, 40), (artist, y + 48, 32)):
        cx = x
        for word in text.split():
            out.append(w(word, cx, top, h=h))
            cx += 22 * len(word) + 12
    out.extend(extra)
    return out


def test_lines_group_by_vertical_overlap_and_split_at_large_gaps() -> None:
    words = [w("Blinding", 200, 100), w("Lights", 390, 102), w("3:20", 950, 104)]
    lines = group_lines([*words, w("The", 200, 148, h=32), w("Weeknd", 280, 148, h=32)])
    assert [[b.text for b in ln] for ln in lines] == [
        ["Blinding", "Lights", "3:20"],
        ["The", "Weeknd"],
    ]
    segments = split_segments(lines[0])
    assert [s.text for s in segments] == ["Blinding Lights", "3:20"]


def test_a_tall_rank_number_does_not_glue_title_and_artist_lines() -> None:
    # The rank sits between the two lines and overlaps both.
    words = row_words(100, "Hype Boy", "NewJeans", extra=[w("1", 60, 110, 80, h=56)])
    lines = group_lines(words)
    texts = [" ".join(b.text for b in ln if b.text != "1") for ln in lines]
    assert "Hype Boy" in texts and "NewJeans" in texts


@pytest.mark.parametrize(
    "text",
    ["3:45", "12:07", "오후 3:24", "87%", "12", "3.", "▲2", "v2", "NEW", "LTE", "E", "19금", "MV",
     "셔플 재생", "전체재생", "Shuffle", "Play", "Download", "좋아요", "담기", "Your Library",
     "50 songs, 2 hr 48 min", "FLO · 30곡", "2026.03.14 18:00 업데이트", "동영상", "⋮"],
)  # fmt: skip
def test_noise_is_recognised(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize(
    "text", ["밤편지", "Blinding Lights", "7월 7일 (One Of These Nights)", "22", "Love Dive"]
)
def test_titles_are_not_noise(text: str) -> None:
    if text == "22":
        # A bare number is read as a rank: a title that is only a number needs its artist
        # line, and the rule is deliberate (rank numbers are on most Korean charts).
        assert is_noise(text)
    else:
        assert not is_noise(text)


def test_rows_pair_titles_with_artists_and_drop_chrome() -> None:
    words = [
        w("9:41", 40, 10, h=26),
        w("87%", 900, 10, h=26),
        w("Chill", 40, 120, h=60),
        w("Vibes", 180, 120, h=60),
        w("Shuffle", 120, 220, h=34),
        w("Play", 400, 220, h=34),
    ]
    words += row_words(320, "밤편지", "아이유", extra=[w("⋮", 1000, 340, 1010)])
    words += row_words(440, "Blinding Lights", "E The Weeknd", extra=[w("3:20", 930, 350 + 100)])
    words += row_words(560, "Time After Time", "Chet Baker")
    words += [w("Home", 80, 1900, h=24), w("Search", 330, 1900, h=24)]
    rows = parse_rows(words)
    assert [(r.title, r.artist) for r in rows] == [
        ("밤편지", "아이유"),
        ("Blinding Lights", "The Weeknd"),
        ("Time After Time", "Chet Baker"),
    ]
    assert not any(r.truncated for r in rows)


def test_artist_album_lines_are_split_and_truncation_is_remembered() -> None:
    words = row_words(100, "Piano Concerto No. 21 in C…", "Mozart • Night Songs")
    words += row_words(220, "사계 (Four Seasons)", "태연 · 봄")
    rows = parse_rows(words)
    assert [(r.title, r.artist, r.truncated) for r in rows] == [
        ("Piano Concerto No. 21 in C", "Mozart", True),
        ("사계 (Four Seasons)", "태연", False),
    ]


def test_unread_separator_is_found_by_its_gap() -> None:
    words = [w("Chet", 200, 100, 280, h=32), w("Baker", 292, 100, 380, h=32)]
    words += [w("Night", 420, 100, 500, h=32), w("Songs", 512, 100, 600, h=32)]
    assert split_artist(words) == "Chet Baker"
    assert split_artist(words[:2]) == "Chet Baker"


def test_rows_keep_the_dominant_left_column() -> None:
    words = []
    for i, (t, a) in enumerate([("Ditto", "NewJeans"), ("Love Dive", "IVE"), ("Hype Boy", "NJ")]):
        words += row_words(300 + 120 * i, t, a, x=200)
    # A mini player near the bottom, indented differently, and a header at the margin.
    words += row_words(800, "Ditto", "NewJeans", x=150)
    words += row_words(100, "Summer Mix", "by Tune", x=40)
    rows = parse_rows(words)
    assert [r.title for r in rows] == ["Ditto", "Love Dive", "Hype Boy"]


def test_korean_rating_badges_and_explicit_marks_are_removed() -> None:
    words = [w("19]", 200, 100, 240), w("Blinding", 260, 100), w("Lights", 450, 100)]
    words += [w("The", 200, 148, h=32), w("Weeknd", 278, 148, h=32)]
    words += row_words(220, "좋은 날 E", "아이유")
    rows = parse_rows(words)
    assert [(r.title, r.artist) for r in rows] == [
        ("Blinding Lights", "The Weeknd"),
        ("좋은 날", "아이유"),
    ]


def test_hangul_split_by_ocr_is_joined_for_display() -> None:
    words = [w("밤", 200, 100, 236), w("편", 240, 100, 276), w("지", 280, 100, 316)]
    words += [w("아이유", 200, 148, h=32)]
    assert parse_rows(words)[0].title == "밤편지"


@pytest.mark.parametrize("style", APP_STYLES)
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_app_style_parses_exactly_from_perfect_words(style: str, theme: str) -> None:
    songs = decorate(
        [("밤편지", "아이유"), ("Blinding Lights", "The Weeknd"), ("빨간 맛 (Red Flavor)", "레드벨벳"),
         ("Piano Concerto No. 21 in C Major, K. 467: II. Andante", "Wolfgang Amadeus Mozart"),
         ("Time After Time", "Chet Baker"), ("좋은 날", "아이유"), ("Ditto", "NewJeans")],
        explicit_rate=0.4,
    ) + invented_songs(3)  # fmt: skip
    screen = render(style, songs, theme=theme)
    words = [WordBox(b.text, 0.98, b.x0, b.y0, b.x1, b.y1) for b in screen.words]
    rows = parse_rows(words)
    got = [(match_key(r.title), match_key(r.artist or ""), r.truncated) for r in rows]
    want = [(match_key(r.shown_title), match_key(r.shown_artist), r.truncated) for r in screen.rows]
    assert got == want
    assert len(want) >= 8 and any(r.truncated for r in screen.rows)


def test_renderer_draws_what_it_reports() -> None:
    screen = render("melon", [Song("가" * 60, "나"), Song("Short", "Artist")])
    assert [r.truncated for r in screen.rows] == [True, False]
    assert screen.rows[0].shown_title.startswith("가") and len(screen.rows[0].shown_title) < 60
    assert any(b.text == "Short" for b in screen.words)


def test_a_capital_i_read_as_l_or_bar_is_an_i() -> None:
    # "lron & Wine", "Bon lver": sans-serif I read as l before a consonant.
    rows = parse_rows(
        row_words(100, "Holocene", "Bon lver") + row_words(300, "Naked As We Came", "lron & Wine")
    )
    assert [r.artist for r in rows] == ["Bon Iver", "Iron & Wine"]
    # "|" a little further off than a word space, no taller than the words beside it.
    words = [w("|", 200, 100, 204, h=36), w("Melt", 222, 97, h=39), w("with", 320, 97, h=39)]
    words += [w("You", 420, 97, h=39), w("Nouvelle", 200, 148, h=32), w("Vague", 390, 148, h=32)]
    assert [(r.title, r.artist) for r in parse_rows(words)] == [
        ("I Melt with You", "Nouvelle Vague")
    ]


def test_latin_l_is_kept_where_it_is_a_letter() -> None:
    rows = parse_rows(row_words(100, "love letter", "lalo lyons"))
    assert [(r.title, r.artist) for r in rows] == [("love letter", "lalo lyons")]


def test_an_unsure_word_over_a_sure_one_is_a_double_reading() -> None:
    # A badge remnant read as "쁘" over the title's first syllables; the title goes on after it.
    words = [w("언젠가", 230, 100, 290), w("쁘", 230, 100, 240, conf=0.0), w("너로", 306, 100, 346)]
    words += [w("인해", 362, 100, 402), w("가을방학", 200, 148, h=32)]
    rows = parse_rows(words)
    assert [(r.title, r.artist) for r in rows] == [("언젠가 너로 인해", "가을방학")]


def test_segments_split_on_the_running_right_edge() -> None:
    line = [w("long", 100, 100, 400), w("x", 120, 100, 130), w("next", 420, 100, 480)]
    assert [s.text for s in split_segments(line)] == ["long x next"]


def test_a_separator_mark_splits_the_artist_line() -> None:
    mark = w("•", 420, 148, 426, h=32)
    words = [*row_words(100, "Fever", "Peggy Lee"), mark, w("앨범", 440, 148, h=32)]
    rows = parse_rows(words)
    assert [(r.title, r.artist) for r in rows] == [("Fever", "Peggy Lee")]


def test_a_short_word_without_descenders_is_not_a_badge() -> None:
    # "Be" is shorter than "My Baby" only at the bottom; an "E" badge is smaller at both ends.
    words = [w("Be", 200, 100, h=34), w("My", 260, 100, h=45), w("Baby", 330, 97, h=48)]
    words += [w("The", 200, 158, h=32), w("Ronettes", 280, 158, h=32)]
    assert [r.title for r in parse_rows(words)] == ["Be My Baby"]
    badge = [w("E", 200, 108, 220, h=24), w("Hype", 240, 100, h=45), w("Boy", 350, 100, h=45)]
    badge += [w("NewJeans", 200, 158, h=32)]
    assert [r.title for r in parse_rows(badge)] == ["Hype Boy"]


def test_a_lone_araea_is_a_middle_dot() -> None:
    rows = parse_rows(row_words(100, "안녕 ㆍ 나의 사랑", "듀스 ㆍ 앨범 1집"))
    assert [(match_key(r.title), r.artist) for r in rows] == [(match_key("안녕 나의 사랑"), "듀스")]


def test_hangul_syllables_split_by_ocr_do_not_look_like_an_album_gap() -> None:
    # "장기하와 얼굴들" read syllable by syllable: the one word space is no unread separator.
    xs = [(202, 253), (260, 263), (275, 301), (308, 331), (354, 377), (383, 447), (423, 450)]
    artist = [w(t, a, 148, b, h=34) for t, (a, b) in zip("장기하와얼굴들", xs, strict=True)]
    rows = parse_rows([w("달이", 200, 100), w("차오른다,", 260, 100), w("가자", 450, 100), *artist])
    assert [match_key(r.artist or "") for r in rows] == [match_key("장기하와 얼굴들")]


@pytest.mark.parametrize("title", ["11:11", "200%", "22"])
def test_a_title_shaped_like_noise_is_kept_with_an_artist_under_it(title: str) -> None:
    # A duration or rank number beside a row stands off the text's left edge and stays noise.
    words = [*row_words(100, title, "태연"), w("3:45", 950, 104), w("2", 60, 110, 80)]
    words += row_words(200, "Fine", "태연")
    assert [(r.title, r.artist) for r in parse_rows(words)] == [(title, "태연"), ("Fine", "태연")]
    clock = [w("9:41", 60, 10), *row_words(300, "Fine", "태연")]
    assert [r.title for r in parse_rows(clock)] == ["Fine"]


def test_an_unsure_word_inside_a_title_is_kept() -> None:
    words = row_words(100, "You Know I'm No Good", "Amy Winehouse")
    words = [x if x.text != "I'm" else WordBox("I'm", 0.19, x.x0, x.y0, x.x1, x.y1) for x in words]
    icon = WordBox("Q", 0.2, 900, 100, 930, 140)
    assert [r.title for r in parse_rows([*words, icon])] == ["You Know I'm No Good"]


def test_video_is_a_title_word_unless_set_small_as_a_badge() -> None:
    rows = parse_rows(row_words(100, "Video Games", "Lana Del Rey"))
    assert [r.title for r in rows] == ["Video Games"]
    small = [w("Video", 200, 110, 260, h=24), w("Hype", 280, 100, h=45), w("Boy", 390, 100, h=45)]
    assert [r.title for r in parse_rows([*small, w("NewJeans", 200, 158, h=32)])] == ["Hype Boy"]


def test_an_initial_before_an_artist_is_kept_and_a_badge_letter_is_not() -> None:
    assert split_artist([w("J", 200, 148, 210, h=32), w("Dilla", 225, 148, h=32)]) == "J Dilla"
    # A badge's letter is smaller and sits lower, or stands far off.
    assert split_artist([w("E", 200, 154, 212, h=20), w("Dilla", 225, 148, h=32)]) == "Dilla"
    assert split_artist([w("E", 200, 148, 212, h=32), w("Dilla", 260, 148, h=32)]) == "Dilla"
