"""Every threshold and limit of the screenshot reader, in one place."""

from __future__ import annotations

# --- input limits (preprocess) ------------------------------------------------------------
MAX_FILE_BYTES = 10 * 1024 * 1024
# A phone screenshot is 2-4 MP and a long scroll capture about 15 MP; 40 MP leaves room
# while refusing decompression bombs before any pixel is decoded.
MAX_PIXELS = 40_000_000
MIN_SIDE = 200  # smaller than this cannot hold a readable song list
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")

# --- detector -----------------------------------------------------------------------------
# The detector sees the page scaled so its short side is this many pixels: phone text then
# stays 12+ px high, and the network's cost stays about 0.3 s on 2 cores.
DET_SHORT_SIDE = 640
DET_MAX_LONG_SIDE = 2048
DET_PIXEL_THRESHOLD = 0.3  # probability map binarisation (the model's usual value)
DET_BOX_THRESHOLD = 0.5  # mean probability a box needs
DET_UNCLIP = 1.6  # growth of the shrunk text kernels back to full glyph boxes
DET_MIN_HEIGHT = 6  # px in the detector's scale

# --- recognition --------------------------------------------------------------------------
# Each line is scaled to this height before Tesseract reads it: its LSTM models are trained
# on lines about 30-40 px tall, and larger crops only cost time.
LINE_HEIGHT_PX = 48
LINE_PAD_FRACTION = 0.2  # crop padding around a detected box, as a fraction of its height
# A detected box this many typical line heights tall may be two lines; it is split where a
# band of rows in its middle has (almost) no ink: at most this fraction of the fullest row.
MERGED_LINE_MIN_HEIGHT = 1.5
MERGED_LINE_EMPTY_ROW = 0.02
# Solid badges are erased before reading: at least this fraction of the line height and
# this much of their bounding box filled (strokes of even bold glyphs fill far less).
BADGE_MIN_HEIGHT = 0.6
BADGE_MIN_FILL = 0.6
# Smaller solid shapes (Apple's "E" box is half the title's height) need to be more solid.
SMALL_BADGE_MIN_HEIGHT = 0.45
SMALL_BADGE_MIN_FILL = 0.7
SIDE_SHAPE_MIN_HEIGHT = 0.4  # a shape cut by a crop's side this tall is a neighbour's edge
BADGE_MIN_CHROMA = 60  # mean max-min of RGB: a coloured (not grey) mark
COLOURED_BOX_SHARE = 0.4  # a detected box this much coloured is a mark, not text
# Dots found in the pixels (core/ocr/marks.py), in units of the detected line's height: a
# dot is at most this big, at least this many pixels, and this solid.
DOT_MAX_SIZE = 0.3
DOT_MIN_AREA = 2
DOT_MIN_FILL = 0.5
DOT_GLYPH_MIN_HEIGHT = 0.4  # ink this tall is a glyph the dot is measured against
DOT_PIECE_MIN_SIZE = 0.25  # ink this big (and not a dot) is part of a letter
DOT_NEIGHBOUR_REACH = 1.5  # a mark has a glyph of its line within this distance
# Height of a dot's centre above the line's baseline, as a share of its glyphs' height: a
# separator floats mid-height, a full stop sits on the baseline.
DOT_MID_RISE_MIN = 0.2
DOT_MID_RISE_MAX = 0.8
DOT_SIDE_GAP = 0.08  # a separator has at least this much empty space on both sides
DOT_SPACED_GAP = 0.3  # ... and a dot with this much on both sides is one at any height
MARK_CONFIDENCE = 0.9  # given to a mark found in the pixels
ELLIPSIS_MAX_STEP = 4.0  # dot pitch of an ellipsis, in dot sizes (CJK fonts set it wide)
SOURCE_DPI = 300  # told to Tesseract so it does not guess a resolution from the crop
TESSERACT_LANGS = "kor+eng"
# Words read with less confidence than this are read again with the Korean model alone and
# replaced when it is surer (kor+eng sometimes reads a Hangul word as English letters).
RETRY_BELOW_CONFIDENCE = 0.5
RETRY_LANGS = "kor"
RETRY_LATIN_LANGS = "eng"
# A line whose reading is unsure overall (length-weighted confidence under
# RETRY_BELOW_CONFIDENCE), or holds a short capitals token, is read again this much larger,
# and the surer reading is kept.
UNSURE_RETRY_SCALE = 1.25
HANGUL_READING_SLACK = 0.03  # Hangul this much less sure still beats a Latin lookalike
LOOKALIKE_HANGUL_CONFIDENCE = 0.8  # ... and replaces one token when read this surely
EMPTY_RETRY_SCALES = (1.15, 1.35, 0.85)  # a line read as nothing is read at these sizes
OCR_THREADS = 2  # one Tesseract engine per core
# Page mode (no detector) upscales the page so phone text is at least this tall.
PAGE_MIN_WIDTH = 1600

# --- row parsing --------------------------------------------------------------------------
BADGE_TEXT_RATIO = 0.75  # a 1-2 letter word below this share of its neighbours' height is a badge
BADGE_TOP_DROP = 0.08  # ... and whose top sits this much (of their height) below theirs
WEAK_LETTER_CONFIDENCE = 0.5  # a lone letter at a line's end read less surely is an edge
MIN_WORD_CONFIDENCE = 0.35  # words below this are noise (icons read as letters)
LINE_OVERLAP = 0.5  # vertical overlap (of the smaller box) that puts two words on one line
# Tesseract splits Hangul words into syllables with gaps up to ~0.3 line heights; a real
# word space is usually wider. Display only: matching ignores spaces.
HANGUL_JOIN_GAP = 0.3
# A "|" this close (line heights) to a Latin word, and not taller than it, is a capital I
# (the gap from an I to the next word includes the I's side bearings, so it is > a space).
PIPE_AS_I_GAP = 1.0
PIPE_AS_I_HEIGHT = 1.15
SHADOWED_WORD_OVERLAP = 0.8  # a word this much inside a surer word is a double reading
SEGMENT_GAP = 1.5  # a horizontal gap wider than this many line heights splits a line
# How far (in line heights) a row's left edge may sit left / right of the song column. Right
# is generous because a badge before a title or artist ("19", "E") may or may not be read.
COLUMN_LEFT_TOLERANCE = 0.5
COLUMN_RIGHT_TOLERANCE = 2.0
PAIR_GAP = 0.8  # an artist line starts within this many title heights below its title
# The artist line is set smaller than its title, but OCR word boxes of Hangul are taller
# than Latin x-height text, so only a clearly larger line is refused as an artist.
ARTIST_MAX_HEIGHT_RATIO = 1.6
# A gap wider than this many line heights inside an artist line is an unread "•" between
# artist and album (a word space is about a quarter of the line height).
ALBUM_GAP = 0.6
# A lone capital before an artist is an initial ("J Dilla"), not a badge read as a letter,
# when read this surely and its height and top are within this share of the next word's.
INITIAL_MIN_CONFIDENCE = 0.8
INITIAL_HEIGHT_SLACK = 0.15
MIN_ROWS = 1  # a picture with fewer rows is not a playlist
MIN_ROWS_WITHOUT_ARTIST = 3  # ... and one with no artist line anywhere needs this many
# Matching thresholds belong to the one catalog matcher (core.limits, MATCH_*).
