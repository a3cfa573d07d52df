"""Find the short answer span inside one candidate sentence.

Answers must be extractive: every character is lifted from the source. The sentence is
chosen upstream; here we only decide which slice of it answers the question. Candidates
come from Kiwi's part-of-speech tags (numbers + counters for amounts, 년/월/일 for dates,
names next to job titles for people, ...), and are scored by how well they fit the
question type and how close they sit to the question's own words in the sentence. A
candidate that merely repeats the question ("인천시" for "인천시가 받은 상은?") is never
returned.
"""

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Literal

from kiwipiepy import Token

from rag.index.tokenization import content_terms, content_terms_batch
from rag.ingest.korean import get_kiwi

QuestionType = Literal["amount", "date", "person", "place", "thing", "reason", "other"]

# First match wins: "이유는 무엇인가?" is a reason question, "몇 년간" is a duration (amount)
# although "몇 년" alone asks for a date, and "어느 분/곳" beat the generic "어느" (thing).
# Why and how (reason, other) are asked by "왜" alone (not "왜곡"); by "이유/원인" only as what
# is asked ("퇴장당한 이유는?", not "…을 이유로 질책한 인물은?"); by "어떻게" neither for "어떻게
# 되나" (an amount, a date) nor for a name ("어떻게 칭하는가"); by "방법" only as what is asked
# ("사용하는 방법은?", not "지방법원", not "방법을 고안한 의사는?").
_QUESTION_RULES: tuple[tuple[QuestionType, re.Pattern[str]], ...] = (
    (
        "reason",
        re.compile(
            r"(?<![가-힣])왜(?![가-힣])|어째서|(?:무엇|뭐)\s*때문"
            r"|(?:이유|까닭|원인)(?:은|는|이|가)?(?:\s*(?:무엇|뭐)[가-힣]*)?\s*[?？.]?\s*$"
        ),
    ),
    (
        "other",
        re.compile(
            r"어떻게(?!\s*(?:되|칭|명명|부르|불리|불러|표기|읽))|어떤\s*방법"
            r"|(?<![가-힣])방법(?:은|이)?\s*[?？.]?\s*$"
        ),
    ),
    ("amount", re.compile(r"몇\s*(?:년간|년\s*동안|년\s*연속|년째|개월)")),
    (
        "date",
        re.compile(r"언제|며칠|몇\s*(?:년|월|일|시|세기)|날짜|시기|연도|일시|어느\s*(?:날|기간)"),
    ),
    # not 대규모/소규모/중규모, which describe ("대규모 시위가 열린 장소는?"); 최대 규모 asks
    ("amount", re.compile(r"얼마|몇|금액|액수|(?<![소중])(?<!(?<!최)대)규모|비율|비중|퍼센트|%")),
    ("person", re.compile(r"누구|누가|누굴|어느\s*분|기자\s*(?:이름|는)|인물")),
    ("place", re.compile(r"어디|어느\s*(?:곳|지역|도시|나라|시군)|장소")),
    ("thing", re.compile(r"무엇|무얼|뭐|뭘|무슨|어떤|어떠한|어느|명칭|이름")),
)
# Elliptical questions without a question word ("부산시가 받은 상은?", "자격증을 딴 인원은?")
# end in a topic noun + 은/는/이/가; the noun says what kind of answer is wanted.
_TOPIC_NOUN_RE = re.compile(r"(\S+?)(?:은|는|이|가)$")

_MAX_SPAN_CHARS = 30
_PREDICATE_BONUS = 1.2
_PREDICATE_WINDOW = 2
# Kiwi tags that are punctuation/symbols: they end a word (eojeol) and never start a span.
_PUNCT_TAGS = frozenset({"SF", "SP", "SS", "SSO", "SSC", "SE", "SO", "SW"})
# Tags that may form the nominal head of a word, before its particles and endings.
_NOMINAL_TAGS = frozenset({"NNG", "NNP", "SL", "SN", "SH", "XSN", "XPN", "NR"})
_EDGE_PUNCT = " \t\n\r'\"‘’“”`,.·:;!?~-–—/|[]{}<>《》〈〉「」『』()※▲◆■●△▶…"


def _names(words: str) -> tuple[str, ...]:
    """Split a space-separated list, so the vocabularies below stay readable."""
    return tuple(words.split())


# Question words and light verbs carry no position information in the sentence (nor do
# one-syllable terms like 년/명/상, which are dropped separately).
_NON_ANCHOR_TERMS = _names(
    "무슨 어떤 어느 어떠한 얼마 며칠 언제 하다 되다 있다 주다 이다 이름 명칭"
)
_WH_FORMS = _names("무엇 뭐 무얼 무슨 어떤 어느 어떠한 얼마 얼마나 몇 누구 어디 언제 며칠")
_WH_DETERMINERS = _names("무슨 어떤 어느 어떠한 몇")
_GENERIC_TARGETS = _names("이름 명칭 것 내용 무엇 분 곳")
# Not 원 alone: Kiwi splits it off 한국부동산원 and 연구원 ("몇 원" asks it as a counter).
_MONEY_TERMS = _names(
    "돈 사업비 예산 금액 액수 국비 비용 인센티브 매출 매출액 투자 투자액 상금 지원금 재원 세입 투입"
)
#: "얼마 받아?", "얼마에 팔렸나?": 얼마 before a verb of paying asks an amount of money.
_PAID_RE = re.compile(
    r"얼마(?:를|에|씩)?\s*(?:받|벌|내|냈|낸|빌|갚|주|줬|준|팔|샀|사|들|쓰|썼|지불|지급|부담|모았|모금)"
)
_PERCENT_RE = re.compile(r"률|율|비율|비중|퍼센트|%|포인트")
# "몇 퍼센트", "몇%": 퍼센트 is no counter Kiwi tags after 몇, nor % a noun.
_HOW_MANY_PERCENT = re.compile(r"몇\s*(?:퍼센트|%|％)")
# A change in a rate is answered in percentage points ("4.4%p"), the rate itself in "%".
_CHANGE_RE = re.compile(r"상승|증가|감소|하락|늘|줄|폭|올랐|떨어|포인트")
# "몇 년", "연도", and the noun 해 ("설립된 해는?", "어느 해에").
_YEAR_RE = re.compile(
    r"몇\s*년|연도|년도|(?:^|\s)(?:어느\s*|몇\s*)?해(?:는|에|가|를)?(?=[\s?？]|$)"
)
_MONTH_RE = re.compile(r"몇\s*월|몇\s*달")
_DAY_RE = re.compile(r"며칠|몇\s*일")
_TIME_RE = re.compile(r"몇\s*시|시각|시간")
_PERIOD_RE = re.compile(r"기간|부터\s*언제까지")

_ROLE_OF_PARTICLE = (
    dict.fromkeys(("을", "를", "ᆯ"), "object")
    | dict.fromkeys(("이", "가", "은", "는", "께서"), "subject")
    | dict.fromkeys(("에서", "서", "에"), "locative")
    | dict.fromkeys(("으로", "로"), "direction")
    | {"부터": "from", "까지": "until"}
    | dict.fromkeys(("에게", "한테", "께"), "dative")
    | dict.fromkeys(("에게서", "로부터", "으로부터", "한테서"), "source")
    | dict.fromkeys(("와", "과", "하고", "랑", "이랑"), "comitative")
    | {"의": "genitive"}
)

