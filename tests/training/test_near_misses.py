"""Near misses: a question that names what its article never does, for selection's fit and
the reader's training."""

import random
import re

from rag.training.near_misses import near_miss, year_elsewhere
from rag.training.reader import Example, near_miss_examples

ARTICLE = "인천시는 2023년 일자리대상에서 최우수상을 받았다. 2022년에는 우수상이었다."


def test_a_near_miss_swaps_a_year_or_name_for_one_the_article_never_mentions() -> None:
    question = "인천시는 2023년 일자리대상에서 어떤 상을 받았나?"
    kinds = set()
    for seed in range(20):
        swapped = near_miss(question, ARTICLE, ["부산시", "인천시", "강원도"], random.Random(seed))
        assert swapped is not None and swapped != question
        year = re.search(r"(\d{4})년", swapped).group(1)
        if swapped.startswith("인천시"):  # the year was swapped, for one the article lacks
            assert year not in ARTICLE and abs(int(year) - 2023) <= 3
            kinds.add("year")
        else:  # the name was swapped, never for the one the article names
            assert swapped.split()[0] in ("부산시는", "강원도는") and year == "2023"
            kinds.add("name")
    assert kinds == {"year", "name"}
    assert near_miss("무엇을 받았나?", ARTICLE, ["부산시"], random.Random(0)) is None


def test_a_year_elsewhere_swaps_the_year_for_the_nearest_other_the_article_names() -> None:
    article = ARTICLE + " 2019년과 2023~2025년 계획도 있다."
    question = "인천시는 2023년 일자리대상에서 어떤 상을 받았나?"
    assert year_elsewhere(question, article) == question.replace("2023", "2022")
    assert year_elsewhere("인천시는 2022년 상을 받았나?", "2022년 상") is None  # no other year
    assert year_elsewhere("인천시는 어떤 상을 받았나?", article) is None  # no year asked


def test_near_miss_examples_keep_the_passage_and_mark_no_answer() -> None:
    passage = ARTICLE.split(". ")[0]
    start = passage.index("최우수상")
    examples = [
        Example("인천시는 2023년 일자리대상에서 어떤 상을 받았나?", passage, (start, start + 4)),
        Example("부산시는 어떤 상을 받았나?", passage, (start, start + 4)),
        Example("강원도는 어떤 상을 받았나?", passage, (start, start + 4)),
        Example("무엇을 받았나?", passage, (start, start + 4)),  # names nothing to swap
        Example("인천시는 2023년 무엇을 받았나?", passage, None),  # no answer to begin with
    ]
    missed = near_miss_examples(examples, [ARTICLE] * 5, 1.0, random.Random(0))
    assert len(missed) == 3
    for original, miss in zip(examples, missed, strict=False):
        assert not miss.answerable and miss.question != original.question
        assert (miss.context, miss.answer) == (original.context, original.answer)
    assert near_miss_examples(examples, [ARTICLE] * 5, 0.0, random.Random(0)) == []
