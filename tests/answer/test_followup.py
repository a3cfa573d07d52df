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
