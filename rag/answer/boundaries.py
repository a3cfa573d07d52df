"""Where a reader's span should start and end so that the answer says all the question asks:
"오는 4일부터" not "4일" for "언제부터…?", "약 1535원" not "1535원", "티맥스오에스 대표 허희도" not
"허희도" for "누가…?", "30일 명지대학교" for "언제 어디서…?", "특화산업, 미래산업, 청년,
고용취약계층" where the span is one item of a list.

The reader marks the core of an answer (it learnt KorQuAD's short spans); a news reader
wants the words around it that change its meaning: the range particle the question asks
for, the qualifier of a number or a date, the bound or unit after a number, a person's
affiliation and title, the region before a place, the other items of a list the span is
one of ("A와 B", "A, B, C 등"). The span only grows outward over whole
words of its passage, so the answer stays a verbatim slice of it; before growing, it drops a
bracket or quote the reader's span opens and never closes ("(10월 2일"). One step moves it
instead: asked what a change came to ("몇 명으로 늘었나?"), the old value of "A에서 B으로" or
"A→B" gives way to the new one; and one cuts it: asked the year ("…한 해는?", "몇 년도에…?"),
a date says its year alone ("2008년", not "2008년 2월 25일").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from rag.answer.extract import (
    BYLINE_TITLES,
    DAY_PERIODS,
    TITLES,
    QuestionType,
    asks_year_alone,
    said_in_question,
)
from rag.ingest.korean import get_kiwi

#: How far around the span words are read (characters): a long affiliation fits.
_CONTEXT = 40
#: Most words a name or a place may grow by on each side.
_MAX_WORDS = 3

#: Words before a date that say which one it is.
_DATE_QUALIFIERS = frozenset(
    ("오는", "지난", "올", "올해", "이달", "이번달", "다음달", "지난달", "내년", "작년")
    + ("지난해", "매월", "매주", "매년", "매일")
)
#: A date's finer parts after its coarser ones: "2019년 5월", "26일 오후 6시", "5월 말".
_FINER_DATE = re.compile(
    rf"(?:\d{{1,2}}(?:월|일|시|분|초)|[1-4]분기|{'|'.join(DAY_PERIODS)}|상반기|하반기"
    r"|초|말|초순|중순|하순)(?:경|께|쯤)?"
)
#: A span that ends in a date, to which finer parts may follow.
_DATE_END = re.compile(r"(?:\d(?:년|월|일|시)|지난달|이달|올해|지난해|내년|작년)$")
#: A year and the finer parts of its date after it: "2008년" and " 9월" of "2008년 9월".
_YEAR_THEN_FINER = re.compile(rf"(?<!\d)(?:1[89]|20)\d\d년((?:\s*{_FINER_DATE.pattern})+)")
#: Words before a number that qualify it.
_NUMBER_QUALIFIERS = frozenset(
    ("약", "총", "연", "월", "연간", "최대", "최소", "최고", "최저", "무려", "평균", "모두")
)
#: Words after a number that bound it.
_NUMBER_BOUNDS = frozenset(
    ("이상", "이하", "미만", "초과", "안팎", "가량", "정도", "내외", "만", "이내")
)

#: A question asking what a change came to ("몇 명으로 늘었나?", "얼마로 줄었나?"; not a rank,
#: "몇 번째로 높았나?"), and one asking where it started as well ("얼마에서 얼마로…?").
_ASKS_NEW_VALUE = re.compile(
    r"(?:얼마|몇\s*(?!번째)[가-힣%]{0,4}?)\s*(?:으로|로)\s*"
    r"(?:늘|증가|줄|감소|올랐|오르|상승|내렸|내리|하락|떨어|확대|축소|커|작아|높아|낮아|바뀌|변|인상|인하)"
)
_ASKS_OLD_VALUE = re.compile(r"(?:얼마|몇\s*[가-힣%]{0,4}?)\s*에서")
#: A number ("15만700", "1,234.5", "1억2천만") and what follows an amount's number: its unit.
_NUMBER = r"\d[\d,.]*(?:\s?[십백천만억조]+\s?(?:\d[\d,.]*)?)*"
_UNIT_AFTER_NUMBER = re.compile(r"[^\d\s,.십백천만억조]+$")

#: Brackets and quotes, opening and closing, in pairs.
_PAIRS = dict(zip("([{‘“「『《〈", ")]}’”」』》〉", strict=True))
_CLOSING = {close: open_ for open_, close in _PAIRS.items()}

_NOMINAL = re.compile(r"^(NN[GPB]|NR|SN|SL|SH|XPN|XSN|XR|SO|SW)$")
_NAME_TAGS = ("NNP", "SL", "SH")
_WORD = re.compile(r"\S+")

#: What joins the items of a list: "A와 B", "A, B", "A·B", "A 및 B".
_CONNECTORS = frozenset((",", "·", "ㆍ", "와", "과", "하고", "이랑", "랑", "및"))
_CONNECTOR_AFTER = re.compile(r"(?:와|과|하고|이랑|랑)\s|[,·ㆍ]|\s+및\s")
_CONNECTOR_BEFORE = re.compile(r"(?:와|과|하고|이랑|랑|,|·|ㆍ|및)\s*$")
#: Kiwi tags of a list item's morphemes: nouns, foreign words, affixes (no numbers).
_ITEM_TAGS = frozenset(("NNG", "NNP", "SL", "SH", "XSN", "XPN", "XR"))
#: Nouns that say when or end a clause, never a list item: "지난해 A, B", "…한 후, A".
_NOT_ITEMS = _DATE_QUALIFIERS | frozenset(
    ("한편", "반면", "이날", "당시", "현재", "최근", "이번", "이후", "이전", "후", "뒤", "전")
    + ("때", "동안", "중", "가운데", "결과", "사이", "주변", "근처", "일부", "대부분", "전체")
    + ("모두", "북쪽", "남쪽", "동쪽", "서쪽")
)
#: A count after a list says how many items it has: "A, B, C, D 4대 분야", "A와 B 두 나라".
_COUNT_WORDS = {"두": 2, "둘": 2, "세": 3, "셋": 3, "네": 4, "넷": 4, "다섯": 5, "여섯": 6}
_MAX_ITEMS = 8
#: How far around the span a list is read (characters).
_LIST_CONTEXT = 80

#: A word's start and end in the text.
Word = tuple[int, int]
#: Whether a word may join the span.
Keep = Callable[[str], bool]


@lru_cache(maxsize=4096)
def _noun_phrase_part(word: str) -> tuple[int, bool]:
    """How much of ``word`` can belong to a noun phrase — all of it when it is only nouns,
    numbers and foreign letters, the part before its particles when it ends in them, 0
    when it holds a verb — and whether it names something (a proper noun, Latin letters)."""
    tokens = get_kiwi().tokenize(word)
    names = any(t.tag in _NAME_TAGS for t in tokens)
    for i, token in enumerate(tokens):
        if token.tag.startswith("J") and i > 0:
            particles_only = all(t.tag.startswith("J") for t in tokens[i:])
            return (token.start if particles_only else 0), names
        if not _NOMINAL.match(token.tag):
            return 0, names
    return len(word), names


def _is_noun(word: str) -> bool:
    """A noun phrase word (its particles aside) that is no byline: bylines run into the
    text ("연합뉴스 류효림 기자 시민들") and are never part of an answer."""
    part = _noun_phrase_part(word)[0]
    return part > 0 and not word[:part].endswith(BYLINE_TITLES)


def _is_name_part(word: str) -> bool:
    """A word of a person's or organisation's noun phrase: a name or a title."""
    part, names = _noun_phrase_part(word)
    return _is_noun(word) and (names or word[:part].endswith(TITLES))


def _without_particle(keep: Keep) -> Keep:
    """``keep`` for words before a span: one that ends in a particle ends the phrase."""
    return lambda word: _noun_phrase_part(word)[0] == len(word) and keep(word)


def _is_finer_date(word: str) -> bool:
    return _FINER_DATE.fullmatch(word[: _noun_phrase_part(word)[0]]) is not None


def _one_of(words: frozenset[str]) -> Keep:
    return words.__contains__


def _before(text: str, start: int) -> list[Word]:
    """The whole words before ``start``, nearest last."""
    lo = max(0, start - _CONTEXT)
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, lo, start)]
    return words[1:] if words and lo > 0 and not text[lo - 1].isspace() else words


def _after(text: str, end: int) -> list[Word]:
    """The whole words after ``end``, nearest first; none when ``end`` is inside a word
    (what follows is its particle)."""
    if end < len(text) and not text[end].isspace():
        return []
    hi = min(len(text), end + _CONTEXT)
    words = [(m.start(), m.end()) for m in _WORD.finditer(text, end, hi)]
    return words[:-1] if words and hi < len(text) and not text[hi].isspace() else words


def _grow_left(text: str, start: int, keep: Keep, limit: int) -> int:
    for ws, we in reversed(_before(text, start)[-limit:]):
        if text[we:start].strip() or not keep(text[ws:we]):
            break
        start = ws
    return start


def _grow_right(text: str, end: int, keep: Keep, limit: int) -> int:
    for ws, we in _after(text, end)[:limit]:
        word = text[ws:we]
        if text[end:ws].strip() or not keep(word):
            break
        part = _noun_phrase_part(word)[0]
        end = ws + part
        if part < len(word):  # a particle ends the phrase
            break
    return end


def without_stray_brackets(text: str, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` without an opening bracket or quote at its start that it never
    closes, nor a closing one at its end that it never opened (nor the spaces that leaves):
    "(10월 2일" → "10월 2일", while "‘뿌리산업 일자리센터’" keeps both. A span of nothing
    else stays as it is."""

    def stray_first(i: int) -> bool:
        return text[i] in _PAIRS and _PAIRS[text[i]] not in text[i + 1 : end]

    def stray_last(i: int) -> bool:
        return text[i] in _CLOSING and _CLOSING[text[i]] not in text[first:i]

    first, last = start, end
    while first < last and (text[first].isspace() or stray_first(first)):
        first += 1
    while first < last and (text[last - 1].isspace() or stray_last(last - 1)):
        last -= 1
    return (first, last) if first < last else (start, end)