# Counters that turn a number into a date rather than a quantity.
_DATE_UNITS = frozenset({"년", "년도", "년대", "세기", "월", "일", "시", "분", "초"})
# Words after "N년" that make it a duration ("6년 연속", "2년간") instead of a date.
_DURATION_MARKERS = frozenset({"간", "연속", "째", "동안"})
_AMOUNT_NOUN_UNITS = _names(
    "원 개 명 회 배 건 곳 개소 가구 세대 대 톤 개국 개월 위 달러 엔 사 석 병상 호 채 평 단 단계 번"
)
_AMOUNT_LATIN_UNITS = frozenset(
    {"p", "km", "kg", "m", "t", "ha", "mw", "gw", "kw", "kwh", "cm", "mm", "g", "l", "ml"}
    | {"kb", "mb", "gb", "tb", "hz", "khz", "mhz", "ghz", "w", "v", "bit/s", "mbps", "gbps"}
)
# Native Korean numerals ("열두 번째", "아홉 등급"); Kiwi tags them NR, or MM before a counter.
_NATIVE_NUMERALS = frozenset(
    _names("한 두 세 네 석 넉 다섯 여섯 일곱 여덟 아홉 열 스무 스물 서른 마흔 쉰 첫 몇십 수십")
)
_RELATIVE_DATES = _names("지난해 올해 작년 금년 내년 이날 오늘 어제 당일 전날 다음날")
_SERIAL_DATE_RE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_SERIAL_TIME_RE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")
_YEAR_NUMBER_RE = re.compile(r"(?:19|20)\d\d")
_YEAR_APOSTROPHES = ("’", "'")  # "’19년" = 2019
_RANGE_MARKS = ("~", "∼", "〜")

_HANGUL_NAME_RE = re.compile(r"[가-힣]{2,4}")
# Common Korean surnames, minus ones that mostly start place names here (부산, 인천, 대구, 세종).
_SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우구민류나진지엄"
    "채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육맹모탁국어편용예봉"
)
TITLES = _names(
    "기자 시장 본부장 도지사 지사 주무관 사무관 과장 국장 실장 팀장 부장 단장 장관 차관 청장 군수 "
    "구청장 의원 위원장 대표 사장 회장 이사장 원장 센터장 교수 총리 대통령 소장 관장 처장 총재 "
    "의장 대변인 감독 작가 시인 선수 장군 총장 판사 검사 변호사 박사 대사 목사 신부 황제 천황 "
    "국왕 여왕 왕자 공주 황후 왕후 총독 주석 수상 부통령 코치 가수 배우 상무 전무 이사 총재보 "
    "CTO CEO"
)
#: Titles of a byline ("연합뉴스 류효림 기자"): who wrote the article, not whom it is about.
BYLINE_TITLES = ("기자", "특파원", "앵커")
_REGION_SUFFIXES = ("특별자치도", "특별자치시", "광역시", "특별시", "시", "도", "군", "구")
_ORG_SUFFIXES = _names("부 청 처 공사 공단 재단 위원회 협회 기관 시 도 군")
_VENUE_SUFFIXES = _names(
    "센터 홀 회관 청사 공원 단지 산단 클러스터 캠퍼스 학교 대학 호텔 광장 경기장 시청 도청 구청 "
    "군청 박물관 전시장 컨벤션 밸리"
)
_PROGRAMME_SUFFIXES = _names(
    "사업 프로젝트 프로그램 센터 패키지 제도 시스템 플랫폼 서비스 카드 통장 정책 전략 캠페인 축제 "
    "공시제 사업단 아카데미"
)
# Nouns a question may ask about that are answered by a different noun of the same kind
# ("어떤 사업" → "...프로젝트", "어느 분야" → "...부문").
_TARGET_CLASSES = (
    _names("사업 프로젝트 프로그램 정책 제도 시책 전략 패키지 서비스 시스템 플랫폼 캠페인"),
    ("부문", "분야"),
    ("센터", "시설", "기관"),
    _names("행사 박람회 축제 대회 시상식 포럼 회의 캠프"),
    _names("조직 팀 부서 위원회 협의체"),
    _names("부처 부 청 처"),
)
_AWARD_WORDS = frozenset({"대상", "상"})
_PERSON_NOUNS = _names("사람 인물 담당자 주인공")
_AMOUNT_NOUNS = _names(
    "수 인원 규모 금액 액수 사업비 예산 국비 비율 비중 명수 개수 건수 수치 세입 비용 돈 상금 "
    "지원금 매출 매출액 인센티브"
)
_DATE_NOUNS = _names("시점 날짜 날 해 연도 년도 시기 기간 일시 때")
_PLACE_NOUNS = _names("곳 장소 지역 시군 도시 위치 나라")
# One pattern per kind of quote mark, so a name quoted inside a quoted speech is found too.
_QUOTE_RES = tuple(
    re.compile(f"{re.escape(open_)}([^{re.escape(open_ + close)}\\n]+){re.escape(close)}")
    for open_, close in ("‘’", "“”", "''", '""', "「」", "『』", "《》", "〈〉", "<>")
)


#: Question types answered by a sentence: a reason or a way.
SENTENCE_TYPES: tuple[QuestionType, ...] = ("reason", "other")
#: A question word after the why/how one is what is asked ("어떻게 …라는 기사를 쓴 매체는?").
_LATER_QUESTION_WORD = re.compile(r"누구|누가|어디|언제|무엇|뭐|몇|얼마|매체|곳은")


def _asked_by_word(question: str) -> QuestionType | None:
    """The kind the question's question word asks for (see _QUESTION_RULES), if it has one."""
    for qtype, pattern in _QUESTION_RULES:
        ends = [m.end() for m in pattern.finditer(question)]
        if ends and not (
            qtype in SENTENCE_TYPES and _LATER_QUESTION_WORD.search(question[ends[-1] :])
        ):
            return qtype
    return None


def asks_for_sentence(question: str) -> bool:
    """Whether the question asks why or how (not only "other" for want of a question word)."""
    return _asked_by_word(question) in SENTENCE_TYPES


def said_in_question(text: str, question: str) -> bool:
    """Whether the question itself says ``text`` (spaces aside) from the start of one of its
    words: "김영삼 후보" in "김영삼후보와 같이 출마한 후보는?"; "TBC" inside "JTBC" is not said."""
    said, words = "".join(text.split()), question.split()
    return any("".join(words[i:]).startswith(said) for i in range(len(words)))


def classify_question(question: str) -> QuestionType:
    """The kind of answer a question wants, from its question word (see _QUESTION_RULES) or,
    failing that, from the topic noun an elliptical question ends with."""
    asked = _asked_by_word(question)
    if asked is not None:
        return asked
    noun = _topic_noun(question)
    if not noun:
        return "other"
    if noun.endswith(TITLES) or noun in _PERSON_NOUNS:
        return "person"
    if noun in _AMOUNT_NOUNS or noun.endswith(("률", "율", "액", "폭")):
        return "amount"
    if noun in _DATE_NOUNS:
        return "date"
    if noun in _PLACE_NOUNS or noun.endswith(("단지", "산단")):
        return "place"
    return "thing"


def _topic_noun(question: str) -> str:
    """The topic noun of an elliptical question: 인원 in "자격증을 딴 인원은?"; "" if none."""
    core = re.sub(r"\([^)]*\)", "", question).strip().rstrip("?？!. ")
    match = _TOPIC_NOUN_RE.search(core)
    return match.group(1) if match else ""


@dataclass(frozen=True)
class Span:
    start: int  # offset into the sentence string given
    end: int  # exclusive
    text: str  # == sentence[start:end]
    score: float  # 0..1, how well it fits the question type and position


