"""The everyday val questions (``eval/questions-everyday-val.jsonl``) stay on val articles:
choices are made on them, so none may ask about a train or test article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.harness import load_questions

ROOT = Path(__file__).parents[2]
EVERYDAY = ROOT / "eval" / "questions-everyday-val.jsonl"
SPLIT = json.loads((ROOT / "eval" / "newsqa-split.json").read_text(encoding="utf-8"))
ARTICLES = ROOT.parent / "shared" / "benchmarks" / "newsqa-ko" / "articles"


def test_everyday_questions_ask_only_about_val_articles() -> None:
    questions = load_questions(EVERYDAY)
    assert len({q.id for q in questions}) == len(questions)
    answerable = [q for q in questions if q.answers]
    assert answerable and len(answerable) < len(questions)
    for q in questions:
        assert q.type in {"casual", "paraphrase", "unanswerable"}
        assert (q.type == "unanswerable") == (not q.answers) == (not q.docs)
        assert set(q.docs) <= set(SPLIT["val"]), q.id
    rows = [json.loads(line) for line in EVERYDAY.read_text(encoding="utf-8").splitlines()]
    reworded = [r["rewords"] for r in rows if r["answers"]]
    assert len(set(reworded)) == len(reworded) == len(answerable)


@pytest.mark.skipif(not ARTICLES.is_dir(), reason="newsqa-ko articles not beside the checkout")
def test_everyday_answers_are_verbatim_in_their_article() -> None:
    for q in load_questions(EVERYDAY):
        for doc in q.docs:
            text = (ARTICLES / doc).read_text(encoding="utf-8")
            assert any(a in text for a in q.answers), q.id