def widen_span(
    text: str, start: int, end: int, question: str, qtype: QuestionType
) -> tuple[int, int]:
    """The span ``text[start:end]`` grown to say what ``question`` asks (see module doc)."""
    if not 0 <= start < end <= len(text):
        return start, end
    start, end = _new_value(text, start, end, question)
    while text[start : start + 1].isalnum() and start > 0 and text[start - 1].isalnum():
        start -= 1  # "과천청사" of "정부과천청사"
    start, end = _list_around(text, start, end, question)
    core = text[start:end]
    if "언제" in question and "어디" in question:  # "30일 명지대학교"
        start = _grow_left(text, start, _without_particle(_is_noun), _MAX_WORDS)
        end = _grow_right(text, end, _is_noun, _MAX_WORDS)
        start = _grow_left(text, start, _one_of(_DATE_QUALIFIERS), 1)
    elif qtype == "person":  # "박정훈 라이더유니온 위원장", else "티맥스오에스 대표 허희도"
        grown = _title_after(text, end)
        start = _person_left(text, start) if grown == end else start
        end = grown
    elif qtype == "place":  # "경기도 정부과천청사"
        start = _grow_left(text, start, _without_particle(_is_name_part), _MAX_WORDS)
    elif qtype == "date":  # "오는 4분기", "2019년 5월", "26일 오후 6시"
        start = _grow_left(text, start, _one_of(_DATE_QUALIFIERS), 1)
        if _DATE_END.search(core):
            end = _grow_right(text, end, _is_finer_date, _MAX_WORDS)
    if any(c.isdigit() for c in core):  # "약 1535원", "60세 이상", "500여 품목"
        start = _grow_left(text, start, _one_of(_NUMBER_QUALIFIERS), 1)
        end = _number_end(text, end, core)
    if asks_year_alone(question):  # "…한 해는?": "2008년", not "2008년 9월"
        end = _year_alone(text, start, end)
    return _range_particles(text, start, end, question)