@dataclass(frozen=True)
class _Question:
    """What the question tells us beyond its type."""

    text: str
    terms: frozenset[str]  # every content term: an answer made only of these repeats it
    anchors: tuple[str, ...]  # terms worth locating (not question words, not 1-char counters)
    target: str  # the noun asked about: "상" in "무슨 상" / "받은 상은 무엇"
    # The particle after the question word ("object", "subject", "locative", "direction",
    # "from", "until"): a candidate marked the same way is preferred.
    role: str
    unit: str  # counter or unit asked for: "명", "개", "%", "원"
    counter: str  # the counter after 몇: "살" in "몇 살이야?"
    # Verbs and verbal nouns of the question ("열리다", "수록" of 수록되다): the answer is
    # often their argument, right before them in the sentence.
    predicates: tuple[str, ...]
    grain: str  # "period", "time", "year", "month" or "day" when a date question says which


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
    quotes: tuple[tuple[int, int], ...]  # (start, end) of quoted names, marks excluded


def extract_span(question: str, sentence: str, qtype: QuestionType | None = None) -> Span | None:
    """Best answer span in `sentence`, or None when the question wants a sentence (reason/other)
    or no candidate of the right kind exists."""
    qtype = qtype or classify_question(question)
    builder = _BUILDERS.get(qtype)
    if builder is None or not sentence.strip():
        return None
    q = _parse_question(question)
    sent = _analyse(sentence)
    candidates = [c for c in (_clean(sentence, c) for c in builder(sent, q)) if c is not None]
    if not candidates:
        return None
    texts = [sentence[c.start : c.end] for c in candidates]
    anchors = _anchor_spans(sent, q)
    asked, counter = re.sub(r"\s+", "", question), asked_counter(question)
    scored = [
        (
            candidate.fit
            * (0.6 + 0.4 * _proximity(anchors, candidate))
            * (_PREDICATE_BONUS if _before_predicate(sent, q, candidate) else 1.0),
            -i,
            candidate,
            text,
        )
        for i, (candidate, text, terms) in enumerate(
            zip(candidates, texts, map(_span_terms, texts), strict=True)
        )
        # never answer with the question's own words, nor count other things than asked
        if not _repeats(terms, q)
        and re.sub(r"\s+", "", text) not in asked
        and not counts_otherwise(text, counter)
    ]
    if not scored:
        return None
    score, _, best, text = max(scored)  # ties go to the earlier candidate
    return Span(best.start, best.end, text, round(min(score, 1.0), 4))


# --- question analysis -------------------------------------------------------------------


@lru_cache(maxsize=256)
def _parse_question(question: str) -> _Question:
    tokens = get_kiwi().tokenize(question)
    terms = content_terms(question)
    target, role, asked = "", "", False
    for i, token in enumerate(tokens):
        if token.form not in _WH_FORMS:
            continue
        asked, after = True, i + 1
        if token.form in _WH_DETERMINERS and after < len(tokens) and _is_noun(tokens[after]):
            target = target or tokens[after].form
            after += 1
        elif i >= 2 and tokens[i - 1].tag in ("JX", "JKS") and _is_noun(tokens[i - 2]):
            target = target or tokens[i - 2].form  # "받은 상은 무엇인가" asks about 상
        elif i >= 1 and _is_noun(tokens[i - 1]) and _end(tokens[i - 1]) < token.start:
            target = target or tokens[i - 1].form  # casual "상 뭐 탔어?" asks about 상
        if after < len(tokens) and tokens[after].tag.startswith("J"):
            # The last question word decides: "얼마에서 얼마로 늘었나" wants the new value.
            role = _ROLE_OF_PARTICLE.get(tokens[after].form, "")
    if not asked:
        target = _topic_noun(question)  # "부산시가 받은 상은?" asks about 상
    return _Question(
        text=question,
        terms=frozenset(terms),
        anchors=tuple(dict.fromkeys(t for t in terms if t not in _NON_ANCHOR_TERMS and len(t) > 1)),
        target="" if target in _GENERIC_TARGETS else target,
        role=role,
        unit=_wanted_unit(question, tokens, terms),
        counter=_counter_after_how_many(tokens),
        predicates=tuple(_predicates(tokens)),
        grain=_wanted_grain(question),
    )


def _predicates(tokens: Sequence[Token]) -> Iterator[str]:
    if not tokens:  # a question Kiwi reads no token in (" " with a given question type)
        return
    for token, following in zip(tokens, [*tokens[1:], None], strict=True):
        if token.tag in ("VV", "VA") and token.form + "다" not in _NON_ANCHOR_TERMS:
            yield token.form + "다"
        elif token.tag == "NNG" and following is not None and following.tag in ("XSV", "XSA"):
            yield token.form


def _is_noun(token: Token) -> bool:
    """Nouns, including bound ones: "몇 명" asks about 명."""
    return token.tag in ("NNG", "NNP", "NNB")


def _wanted_unit(question: str, tokens: Sequence[Token], terms: Sequence[str]) -> str:
    """The unit the question asks for: the counter after 몇, %, or 원 where it names money
    ("매출은 얼마였나?") or 얼마 before a verb of paying ("얼마 받아?")."""
    counter = _counter_after_how_many(tokens)
    if counter:
        return counter
    if _PERCENT_RE.search(question):
        return "%p" if _CHANGE_RE.search(question) else "%"
    if any(term in _MONEY_TERMS for term in terms) or _PAID_RE.search(question):
        return "원"
    return ""


#: What a counter counts. Counters of one kind answer each other ("몇 시" → "50분경", "몇
#: 년 만에" → "1년 8개월 만"); any other counter or unit counts things, as 개 does, so they
#: answer each other too ("몇 곳" → "450개", "몇 나라" → "14개", "몇 개" → "4기").
_COUNT_KINDS = {
    "people": ("명", "인", "사람"),
    "age": ("살", "세"),
    "times": ("번", "회", "차례"),
    "rank": ("위", "등"),
    "date": ("년", "년도", "해", "개월", "달", "주", "주일", "일", "날", "월"),
    "clock": ("시", "시간", "분", "초"),
    "percent": ("%", "％", "프로", "퍼센트"),
    "money": ("원", "달러", "엔", "유로", "위안", "파운드", "루블", "프랑"),
}
_KIND_OF = {counter: kind for kind, counters in _COUNT_KINDS.items() for counter in counters}
_NUMBER_TAGS = ("SN", "NR")
_UNIT_TAGS = ("NNG", "SL", "SW")


@lru_cache(maxsize=256)  # the rules ask it for every sentence they read
def asked_counter(question: str) -> str:
    """The counter after 몇 ("몇 살이야?" → 살); % for "몇 퍼센트" or "몇 %" (as for "몇
    프로"); 원 where an amount of money is asked ("매출은 얼마였나?", "얼마 받아?"); or ""
    when the question counts nothing."""
    q = _parse_question(question)
    if q.counter:
        return q.counter
    if _HOW_MANY_PERCENT.search(question):
        return "%"
    return "원" if q.unit == "원" and classify_question(question) == "amount" else ""


def _counter_after_how_many(tokens: Sequence[Token]) -> str:
    for token, following in zip(tokens, tokens[1:], strict=False):
        if token.form == "몇" and following.tag in ("NNB", "NNG") and following.form != "퍼센트":
            return following.form
    return ""


