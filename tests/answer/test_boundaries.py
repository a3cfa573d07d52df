"""The reader's span grown to what the question asks for, always a slice of the passage."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.answer.boundaries import widen_span, without_stray_brackets
from rag.answer.extract import classify_question


def answered(text: str, core: str, question: str, occurrence: int = 0) -> tuple[int, int, int]:
    """Where ``core`` starts in ``text``, and where the answer made of it starts and ends."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(core, start + 1)
    s, e = widen_span(text, start, start + len(core), question, classify_question(question))
    return start, s, e


def widened(text: str, core: str, question: str, occurrence: int = 0) -> str:
    """The answer, which may only have grown around ``core``."""
    start, s, e = answered(text, core, question, occurrence)
    assert 0 <= s <= start and start + len(core) <= e <= len(text)
    return text[s:e]


def reshaped(text: str, core: str, question: str) -> str:
    """The answer, where a step may also move or cut ``core``."""
    _, s, e = answered(text, core, question)
    return text[s:e]


@pytest.mark.parametrize(
    ("core", "question", "expected"),
    [
        ("2008년 2월 25일", "이명박 대통령이 취임한 연도는?", "2008년"),
        ("2008년 2월 25일", "취임식은 몇 년도에 열렸나?", "2008년"),
        ("2008년 2월 25일", "취임식은 언제 열렸나?", "2008년 2월 25일"),
        ("2008년 2월 25일", "취임식은 몇 년 몇 월에 열렸나?", "2008년 2월 25일"),
        (
            "2008년 2월 25일과 2013년 2월 25일",
            "취임식이 열린 해는?",
            "2008년 2월 25일과 2013년 2월 25일",
        ),
    ],
)
def test_asked_the_year_a_date_is_cut_to_its_year(core: str, question: str, expected: str) -> None:
    """The one step that cuts a span: a year question wants "2008년", not the whole date
    (KorQuAD's answers to "…한 해는?"); a span of two dates is left whole."""
    assert reshaped(f"대통령 취임식은 {core} 국회에서 열렸다.", core, question) == expected


