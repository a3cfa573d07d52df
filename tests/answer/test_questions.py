"""Question validation: one place refuses what cannot be answered, with a clear message."""

import pytest

from rag.answer.questions import InvalidQuestion, validate_question


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