def _span_counters(span: str) -> list[str]:
    """The counter after each number of ``span``: "450개 이상" → [개], "3시 21분" → [시, 분]."""
    tokens = get_kiwi().tokenize(span)
    found = []
    for i, token in enumerate(tokens):
        if token.tag not in _NUMBER_TAGS or (i and tokens[i - 1].tag in _NUMBER_TAGS):
            continue
        j = i + 1
        while j < len(tokens) and (
            tokens[j].tag in _NUMBER_TAGS or (tokens[j].tag == "XSN" and tokens[j].form == "여")
        ):
            j += 1  # "1만6384", "3천여"
        glued = j < len(tokens) and tokens[j].start == tokens[j - 1].start + tokens[j - 1].len
        # a counter, or a unit written glued: "5G", "398㎞", "12.6%"
        if j < len(tokens) and (tokens[j].tag == "NNB" or (glued and tokens[j].tag in _UNIT_TAGS)):
            found.append(tokens[j].form)
    return found


def counts_otherwise(span: str, asked: str) -> bool:
    """Whether every number of ``span`` counts another kind of thing than the ``asked``
    counter (:data:`_COUNT_KINDS`): "450개 이상" or "5G" is no answer to "몇 살이야?", nor "2일"
    to "몇 시에…?". A span without a counted number ("먼 거리") is left to selection."""
    if not asked:
        return False
    kind = _count_kind(asked)
    counters = _span_counters(span)
    return bool(counters) and all(_count_kind(c) != kind for c in counters)


def _count_kind(counter: str) -> str:
    """The kind of :data:`_COUNT_KINDS`, also of a counter Kiwi reads as one word with what
    follows it ("%포인트", "년간"): that of its longest known start; else "things"."""
    for end in range(len(counter), 0, -1):
        if counter[:end] in _KIND_OF:
            return _KIND_OF[counter[:end]]
    return "things"


def asks_year_alone(question: str) -> bool:
    """Whether a date question asks its year and nothing finer ("…한 해는?", "몇 년도에…?";
    not "몇 년 몇 월에…?")."""
    return _wanted_grain(question) == "year" and not (
        _MONTH_RE.search(question) or _DAY_RE.search(question)
    )


def _wanted_grain(question: str) -> str:
    for grain, pattern in (
        ("period", _PERIOD_RE),
        ("time", _TIME_RE),
        ("year", _YEAR_RE),
        ("month", _MONTH_RE),
        ("day", _DAY_RE),
    ):
        if pattern.search(question):
            return grain
    return ""


# --- sentence analysis -------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _span_terms(text: str) -> tuple[str, ...]:
    """Content terms of a candidate span; the same few words ("8500만원") come up as
    candidates for question after question, and Kiwi's batch call costs more than one
    call per word for so few."""
    return tuple(content_terms(text))


#: Sentences whose analysis is kept.
ANALYSED_SENTENCES = 1024


def analyse_ahead(sentences: Iterable[str]) -> None:
    """Analyse sentences before questions come (as many as are kept): the first questions
    about them then pay no Kiwi time."""
    for sentence in islice(sentences, ANALYSED_SENTENCES):
        _analyse(sentence)


@lru_cache(maxsize=ANALYSED_SENTENCES)
def _analyse(sentence: str) -> _Sentence:
    """Tokens, words and quotes of a sentence; cached, as the same retrieved sentences are
    scored against several questions."""
    tokens = tuple(get_kiwi().tokenize(sentence))
    words = tuple(_words(tokens))
    word_terms = content_terms_batch([sentence[w.start : w.end] for w in words]) if words else []
    quotes = tuple(
        sorted(
            (m.start(1), m.end(1))
            for pattern in _QUOTE_RES
            for m in pattern.finditer(sentence)
            if _is_quoted_name(m.group(1))
        )
    )
    return _Sentence(sentence, tokens, words, tuple(map(tuple, word_terms)), quotes)


def _is_quoted_name(inner: str) -> bool:
    """A short quoted name ('3단계 드림패키지'), not reported speech ("...노력하겠다")."""
    inner = inner.strip()
    return 0 < len(inner) <= _MAX_SPAN_CHARS and not inner.rstrip(".!? ").endswith(("다", "요"))


def _words(tokens: Sequence[Token]) -> Iterator[_Word]:
    """Group tokens into words, splitting at spaces and at punctuation."""
    group: list[Token] = []
    for token in tokens:
        if group and (token.tag in _PUNCT_TAGS or token.start > _end(group[-1])):
            yield _make_word(group)
            group = []
        if token.tag not in _PUNCT_TAGS:
            group.append(token)
    if group:
        yield _make_word(group)


def _end(token: Token) -> int:
    return token.start + token.len


def _make_word(tokens: Sequence[Token]) -> _Word:
    """A word and its nominal head: "사업비를" → 사업비, "8500만원을" → 8500만원."""
    stem_end, n, previous = tokens[0].start, 0, ""
    for token in tokens:
        counter = token.tag == "NNB" and previous in ("SN", "NR")
        if token.tag not in _NOMINAL_TAGS and not counter:
            break
        stem_end, n, previous = _end(token), n + 1, token.tag
    after = tokens[n] if n < len(tokens) else None
    return _Word(
        start=tokens[0].start,
        end=max(_end(t) for t in tokens),
        stem_end=stem_end,
        nominal=after is None,
        after_stem=after.tag if after else "",
        particle=after.form if after and after.tag.startswith("J") else "",
        tokens=tuple(tokens),
    )


def _clean(sentence: str, candidate: _Candidate) -> _Candidate | None:
    """Trim spaces/punctuation off the edges (keeping a balanced closing ")"); drop long spans."""
    start, end = candidate.start, candidate.end
    while start < end and sentence[start] in _EDGE_PUNCT:
        start += 1
    while start < end and sentence[end - 1] in _EDGE_PUNCT:
        if sentence[end - 1] == ")" and sentence.count("(", start, end) >= sentence.count(
            ")", start, end
        ):
            break
        end -= 1
    if start >= end or end - start > _MAX_SPAN_CHARS:
        return None
    return _Candidate(start, end, candidate.fit)


@lru_cache(maxsize=65536)  # called for every word pair of every scored sentence
def _strip_region(term: str) -> str:
    """Drop a region suffix ("인천광역시", "인천시" → "인천") so the forms still match."""
    for suffix in _REGION_SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 2:
            return term[: -len(suffix)]
    return term


@lru_cache(maxsize=65536)
def _same_term(a: str, b: str) -> bool:
    """Loose match for locating question words: "사업" ~ "사업비", "2018" ~ "18"."""
    if a == b:
        return True
    if min(len(a), len(b)) < 2:
        return False
    if a.isdigit() and b.isdigit():
        return {len(a), len(b)} == {2, 4} and (a.endswith(b) or b.endswith(a))  # 2018 ~ ’18
    return _strip_region(a) == _strip_region(b) or a.startswith(b) or b.startswith(a)


def _repeats(terms: Sequence[str], q: _Question) -> bool:
    """Every term is already in the question ("부산시" ~ "부산", "강원도" ~ "강원특별자치도").

    Stricter than _same_term: "바이오클러스터" adds to "바이오" and is a fine answer."""
    asked = {_strip_region(t) for t in q.terms}
    return bool(terms) and all(_strip_region(t) in asked for t in terms)


def _anchor_spans(sent: _Sentence, q: _Question) -> list[list[tuple[int, int]]]:
    """For each question term found in the sentence, the (start, end) of the words holding it."""
    spans = (
        [
            (word.start, word.end)
            for word, terms in zip(sent.words, sent.word_terms, strict=True)
            if any(_same_term(term, t) for t in terms)
        ]
        for term in q.anchors
    )
    return [found for found in spans if found]