@pytest.mark.parametrize(
    ("text", "core", "question", "expected"),
    [
        # the range particle the question asks for, and the date's qualifier
        (
            "양주시는 오는 4일부터 전용 종량제봉투를 보급한다.",
            "4일",
            "양주시는 종량제봉투를 언제부터 보급하나요?",
            "오는 4일부터",
        ),
        (
            "신청은 6일부터 25일까지 누리집에서 받는다.",
            "25일",
            "신청 기간은 언제부터 언제까지인가?",
            "6일부터 25일까지",
        ),
        (
            "공모전 접수는 다음달 19일까지 받는다.",
            "19일",
            "공모전 접수 마감일은 언제인가?",
            "다음달 19일까지",
        ),
        (
            "무신사는 오는 4분기 시스템을 가동한다.",
            "4분기",
            "시스템을 가동하는 시기는 언제인가?",
            "오는 4분기",
        ),
        # a date's finer parts after the coarser one: month, time of day, hour
        (
            "건강의 벗 채널은 2019년 5월에 개설됐다.",
            "2019년",
            "채널은 언제 개설됐나?",
            "2019년 5월",
        ),
        # asked the year, the year alone: not grown to its month
        (
            "건강의 벗 채널은 2019년 5월에 개설됐다.",
            "2019년",
            "채널이 개설된 해는?",
            "2019년",
        ),
        (
            "1차 무료 민팅은 지난달 26일 오후 6시 열렸다.",
            "26일",
            "1차 무료 민팅은 언제 열렸나?",
            "지난달 26일 오후 6시",
        ),
        (
            "수치는 2020년 5월 말 기준이다.",
            "2020년",
            "수치는 언제 기준인가?",
            "2020년 5월 말",
        ),
        # a number's qualifier, bound and missing unit
        ("월 약 1535원이 늘어난다.", "1535원", "전기요금은 월 얼마 늘어나나?", "약 1535원"),
        (
            "지난 5년간 60세 이상 취업자가 늘었다.",
            "60세",
            "어떤 연령대의 취업자가 증가했나?",
            "60세 이상",
        ),
        (
            "TF는 500여 품목을 집중 관리한다.",
            "500여",
            "TF가 관리하는 생필품은 몇 품목인가?",
            "500여 품목",
        ),
        # a person's affiliation and title, on either side of the name
        (
            "티맥스오에스 대표 허희도는 6일 대회를 후원한다고 밝혔다.",
            "허희도",
            "누가 대회를 후원한다고 밝혔나?",
            "티맥스오에스 대표 허희도",
        ),
        (
            "박정훈 라이더유니온 위원장은 5일 간담회에서 말했다.",
            "박정훈",
            "누가 간담회에서 말했나?",
            "박정훈 라이더유니온 위원장",
        ),
        # a place's whole name; when and where together
        (
            "위원장은 경기도 정부과천청사에서 면담했다.",
            "과천청사",
            "면담한 장소는 어디인가?",
            "경기도 정부과천청사",
        ),
        (
            "협약식은 지난 30일 명지대학교에서 열렸다.",
            "30일",
            "협약식은 언제 어디서 열렸나?",
            "지난 30일 명지대학교",
        ),
        # the whole list the span is one item of, from its first, middle or last item
        (
            "인천시는 지난해 특화산업, 미래산업, 청년, 고용취약계층 4대 분야로 대책을 추진했다.",
            "특화산업",
            "인천시의 4대 분야는 무엇인가?",
            "특화산업, 미래산업, 청년, 고용취약계층",
        ),
        (
            "인천시는 지난해 특화산업, 미래산업, 청년, 고용취약계층 4대 분야로 대책을 추진했다.",
            "청년",
            "인천시의 4대 분야는 무엇인가?",
            "특화산업, 미래산업, 청년, 고용취약계층",
        ),
        (
            "정밀의료, 디지털 헬스케어, 스마트 수소에너지 등 3대 특구를 육성한다.",
            "디지털 헬스케어",
            "3대 특구는 어떤 분야인가?",
            "정밀의료, 디지털 헬스케어, 스마트 수소에너지",
        ),
        (
            "응답자들은 정부와 국회에 책임이 있다고 답했다.",
            "국회",
            "누구에게 책임이 있나?",
            "정부와 국회",
        ),
        (
            "두 기관은 농협 및 수협과 협약을 맺었다.",
            "농협",
            "어디와 협약을 맺었나?",
            "농협 및 수협",
        ),
        ("행사는 시청·구청에서 열린다.", "구청", "행사는 어디서 열리나?", "시청·구청"),
        ("행사는 시청·구청에서 열린다.", "시청", "행사는 어디서 열리나?", "시청·구청"),
        (
            "시는 시상식에서 공시제 부문과 우수사업 부문에서 각각 상을 받았다.",
            "공시제 부문",
            "시는 어떤 부문들에서 상을 받았나?",
            "공시제 부문과 우수사업 부문",
        ),
        # a list that ends in a count of its items
        (
            "기업은행과 국민은행 두 곳이 참여한다.",
            "국민은행",
            "참여하는 은행은?",
            "기업은행과 국민은행",
        ),
    ],
)
def test_the_span_grows_to_what_the_question_asks(text, core, question, expected):
    assert widened(text, core, question) == expected


