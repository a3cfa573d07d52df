"""Checks on a question before any work is done; messages are shown to users as-is."""

import re

from rag.ingest.korean import get_kiwi

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


#: Full-width letters, digits and signs (a Korean keyboard's full-width mode: "２０２３년",
#: "？") and the ideographic space, as the ASCII the articles write them in.
_HALF_WIDTH = {0x3000: " "} | {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def reading_form(question: str) -> str:
    """The question as the readers and retrieval read it: full-width characters as ASCII
    (a year in full-width digits was missing from every article) and the spaces put back
    (:func:`with_spacing`). Answers still show the question as typed."""
    return with_spacing(question.translate(_HALF_WIDTH))


#: A particle or an ending closes a word: content right after it, unspaced, starts the next.
_CLOSES_WORD = ("J", "EC", "EF", "ETM", "ETN")
_CONTENT = ("NN", "NR", "NP", "VV", "VA", "MM", "MAG", "XR", "XPN", "SN", "SL", "SH")
#: Shorter runs are left as typed: names ("국민의힘") and short compounds.
_LONG_RUN_PATTERN = re.compile(r"\S{7,}")


def with_spacing(question: str) -> str:
    """The question with the spaces put back into long runs typed without them ("인천시가만든
    일자리는몇개야" → "인천시가 만든 일자리는 몇 개야"): unspaced, a question loses many of its
    answers, as the reader and the rules read words. Only a run where a particle or an
    ending runs on into the next word is respaced (by Kiwi), so a spaced question is kept as
    typed: respacing every question would split its compounds ("지방 자치 단체") and cost
    answers. Only spaces are ever added."""
    if not _LONG_RUN_PATTERN.search(question):
        return question  # no run to respace: Kiwi need not read it
    kiwi = get_kiwi()
    closes = set()
    tokens = kiwi.tokenize(question)
    for a, b in zip(tokens, tokens[1:], strict=False):
        end = a.start + a.len
        if a.tag.startswith(_CLOSES_WORD) and b.tag.startswith(_CONTENT) and end <= b.start:
            closes.add(end)

    def respace(run: re.Match[str]) -> str:
        if not any(run.start() < c < run.end() for c in closes):
            return run.group()
        spaced = kiwi.space(run.group(), reset_whitespace=False)
        return spaced if spaced.replace(" ", "") == run.group() else run.group()

    return _LONG_RUN_PATTERN.sub(respace, question)