def _year_alone(text: str, start: int, end: int) -> int:
    """The end of the year where the span is a year and finer parts of its date after it."""
    found = _YEAR_THEN_FINER.search(text, start, end)
    return found.start(1) if found and found.end() == end else end


def _new_value(text: str, start: int, end: int, question: str) -> tuple[int, int]:
    """Asked what a change came to, the new value of "A에서 B으로" / "A→B" where the span is
    A (of the same unit); asked both ("얼마에서 얼마로…?"), the span grows to "A…B"."""
    span = text[start:end]
    if not (_ASKS_NEW_VALUE.search(question) and span[:1].isdigit()):
        return start, end
    unit = _UNIT_AFTER_NUMBER.search(span)
    to = re.compile(
        rf"\s*(?:에서\s|→\s*)({_NUMBER}\s?{re.escape(unit.group() if unit else '')})"
        r"(?:으로|로|\)|\s|$)"
    ).match(text, end)
    if to is None:
        return start, end
    if _ASKS_OLD_VALUE.search(question):
        return start, to.end(1)
    return to.start(1), to.end(1)


def _title_after(text: str, end: int) -> int:
    """The affiliation and title after a name, up to the title: "박정훈 라이더유니온 위원장"."""
    out = end
    for ws, we in _after(text, end)[:_MAX_WORDS]:
        word = text[ws:we]
        if text[end:ws].strip() or not _is_noun(word):
            break
        part = _noun_phrase_part(word)[0]
        if word[:part].endswith(TITLES):
            out = ws + part
        end = ws + part
        if part < len(word):
            break
    return out


