"""Find the short answer span inside one candidate sentence.

Answers must be extractive: every character is lifted from the source. The sentence is
chosen upstream; here we only decide which slice of it answers the question. Candidates
come from Kiwi's part-of-speech tags (numbers + counters for amounts, 년/월/일 for dates,
names next to job titles for people, ...), and are scored by how well they fit the
question type and how close they sit to the question's own words in the sentence. A
candidate that merely repeats the question ("인천시" for "인천시가 받은 상은?") is never
returned.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from kiwipiepy import Token

from rag.korean import get_kiwi
from rag.tokenization import content_terms, content_terms_batch

QuestionType = Literal["amount", "date", "person", "place", "thing", "reason", "other"]

# First match wins: "왜 ... 무엇" is a reason question, "몇 년간" is a duration (amount)
# although "몇 년" alone asks for a date, and "어느 분/곳" beat the generic "어느" (thing).
_QUESTION_RULES: tuple[tuple[QuestionType, re.Pattern[str]], ...] = (
    ("reason", re.compile(r"왜|어째서|이유|까닭|원인|(?:무엇|뭐) 때문")),
    ("other", re.compile(r"어떻게|방법")),
    ("amount", re.compile(r"몇\s*(?:년간|년\s*동안|년\s*연속|년째|개월)")),
    ("date", re.compile(r"언제|며칠|몇\s*(?:년|월|일|시)|날짜|시기|연도|일시|어느\s*날")),
    ("amount", re.compile(r"얼마|몇|금액|액수|규모|비율|비중|퍼센트|%")),
    ("person", re.compile(r"누구|누가|누굴|어느\s*분|기자\s*(?:이름|는)|인물")),
    ("place", re.compile(r"어디|어느\s*곳|장소")),
    ("thing", re.compile(r"무엇|무얼|뭐|뭘|무슨|어떤|어떠한|어느|명칭|이름")),
)

_MAX_SPAN_CHARS = 30
# Kiwi tags that are punctuation/symbols: they end a word (eojeol) and never start a span.
_PUNCT_TAGS = frozenset({"SF", "SP", "SS", "SSO", "SSC", "SE", "SO", "SW"})
# Tags that may form the nominal head of a word, before its particles and endings.
_NOMINAL_TAGS = frozenset({"NNG", "NNP", "SL", "SN", "SH", "XSN", "XPN", "NR"})
_EDGE_PUNCT = " \t\n\r'\"‘’“”`,.·:;!?~-–—/|[]{}<>《》〈〉「」『』()※▲◆■●△▶…"

# Question words and light verbs carry no position information in the sentence.
_NON_ANCHOR_TERMS = frozenset(
    {"무슨", "어떤", "어느", "어떠한", "몇", "얼마", "며칠", "언제", "하다", "되다", "있다",
     "주다", "이다", "것", "곳", "이름", "명칭", "때", "수", "분"}
)
_WH_FORMS = frozenset(
    {"무엇", "뭐", "무얼", "무슨", "어떤", "어느", "어떠한", "얼마", "얼마나", "몇", "누구", "어디",
     "언제", "며칠"}
)
_WH_DETERMINERS = frozenset({"무슨", "어떤", "어느", "어떠한", "몇"})
_GENERIC_TARGETS = frozenset({"이름", "명칭", "것", "내용", "무엇", "분", "곳"})
_MONEY_TERMS = frozenset(
    {"돈", "사업비", "예산", "금액", "액수", "국비", "비용", "인센티브", "매출", "매출액", "투자",
     "투자액", "상금", "지원금", "원", "재원", "세입", "투입"}
)
_PERCENT_RE = re.compile(r"률|율|비율|비중|퍼센트|%|포인트")
_YEAR_RE = re.compile(r"몇\s*년|연도|년도")
_MONTH_RE = re.compile(r"몇\s*월|몇\s*달")
_DAY_RE = re.compile(r"며칠|몇\s*일")

_ROLE_OF_PARTICLE = {
    "을": "object", "를": "object", "ᆯ": "object",
    "이": "subject", "가": "subject", "은": "subject", "는": "subject", "께서": "subject",
    "에서": "locative", "서": "locative", "에": "locative",
}

# Counters that turn a number into a date rather than a quantity.
_DATE_UNITS = frozenset({"년", "년도", "월", "일", "시", "분", "초"})
# Words after "N년" that make it a duration ("6년 연속", "2년간") instead of a date.
_DURATION_MARKERS = ("간", "연속", "째", "동안")
_AMOUNT_NOUN_UNITS = frozenset(
    {"원", "개", "명", "회", "배", "건", "곳", "개소", "가구", "세대", "대", "톤", "개국", "개월",
     "위", "달러", "위안", "엔", "사", "석", "병상", "호", "채", "평"}
)
_AMOUNT_LATIN_UNITS = frozenset({"p", "km", "kg", "m", "t", "ha", "mw", "gw", "kw", "kwh"})
_RELATIVE_DATES = frozenset(
    {"지난해", "올해", "작년", "금년", "내년", "이날", "오늘", "어제", "당일", "전날", "다음날"}
)
_SERIAL_DATE_RE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_SERIAL_TIME_RE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")
_YEAR_NUMBER_RE = re.compile(r"(?:19|20)\d\d")

_HANGUL_NAME_RE = re.compile(r"[가-힣]{2,4}")
# Common Korean surnames, minus ones that mostly start place names here (부산, 인천, 대구, 세종).
_SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우구민류나진지엄"
    "채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육맹모탁국어편용예봉"
)
_TITLES = (
    "기자", "시장", "본부장", "도지사", "지사", "주무관", "사무관", "과장", "국장", "실장", "팀장",
    "부장", "단장", "장관", "차관", "청장", "군수", "구청장", "의원", "위원장", "대표", "사장",
    "회장", "이사장", "원장", "센터장", "교수", "총리", "대통령", "소장", "관장",
)
_REGION_SUFFIXES = ("특별자치도", "특별자치시", "광역시", "특별시", "시", "도", "군", "구")
_ORG_SUFFIXES = ("부", "청", "처", "공사", "공단", "재단", "위원회", "협회", "기관", "시", "도", "군")
_VENUE_SUFFIXES = (
    "센터", "홀", "회관", "청사", "공원", "단지", "산단", "클러스터", "캠퍼스", "학교", "대학",
    "호텔", "광장", "경기장", "시청", "도청", "구청", "군청", "박물관", "전시장", "컨벤션", "밸리",
)
_PROGRAMME_SUFFIXES = (
    "사업", "프로젝트", "프로그램", "센터", "패키지", "제도", "시스템", "플랫폼", "서비스", "카드",
    "통장", "정책", "전략", "캠페인", "축제", "공시제", "사업단", "아카데미",
)
# Nouns a question may ask about that are answered by a different noun of the same kind
# ("어떤 사업" → "...프로젝트", "어느 분야" → "...부문").
_TARGET_CLASSES = (
    frozenset(
        {"사업", "프로젝트", "프로그램", "정책", "제도", "시책", "전략", "패키지", "서비스",
         "시스템", "플랫폼", "캠페인"}
    ),
    frozenset({"부문", "분야"}),
    frozenset({"센터", "시설", "기관"}),
)
_AWARD_WORDS = frozenset({"대상", "상"})
_QUOTE_RE = re.compile(
    r"‘([^‘’\n]+)’|“([^“”\n]+)”|'([^'\n]+)'|\"([^\"\n]+)\"|「([^」\n]+)」|『([^』\n]+)』"
    r"|《([^》\n]+)》|〈([^〉\n]+)〉|<([^<>\n]+)>"
)


def classify_question(question: str) -> QuestionType:
    """The kind of answer a question wants, from its question word (see _QUESTION_RULES)."""
    for qtype, pattern in _QUESTION_RULES:
        if pattern.search(question):
            return qtype
    return "other"


@dataclass(frozen=True)
class Span:
    start: int  # offset into the sentence string given
    end: int  # exclusive
    text: str  # == sentence[start:end]
    score: float  # 0..1, how well it fits the question type and position


@dataclass(frozen=True)
class _Question:
    """What the question tells us beyond its type."""

    terms: frozenset[str]  # every content term: an answer made only of these repeats it
    anchors: tuple[str, ...]  # terms worth locating in the sentence
    target: str  # the noun asked about: "상" in "무슨 상" / "받은 상은 무엇"
    role: str  # "object"/"subject"/"locative" from the particle after the question word
    unit: str  # counter or unit asked for: "명", "개", "%", "원"
    grain: str  # "year", "month", "day" when the date question says which


@dataclass(frozen=True)
class _Word:
    """An eojeol (space- or punctuation-delimited word) with its nominal head."""

    start: int
    end: int
    stem_end: int  # end of the leading nominal tokens (== start when there are none)
    nominal: bool  # nothing but nominal tokens: a noun phrase can run on past it
    after_stem: str  # tag of the first token after the stem ("" when nominal)
    particle: str  # that token's form when it is a particle (J*), else ""
    tokens: tuple[Token, ...]


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    fit: float  # 0..1, fit to the question type before position is considered


@dataclass(frozen=True)
class _Sentence:
    text: str
    tokens: tuple[Token, ...]
    words: tuple[_Word, ...]
    word_terms: tuple[tuple[str, ...], ...]  # content terms of each word
    quotes: tuple[tuple[int, int], ...]  # (start, end) of quoted text, marks excluded


def extract_span(question: str, sentence: str, qtype: QuestionType | None = None) -> Span | None:
    """Best answer span in `sentence`, or None when the question wants a sentence (reason/other)
    or no candidate of the right kind exists."""
    qtype = qtype or classify_question(question)
    builder = _BUILDERS.get(qtype)
    if builder is None or not sentence.strip():
        return None
    q = _parse_question(question)
    sent = _analyse(sentence)
    candidates = [c for c in map(sent.clean, builder(sent, q)) if c is not None]
    if not candidates:
        return None
    texts = [sentence[c.start : c.end] for c in candidates]
    best: Span | None = None
    for candidate, text, terms in zip(candidates, texts, content_terms_batch(texts), strict=True):
        if not terms or all(_in_terms(term, q.terms) for term in terms):
            continue  # never answer with the question's own words
        score = candidate.fit * (0.6 + 0.4 * _proximity(sent, q, candidate))
        if best is None or score > best.score:
            best = Span(candidate.start, candidate.end, text, round(min(score, 1.0), 4))
    return best


# --- question analysis -------------------------------------------------------------------


def _parse_question(question: str) -> _Question:
    tokens = get_kiwi().tokenize(question)
    terms = content_terms(question)
    target, role = "", ""
    for i, token in enumerate(tokens):
        if token.form not in _WH_FORMS:
            continue
        after = i + 1
        if token.form in _WH_DETERMINERS and after < len(tokens) and _is_noun(tokens[after]):
            target = tokens[after].form
            after += 1
        elif i >= 2 and tokens[i - 1].tag in ("JX", "JKS") and _is_noun(tokens[i - 2]):
            target = tokens[i - 2].form  # "받은 상은 무엇인가" asks about 상
        if after < len(tokens) and tokens[after].tag.startswith("J"):
            role = _ROLE_OF_PARTICLE.get(tokens[after].form, "")
        break
    if target in _GENERIC_TARGETS:
        target = ""
    return _Question(
        terms=frozenset(terms),
        anchors=tuple(dict.fromkeys(t for t in terms if t not in _NON_ANCHOR_TERMS)),
        target=target,
        role=role,
        unit=_wanted_unit(question, tokens, terms),
        grain=_wanted_grain(question),
    )


def _is_noun(token: Token) -> bool:
    return token.tag in ("NNG", "NNP", "NNB")


def _wanted_unit(question: str, tokens: Sequence[Token], terms: Sequence[str]) -> str:
    """The unit the question asks for: the counter after 몇, %, or 원 for money words."""
    for token, following in zip(tokens, tokens[1:], strict=False):
        if token.form == "몇" and following.tag in ("NNB", "NNG"):
            return following.form
    if _PERCENT_RE.search(question):
        return "%"
    if any(term in _MONEY_TERMS for term in terms):
        return "원"
    return ""


def _wanted_grain(question: str) -> str:
    for grain, pattern in (("year", _YEAR_RE), ("month", _MONTH_RE), ("day", _DAY_RE)):
        if pattern.search(question):
            return grain
    return ""


# --- sentence analysis -------------------------------------------------------------------


def _analyse(sentence: str) -> "_Sentence":
    tokens = tuple(get_kiwi().tokenize(sentence))
    words = tuple(_words(tokens))
    word_terms = content_terms_batch([sentence[w.start : w.end] for w in words]) if words else []
    quotes = tuple(
        (m.start(g), m.end(g))
        for m in _QUOTE_RE.finditer(sentence)
        for g in range(1, _QUOTE_RE.groups + 1)
        if m.group(g) is not None
    )
    return _Sentence(sentence, tokens, words, tuple(map(tuple, word_terms)), quotes)


def _words(tokens: Sequence[Token]) -> Iterator[_Word]:
    """Group tokens into words, splitting at spaces and at punctuation."""
    group: list[Token] = []
    for token in tokens:
        if token.tag in _PUNCT_TAGS:
            if group:
                yield _make_word(group)
            group = []
            continue
        if group and token.start > max(t.start + t.len for t in group):
            yield _make_word(group)
            group = []
        group.append(token)
    if group:
        yield _make_word(group)


def _make_word(tokens: Sequence[Token]) -> _Word:
    start = tokens[0].start
    stem_end, n, previous = start, 0, ""
    for token in tokens:
        counter = token.tag == "NNB" and previous in ("SN", "NR")
        if token.tag not in _NOMINAL_TAGS and not counter:
            break
        stem_end, n, previous = token.start + token.len, n + 1, token.tag
    after = tokens[n] if n < len(tokens) else None
    return _Word(
        start=start,
        end=max(t.start + t.len for t in tokens),
        stem_end=stem_end,
        nominal=after is None,
        after_stem=after.tag if after else "",
        particle=after.form if after and after.tag.startswith("J") else "",
        tokens=tuple(tokens),
    )


def _clean(self: _Sentence, candidate: _Candidate) -> _Candidate | None:
    """Trim spaces/punctuation off the edges (keeping a balanced closing ")"); drop long spans."""
    start, end, text = candidate.start, candidate.end, self.text
    while start < end and text[start] in _EDGE_PUNCT:
        start += 1
    while start < end and text[end - 1] in _EDGE_PUNCT:
        if text[end - 1] == ")" and text.count("(", start, end) >= text.count(")", start, end):
            break
        end -= 1
    if start >= end or end - start > _MAX_SPAN_CHARS:
        return None
    return _Candidate(start, end, candidate.fit)


_Sentence.clean = _clean  # type: ignore[attr-defined]
