"""The question sets written on newsqa-ko articles keep to their articles. The everyday val
questions (``eval/questions-everyday-val.jsonl``) stay on val articles: choices are made on
them, so none may ask about a train or test article. The written questions
(``eval/questions-written-{train,val,test}.jsonl``) ask about articles no newsqa-ko split holds,
each part only about its own: the test part is unseen only while no train or val article, and
no article the reader trained on, is among its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.harness import load_questions
from rag.training.reader import SPLITS, written_part

ROOT = Path(__file__).parents[2]
EVERYDAY = ROOT / "eval" / "questions-everyday-val.jsonl"
WRITTEN = {part: ROOT / "eval" / f"questions-written-{part}.jsonl" for part in SPLITS}
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


def test_each_written_part_holds_the_articles_its_hash_gives_and_no_other_split_does() -> None:
    newsqa_docs = {d for part in SPLITS for d in SPLIT[part]}
    ids = []
    for part, path in WRITTEN.items():
        questions = load_questions(path)
        assert questions, part
        ids += [q.id for q in questions]
        for q in questions:
            assert q.type in {"casual", "formal"} and len(q.answers) == len(q.docs) == 1, q.id
            assert written_part(q.docs[0]) == part, q.id
            assert q.docs[0] not in newsqa_docs, q.id
    assert len(set(ids)) == len(ids)


@pytest.mark.skipif(not ARTICLES.is_dir(), reason="newsqa-ko articles not beside the checkout")
@pytest.mark.parametrize("path", [EVERYDAY, *WRITTEN.values()], ids=lambda p: p.stem)
def test_answers_are_verbatim_in_their_article(path: Path) -> None:
    for q in load_questions(path):
        for doc in q.docs:
            text = (ARTICLES / doc).read_text(encoding="utf-8")
            assert any(a in text for a in q.answers), q.id
