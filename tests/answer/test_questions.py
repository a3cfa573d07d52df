"""Question validation: one place refuses what cannot be answered, with a clear message;
questions typed without spaces or in full-width characters are read as if typed plainly."""

import pytest

from rag.answer.questions import InvalidQuestion, reading_form, validate_question, with_spacing


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


def test_full_width_characters_are_read_as_ascii() -> None:
    assert reading_form("강원도는　２０２３년 상금은 몇 ％？") == "강원도는 2023년 상금은 몇 %?"


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        (
            "인천시가2022년에기록한고용률은몇퍼센트였나?",  # refused, unspaced
            "인천시가 2022년에 기록한 고용률은 몇 퍼센트였나?",
        ),
        (
            "강원도는 ２０２３년 일자리대상에서 무슨 상을 받았나？",
            "강원도는 2023년 일자리대상에서 무슨 상을 받았나?",
        ),
    ],
)
def test_a_question_is_answered_as_if_typed_plainly(seed_pipeline, typed, plain) -> None:
    neural = seed_pipeline.with_settings(reader="neural")
    expected, got = neural.ask(plain), neural.ask(typed)
    assert not expected.abstained and got.answer == expected.answer
    assert got.question == typed  # shown as typed
