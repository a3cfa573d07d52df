"""Vaguer questions: a train question without one common noun its passage uses."""

import random

from rag.training.reader import Example, vague_examples
from rag.training.vague_questions import vaguer

PASSAGE = "임세영은 스승 김만수 밑에서 2010년 무예 수련을 시작했다."
QUESTION = "임세영은 어느 스승 밑에서 2010년 무예 수련을 시작합니까?"


def test_only_a_common_noun_the_passage_uses_is_dropped() -> None:
    seen = {vaguer(QUESTION, PASSAGE, random.Random(seed)) for seed in range(20)}
    # Kept: the first word (임세영, a name Kiwi reads as a common noun), 스승 (after a
    # question word), 2010년 (a year) and the last two words (what is asked).
    assert seen == {
        "임세영은 어느 스승 2010년 무예 수련을 시작합니까?",
        "임세영은 어느 스승 밑에서 2010년 수련을 시작합니까?",
    }
    # A noun the passage does not use is the question's own word: kept.
    assert (
        vaguer("임세영은 어느 스승 밑에서 검술 수련을 시작합니까?", PASSAGE, random.Random(0))
        == "임세영은 어느 스승 검술 수련을 시작합니까?"
    )
    assert vaguer("임세영은 언제 태어났나?", PASSAGE, random.Random(0)) is None


def test_vague_examples_keep_passage_and_answer_and_skip_unanswerable() -> None:
    start = PASSAGE.index("김만수")
    examples = [
        Example(QUESTION, PASSAGE, (start, start + 3)),
        Example(QUESTION, PASSAGE, None),  # a passage without the answer
        Example(QUESTION, PASSAGE, (start, start + 3), answerable=False),  # a near miss
        Example("임세영은 언제 태어났나?", PASSAGE, (start, start + 3)),  # nothing to spare
    ]
    made = vague_examples(examples, 1.0, random.Random(0))
    assert len(made) == 1
    assert made[0].question != QUESTION and made[0].answerable
    assert (made[0].context, made[0].answer) == (PASSAGE, (start, start + 3))
    assert vague_examples(examples, 0.0, random.Random(0)) == []