@pytest.mark.parametrize(
    ("text", "core", "question"),
    [
        # a date question does not run on into the place after the date
        ("6일 부산상공회의소에서 규탄대회가 열렸다.", "6일", "규탄대회는 언제 열렸나?"),
        # nor into a verb that starts like a date word ("말했다" is no "말")
        ("그는 3일 말했다.", "3일", "그는 언제 말했나?"),
        # a byline run into the text is no affiliation
        ("연합뉴스 류효림 기자 시민들이 전시를 관람했다.", "시민들", "누가 전시를 관람했나?"),
        # a word before a name that is neither a name nor a title
        ("이 가운데 포스코건설이 분양한다.", "포스코건설", "누가 분양하나?"),
        # an opening bracket is not the middle of a word
        ("수호천사 기념일(10월 2일)에 모인다.", "10월 2일", "기념일은 언제인가?"),
        # a particle glued to the span stays out (the reader's span ends inside the word)
        ("방송통신위원회의 주선으로 만났다.", "방송통신위원회", "누가 만남을 주선했나?"),
        # 까지 only for deadlines, not for "얼마까지"
        ("지지율은 34.7%까지 떨어졌다.", "34.7%", "지지율은 얼마까지 떨어졌나?"),
        # no list: "와" of company ("김 대표와 함께"), an item the question names, a number,
        # a noun that ends a clause, the span only a part of an item, a noun after the list
        ("시장은 김 대표와 함께 공장을 둘러봤다.", "김 대표", "시장은 누구와 공장을 둘러봤나?"),
        ("김민희와 신민아가 출연했다.", "신민아", "김민희와 함께 출연한 배우는?"),
        ("매출은 100억원, 영업이익은 10억원이다.", "100억원", "매출은 얼마인가?"),
        ("공장을 지은 후, 설비를 들였다.", "설비", "무엇을 들였나?"),
        ("경력, 좋은 이미지, 정부 말기의 비리 사건이 호재였다.", "정부", "어느 정부 말기인가?"),
        ("서울과 부산 사이의 거리를 쟀다.", "서울", "어디의 거리를 쟀나?"),
        ("김대중 정부와 국회는 달랐다.", "정부", "어느 정부인가?"),
        (
            "구직단계에서 체크카드, 취업단계에서 포인트를 준다.",
            "체크카드",
            "구직단계에서 무엇을 주나?",
        ),
        # an item longer than the span's (Kiwi reads this "와" as "and")
        ("그는 이석희와 선거 자금을 모았다.", "이석희", "누구와 자금을 모았나?"),
    ],
)
def test_the_span_stays_where_growing_would_add_the_wrong_words(text, core, question):
    assert widened(text, core, question) == core


