"""The product with RAG_STORE=qdrant (local mode): the seed index copied into a collection
answers as the embedded one does, through the pipeline, the API and `rag index`."""

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rag.cli import app
from rag.index.passage_store import PassageFilter
from rag.index.qdrant_store import QdrantStore
from rag.index.store import UpdateReport
from rag.index.stores import update_store
from rag.pipeline import Pipeline
from rag.serve.api import create_app
from rag.settings import Settings

SEED_QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl"
QUESTIONS = [
    json.loads(line)["question"]
    for line in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines()
    if line.strip()
][:30]


@pytest.fixture(scope="module")
def qdrant_pipeline(seed_settings, seed_pipeline, tmp_path_factory):
    """Loaded from the environment, as `rag serve` would be; the session's embedded seed
    index is copied in, not re-embedded."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAG_STORE", "qdrant")
        env.setenv("RAG_QDRANT_PATH", str(tmp_path_factory.mktemp("qdrant")))
        settings = Settings(corpus_dir=seed_settings.corpus_dir, index_dir=seed_settings.index_dir)
    pipeline = Pipeline.load(settings, show_progress=False)
    assert pipeline.index.kind == "qdrant" and pipeline.update.migrated
    return pipeline


@pytest.fixture(autouse=True)
def fresh_question_vectors(seed_pipeline, qdrant_pipeline, monkeypatch):
    """Both stores get questions embedded afresh, batch for batch: a vector another test
    cached, embedded alone, differs in the fourth decimal under bf16 (padding), which is not
    the stores' doing."""
    for pipeline in (seed_pipeline, qdrant_pipeline):
        monkeypatch.setattr(pipeline.embedder, "cache_queries", False)


def _ids(hits) -> list[str]:
    return [h.passage.passage_id for h in hits]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_search_ranks_as_the_embedded_store(seed_pipeline, qdrant_pipeline, mode):
    questions = QUESTIONS if mode == "hybrid" else QUESTIONS[:8]
    embedded = seed_pipeline.search_batch(questions, k=5, mode=mode)
    qdrant = qdrant_pipeline.search_batch(questions, k=5, mode=mode)
    assert [_ids(h) for h in qdrant] == [_ids(h) for h in embedded]
    for a, b in zip(embedded, qdrant, strict=True):
        assert [h.score for h in b] == pytest.approx([h.score for h in a], abs=1e-4)


def test_filtered_search_is_the_same_in_both_stores(seed_pipeline, qdrant_pipeline):
    where = PassageFilter(date_from="2023-08-03")  # leaves out Busan's article (08-02)
    question = "부산시가 고용노동부로부터 확보한 사업비는?"
    embedded = seed_pipeline.search(question, k=5, where=where)
    assert _ids(qdrant_pipeline.search(question, k=5, where=where)) == _ids(embedded)
    assert len(embedded) == 5
    assert all(h.passage.doc_id != "004_d142976b477de943.txt" for h in embedded)


def test_answers_match_the_embedded_store(seed_pipeline, qdrant_pipeline):
    questions = QUESTIONS[:5] + ["화성에 사는 사람은 몇 명이야?"]
    for a, b in zip(
        seed_pipeline.ask_batch(questions), qdrant_pipeline.ask_batch(questions), strict=True
    ):
        a, b = a.to_json(), b.to_json()
        assert (b["answer"], b["abstained"]) == (a["answer"], a["abstained"])
        assert [s["passage_id"] for s in b["sources"]] == [s["passage_id"] for s in a["sources"]]
        assert b["confidence"] == pytest.approx(a["confidence"], abs=1e-4)


def test_api_serves_from_qdrant(qdrant_pipeline):
    with TestClient(create_app(qdrant_pipeline, qdrant_pipeline.settings)) as client:
        health = client.get("/api/health").json()
        documents = client.get("/api/documents").json()
        search = client.get("/api/search", params={"q": "부산시가 확보한 사업비는?", "k": 2})
    assert health["store"] == "qdrant" and health["document_count"] == len(documents) == 5
    assert health["passage_count"] == sum(d["passages"] for d in documents)
    assert search.json()["results"][0]["doc_id"] == "004_d142976b477de943.txt"


def test_updates_reembed_only_changed_documents(tmp_path, seeds_dir, embedder, monkeypatch):
    """…and hold the server's answering lock only while the collection is written, so
    questions are answered while the new documents are embedded."""
    corpus = tmp_path / "news"
    corpus.mkdir()
    for name in ("001_d4b40c634d9b42e7.txt", "004_d142976b477de943.txt"):
        shutil.copy(seeds_dir / name, corpus / name)
    settings = Settings(
        corpus_dir=corpus, index_dir=tmp_path / "index", store="qdrant", qdrant_path=tmp_path / "q"
    )
    calls: list[int] = []
    answering, locked_while = threading.Lock(), {"embedding": set(), "writing": set()}

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        locked_while["embedding"].add(answering.locked())
        return embedder.encode_passages(texts)

    for name in ("create", "write"):
        method = getattr(QdrantStore, name)

        def watched(*args: object, _method: Callable = method, **kwargs: object) -> object:
            locked_while["writing"].add(answering.locked())
            return _method(*args, **kwargs)

        monkeypatch.setattr(QdrantStore, name, watched)

    def update() -> tuple[QdrantStore, UpdateReport]:
        return update_store(settings, embed, writing=answering)

    first, report = update()
    assert report.rebuilt and not report.migrated and first.kind == "qdrant"
    _, report = update()
    assert not report.wrote and len(calls) == 1

    (corpus / "sub").mkdir()
    (corpus / "sub" / "new.txt").write_text(
        "서울시는 2025년 일자리 박람회를 열어 청년 3천 명의 취업을 도왔다고 밝혔다.",
        encoding="utf-8",
    )
    (corpus / "001_d4b40c634d9b42e7.txt").unlink()
    second, report = update()
    assert report.added == ["sub/new.txt"] and report.removed == ["001_d4b40c634d9b42e7.txt"]
    assert calls[-1] == second.documents["sub/new.txt"].passages  # only the new one embedded
    assert sorted(second.documents) == ["004_d142976b477de943.txt", "sub/new.txt"]
    assert second.passage_count == len(list(second.iter_passages()))
    assert locked_while == {"embedding": {False}, "writing": {True}}


def test_rag_index_store_qdrant_copies_the_embedded_index(tmp_path, seeds_dir, seed_pipeline):
    corpus = tmp_path / "news"
    corpus.mkdir()
    shutil.copy(seeds_dir / "004_d142976b477de943.txt", corpus)
    runner = CliRunner()
    env = {"RAG_QDRANT_PATH": str(tmp_path / "q")}
    args = ["index", "--corpus", str(corpus), "--index-dir", str(tmp_path / "idx"), "--json"]
    assert runner.invoke(app, args, env=env).exit_code == 0

    result = runner.invoke(app, [*args, "--store", "qdrant"], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["store"] == "qdrant" and summary["migrated"] is True
    assert summary["status"] == "up to date" and summary["added"] == []
    assert "collection news-" in summary["index_dir"]

    result = runner.invoke(
        app,
        [
            "ask",
            "부산시가 확보한 사업비는 얼마야?",
            "--json",
            "--store",
            "qdrant",
            "--corpus",
            str(corpus),
            "--index-dir",
            str(tmp_path / "idx"),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["answer"] == "8500만원"