def _proximity(anchors: list[list[tuple[int, int]]], candidate: _Candidate) -> float:
    """Mean closeness (1 = touching) to each question term found in the sentence; 0.5 if none.

    Averaging over terms rewards the candidate that sits among all of them, e.g. the amount
    between 사업비 and 확보 rather than one near the subject only."""
    if not anchors:
        return 0.5
    closeness = (
        math.exp(-min(max(0, s - candidate.end, candidate.start - e) for s, e in spans) / 20)
        for spans in anchors
    )
    return sum(closeness) / len(anchors)


def _before_predicate(sent: _Sentence, q: _Question, candidate: _Candidate) -> bool:
    """Is the candidate an argument of the question's own verb: one of the next two words
    holds it ("정부세종컨벤션센터에서 열린" for "어디서 열렸나?")."""
    if not q.predicates:
        return False
    following = [
        terms
        for word, terms in zip(sent.words, sent.word_terms, strict=True)
        if word.start >= candidate.end
    ][:_PREDICATE_WINDOW]
    return any(_same_term(p, t) for terms in following for t in terms for p in q.predicates)


def _in_quote(sent: _Sentence, start: int, end: int, *, part_only: bool = False) -> bool:
    """Inside a quoted name (with part_only: a proper part of it, not the whole name)."""
    return any(
        qs <= start and end <= qe and not (part_only and (qs, qe) == (start, end))
        for qs, qe in sent.quotes
    )


def _role_factor(q: _Question, particle: str) -> float:
    """Slight penalty for a candidate marked unlike the question word (뭘 → 을/를, not 이/가)."""
    role = _ROLE_OF_PARTICLE.get(particle)
    return 0.8 if q.role and role and role != q.role else 1.0


def _gap(sentence: str, left: Token, right: Token) -> str:
    return sentence[_end(left) : right.start]


def _is_range_edge(sent: _Sentence, first: int, last: int) -> bool:
    """True for either end of "15~64세" or "2023~2025년": ranges rarely answer 얼마/언제."""
    tokens = sent.tokens
    if first > 0 and tokens[first - 1].form in _YEAR_APOSTROPHES:
        first -= 1  # "’21~’22년"
    before = tokens[first - 1] if first > 0 else None
    after = tokens[last + 1] if last + 1 < len(tokens) else None
    return any(t is not None and t.form in _RANGE_MARKS for t in (before, after))


def _glued_to_word(sent: _Sentence, index: int) -> bool:
    """A number glued to a preceding word is part of a name ("코로나19", "민선8기")."""
    if index == 0:
        return False
    before, token = sent.tokens[index - 1], sent.tokens[index]
    return _end(before) == token.start and before.tag not in _PUNCT_TAGS


# --- amounts -----------------------------------------------------------------------------


def _amount_candidates(sent: _Sentence, q: _Question) -> Iterator[_Candidate]:
    """Numbers with their 만/억 parts and counter: "2억4,000만 원", "14만8,962개", "1.5%p"."""
    tokens, text = sent.tokens, sent.text
    for i, token in enumerate(tokens):
        if token.tag != "SN" or _glued_to_word(sent, i):
            continue
        previous = tokens[i - 1] if i > 0 else None
        if previous and previous.tag in ("NR", "SN") and _gap(text, previous, token) in ("", " "):
            continue  # the tail of a number that started earlier ("2억4,000")
        last = _number_end(sent, i)
        unit = _unit_end(sent, last)
        if unit is None:
            continue  # a date ("2023년", "8월")
        unit_text = text[_end(tokens[last]) : _end(tokens[unit])].strip() if unit > last else ""
        if not unit_text and _YEAR_NUMBER_RE.fullmatch(text[token.start : _end(tokens[last])]):
            continue  # a bare year
        has_nr = any(t.tag == "NR" for t in tokens[i : last + 1])
        fit = 0.8 if unit_text else 0.7 if has_nr else 0.4  # "2140억 규모" is still an amount
        if q.unit:
            fit = _asked_unit_fit(q.unit, unit_text, fit)
        end_index = max(unit, last)
        if _is_range_edge(sent, i, end_index):
            fit = 0.15
        if _in_quote(sent, token.start, _end(tokens[end_index])):
            fit *= 0.6
        fit *= _role_factor(q, _amount_particle(sent, i, end_index))
        yield _Candidate(token.start, _end(tokens[end_index]), fit)
    yield from _native_amounts(sent, q)


def _native_amounts(sent: _Sentence, q: _Question) -> Iterator[_Candidate]:
    """Native Korean numerals with their counter: "열두 번째", "아홉 등급", "다섯 명".
    Weaker than digits, as "한 번" and "두 나라" are mostly not the point of a sentence."""
    tokens, text = sent.tokens, sent.text
    i = 0
    while i < len(tokens):
        first = tokens[i]
        if first.form not in _NATIVE_NUMERALS or first.tag not in ("NR", "MM"):
            i += 1
            continue
        last = i
        while (
            last + 1 < len(tokens)
            and tokens[last + 1].form in _NATIVE_NUMERALS
            and _gap(text, tokens[last], tokens[last + 1]) == ""
        ):
            last += 1  # "스물" + "두"
        u = last + 1
        if u >= len(tokens) or _gap(text, tokens[last], tokens[u]) not in ("", " "):
            i = u
            continue
        unit = tokens[u]
        if unit.tag == "NNB" or unit.form in _AMOUNT_NOUN_UNITS or unit.form in ("등급", "차례"):
            end = u
            nxt = tokens[u + 1] if u + 1 < len(tokens) else None
            if nxt is not None and nxt.form == "째" and _gap(text, unit, nxt) == "":
                end = u + 1  # "열두 번째"
            unit_text = text[unit.start : _end(tokens[end])]
            fit = 1.0 if q.unit and _unit_matches(q.unit, unit_text) else 0.3
            fit *= _role_factor(q, _amount_particle(sent, i, end))
            yield _Candidate(first.start, _end(tokens[end]), fit)
        i = u


def _amount_particle(sent: _Sentence, first: int, last: int) -> str:
    """The particle after an amount; "A→B" reads as "A에서 B으로" ("얼마로 늘었나" → B)."""
    tokens = sent.tokens
    after = tokens[last + 1] if last + 1 < len(tokens) else None
    if after is not None and after.tag.startswith("J"):
        return after.form
    if after is not None and after.form == "→":
        return "에서"
    return "으로" if first > 0 and tokens[first - 1].form == "→" else ""


def _number_end(sent: _Sentence, i: int) -> int:
    """Index of the last token of the number starting at i: SN (NR (SN NR?)*)? ("13만 7,394")."""
    tokens, text = sent.tokens, sent.text
    last = i
    while last + 1 < len(tokens):
        nxt, gap = tokens[last + 1], _gap(text, tokens[last], tokens[last + 1])
        if (nxt.tag == "NR" and gap == "") or (
            nxt.tag == "SN" and tokens[last].tag == "NR" and gap in ("", " ")
        ):
            last += 1
        else:
            break
    if last + 1 < len(tokens) and tokens[last + 1].form == "여" and tokens[last + 1].tag == "XSN":
        last += 1  # "10만여개"
    return last


