"""The written questions (``eval/questions-written-{train,val,test}.jsonl``) ask about newsqa-ko
articles that no other split holds, and each part keeps to its own articles: the test part is
unseen only while no train or val article, and no article the reader trained on, is among its
own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.harness import load_questions
from rag.training.reader import SPLITS, split_of

ROOT = Path(__file__).parents[2]
PARTS = {part: ROOT / "eval" / f"questions-written-{part}.jsonl" for part in SPLITS}
NEWSQA_SPLIT = json.loads((ROOT / "eval" / "newsqa-split.json").read_text(encoding="utf-8"))
ARTICLES = ROOT.parent / "shared" / "benchmarks" / "newsqa-ko" / "articles"


def test_each_part_holds_the_articles_its_hash_gives_and_no_other_split_does() -> None:
    newsqa_docs = {d for part in SPLITS for d in NEWSQA_SPLIT[part]}
    ids = []
    for part, path in PARTS.items():
        questions = load_questions(path)
        assert questions, part
        ids += [q.id for q in questions]
        for q in questions:
            assert q.type in {"casual", "formal"} and len(q.answers) == len(q.docs) == 1, q.id
            assert split_of("written:" + q.docs[0], 20, 30) == part, q.id
            assert q.docs[0] not in newsqa_docs, q.id
    assert len(set(ids)) == len(ids)


@pytest.mark.skipif(not ARTICLES.is_dir(), reason="newsqa-ko articles not beside the checkout")
def test_written_answers_are_verbatim_in_their_article() -> None:
    for path in PARTS.values():
        for q in load_questions(path):
            assert q.answers[0] in (ARTICLES / q.docs[0]).read_text(encoding="utf-8"), q.id