@pytest.mark.parametrize(
    ("text", "old", "question", "expected"),
    [
        (
            "상용근로자 수도 13만2천200명에서 15만700명으로 전년 대비 14% 증가했다.",
            "13만2천200명",
            "상용근로자 수는 몇 명으로 늘었나?",
            "15만700명",
        ),
        (
            "취업자수(8만900명→8만1800명) 뿐만 아니라",
            "8만900명",
            "취업자수는 얼마로 늘었나?",
            "8만1800명",
        ),
        ("지분율이 12.5%에서 30%로 높아졌다.", "12.5%", "지분율은 몇 %로 높아졌나?", "30%"),
        # asked both, both
        (
            "피보험자수(3만3800명→3만4600명) 등",
            "3만3800명",
            "피보험자수는 얼마에서 얼마로 늘었나?",
            "3만3800명→3만4600명",
        ),
        # the new value already, no value right after 에서, another unit, or not asked what
        # it came to
        (
            "피보험자수(3만3800명→3만4600명) 등",
            "3만4600명",
            "피보험자수는 얼마로 늘었나?",
            "3만4600명",
        ),
        (
            "매출은 100억원에서 시작해 200억원으로 늘었다.",
            "100억원",
            "매출은 얼마로 늘었나?",
            "100억원",
        ),
        ("300개에서 20%로 늘었다.", "300개", "몇 %로 늘었나?", "300개"),
        ("가격은 3만원에서 4만원으로 올랐다.", "3만원", "가격은 얼마였나?", "3만원"),
        ("증가폭은 2위에서 4위로 내려갔다.", "2위", "증가폭은 몇 번째로 높았나?", "2위"),
    ],
)
def test_asked_what_a_change_came_to_the_answer_is_the_new_value(text, old, question, expected):
    assert reshaped(text, old, question) == expected


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        # an opening bracket the span never closes, and a closing one it never opened
        ("수호천사 기념일(10월 2일)에 모인다.", "(10월 2일", "10월 2일"),
        ("고용보험 피보험자수(3만3800명→3만4600명)", "3만4600명)", "3만4600명"),
        ("인천시는 ‘ 뿌리산업 일자리센터’를", "‘ 뿌리산업", "뿌리산업"),
        # brackets and quotes that pair up inside the span stay
        ("인천시의 ‘뿌리산업 일자리센터’가", "‘뿌리산업 일자리센터’", "‘뿌리산업 일자리센터’"),
        (
            "강원도 3대 규제자유특구(정밀의료, 디지털 헬스케어)",
            "특구(정밀의료, 디지털 헬스케어)",
            "특구(정밀의료, 디지털 헬스케어)",
        ),
        # a closing quote written as an apostrophe before a year is no stray opening one
        ("’19년 최우수상", "’19년", "’19년"),
        # a span of a bracket alone is left as it is, never emptied
        ("기념일 (10월 2일)", "(", "("),
    ],
)
def test_stray_brackets_and_quotes_leave_the_span(text, span, expected):
    start = text.index(span)
    s, e = without_stray_brackets(text, start, start + len(span))
    assert text[s:e] == expected


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        alphabet="가나다 오는지난약총부터까지대표은는을와과및 0123456789,.()·%년월일명원",
        max_size=60,
    ),
    bounds=st.tuples(st.integers(0, 60), st.integers(0, 60)),
    question=st.sampled_from(
        [
            "누가 말했나?",
            "어디서 열렸나?",
            "언제부터 언제까지인가?",
            "얼마인가?",
            "언제 어디서?",
            "무엇인가?",
        ]
    ),
)
def test_a_grown_span_holds_the_span_and_stays_inside_the_text(text, bounds, question):
    start, end = sorted(bounds)
    if not start < end <= len(text):
        return
    s, e = widen_span(text, start, end, question, classify_question(question))
    assert 0 <= s <= start < end <= e <= len(text)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="가나 1(()[]‘’“”「」", max_size=30),
    bounds=st.tuples(st.integers(0, 30), st.integers(0, 30)),
)
def test_dropping_stray_brackets_keeps_a_nonempty_part_of_the_span(text, bounds):
    start, end = sorted(bounds)
    if not start < end <= len(text):
        return
    s, e = without_stray_brackets(text, start, end)
    assert start <= s < e <= end


def _and(word: str) -> str:
    """The conjunctive particle that fits ``word``: "과" after a final consonant, else "와"."""
    return "과" if (ord(word[-1]) - 0xAC00) % 28 else "와"


@settings(max_examples=300, deadline=None)
@given(
    items=st.lists(
        st.sampled_from(
            ["서울시", "부산시", "정밀의료", "디지털 헬스케어", "청년", "국세청", "검찰"]
        ),
        min_size=2,
        max_size=5,
        unique=True,
    ),
    joiners=st.lists(st.sampled_from([", ", "·", " 및 ", "and"]), min_size=4, max_size=4),
    pick=st.integers(0, 4),
    tail=st.sampled_from(["에 통보했다.", " 등이 참여했다.", "에서 열렸다.", "도 달랐다."]),
)
def test_an_item_of_a_list_grows_to_the_whole_list(items, joiners, pick, tail):
    listed = items[0]
    for item, joiner in zip(items[1:], joiners, strict=False):
        listed += (_and(listed) + " " if joiner == "and" else joiner) + item
    text = f"시는 올해 {listed}{tail}"
    core = items[pick % len(items)]
    grown = widened(text, core, "어디인가?")
    if all(" " not in item for item in items):
        assert grown == listed
    else:  # an outer item longer than the span's may be a head noun: never half a list
        assert grown in (core, listed)