def _unit_end(sent: _Sentence, last: int) -> int | None:
    """Index of the last unit token after the number (== last when there is none).

    None when the counter makes it a date; "N년" stays an amount when it is a duration."""
    tokens, text = sent.tokens, sent.text
    u = last + 1
    if u >= len(tokens) or _gap(text, tokens[last], tokens[u]) not in ("", " "):
        return last
    unit, glued = tokens[u], _gap(text, tokens[last], tokens[u]) == ""
    nxt = tokens[u + 1] if u + 1 < len(tokens) else None
    if unit.form == "%":
        return u + 1 if nxt and nxt.form.lower() == "p" and _end(unit) == nxt.start else u
    if unit.tag == "SL" and unit.form.lower() in _AMOUNT_LATIN_UNITS:
        return u  # "128MB", "6 MHz"
    if unit.tag not in ("NNB", "NNG"):
        return last
    nxt_gap = _gap(text, unit, nxt) if nxt is not None else None
    if unit.form in _DATE_UNITS:
        if unit.form == "년" and nxt and nxt_gap in ("", " ") and nxt.form in _DURATION_MARKERS:
            return u + 1  # "2년간", "6년 연속"
        return None
    # A noun glued to a number is its counter ("12곡", "96타점", "4관왕"); spaced, only the
    # usual counters count ("5 개"), as "3 단계 사업" is more often a name.
    if unit.tag == "NNB" or unit.form in _AMOUNT_NOUN_UNITS or (glued and unit.tag == "NNG"):
        if nxt and nxt_gap == "" and nxt.form in ("사", "소", "국", "째"):
            return u + 1  # "64개사", "4번째"
        return u
    return last


def _unit_matches(wanted: str, unit_text: str) -> bool:
    unit = unit_text.replace(" ", "")
    if wanted.startswith("%"):
        return unit == wanted
    return unit.startswith(wanted) or unit.endswith(wanted) or wanted.startswith(unit)


def _asked_unit_fit(wanted: str, unit_text: str, fit: float) -> float:
    """An amount in the asked unit fits best; money in another currency keeps its ``fit``
    ("얼마에 팔렸나?" → "956,000달러", though "4000억엔(약 3조8000억원)" answers in 원);
    any other amount fits half as well."""
    if unit_text and _unit_matches(wanted, unit_text):
        return 1.0
    if unit_text and _count_kind(wanted) == "money" == _count_kind(unit_text.replace(" ", "")):
        return fit
    return fit * 0.5


# --- dates -------------------------------------------------------------------------------

_DATE_PART_ORDER = {"년": 0, "년도": 0, "년대": 0, "세기": 0, "월": 1, "일": 2}
#: Words before a time of day ("오후 6시 30분"); answer boundaries grow a date over them too.
DAY_PERIODS = _names("오전 오후 새벽 아침 낮 저녁 밤 정오 자정")
_DATE_FITS = {
    frozenset({0, 1, 2}): 1.0,
    frozenset({1, 2}): 0.95,
    frozenset({0, 1}): 0.9,
    frozenset({0}): 0.8,
    frozenset({2}): 0.75,
    frozenset({1}): 0.75,
}
_GRAIN_PART = {"year": 0, "month": 1, "day": 2, "time": 3}
# What joins the two ends of a period: "2023~2025년", "’21~’22년", "2012년부터 2027년까지".
_PERIOD_JOIN_RE = re.compile(r"\s*[~∼〜]\s*['’]?|부터\s+")


def _date_candidates(sent: _Sentence, q: _Question) -> Iterator[_Candidate]:
    """Dates like "2023년", "8월 2일", "2022년 12월", "2024-08-08"; weaker: times, 올해/지난해.
    For a period question ("어느 기간", "언제까지") two dates joined by ~/부터 make one span."""
    dates = list(_simple_dates(sent, q))
    yield from dates
    if q.grain != "period":
        return
    text = sent.text
    for first, second in zip(dates, dates[1:], strict=False):
        if _PERIOD_JOIN_RE.fullmatch(text[first.end : second.start]):
            end = second.end + 2 if text.startswith("까지", second.end) else second.end
            yield _Candidate(first.start, end, 0.95)


def _simple_dates(sent: _Sentence, q: _Question) -> Iterator[_Candidate]:
    tokens = sent.tokens
    i = 0
    while i < len(tokens):
        token = tokens[i]
        fit, last, parts = 0.0, i, frozenset[int]()
        ends: dict[int, int] = {}
        if token.tag == "W_SERIAL":
            if _SERIAL_DATE_RE.fullmatch(token.form):
                fit, parts = 1.0, frozenset({0, 1, 2})
            elif _SERIAL_TIME_RE.fullmatch(token.form):
                fit, parts = (0.95 if q.grain == "time" else 0.35), frozenset({3})
        elif token.form in _RELATIVE_DATES:
            fit = 0.3
        elif token.tag == "SN" and not _glued_to_word(sent, i):
            last, parts, ends = _date_parts(sent, i)
            time_end = None if parts else _time_end(sent, i)
            if time_end is not None:
                last, parts = time_end, frozenset({3})
                fit = 0.95 if q.grain == "time" else 0.35
                if i > 0 and tokens[i - 1].form in DAY_PERIODS:
                    token = tokens[i - 1]  # "오후 6시 30분"
            elif parts:
                fit = _DATE_FITS.get(parts, 0.7)  # e.g. "2023년 … 13일" read as one date
            elif _YEAR_NUMBER_RE.fullmatch(token.form) and _unit_end(sent, i) == i:
                fit, parts = 0.5, frozenset({0})  # "'2023 전국 ... 일자리대상'"
            if fit and _is_range_edge(sent, i, last):
                fit = 0.3
        if fit:
            if q.grain and _GRAIN_PART.get(q.grain, -1) not in parts:
                fit *= 0.6
            if _in_quote(sent, token.start, _end(tokens[last])):
                fit *= 0.5
            after = tokens[last + 1] if last + 1 < len(tokens) else None
            if after is not None and after.tag.startswith("J"):
                fit *= _role_factor(q, after.form)  # "언제부터" → "2012년부터"
            part = _GRAIN_PART.get(q.grain, -1)
            if part in (0, 1) and part in ends and len(parts) > 1:
                # "몇 년도에" wants "2017년" of "2017년 2월 13일", "몇 월" the month alone.
                yield _Candidate(tokens[ends[part] - 1].start, _end(tokens[ends[part]]), fit)
                fit *= 0.85
            yield _Candidate(token.start, _end(tokens[last]), fit)
        i = last + 1


def _time_end(sent: _Sentence, i: int) -> int | None:
    """Last index of a time of day starting at token i ("6시", "6시 30분"), or None."""
    tokens, text = sent.tokens, sent.text
    if i + 1 >= len(tokens) or tokens[i + 1].form != "시" or _gap(text, tokens[i], tokens[i + 1]):
        return None
    last = i + 1
    if (
        last + 2 < len(tokens)
        and tokens[last + 1].tag == "SN"
        and tokens[last + 2].form == "분"
        and _gap(text, tokens[last], tokens[last + 1]) in ("", " ")
        and not _gap(text, tokens[last + 1], tokens[last + 2])
    ):
        last += 2
    return last


def _date_parts(sent: _Sentence, i: int) -> tuple[int, frozenset[int], dict[int, int]]:
    """Follow "SN 년 SN 월 SN 일" from token i; returns the last index, the parts seen and
    the index of each part's unit token."""
    tokens, text = sent.tokens, sent.text
    ends: dict[int, int] = {}
    parts: list[int] = []
    last, j = i, i
    while j + 1 < len(tokens) and tokens[j].tag == "SN":
        unit = tokens[j + 1]
        order = _DATE_PART_ORDER.get(unit.form)
        if order is None or _end(tokens[j]) != unit.start or (parts and order <= parts[-1]):
            break
        after = tokens[j + 2] if j + 2 < len(tokens) else None
        if order == 0 and after is not None and after.form in _DURATION_MARKERS:
            break  # "2년간", "6년 연속": a duration
        parts.append(order)
        last = ends[order] = j + 1
        if after is None or after.tag != "SN" or _gap(text, unit, after) not in ("", " "):
            break
        j += 2
    return last, frozenset(parts), ends


