"""Checks on a question before any work is done; messages are shown to users as-is."""


class InvalidQuestion(ValueError):
    """A question the system refuses before doing any work (message is user-facing)."""


def validate_question(question: str, max_chars: int) -> str:
    text = (question or "").strip()
    if not text:
        raise InvalidQuestion("질문이 비어 있습니다 (the question is empty)")
    if len(text) > max_chars:
        raise InvalidQuestion(
            f"질문이 너무 깁니다: {len(text):,}자, 최대 {max_chars:,}자 "
            f"(the question is {len(text):,} characters; the limit is {max_chars:,})"
        )
    return text
