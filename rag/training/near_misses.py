"""Near misses: a question with one year or proper noun swapped for one its article never
mentions ("서울시는 2023년 …" asked of an article about 인천시). Retrieval still matches them
to the article, but the article does not answer them: answer selection is fitted to refuse
them, and the reader may be trained to mark no span for them. A question may also have its
year swapped for another one its article names: the article speaks of that year, but not as
the question asks (what the selection's year check is fitted on)."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from rag.answer.answerer import year_tokens
from rag.ingest.korean import get_kiwi

#: A year as an article writes it: "2023년", "2023~2025년".
_YEAR = re.compile(r"(?<![\d.,])((?:1[89]|20)\d\d)(?=\s*[년~])")


def question_names(question: str) -> list[str]:
    """The proper nouns a question names (the pool near misses draw from)."""
    return [t.form for t in get_kiwi().tokenize(question) if t.tag == "NNP" and t.len >= 2]


def near_miss(question: str, article: str, names: Sequence[str], rng: random.Random) -> str | None:
    """``question`` with one year or proper noun swapped for one ``article`` never
    mentions, or ``None`` when it names neither."""
    tokens = get_kiwi().tokenize(question)
    spots = [(a.start, a.end, "year") for a in year_tokens(tokens)] + [
        (t.start, t.end, "name") for t in tokens if t.tag == "NNP" and t.len >= 2
    ]
    rng.shuffle(spots)
    for start, end, kind in spots:
        named = question[start:end]
        if kind == "year":
            options = [str(int(named) + d) for d in (-3, -2, -1, 1, 2, 3)]
        else:
            options = rng.sample(list(names), min(20, len(names)))
        options = [o for o in options if o != named and o not in article]
        if options:
            return question[:start] + rng.choice(options) + question[end:]
    return None


def year_elsewhere(question: str, article: str) -> str | None:
    """``question`` with the year it names swapped for another year ``article`` names (the
    nearest one): the article speaks of that year, but not as the question asks ("2023년 …
    시상식" of an article naming the 2023 ceremony and a 2023~2025 plan); ``None`` when the
    question names no year or the article no other."""
    others = set(_YEAR.findall(article))
    for a in year_tokens(get_kiwi().tokenize(question)):
        if others - {a.form}:
            year = min(sorted(others - {a.form}), key=lambda y: abs(int(y) - int(a.form)))
            return question[: a.start] + year + question[a.end :]
    return None
