"""Hybrid, dense and BM25 retrieval over the real seed index."""

import pytest

from rag.evaluation.harness import ranked_docs, retrieval_metrics
from rag.index.tokenization import content_terms


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_article(seed_pipeline, mode):
    hits = seed_pipeline.search("부산시가 고용노동부로부터 확보한 사업비는?", k=3, mode=mode)
    assert len(hits) == 3
    assert hits[0].passage.doc_id == "004_d142976b477de943.txt"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hybrid_carries_both_scores_and_respects_k(seed_pipeline):
    hits = seed_pipeline.search("강원도 최우수상 국비", k=7)
    assert len(hits) == 7
    assert any(h.dense_score is not None and h.bm25_score is not None for h in hits)
    assert len({h.passage.passage_id for h in hits}) == 7


def test_paraphrase_with_little_word_overlap_is_found_by_hybrid(seed_pipeline):
    hits = seed_pipeline.search("인천은 청년들한테 어떤 지원을 해줬어?", k=3)
    assert any("드림패키지" in h.passage.text for h in hits)


def test_question_without_content_words_returns_no_bm25_hits(seed_pipeline):
    assert seed_pipeline.search("그것은?", k=3, mode="bm25") == []
    assert len(seed_pipeline.search("그것은?", k=3, mode="hybrid")) == 3  # dense still ranks


def test_batch_matches_single_queries(seed_pipeline):
    questions = ["의정부시 청년 고용률", "부산 스마트제조 성장 사다리 프로젝트"]
    batch = seed_pipeline.search_batch(questions, k=3)
    single = [seed_pipeline.search(q, k=3) for q in questions]
    assert [[h.passage.passage_id for h in hs] for hs in batch] == [
        [h.passage.passage_id for h in hs] for hs in single
    ]


def test_bm25_terms_are_content_morphemes():
    terms = content_terms("인천시는 사업비 2억4,000만 원을 확보했다고 밝혔다.")
    assert "인천시" in terms and "사업비" in terms and "확보" in terms
    assert not {"는", "을", "다고"} & set(terms)


def test_document_level_metrics():
    m = retrieval_metrics(["b", "a", "c"], ["a"])
    assert m["hit@1"] == 0.0 and m["hit@5"] == 1.0 and m["mrr@10"] == 0.5
    assert m["ndcg@10"] == pytest.approx(1 / 1.5849625, rel=1e-6)
    both = retrieval_metrics(["a", "x", "b"], ["a", "b"])
    assert both["ndcg@10"] == pytest.approx((1 + 0.5) / (1 + 1 / 1.5849625), rel=1e-6)
    assert retrieval_metrics(["x"], ["a"])["mrr@10"] == 0.0


def test_ranked_docs_deduplicates_in_order(seed_pipeline):
    hits = seed_pipeline.search("인천시 일자리대상", k=10)
    docs = ranked_docs(hits)
    assert len(docs) == len(set(docs)) and docs[0] == hits[0].passage.doc_id