def _person_left(text: str, start: int) -> int:
    """The title before a name and the affiliation before that title."""
    grown = _grow_left(text, start, _without_particle(_is_name_part), 1)
    if grown < start and text[grown:start].strip().endswith(TITLES):
        return _grow_left(text, grown, _without_particle(_is_noun), 1)
    return grown


def _number_end(text: str, end: int, core: str) -> int:
    """A bound after a number ("60세 이상", "4개월 만"), or the unit a bare number lacks
    ("500여" → "500여 품목")."""
    following = _after(text, end)[:1]
    if not following:
        return end
    ws, we = following[0]
    part = _noun_phrase_part(text[ws:we])[0]
    bare = core[-1:].isdigit() or core.endswith("여")
    return ws + part if text[ws : ws + part] in _NUMBER_BOUNDS or (part and bare) else end


def _range_particles(text: str, start: int, end: int, question: str) -> tuple[int, int]:
    """ "4일부터" for "언제부터…?", "25일까지" for a deadline, "6일부터 25일까지" for both."""
    follows = text[end : end + 2]
    if follows == "부터" and ("부터" in question or "시작" in question):
        end += 2
        following = _after(text, end)[:1]
        if "까지" in question and following and "까지" in text[following[0][0] : following[0][1]]:
            end = text.index("까지", following[0][0]) + 2
    elif follows == "까지" and ("언제까지" in question or "마감" in question or "기한" in question):
        end += 2
        previous = _before(text, start)[-1:]
        if "부터" in question and previous and text[slice(*previous[0])].endswith("부터"):
            start = previous[0][0]
    return start, end


#: A Kiwi morpheme as (start, end, form, tag), offsets in the text.
Morpheme = tuple[int, int, str, str]


