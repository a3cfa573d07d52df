"""Checks on a question before any work is done; messages are shown to users as-is."""

import re

# Lone surrogates: what invalid UTF-8 on a command line (surrogateescape) or a "\ud800" in
# JSON decodes to. Nothing downstream can encode them.
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Control characters (terminal escapes among them): meaningless in a question, and never
#: to be printed raw from an article.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class InvalidQuestion(ValueError):
    """A question the system refuses before doing any work (message is user-facing)."""


def validate_question(question: str, max_chars: int) -> str:
    """The question to answer, stripped and with control characters blanked; refuses empty,
    over-long and undecodable ones."""
    if _SURROGATE.search(question or ""):
        raise InvalidQuestion(
            "질문에 읽을 수 없는 문자가 있습니다 (the question is not valid UTF-8 text)"
        )
    text = CONTROL_CHARACTERS.sub(" ", question or "").strip()
    if not text:
        raise InvalidQuestion("질문이 비어 있습니다 (the question is empty)")
    if len(text) > max_chars:
        raise InvalidQuestion(
            f"질문이 너무 깁니다: {len(text):,}자, 최대 {max_chars:,}자 "
            f"(the question is {len(text):,} characters; the limit is {max_chars:,})"
        )
    return text