# --- people ------------------------------------------------------------------------------


def _person_candidates(sent: _Sentence, q: _Question) -> Iterator[_Candidate]:
    """Names next to a title ("박형준 부산시장", "(시장 유정복)"), bare person-like NNPs, and
    organisations as the subject (누가 → "고용노동부")."""
    text, words = sent.text, sent.words
    names: set[int] = set()
    bylines: set[int] = set()  # reporters: they answer only questions about the reporter
    for idx, word in enumerate(words):
        if not _is_name(text, word):
            continue
        names.add(idx)
        title = _title_after(sent, idx)
        if title is not None:
            title_end, title_word = title
            if title_word in BYLINE_TITLES and title_word not in q.text:
                bylines.add(idx)
                continue
            # "인천시 행정부시장은 누구인가?" already says the title: answer the name alone.
            asked = title_word in q.text
            yield _Candidate(word.start, word.stem_end if asked else title_end, 1.0)
        elif _title_before(sent, idx):
            yield _Candidate(word.start, word.stem_end, 1.0)
        elif _bare_person_nnp(text, word):
            yield _Candidate(word.start, word.stem_end, 0.5)
    for first, last in _proper_runs(sent):
        # Other proper names ("로스 데이비스", "치챠고프"): foreign and historical people
        # rarely have a title next to them. Regions are places, not people; a run through a
        # byline ("뉴스1 서울 뉴스1 임해중") is the outlet and its reporter.
        if (
            first in names
            or bylines.intersection(range(first, last + 1))
            or text[words[first].start : words[last].stem_end].endswith(_REGION_SUFFIXES)
        ):
            continue
        head = words[last]
        fit = 0.45 * _role_factor(q, head.particle)
        yield _Candidate(words[first].start, head.stem_end, fit)
    for phrase in _noun_phrases(sent):
        head = phrase[-1]
        org = text[head.start : head.stem_end]
        if (
            words.index(head) not in names
            and len(org) >= 3
            and org.endswith(_ORG_SUFFIXES)
            and _ROLE_OF_PARTICLE.get(head.particle) == "subject"
        ):
            yield _Candidate(head.start, head.stem_end, 0.45)


def _proper_runs(sent: _Sentence) -> Iterator[tuple[int, int]]:
    """Runs of words whose nominal head is all proper nouns ("로스 데이비스", "알렉산드르 1세"),
    as (first, last) word indexes."""
    text, words = sent.text, sent.words
    run: list[int] = []
    for idx, word in enumerate(words):
        stem = _stem_tokens(word)
        proper = (
            bool(stem) and stem[0].tag == "NNP" and all(t.tag in ("NNP", "SN", "NNB") for t in stem)
        )
        previous = words[run[-1]] if run else None
        if proper and previous and previous.nominal and text[previous.end : word.start] == " ":
            run.append(idx)
        else:
            if run:
                yield run[0], run[-1]
            run = [idx] if proper else []
    if run:
        yield run[0], run[-1]


def _is_name(text: str, word: _Word) -> bool:
    """2–4 Hangul syllables starting with a common surname, not a single common noun."""
    stem = text[word.start : word.stem_end]
    stem_tokens = _stem_tokens(word)
    return (
        _HANGUL_NAME_RE.fullmatch(stem) is not None
        and stem[0] in _SURNAMES
        and not stem.endswith(TITLES)
        and not (len(stem_tokens) == 1 and stem_tokens[0].tag != "NNP")
    )


def _bare_person_nnp(text: str, word: _Word) -> bool:
    """A lone three-syllable NNP (most Korean names) that is not a 시/도/군/구 place."""
    stem = text[word.start : word.stem_end]
    stem_tokens = _stem_tokens(word)
    return (
        len(stem) == 3
        and len(stem_tokens) == 1
        and stem_tokens[0].tag == "NNP"
        and not stem.endswith(_REGION_SUFFIXES)
    )


def _surname_before_title(sent: _Sentence, word: _Word) -> bool:
    """A surname alone before a title ("정 장관은", "윤 대통령"): a person named earlier,
    referred back to, and no place or thing."""
    text, words = sent.text, sent.words
    idx = words.index(word)
    following = words[idx + 1] if idx + 1 < len(words) else None
    return (
        word.stem_end - word.start == 1
        and text[word.start] in _SURNAMES
        and following is not None
        and text[word.end : following.start] == " "
        and text[following.start : following.stem_end].endswith(TITLES)
    )


def _title_after(sent: _Sentence, idx: int) -> tuple[int, str] | None:
    """End of a title within the next three words ("조인권 인천시 경제산업본부장"), and which
    title ("본부장")."""
    text, words = sent.text, sent.words
    previous = words[idx]
    for word in words[idx + 1 : idx + 4]:
        if not previous.nominal or text[previous.end : word.start] != " ":
            return None
        if word.stem_end == word.start:
            return None
        stem = text[word.start : word.stem_end]
        title = next((t for t in TITLES if stem.endswith(t)), None)
        if title is not None:
            return word.stem_end, title
        previous = word
    return None


def _title_before(sent: _Sentence, idx: int) -> bool:
    """A title word right before the name: "(시장 유정복)", "장관 이정식"."""
    if idx == 0:
        return False
    text, before = sent.text, sent.words[idx - 1]
    return (
        before.nominal
        and text[before.end : sent.words[idx].start] == " "
        and text[before.start : before.stem_end].endswith(TITLES)
    )


# --- noun phrases: places and things -----------------------------------------------------


def _noun_phrases(sent: _Sentence) -> Iterator[list[_Word]]:
    """Runs of words joined by single spaces where every word but the last is purely nominal;
    the last contributes its nominal head (before its particle). A trailing predicate word
    ("수상했다") is dropped: its noun is a verb here, not a name."""
    run: list[_Word] = []
    for word in sent.words:
        if run and not (run[-1].nominal and sent.text[run[-1].end : word.start] == " "):
            yield from _finish_phrase(run)
            run = []
        if word.stem_end > word.start:
            run.append(word)
        elif run:
            yield from _finish_phrase(run)
            run = []
    yield from _finish_phrase(run)


def _finish_phrase(run: list[_Word]) -> Iterator[list[_Word]]:
    if run and not (run[-1].nominal or run[-1].particle or run[-1].after_stem == "VCP"):
        run = run[:-1]
    if run:
        yield run


def _trim_phrase(
    sent: _Sentence, q: _Question, phrase: list[_Word], *, place: bool
) -> tuple[list[_Word], bool]:
    """Drop edge words that repeat the question and, for places, numbers/dates; then leading
    words until the phrase fits the length limit. For things the noun asked about stays
    ("어느 부문" keeps "부문"); for places it goes ("데이터센터는 어디에" wants where it is).

    Also says whether trailing words were dropped as repeats: then what is left qualifies
    a noun of the question ("송도" for "바이오클러스터는 어느 지역에 있나?")."""
    words = list(phrase)

    def droppable(word: _Word) -> bool:
        if place and any(t.tag == "SN" for t in word.tokens):
            return True
        return _repeats(sent.word_terms[sent.words.index(word)], q)

    def is_target(word: _Word) -> bool:
        text = sent.text[word.start : word.stem_end]
        return not place and _matches_target(q, text, _stem_tokens(word))

    while len(words) > 1 and droppable(words[0]):
        words.pop(0)
    qualifies = False
    while len(words) > 1 and droppable(words[-1]) and not is_target(words[-1]):
        qualifies = qualifies or not any(t.tag == "SN" for t in words[-1].tokens)
        words.pop()
    while len(words) > 1 and words[-1].stem_end - words[0].start > _MAX_SPAN_CHARS:
        words.pop(0)
    return words, qualifies


