"""Vaguer questions: a train question asked again without one common noun its passage also
uses ("임세영은 어느 스승 밑에서 무예 수련을 시작합니까?" → "임세영은 어느 스승 밑에서 수련을
시작합니까?"), same passage, same answer. Everyday questions repeat fewer of the article's
words than KorQuAD's do; the reader may learn to answer them rather than refuse."""

from __future__ import annotations

import random
import re

from rag.ingest.korean import get_kiwi

#: A word right after one of these is what the question asks about ("어느 스승"): kept.
QUESTION_WORDS = ("어느", "무슨", "어떤", "몇", "누구", "무엇")
QUESTION_WORDS += ("언제", "어디", "얼마", "왜", "어떻게")


def vaguer(question: str, passage: str, rng: random.Random) -> str | None:
    """``question`` without one word that is only common nouns ``passage`` also uses (with
    its particles), or ``None`` where it has none to spare. Names, numbers and years stay
    (they are no common nouns), as do the first word (the topic, often a name Kiwi takes
    for a common noun: 임세영), the last two (what is asked) and a word right after a
    question word."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", question)]
    tokens = get_kiwi().tokenize(question)
    spare = []
    for i, (start, end) in enumerate(words[:-2]):
        if i == 0 or question[words[i - 1][0] : words[i - 1][1]].startswith(QUESTION_WORDS):
            continue
        inside = [t for t in tokens if start <= t.start < end]
        nouns = [t for t in inside if t.tag == "NNG"]
        if (
            nouns
            and all(t.tag == "NNG" or t.tag.startswith("J") for t in inside)
            and all(t.form in passage for t in nouns)
        ):
            spare.append(i)
    if not spare:
        return None
    i = rng.choice(spare)
    return question[: words[i][0]] + question[words[i + 1][0] :]