def _list_around(text: str, start: int, end: int, question: str) -> tuple[int, int]:
    """The span grown over the list it is one whole item of: "미래산업" →
    "특화산업, 미래산업, 청년, 고용취약계층", "이명박" → "이명박과 검찰". The items are nouns
    without numbers; a list must end in a particle, "등" or a count of its items, and an
    item the question names is where it stops ("A와 함께 B, C는…" asks for the others)."""
    if any(c.isdigit() for c in text[start:end]) or not (
        _CONNECTOR_AFTER.match(text, end)
        or _CONNECTOR_BEFORE.search(text, max(0, start - 4), start)
    ):
        return start, end
    lo = max(0, start - _LIST_CONTEXT)
    hi = min(len(text), end + _LIST_CONTEXT)
    tokens = [(lo + t.start, lo + t.end, t.form, t.tag) for t in get_kiwi().tokenize(text[lo:hi])]
    after = next((i for i, t in enumerate(tokens) if t[0] >= end), len(tokens))
    before = next((i for i in range(len(tokens) - 1, -1, -1) if tokens[i][1] <= start), -1)
    right, right_out = (
        _items(text, tokens, after, 1, question)
        if _glued(text, end, tokens, after)
        else ([], after)
    )
    left, left_out = (
        ([], before)  # a word between the span and the connector before it: no list there
        if before >= 0 and text[tokens[before][1] : start].strip()
        else _items(text, tokens, before, -1, question)
    )
    words = [len(text[a:b].split()) for a, b in [(start, end), *right[:-1], *left[:-1]]]
    count = 1 + len(right) + len(left)

    def ends_list(i: int) -> bool:
        t = tokens[i] if i < len(tokens) else None
        return t is None or (
            t[3].startswith("J")
            or t[3] in ("SF", "SS", "VCP")
            or (t[3] == "NNB" and t[2] in ("등", "외"))
            or _count(t) == count
        )

    def starts_list(i: int) -> bool:
        t = tokens[i] if i >= 0 else None
        return t is None or (
            (t[3].startswith("J") and t[3] != "JKG")
            or t[3] in ("SF", "SP", "SS", "MAG", "MAJ", "ETM", "MM")
            or t[2] in _NOT_ITEMS
        )

    # The outer items are as long as the others at most ("이석희와 선거 자금" is no list), and
    # where one end of the list is unclear, so is the list: never half of one.
    if right and not (len(text[slice(*right[-1])].split()) <= max(words) and ends_list(right_out)):
        return start, end
    if left and not (len(text[slice(*left[-1])].split()) <= max(words) and starts_list(left_out)):
        return start, end
    # The span is a whole item: "김대중 정부" of "…이미지, 김대중 정부 말기의 사건" is not.
    if right and not left and not starts_list(before):
        right = []
    if left and not right and not ends_list(after):
        left = []
    # Commas between the same particle before and after are two clauses, "X에서 A, Y에서 B";
    # "시상식에서 A 부문과 B 부문에서" is a list.
    first, last = (left_out if left else before), (right_out if right else after)
    if (
        all(0 <= i < len(tokens) and tokens[i][3].startswith("J") for i in (first, last))
        and tokens[first][2] == tokens[last][2]
        and not any(t[3] == "JC" or t[2] == "및" for t in tokens[first + 1 : last])
    ):
        return start, end
    return (left[-1][0] if left else start), (right[-1][1] if right else end)


def _glued(text: str, end: int, tokens: list[Morpheme], i: int) -> bool:
    """Whether the connector ``tokens[i]`` follows ``end`` directly (" 및" after a space)."""
    return (
        i < len(tokens)
        and not text[end : tokens[i][0]].strip()
        and (tokens[i][0] == end or tokens[i][2] == "및")
    )


def _items(
    text: str, tokens: list[Morpheme], k: int, step: int, question: str
) -> tuple[list[Word], int]:
    """The list items from the connector ``tokens[k]`` outward (``step`` 1: rightwards, -1:
    leftwards), nearest first, and the index of the morpheme past the last one; no items
    where what follows a connector is no item (a verb, a number, a title, a plural, a thing
    the question names)."""
    items: list[Word] = []
    while 0 <= k < len(tokens) and _is_connector(tokens[k]) and len(items) < _MAX_ITEMS:
        run = []
        i = k + step
        while (
            0 <= i < len(tokens) and tokens[i][3] in _ITEM_TAGS and tokens[i][2] not in _NOT_ITEMS
        ):
            run.append(i)
            i += step
        if not run:
            return [], k
        first, last = min(run), max(run)
        a, b = tokens[first][0], tokens[last][1]
        item = text[a:b]
        if (
            (text[tokens[k][1] : a].strip() if step > 0 else not _glued(text, b, tokens, k))
            or said_in_question(item, question)
            or any(tokens[j][2] == "들" for j in run)
            or item.endswith(TITLES)
        ):
            return [], k
        items.append((a, b))
        k = i
        joined = (
            _glued(text, b, tokens, k)
            if step > 0
            else (0 <= k < len(tokens) and not text[tokens[k][1] : a].strip())
        )
        if not (joined and 0 <= k < len(tokens) and _is_connector(tokens[k])):
            return items, k
    return [], k


def _is_connector(token: Morpheme) -> bool:
    return token[2] in _CONNECTORS and (token[3] in ("JC", "SP") or token[2] == "및")


def _count(token: Morpheme) -> int | None:
    """The number a count word or numeral says ("4" of "4대", "두"), else None."""
    if token[3] == "SN" and token[2].isdigit():
        return int(token[2])
    return _COUNT_WORDS.get(token[2])