def _place_candidates(sent: _Sentence, q: _Question) -> Iterator[_Candidate]:
    """Venues ("정부세종컨벤션센터", "송도 바이오클러스터") and proper-noun places ("부산시")."""
    text = sent.text
    for phrase in _noun_phrases(sent):
        words, qualifies = _trim_phrase(sent, q, phrase, place=True)
        head = words[-1]
        start, end = words[0].start, head.stem_end
        if any(t.tag == "SN" for t in head.tokens) or (
            len(words) == 1 and _surname_before_title(sent, head)
        ):
            continue  # an amount or a date; a person ("정 장관은")
        if qualifies:
            fit = 0.95
        elif text[start:end].endswith(_VENUE_SUFFIXES):
            fit = 0.85
        elif any(t.tag == "NNP" for w in words for t in w.tokens if t.start < w.stem_end):
            if len(words) == 1 and _bare_person_nnp(text, head):
                continue  # a person, not a place
            fit = 0.65
        elif _marked_like_the_question(q, head):
            fit = 0.3  # any noun marked the way 어디서/어디로 is: "잠수함에", "건설현장에서"
        else:
            continue
        if _ROLE_OF_PARTICLE.get(head.particle) == "locative":
            fit += 0.15
        if _in_quote(sent, start, end):
            fit *= 0.5  # part of a quoted title ("‘2023년 전국 지방자치단체 일자리대상’")
        yield _Candidate(start, end, fit * _role_factor(q, head.particle))


def _marked_like_the_question(q: _Question, word: _Word) -> bool:
    """The word ends in the particle of 어디에/어디서/어디로 (only 는 may follow: "생가에는",
    not "창출에도", which adds to a list)."""
    if q.role not in ("locative", "direction") or _ROLE_OF_PARTICLE.get(word.particle) != q.role:
        return False
    after = [t for t in word.tokens if t.start >= word.stem_end][1:]
    return all(t.form in ("는", "ᆫ") for t in after)


def _thing_candidates(sent: _Sentence, q: _Question) -> Iterator[_Candidate]:
    """Quoted names, awards (…상), programme names and other noun phrases."""
    yield from _quoted_things(sent, q)
    text = sent.text
    for phrase in _noun_phrases(sent):
        for sub in _target_sub_phrases(sent, q, phrase):
            words, qualifies = _trim_phrase(sent, q, sub, place=False)
            head = words[-1]
            if head.tokens[0].tag == "SN" and len(words) == 1:
                continue  # a bare amount or date
            role = _role_factor(q, head.particle)
            if _is_award(_stem_tokens(head)):
                award_fit = _award_fit(q, text[head.start : head.stem_end])
                yield _Candidate(head.start, head.stem_end, award_fit * role)
                continue
            start, end = words[0].start, head.stem_end
            if q.target:
                fit = 0.95 if _matches_target(q, text[start:end], _stem_tokens(head)) else 0.35
            else:
                fit = 0.7 if text[start:end].endswith(_PROGRAMME_SUFFIXES) or qualifies else 0.45
            if _in_quote(sent, start, end, part_only=True):
                fit *= 0.6  # a piece of a quoted name: the whole name is the better answer
            yield _Candidate(start, end, fit * role)
    for first, last in _proper_runs(sent):
        # A proper name inside a longer phrase ("1971년 번디", "결과 스몰렌스크가"): names
        # are what "…의 이름은?" and most elliptical thing questions want.
        words, _ = _trim_phrase(sent, q, list(sent.words[first : last + 1]), place=False)
        head = words[-1]
        start, end = words[0].start, head.stem_end
        if _in_quote(sent, start, end, part_only=True):
            continue
        fit = 0.45 if q.target else 0.6
        yield _Candidate(start, end, fit * _role_factor(q, head.particle))


def _target_sub_phrases(
    sent: _Sentence, q: _Question, phrase: list[_Word]
) -> Iterator[list[_Word]]:
    """The phrase, plus its prefixes that end in the noun asked about: for "어느 부문",
    "일자리 공시제 부문 대상" also offers "일자리 공시제 부문"."""
    yield phrase
    if q.target:
        for j, word in enumerate(phrase[:-1]):
            if _matches_target(q, sent.text[word.start : word.stem_end], _stem_tokens(word)):
                yield phrase[: j + 1]


def _stem_tokens(word: _Word) -> list[Token]:
    return [t for t in word.tokens if t.start < word.stem_end]


def _quoted_things(sent: _Sentence, q: _Question) -> Iterator[_Candidate]:
    text = sent.text
    for start, end in sent.quotes:
        inner = text[start:end].strip()
        inside = [t for t in sent.tokens if start <= t.start and _end(t) <= end]
        if _matches_target(q, inner, inside) or _names_the_target(sent, q, start):
            fit = 1.0
        elif q.target:
            fit = 0.3 if q.target in _AWARD_WORDS else 0.7  # a slogan is not an award
        else:
            fit = 0.9
        after = next((t for t in sent.tokens if t.start > end), None)
        particle = after.form if after is not None and after.tag.startswith("J") else ""
        yield _Candidate(start, end, fit * _role_factor(q, particle))


def _names_the_target(sent: _Sentence, q: _Question, quote_start: int) -> bool:
    """Apposition: "고용지원시스템인 ‘자비스(Jobis)’", "전략 '3단계 드림패키지'" name the
    noun right before the quote."""
    if not q.target:
        return False
    before = [w for w in sent.words if w.end < quote_start]  # the mark itself is not a word
    if not before or sent.text[before[-1].end : quote_start - 1].strip():
        return False
    word = before[-1]
    return _matches_target(q, sent.text[word.start : word.stem_end], _stem_tokens(word))


def _matches_target(q: _Question, text: str, tokens: Sequence[Token]) -> bool:
    """Does a phrase end in the noun asked about, or one of its kind (사업 ~ 프로젝트)?
    For 상, only real awards count (not the event "일자리대상")."""
    if not q.target:
        return False
    if q.target in _AWARD_WORDS:
        return _is_award(tokens)
    if text.endswith(q.target):
        return True
    return any(q.target in kind and text.endswith(kind) for kind in _TARGET_CLASSES)


def _is_award(tokens: Sequence[Token]) -> bool:
    """Awards: "국무총리상", "최우수상", a lone "대상" — but not "일자리대상", the event's name."""
    if not tokens:
        return False
    last = tokens[-1]
    nominal = [t for t in tokens if t.tag in _NOMINAL_TAGS]
    return (last.form == "상" and len(nominal) >= 2) or (last.form == "대상" and len(nominal) == 1)


def _award_fit(q: _Question, award: str) -> float:
    if q.target in _AWARD_WORDS:
        return 0.85 if award == "대상" else 1.0  # a lone 대상 may also mean "target"
    return 0.3 if q.target else 0.6


_BUILDERS = {
    "amount": _amount_candidates,
    "date": _date_candidates,
    "person": _person_candidates,
    "place": _place_candidates,
    "thing": _thing_candidates,
}
