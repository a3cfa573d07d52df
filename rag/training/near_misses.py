"""Near misses: a question with one year or proper noun swapped for one its article never
mentions ("서울시는 2023년 …" asked of an article about 인천시). Retrieval still matches them
to the article, but the article does not answer them: answer selection is fitted to refuse
them, and the reader may be trained to mark no span for them."""

from __future__ import annotations

import random
from collections.abc import Sequence

from rag.ingest.korean import get_kiwi


def question_names(question: str) -> list[str]:
    """The proper nouns a question names (the pool near misses draw from)."""
    return [t.form for t in get_kiwi().tokenize(question) if t.tag == "NNP" and t.len >= 2]


def near_miss(question: str, article: str, names: Sequence[str], rng: random.Random) -> str | None:
    """``question`` with one year or proper noun swapped for one ``article`` never
    mentions, or ``None`` when it names neither."""
    tokens = get_kiwi().tokenize(question)
    spots = [
        (a.start, a.end, "year")
        for a, b in zip(tokens, tokens[1:], strict=False)
        if a.tag == "SN" and b.form == "년" and len(a.form) == 4 and a.form.isdigit()
    ] + [(t.start, t.end, "name") for t in tokens if t.tag == "NNP" and t.len >= 2]
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
