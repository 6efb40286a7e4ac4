"""Build core/data/starter_playlists.json from the hand-written themes below (deterministic).

Each theme is how a shop would use a playlist ("rainy-day cafe", "late-night bar soul"): a
language scope, optional era, anchor tags (a track needs at least one) and mood/setting tags
that rank the tracks, tags it must not have. Tracks are picked by tag fit and popularity, with
a penalty for tracks already used often (so playlists differ) and at most a few per artist. A
final pass puts every track that fits some theme into at least two playlists.

    .venv/bin/python scripts/build_playlists.py        # rewrites the JSON, prints coverage
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.catalog.tags import vocabulary  # noqa: E402

DATA = ROOT / "core" / "data"
MIN_SIZE, MAX_SIZE = 15, 40
USE_PENALTY = 0.6  # per earlier playlist a track is already in
MIN_FIT = 2.0  # tag fit a track needs to be added to a theme in the coverage pass

KO, INTL, ANY = "ko", "intl", "any"


@dataclass(frozen=True)
class Theme:
    slug: str
    en: str
    ko: str
    anchors: tuple[str, ...]  # a track needs at least one of these
    tags: tuple[str, ...] = ()  # mood / setting tags that rank tracks
    scope: str = ANY  # ko | intl | any | a language code (ja, pt, instrumental ...)
    era: tuple[int, int] | None = None
    avoid: tuple[str, ...] = ()
    size: int = 25
    per_artist: int = 3
    extra: dict[str, float] = field(default_factory=dict)


def t(slug: str, en: str, ko: str, anchors: str, tags: str = "", **kw: object) -> Theme:
    return Theme(slug, en, ko, tuple(anchors.split()), tuple(tags.split()), **kw)  # type: ignore[arg-type]


# One theme per line reads as a table; the formatter would split each over many lines.
# fmt: off
THEMES: list[Theme] = [
    # --- cafes, by weather and time of day
    t("rainy-day-cafe", "Rainy-day cafe", "비 오는 날 카페", "rainy-day melancholy", "cafe calm acoustic piano jazz cozy"),
    t("rainy-day-jazz-cafe", "Rainy-day jazz cafe", "비 오는 날 재즈 카페", "jazz", "rainy-day calm melancholy cafe piano", scope=INTL),
    t("rainy-day-k-ballads", "Rainy-day K-ballads", "비 오는 날 발라드", "k-ballad", "rainy-day melancholy calm", scope=KO, avoid=("upbeat",)),
    t("rainy-window-piano", "Rain on the window: piano", "창가의 빗소리와 피아노", "piano classical", "rainy-day calm melancholy dreamy", avoid=("upbeat",)),
    t("rainy-k-indie", "Rainy-day K-indie", "비 오는 날 인디", "k-indie", "rainy-day melancholy dreamy calm", scope=KO),
    t("rainy-day-folk", "Rainy-day folk corner", "비 오는 날 포크", "folk acoustic", "rainy-day melancholy calm", scope=INTL, avoid=("upbeat",)),
    t("cafe-morning-acoustic", "Cafe morning acoustic", "카페 아침 어쿠스틱", "acoustic folk", "morning bright warm cafe", scope=INTL),
    t("k-acoustic-cafe", "Korean acoustic cafe", "어쿠스틱 카페 가요", "acoustic folk", "cafe warm cozy calm", scope=KO),
    t("cafe-afternoon-k-indie", "K-indie afternoon", "오후의 K-인디", "k-indie", "cafe chill warm bright", scope=KO),
    t("cafe-afternoon-indie", "Indie afternoon at the cafe", "카페 오후 인디", "indie", "cafe chill dreamy warm", scope=INTL),
    t("cafe-jazz-standards", "Cafe jazz standards", "카페 재즈 스탠더드", "jazz", "cafe warm romantic calm", scope=INTL, era=(1930, 1979)),
    t("cafe-jazz-vocals", "Jazz vocals for the counter", "카운터 옆 재즈 보컬", "jazz", "romantic warm cafe", scope="en"),
    t("cafe-piano-hour", "Quiet piano hour", "조용한 피아노 시간", "piano", "calm cafe elegant", avoid=("upbeat",)),
    t("cafe-lofi-study", "Lo-fi study corner", "로파이 스터디 코너", "lofi chill-electronic", "chill calm cafe late-night", size=22),
    t("cafe-soft-pop", "Soft pop cafe", "소프트 팝 카페", "pop", "cafe warm calm bright", scope=INTL, avoid=("upbeat",)),
    t("cafe-k-pop-soft", "Soft K-pop for the cafe", "카페용 잔잔한 K-팝", "k-pop pop", "cafe bright warm calm", scope=KO),
    t("cafe-bossa-afternoon", "Bossa nova afternoon", "보사노바 오후", "bossa-nova", "cafe chill warm summer"),
    t("cafe-dreamy-afternoon", "Dreamy afternoon", "몽환적인 오후", "dreamy", "chill cafe calm", scope=INTL),
    t("k-dreamy-afternoon", "Dreamy Korean afternoon", "몽환적인 오후의 가요", "dreamy k-indie", "chill calm cafe", scope=KO),
    t("cafe-soul-afternoon", "Soulful afternoon", "소울풀한 오후", "rnb-soul", "warm groovy cafe chill", scope=INTL),
    t("k-rnb-cafe", "K-R&B cafe", "K-R&B 카페", "rnb-soul", "chill groovy cafe warm", scope=KO),
    t("cafe-cozy-winter", "Cozy winter cafe", "포근한 겨울 카페", "winter cozy", "warm calm cafe"),
    t("k-winter-cafe", "Korean winter cafe", "겨울 카페 가요", "winter warm cozy", "calm cafe romantic", scope=KO),
    t("cafe-summer-breeze", "Summer breeze cafe", "여름 바람 카페", "summer", "bright chill cafe", scope=INTL),
    t("k-summer-cafe", "Korean summer cafe", "여름 카페 가요", "summer bright", "upbeat cafe chill", scope=KO),
    t("cafe-evening-wind-down", "Cafe wind-down", "마감 전 카페", "calm", "evening chill warm cafe", avoid=("upbeat",)),
    t("k-cafe-evening", "Korean cafe evening", "저녁 카페 가요", "evening", "calm warm cafe melancholy", scope=KO, avoid=("upbeat",)),
    t("cafe-warm-voices", "Warm voices", "따뜻한 목소리", "warm", "acoustic cafe cozy calm", scope=INTL),
    t("k-warm-voices", "Warm Korean voices", "따뜻한 목소리 가요", "warm", "acoustic cozy calm", scope=KO),
    t("cafe-french", "Chanson cafe", "샹송 카페", "jazz pop acoustic folk lounge bossa-nova", "cafe romantic elegant", scope="fr it es", size=15, per_artist=4),
    t("cafe-european-sidewalk", "Sidewalk cafe, Europe", "유럽의 노천카페", "jazz bossa-nova pop lounge", "cafe summer romantic", scope="fr it es pt", size=20, per_artist=4),
    t("cafe-instrumental-focus", "Instrumental focus", "집중을 위한 연주곡", "piano classical jazz chill-electronic lofi", "calm cafe", scope="instrumental"),
    t("cafe-guitar-instrumentals", "Guitar and keys instrumentals", "기타와 건반 연주곡", "jazz bossa-nova acoustic", "calm chill warm", scope="instrumental", size=20),
    t("coffee-shop-weekend", "Weekend coffee shop", "주말 커피숍", "pop indie acoustic", "bright cafe warm upbeat", scope=INTL),
    t("k-coffee-weekend", "Weekend coffee, Korean", "주말 커피 가요", "k-pop k-indie acoustic", "bright cafe warm", scope=KO),
    # --- brunch and bakery mornings
    t("sunday-brunch-bossa", "Sunday brunch bossa", "일요일 브런치 보사노바", "bossa-nova", "brunch bright summer chill"),
    t("sunday-brunch-jazz", "Sunday brunch jazz", "일요일 브런치 재즈", "jazz", "brunch bright warm morning", scope=INTL),
    t("brunch-soul", "Brunch soul", "브런치 소울", "rnb-soul funk-disco", "brunch groovy bright warm", scope=INTL),
    t("brunch-pop-sunshine", "Brunch sunshine pop", "브런치 햇살 팝", "pop", "brunch bright upbeat morning", scope=INTL),
    t("k-brunch", "Korean brunch table", "브런치 가요", "k-pop k-indie pop", "brunch bright upbeat", scope=KO),
    t("brunch-acoustic", "Acoustic brunch", "어쿠스틱 브런치", "acoustic folk", "brunch bright warm morning", scope=INTL),
    t("brunch-city-pop", "City pop brunch", "시티팝 브런치", "city-pop", "brunch bright groovy summer", size=22),
    t("bakery-morning-acoustic", "Bakery morning acoustic", "베이커리 아침 어쿠스틱", "acoustic folk", "bakery morning bright warm"),
    t("bakery-k-morning", "Korean bakery morning", "베이커리 아침 가요", "acoustic k-indie k-pop", "bakery morning bright warm", scope=KO),
    t("bakery-french-morning", "Croissant morning", "크루아상 굽는 아침", "jazz acoustic pop bossa-nova", "bakery morning bright elegant", scope="fr pt it es instrumental", size=20),
    t("bakery-golden-oldies", "Bakery golden oldies", "베이커리 올디스", "pop jazz rnb-soul", "bakery warm nostalgic bright", scope=INTL, era=(1950, 1979)),
    t("bakery-sweet-pop", "Sweet pop bakery", "달콤한 팝 베이커리", "pop", "bakery bright romantic warm", scope=INTL),
    t("morning-light-piano", "Morning light piano", "아침 햇살 피아노", "piano classical", "morning calm bright"),
    t("morning-coffee-jazz", "Morning coffee jazz", "모닝커피 재즈", "jazz", "morning bright calm cafe", scope=INTL),
    t("morning-k-fresh", "Fresh Korean morning", "상쾌한 아침 가요", "bright", "morning upbeat warm", scope=KO),
    t("morning-indie-sunrise", "Indie sunrise", "인디 선라이즈", "indie folk", "morning bright dreamy", scope=INTL),
    t("morning-open-up", "Opening the shop", "가게 문 여는 아침", "pop acoustic", "morning bright upbeat", scope=INTL),
    # --- boutiques and shops
    t("boutique-city-pop", "Boutique city pop", "부티크 시티팝", "city-pop", "boutique groovy bright", size=25),
    t("boutique-k-city-pop", "Korean city pop boutique", "가요 시티팝 부티크", "city-pop funk-disco groovy", "boutique nostalgic", scope=KO),
    t("boutique-chic-lounge", "Chic boutique lounge", "시크한 부티크 라운지", "lounge chill-electronic", "boutique elegant groovy chill"),
    t("boutique-modern-pop", "Modern pop boutique", "모던 팝 부티크", "pop", "boutique bright upbeat", scope=INTL, era=(2010, 2030)),
    t("boutique-k-pop-bright", "Bright K-pop boutique", "밝은 K-팝 부티크", "k-pop", "boutique bright upbeat", scope=KO),
    t("boutique-indie-cool", "Cool indie boutique", "쿨한 인디 부티크", "indie", "boutique dreamy groovy", scope=INTL),
    t("boutique-k-indie-cool", "Cool K-indie boutique", "쿨한 K-인디 부티크", "k-indie", "boutique groovy dreamy", scope=KO),
    t("boutique-disco-fitting-room", "Fitting-room disco", "피팅룸 디스코", "funk-disco", "boutique groovy upbeat", scope=INTL),
    t("boutique-soul-groove", "Boutique soul groove", "부티크 소울 그루브", "rnb-soul", "boutique groovy elegant", scope=INTL),
    t("boutique-k-rnb", "K-R&B boutique", "K-R&B 부티크", "rnb-soul", "boutique groovy chill", scope=KO),
    t("boutique-french-chic", "French chic", "프렌치 시크", "lounge jazz pop", "boutique elegant romantic", scope="fr it es pt ja", size=18, per_artist=4),
    t("boutique-electronic-calm", "Calm electronic boutique", "차분한 일렉트로닉 부티크", "chill-electronic lofi", "boutique chill dreamy"),
    t("concept-store-dreamy", "Concept store dreamy", "컨셉 스토어 드림팝", "dreamy", "boutique indie chill", scope=INTL),
    t("flower-shop-spring", "Flower shop", "꽃집의 오후", "bright warm", "romantic acoustic morning", scope=KO),
    t("flower-shop-intl", "Flower shop, softly", "꽃집에 어울리는 팝", "romantic", "bright warm acoustic", scope=INTL),
    t("vintage-shop-oldies", "Vintage shop oldies", "빈티지숍 올디스", "nostalgic", "boutique groovy warm", scope=INTL, era=(1955, 1985)),
    t("vintage-shop-kayo", "Vintage shop Korean oldies", "빈티지숍 옛 가요", "nostalgic", "boutique groovy warm", scope=KO, era=(1970, 1999)),
    t("select-shop-2020s", "Select shop 2020s", "셀렉트숍 2020s", "pop indie k-pop k-indie rnb-soul", "boutique", era=(2019, 2030)),
    # --- bookstores
    t("bookstore-quiet-corners", "Quiet bookstore corners", "조용한 책방 구석", "calm", "bookstore piano acoustic", avoid=("upbeat", "groovy")),
    t("k-bookstore", "Korean bookstore", "동네 책방 가요", "folk acoustic k-indie", "bookstore calm melancholy", scope=KO, avoid=("upbeat",)),
    t("bookstore-classical", "Classical for reading", "책 읽을 때 클래식", "classical piano", "bookstore calm elegant"),
    t("bookstore-folk", "Folk for readers", "책 읽는 사람을 위한 포크", "folk", "bookstore calm melancholy", scope=INTL),
    t("bookstore-jazz-piano", "Jazz piano for readers", "책방 재즈 피아노", "jazz piano", "bookstore calm", scope="instrumental en"),
    t("bookstore-poetry-night", "Poetry night", "시 낭독의 밤", "melancholy", "bookstore calm evening", scope=KO, avoid=("upbeat",)),
    # --- restaurants
    t("restaurant-italian-dinner", "Italian dinner", "이탈리안 디너", "jazz", "restaurant romantic elegant evening", scope=INTL),
    t("restaurant-k-dinner", "Korean dinner table", "저녁 식탁 가요", "k-ballad folk acoustic", "restaurant warm evening", scope=KO),
    t("restaurant-bistro-bossa", "Bistro bossa", "비스트로 보사노바", "bossa-nova lounge", "restaurant romantic evening"),
    t("restaurant-fine-dining", "Fine dining", "파인 다이닝", "classical jazz piano", "restaurant elegant calm", avoid=("upbeat",)),
    t("restaurant-family-lunch", "Family lunch", "가족 점심", "pop", "restaurant bright warm", scope=INTL),
    t("k-restaurant-lunch", "Korean lunch hour", "점심시간 가요", "k-pop pop", "restaurant bright upbeat", scope=KO),
    t("restaurant-soul-food", "Soul food kitchen", "소울 푸드 키친", "rnb-soul funk-disco", "restaurant groovy warm", scope=INTL),
    t("restaurant-izakaya", "Izakaya night", "이자카야의 밤", "city-pop", "late-night evening nostalgic", size=20),
    t("restaurant-pocha-night", "Pocha night sing-along", "포차에서 부르는 노래", "nostalgic", "upbeat restaurant evening", scope=KO),
    t("restaurant-candlelight", "Candlelight dinner", "촛불 디너", "romantic", "elegant evening restaurant", scope=INTL),
    t("restaurant-k-candlelight", "Korean candlelight dinner", "촛불 디너 가요", "romantic", "evening calm warm", scope=KO),
    t("restaurant-latin-table", "Latin table", "라틴 테이블", "bossa-nova", "restaurant summer groovy", scope="pt es instrumental"),
    # --- bars and late night
    t("late-night-bar-soul", "Late-night bar soul", "늦은 밤 바 소울", "rnb-soul", "late-night bar groovy", scope=INTL),
    t("late-night-jazz-bar", "Late-night jazz bar", "심야 재즈 바", "jazz", "late-night bar melancholy", scope=INTL),
    t("bar-cocktail-lounge", "Cocktail lounge", "칵테일 라운지", "lounge chill-electronic jazz", "bar elegant late-night groovy"),
    t("bar-wine-evening", "Wine bar evening", "와인 바의 저녁", "jazz bossa-nova", "bar romantic evening elegant"),
    t("k-bar-late-night", "Korean late-night bar", "늦은 밤 바 가요", "late-night", "bar melancholy dreamy", scope=KO),
    t("k-rnb-late-night", "K-R&B after dark", "어두워진 뒤 K-R&B", "rnb-soul", "late-night groovy dreamy", scope=KO),
    t("bar-whisky-blues", "Whisky and slow songs", "위스키와 느린 노래", "jazz rnb-soul", "bar late-night melancholy", scope=INTL, era=(1940, 1989)),
    t("bar-neon-city-pop", "Neon city pop bar", "네온 시티팝 바", "city-pop funk-disco", "bar late-night groovy"),
    t("bar-disco-friday", "Friday disco bar", "금요일 디스코 바", "funk-disco", "bar upbeat groovy", scope=INTL),
    t("bar-trip-hop", "Trip-hop bar", "트립합 바", "chill-electronic", "bar late-night dreamy", scope=INTL),
    t("bar-indie-night", "Indie night bar", "인디 나이트 바", "indie", "bar late-night dreamy", scope=INTL),
    t("k-indie-night", "K-indie after midnight", "자정 넘은 K-인디", "k-indie", "late-night dreamy melancholy", scope=KO),
    t("late-night-lofi", "Late-night lo-fi", "늦은 밤 로파이", "lofi chill-electronic", "late-night chill dreamy", size=20),
    t("late-night-piano", "Late-night piano", "늦은 밤 피아노", "piano", "late-night calm melancholy", avoid=("upbeat",)),
    t("late-night-ballads", "Midnight ballads", "자정의 발라드", "k-ballad", "late-night melancholy calm", scope=KO),
    t("pub-singalong", "Pub sing-along", "펍 싱어롱", "pop", "bar upbeat nostalgic", scope=INTL),
    t("rooftop-bar-summer", "Rooftop bar, summer", "여름 루프톱 바", "summer", "bar groovy chill upbeat", scope=INTL),
    # --- evenings and moods
    t("90s-k-ballads-quiet-evening", "90s Korean ballads for a quiet evening", "조용한 저녁의 90년대 발라드", "k-ballad", "evening calm nostalgic melancholy", scope=KO, era=(1988, 2001)),
    t("2000s-k-ballads", "2000s K-ballads", "2000년대 발라드", "k-ballad", "melancholy evening nostalgic", scope=KO, era=(2000, 2009)),
    t("2010s-k-ballads", "2010s K-ballads", "2010년대 발라드", "k-ballad", "melancholy romantic evening", scope=KO, era=(2010, 2019)),
    t("evening-jazz-lounge", "Evening jazz lounge", "저녁 재즈 라운지", "jazz lounge", "evening elegant calm"),
    t("evening-soft-rock", "Evening soft rock", "저녁의 소프트 록", "pop folk", "evening nostalgic warm", scope=INTL, era=(1965, 1989)),
    t("evening-melancholy-intl", "Blue hour", "블루 아워", "melancholy", "evening calm dreamy", scope=INTL),
    t("evening-k-melancholy", "Korean blue hour", "감성 가득 저녁 가요", "melancholy", "evening calm", scope=KO),
    t("evening-romance", "Evening romance", "저녁의 로맨스", "romantic", "evening warm calm", scope=INTL),
    t("k-romance", "Korean love songs", "사랑 노래 가요", "romantic", "warm bright", scope=KO),
    t("chill-sunset", "Chill sunset", "노을 질 무렵", "chill", "evening dreamy warm"),
    t("groovy-afternoon", "Groovy afternoon", "그루비한 오후", "groovy", "upbeat bright", scope=INTL),
    t("k-groovy", "Groovy Korean", "그루비한 가요", "groovy", "upbeat boutique", scope=KO),
    t("elegant-evening", "Elegant evening", "우아한 저녁", "elegant", "evening calm romantic"),
    t("nostalgic-intl", "Nostalgia hour", "추억의 시간", "nostalgic", "warm evening", scope=INTL),
    t("nostalgic-k", "Korean memories", "추억의 가요", "nostalgic", "warm melancholy", scope=KO),
    t("upbeat-k-pop", "Upbeat K-pop", "신나는 K-팝", "k-pop", "upbeat bright", scope=KO),
    t("upbeat-pop-hits", "Upbeat pop", "신나는 팝", "pop", "upbeat bright groovy", scope=INTL),
    t("calm-k-songs", "Calm Korean songs", "차분한 가요", "calm", "warm acoustic", scope=KO, avoid=("upbeat",)),
    # --- genres and eras
    t("bossa-nova-classics", "Bossa nova classics", "보사노바 클래식", "bossa-nova", "romantic calm", era=(1958, 1979)),
    t("bossa-nova-modern", "Bossa nova, modern touch", "모던 보사노바", "bossa-nova lounge", "chill summer", era=(1980, 2030)),
    t("brazilian-samba-sun", "Brazilian sunshine", "브라질의 햇살", "bossa-nova", "summer bright upbeat", scope="pt"),
    t("city-pop-classics", "City pop classics", "시티팝 클래식", "city-pop", "nostalgic groovy", scope="ja"),
    t("city-pop-night-drive", "City pop night drive", "시티팝 나이트 드라이브", "city-pop", "late-night dreamy groovy", size=20),
    t("k-city-pop-revival", "K city pop revival", "K-시티팝 리바이벌", "city-pop groovy funk-disco", "nostalgic upbeat", scope=KO),
    t("jazz-bebop-cool", "Cool jazz", "쿨 재즈", "jazz", "calm elegant", scope="instrumental", era=(1950, 1969)),
    t("jazz-crooners", "Crooners", "크루너", "jazz", "romantic warm elegant", scope="en", era=(1940, 1969)),
    t("jazz-modern-vocals", "Modern jazz vocals", "모던 재즈 보컬", "jazz", "romantic calm", scope="en", era=(1990, 2030)),
    t("jazz-holiday", "Jazz for the holidays", "연말 재즈", "jazz winter", "winter warm cozy", scope=INTL),
    t("soul-classics-60s-70s", "Soul classics", "소울 클래식", "rnb-soul", "groovy warm", scope=INTL, era=(1960, 1979)),
    t("neo-soul", "Neo-soul", "네오 소울", "rnb-soul", "chill groovy", scope=INTL, era=(1995, 2030)),
    t("funk-disco-classics", "Funk and disco classics", "펑크 디스코 클래식", "funk-disco", "groovy upbeat", scope=INTL, era=(1970, 1989)),
    t("nu-disco", "Nu-disco shop floor", "누디스코", "funk-disco", "groovy upbeat boutique", era=(1990, 2030)),
    t("lounge-classics", "Lounge classics", "라운지 클래식", "lounge", "elegant chill"),
    t("chill-electronic-daytime", "Daytime chill electronic", "낮의 칠 일렉트로닉", "chill-electronic", "chill dreamy"),
    t("classical-morning", "Classical morning", "클래식 모닝", "classical", "morning calm elegant"),
    t("classical-romantic-era", "Romantic-era piano", "낭만주의 피아노", "classical", "romantic melancholy elegant", era=(1800, 1920)),
    t("modern-classical", "Modern classical", "모던 클래식", "classical piano", "calm dreamy", era=(1950, 2030)),
    t("folk-singer-songwriters", "Singer-songwriters", "싱어송라이터", "folk", "warm calm", scope=INTL, era=(1960, 1989)),
    t("indie-folk-modern", "Modern indie folk", "모던 인디 포크", "folk indie", "calm dreamy", scope=INTL, era=(2000, 2030)),
    t("indie-dream-pop", "Dream pop", "드림팝", "indie", "dreamy chill", scope=INTL),
    t("k-indie-classics", "K-indie classics", "K-인디 클래식", "k-indie", "nostalgic", scope=KO, era=(1995, 2012)),
    t("k-indie-new-wave", "New K-indie", "요즘 K-인디", "k-indie", "bright dreamy", scope=KO, era=(2013, 2030)),
    t("k-folk-70s-80s", "Korean folk 70s-80s", "7080 포크", "folk acoustic", "nostalgic warm", scope=KO, era=(1970, 1989)),
    t("80s-korean-pop", "80s Korean pop", "80년대 가요", "pop k-pop k-ballad city-pop", "nostalgic", scope=KO, era=(1980, 1989)),
    t("90s-korean-pop", "90s Korean pop", "90년대 가요", "pop k-pop city-pop funk-disco", "nostalgic upbeat", scope=KO, era=(1990, 1999)),
    t("2000s-k-pop", "2000s K-pop", "2000년대 K-팝", "k-pop pop", "upbeat bright", scope=KO, era=(2000, 2012)),
    t("k-pop-now", "K-pop now", "요즘 K-팝", "k-pop", "bright upbeat", scope=KO, era=(2015, 2030)),
    t("k-ballad-classics", "K-ballad classics", "명곡 발라드", "k-ballad", "nostalgic melancholy", scope=KO, era=(1985, 2009)),
    t("k-rnb-soul", "Korean R&B and soul", "가요 R&B 소울", "rnb-soul", "groovy warm", scope=KO),
    t("k-folk-today", "Korean folk today", "요즘 포크", "folk acoustic", "calm warm", scope=KO, era=(2005, 2030)),
    t("k-piano-ballads", "Piano ballads", "피아노 발라드", "piano k-ballad", "calm melancholy", scope=KO),
    t("50s-60s-oldies", "50s and 60s oldies", "50-60년대 올디스", "pop jazz rnb-soul", "nostalgic bright", scope=INTL, era=(1950, 1969)),
    t("70s-soft-hits", "70s soft hits", "70년대 소프트 히트", "pop folk", "warm nostalgic", scope=INTL, era=(1970, 1979)),
    t("80s-pop", "80s pop", "80년대 팝", "pop", "upbeat nostalgic", scope=INTL, era=(1980, 1989)),
    t("90s-pop-rnb", "90s pop and R&B", "90년대 팝 & R&B", "pop rnb-soul", "nostalgic groovy", scope=INTL, era=(1990, 1999)),
    t("2000s-acoustic-pop", "2000s acoustic pop", "2000년대 어쿠스틱 팝", "acoustic pop", "warm bright", scope=INTL, era=(2000, 2009)),
    t("2010s-pop", "2010s pop", "2010년대 팝", "pop", "bright upbeat", scope=INTL, era=(2010, 2019)),
    t("2020s-pop", "2020s pop", "2020년대 팝", "pop indie", "bright", scope=INTL, era=(2019, 2030)),
    # --- seasons and special settings
    t("summer-beach-shop", "Beach shop summer", "해변 가게의 여름", "summer", "bright upbeat chill"),
    t("k-summer-hits", "Korean summer hits", "여름 가요", "summer", "upbeat bright", scope=KO),
    t("winter-holiday-shop", "Winter holiday shop", "겨울 시즌 매장", "winter", "warm cozy bright"),
    t("k-winter-ballads", "Korean winter ballads", "겨울 발라드", "winter k-ballad", "melancholy warm", scope=KO),
    t("spring-picnic", "Spring picnic", "봄 소풍", "bright", "warm romantic acoustic", scope=KO, avoid=("melancholy",)),
    t("autumn-leaves", "Autumn leaves", "가을 낙엽", "melancholy nostalgic", "warm acoustic calm", scope=INTL),
    t("k-autumn", "Korean autumn", "가을 가요", "melancholy", "nostalgic acoustic folk", scope=KO),
    t("hotel-lobby", "Hotel lobby", "호텔 로비", "lounge jazz piano classical", "elegant calm"),
    t("spa-and-salon", "Spa and salon", "스파와 살롱", "chill-electronic piano classical", "calm dreamy chill", avoid=("upbeat",)),
    t("hair-salon-pop", "Hair salon pop", "헤어살롱 팝", "pop", "bright groovy upbeat boutique", scope=INTL),
    t("k-hair-salon", "Korean hair salon", "헤어살롱 가요", "k-pop pop rnb-soul", "bright groovy", scope=KO),
    t("gallery-opening", "Gallery opening", "갤러리 오프닝", "chill-electronic classical lounge indie", "elegant dreamy"),
    t("wine-shop", "Wine shop", "와인숍", "jazz lounge bossa-nova", "elegant evening warm"),
    t("tea-house-calm", "Tea house", "찻집", "acoustic piano folk", "calm warm cozy", avoid=("upbeat", "groovy")),
    t("k-tea-house", "Korean tea house", "전통 찻집 가요", "folk acoustic", "calm warm", scope=KO, avoid=("upbeat",)),
    t("dessert-cafe", "Dessert cafe", "디저트 카페", "pop", "bright romantic cafe warm", scope=INTL),
    t("k-dessert-cafe", "Korean dessert cafe", "디저트 카페 가요", "k-pop k-indie", "bright romantic cafe", scope=KO),
    t("pet-cafe-bright", "Pet cafe", "반려동물 카페", "bright", "upbeat warm cafe", scope=INTL),
    t("workshop-crafts", "Craft workshop", "공방", "folk acoustic indie", "calm warm", scope=INTL),
    t("k-workshop", "Korean craft workshop", "공방 가요", "k-indie folk", "calm warm", scope=KO),
    t("record-shop-soul", "Record shop soul", "레코드숍 소울", "rnb-soul funk-disco jazz", "nostalgic groovy", scope=INTL, era=(1955, 1985)),
    t("k-record-shop", "Korean record shop", "레코드숍 가요", "k-indie folk city-pop", "nostalgic", scope=KO, era=(1970, 2005)),
    t("sunday-slow-morning", "Sunday slow morning", "일요일의 느린 아침", "calm", "morning warm cozy", scope=INTL),
    t("k-sunday-slow", "Korean Sunday slow", "일요일 느린 가요", "calm", "morning warm cozy", scope=KO),
]
# fmt: on


def load_catalog() -> list[dict]:
    rows: list[dict] = []
    for name in ("catalog_ko.jsonl", "catalog_intl.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                row["korean"] = name == "catalog_ko.jsonl"
                rows.append(row)
    return rows


def eligible(theme: Theme, row: dict) -> bool:
    scope = theme.scope
    if scope == KO and not row["korean"]:
        return False
    if scope == INTL and row["korean"]:
        return False
    if scope not in (KO, INTL, ANY) and (row["korean"] or row["language"] not in scope.split()):
        return False
    if theme.era and not (row["year"] and theme.era[0] <= row["year"] <= theme.era[1]):
        return False
    tags = set(row["tags"])
    return bool(tags & set(theme.anchors)) and not (tags & set(theme.avoid))


def fit(theme: Theme, row: dict) -> float:
    tags = set(row["tags"])
    return 2.0 * len(tags & set(theme.anchors)) + len(tags & set(theme.tags))


def build() -> tuple[list[dict], list[dict], Counter]:
    catalog = load_catalog()
    vocab = vocabulary()
    for th in THEMES:
        unknown = [k for k in (*th.anchors, *th.tags, *th.avoid) if k not in vocab]
        assert not unknown, (th.slug, unknown)
    assert len({th.slug for th in THEMES}) == len(THEMES), "duplicate slugs"
    used: Counter = Counter()
    chosen: dict[str, list[int]] = {}
    for th in THEMES:
        pool = [i for i, r in enumerate(catalog) if eligible(th, catalog[i])]
        ranked = sorted(
            pool,
            key=lambda i: (
                -(fit(th, catalog[i]) + catalog[i]["popularity"] / 50 - USE_PENALTY * used[i]),
                i,
            ),
        )
        picked: list[int] = []
        per_artist: Counter = Counter()
        for i in ranked:
            if len(picked) >= th.size:
                break
            if per_artist[catalog[i]["artist"]] >= th.per_artist:
                continue
            picked.append(i)
            per_artist[catalog[i]["artist"]] += 1
        chosen[th.slug] = picked
        used.update(picked)
    # Coverage: every track that fits some theme well goes into at least two playlists.
    by_slug = {th.slug: th for th in THEMES}
    for _ in range(2):
        for i, row in enumerate(catalog):
            if used[i] >= 2:
                continue
            options = [
                th
                for th in THEMES
                if i not in chosen[th.slug]
                and len(chosen[th.slug]) < MAX_SIZE
                and eligible(th, row)
                and fit(th, row) >= MIN_FIT
                and sum(catalog[j]["artist"] == row["artist"] for j in chosen[th.slug])
                < th.per_artist + 1
            ]
            if not options:
                continue
            best = max(options, key=lambda th: (fit(th, row), -len(chosen[th.slug]), th.slug))
            chosen[best.slug].append(i)
            used[i] += 1
    out = []
    for slug, idx in chosen.items():
        th = by_slug[slug]
        tag_counts = Counter(k for i in idx for k in catalog[i]["tags"])
        # The playlist's tags describe what it holds.
        # Every anchor a track carries (each track has one), plus ranking tags shared by >= 3.
        tags = [k for k in th.anchors if tag_counts[k]]
        tags += [k for k in th.tags if tag_counts[k] >= 3 and k not in tags]
        out.append(
            {
                "slug": slug,
                "name_en": th.en,
                "name_ko": th.ko,
                "tags": tags,
                "tracks": [
                    {"title": catalog[i]["title"], "artist": catalog[i]["artist"]} for i in idx
                ],
            }
        )
    return out, catalog, used


def main() -> int:
    playlists, catalog, used = build()
    bad = [
        (p["slug"], len(p["tracks"]))
        for p in playlists
        if not MIN_SIZE <= len(p["tracks"]) <= MAX_SIZE
    ]
    (DATA / "starter_playlists.json").write_text(
        json.dumps(playlists, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    n = len(catalog)
    two = sum(1 for i in range(n) if used[i] >= 2)
    one = sum(1 for i in range(n) if used[i] == 1)
    print(
        f"{len(playlists)} playlists, {sum(len(p['tracks']) for p in playlists)} entries; "
        f"tracks in >=2 playlists: {two}/{n} ({two / n:.1%}), in 1: {one}, in none: {n - two - one}"
    )
    if bad:
        print("playlists outside 15-40 tracks:", bad)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
