"""Follow-up questions are rewritten into full ones; full questions pass through."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402

from rag.answer.followup import resolve_followup  # noqa: E402


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("그럼 부산은?", ["인천시는 얼마를 받았어?"], "부산은 얼마를 받았어?"),
        (
            "그러면 강원도는?",
            ["인천시는 일자리대상에서 무슨 상을 받았어?"],
            "강원도는 일자리대상에서 무슨 상을 받았어?",
        ),
        # The particle follows the new word: 인천시가 → 의정부시가, 인천시는 → 부산은.
        (
            "그럼 의정부시는?",
            ["부산시가 확보한 사업비는 얼마야?"],
            "의정부시가 확보한 사업비는 얼마야?",
        ),
        ("강원도는?", ["인천시는 얼마를 받았어?"], "강원도는 얼마를 받았어?"),
        ("대구는 어때?", ["인천시는 얼마를 받았어?"], "대구는 얼마를 받았어?"),
        ("그리고 2022년은?", ["인천시가 2023년에 받은 상은?"], "인천시가 2022년에 받은 상은?"),
        # A follow-up of a follow-up carries the first question's frame.
        ("강원도는?", ["인천시는 얼마를 받았어?", "그럼 부산은?"], "강원도는 얼마를 받았어?"),
        # No topic to replace: the new entity is put in front.
        ("그럼 의정부시는?", ["사업비는 얼마야?"], "의정부시는 사업비는 얼마야?"),
        # A bare entity is a follow-up even without an opener, after any kind of question.
        ("부산은?", ["목포시는 언제까지 케이블카를 개통해?"], "부산은 언제까지 케이블카를 개통해?"),
        ("서울시는?", ["인천시 일자리 예산은?"], "서울시 일자리 예산은?"),
        # One entity may take several nouns: a date before it, or a compound name.
        (
            "2023년 인천시는?",
            ["강원도는 몇 년 연속 수상했어?"],
            "2023년 인천시는 몇 년 연속 수상했어?",
        ),
        ("그럼 고용 노동부는?", ["인천시는 얼마를 받았어?"], "고용 노동부는 얼마를 받았어?"),
    ],
)
def test_followup_takes_previous_frame(question: str, history: list[str], expected: str) -> None:
    assert resolve_followup(question, history) == expected


@pytest.mark.parametrize(
    ("question", "history"),
    [
        ("부산시가 확보한 사업비는 얼마야?", ["인천시는 얼마를 받았어?"]),
        ("근데 부산시가 확보한 사업비는 얼마야?", ["인천시는 얼마를 받았어?"]),
        (
            "인천광역시가 2023년 일자리 공시제 부문 대상을 차지하면서 받은 상은?",
            ["강원도는 몇 년 연속 수상했어?"],
        ),
        ("그건 언제야?", ["인천시는 무슨 상을 받았어?"]),
        ("그럼 부산은?", []),
        ("그럼 부산은?", ["", "   "]),
        ("   ", ["인천시는 얼마를 받았어?"]),
    ],
)
def test_full_questions_and_no_history_pass_through(question: str, history: list[str]) -> None:
    assert resolve_followup(question, history) == question


@pytest.mark.parametrize(
    ("question", "history"),
    [
        ("목포시 케이블카 예산은?", ["목포시는 언제까지 케이블카를 개통해?"]),
        ("인천시 일자리 예산은?", ["강원도는 몇 년 연속 수상했어?"]),
        ("부산시 사업비는?", ["인천시는 얼마를 받았어?"]),
        ("서울시 청년 주택 공급량은?", ["목포시는 언제까지 케이블카를 개통해?"]),
        ("경기도 교육청은?", ["인천시는 얼마를 받았어?"]),
        ("강원도 예산도?", ["인천시는 일자리대상에서 무슨 상을 받았어?"]),
        # An opener alone does not make a topic-plus-attribute turn a follow-up.
        ("그럼 부산시 사업비는?", ["인천시는 얼마를 받았어?"]),
        # An attribute with no entity can't replace the previous topic: keep it as asked.
        ("예산은?", ["목포시는 언제까지 케이블카를 개통해?"]),
        ("그거 예산은?", ["목포시는 언제까지 케이블카를 개통해?"]),
        ("케이블카 예산은?", ["목포시는 언제까지 케이블카를 개통해?"]),
    ],
)
def test_topic_with_attribute_stands_on_its_own(question: str, history: list[str]) -> None:
    """A turn naming its topic and what it asks about ("목포시 케이블카 예산은?") is a
    question of its own, not "…예산은 언제까지 케이블카를 개통해?"."""
    assert resolve_followup(question, history) == question
