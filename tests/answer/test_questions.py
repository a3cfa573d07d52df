"""Question validation: one place refuses what cannot be answered, with a clear message;
questions typed without spaces get them back."""

import pytest

from rag.answer.questions import InvalidQuestion, validate_question, with_spacing


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("\x1b\x07\x00 ", "empty"),
        ("가" * 1001, "limit is 1,000"),
        ("\ud800 부산", "not valid UTF-8"),  # a lone surrogate in JSON
        (
            b"\xff\xfe \xeb\xb6\x80\xec\x82\xb0".decode("utf-8", "surrogateescape"),
            "not valid UTF-8",
        ),
    ],
)
def test_refused_with_a_reason(question: str, message: str) -> None:
    with pytest.raises(InvalidQuestion, match=message):
        validate_question(question, 1000)


def test_control_characters_are_blanked_and_text_kept() -> None:
    assert validate_question(" 부산\x1b[31m 예산은?\t", 1000) == "부산 [31m 예산은?"


@pytest.mark.parametrize(
    ("typed", "spaced"),
    [
        ("인천시가만든일자리는몇개야", "인천시가 만든 일자리는 몇 개야"),
        ("부산은돈얼마받았대?", "부산은 돈 얼마 받았대?"),
        ("의정부는 상받고돈얼마나챙겼대?", "의정부는 상 받고 돈 얼마나 챙겼대?"),
    ],
)
def test_a_question_typed_without_spaces_gets_them_back(typed: str, spaced: str) -> None:
    assert with_spacing(typed) == spaced


@pytest.mark.parametrize(
    "question",
    [
        "의정부시는 2023년 전국 지방자치단체 일자리대상에서 어떤 상을 받았나?",  # compounds
        "국민의힘 특별위원회 회의에서 누가 발언했나?",  # a name holding a particle
        "부산시 수상 기념사진에 함께한 경제정과장은 누구인가?",
        "4년간 창출한 일자리는?",
        "",
    ],
)
def test_a_spaced_question_is_kept_as_typed(question: str) -> None:
    assert with_spacing(question) == question


def test_an_unspaced_question_is_answered_as_the_spaced_one(seed_pipeline) -> None:
    neural = seed_pipeline.with_settings(reader="neural")
    spaced = neural.ask("부산시가 고용노동부로부터 확보한 사업비는 얼마야?")
    unspaced = neural.ask("부산시가고용노동부로부터확보한사업비는얼마야?")
    assert not spaced.abstained and unspaced.answer == spaced.answer
    assert unspaced.question == "부산시가고용노동부로부터확보한사업비는얼마야?"  # as typed
