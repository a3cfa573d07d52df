"""Adding, deleting and listing documents through the API, on a small real index."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import shutil  # noqa: E402
import threading  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from rag.answer.retrieval import HybridRetriever  # noqa: E402
from rag.index.stores import update_store  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.serve import api  # noqa: E402
from rag.serve.api import PageAdmin, QAService, create_app  # noqa: E402
from rag.settings import Settings  # noqa: E402

KEY = "s3cret"
NAME = "해남_드론.md"
ARTICLE = (
    "# 해남군 드론 축제 성황\n\n"
    "해남군은 지난 주말 열린 드론 축제에 관람객 3만2천명이 몰렸다고 16일 밝혔다. "
    "축제는 땅끝 해변에서 사흘 동안 열렸으며 드론 500대가 밤하늘에 공룡 모양을 그렸다.\n"
)
QUESTION = "해남군 드론 축제에 관람객이 몇 명 왔어?"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for seed in sorted(seeds_dir.glob("*.txt"))[:2]:
        shutil.copy(seed, folder / seed.name)
    return folder


@pytest.fixture(scope="module")
def pipeline(corpus: Path, tmp_path_factory: pytest.TempPathFactory, embedder: object) -> Pipeline:
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"))
    index, report = update_store(settings, embedder.encode_passages)  # type: ignore[attr-defined]
    retriever = HybridRetriever(index, embedder, settings)  # type: ignore[arg-type]
    return Pipeline(settings, embedder, index, retriever, report)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def client(pipeline: Pipeline) -> Iterator[TestClient]:
    with TestClient(create_app(pipeline, pipeline.settings)) as c:
        yield c


@pytest.fixture()
def key(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("RAG_API_KEY", KEY)
    return {"X-API-Key": KEY}


def _upload(
    client: TestClient, name: str, data: bytes, headers: dict[str, str], replace: bool = False
):
    form = {"replace": "true"} if replace else {}
    return client.post("/api/documents", files={"file": (name, data)}, data=form, headers=headers)


def _listed(client: TestClient) -> set[str]:
    return {d["doc_id"] for d in client.get("/api/documents").json()}


def test_upload_answers_from_it_then_delete_removes_it(
    client: TestClient, corpus: Path, key: dict[str, str]
) -> None:
    response = _upload(client, NAME, ARTICLE.encode(), key)
    assert response.status_code == 200, response.text
    change = response.json()
    assert [d["doc_id"] for d in change["documents"]] == [NAME]
    assert change["documents"][0]["title"] == "해남군 드론 축제 성황"
    assert change["documents"][0]["passages"] >= 1
    assert change["update"]["added"] == [NAME] and change["update"]["unchanged"] == 2
    assert (corpus / NAME).read_text(encoding="utf-8") == ARTICLE
    assert NAME in _listed(client)

    answer = client.post("/api/ask", json={"question": QUESTION}).json()
    assert not answer["abstained"] and "3만2천명" in answer["answer"]
    best = answer["sources"][0]
    assert best["doc_id"] == NAME
    assert ARTICLE[best["start"] : best["end"]] == best["quote"]
    assert ARTICLE[best["answer_start"] : best["answer_end"]] == answer["answer"]

    again = _upload(client, NAME, ARTICLE.encode(), key)
    assert again.status_code == 409 and "replace=true" in again.json()["detail"]
    changed = ARTICLE.replace("3만2천명", "4만명")
    replaced = _upload(client, NAME, changed.encode(), key, replace=True)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["update"]["changed"] == [NAME]
    answer = client.post("/api/ask", json={"question": QUESTION}).json()
    assert "4만명" in answer["answer"]  # the changed article, not what was cached of it

    deleted = client.delete(f"/api/documents/{NAME}", headers=key)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["update"]["removed"] == [NAME]
    assert not (corpus / NAME).exists() and NAME not in _listed(client)
    after = client.post("/api/ask", json={"question": QUESTION}).json()
    assert all(s["doc_id"] != NAME for s in after["sources"])
    assert client.delete(f"/api/documents/{NAME}", headers=key).status_code == 404


def test_admin_document_routes_need_the_key(
    client: TestClient, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = sorted(p.name for p in corpus.iterdir())
    victim = before[0]
    monkeypatch.delenv("RAG_API_KEY", raising=False)
    assert _upload(client, NAME, ARTICLE.encode(), {"X-API-Key": KEY}).status_code == 403
    monkeypatch.setenv("RAG_API_KEY", KEY)
    for headers in ({}, {"X-API-Key": "wrong"}):
        assert _upload(client, NAME, ARTICLE.encode(), headers).status_code == 403
        assert client.delete(f"/api/documents/{victim}", headers=headers).status_code == 403
    assert sorted(p.name for p in corpus.iterdir()) == before


@pytest.mark.parametrize(
    ("name", "status", "words"),
    [
        ("../evil.txt", 400, "plain file name"),
        ("sub/evil.txt", 400, "plain file name"),
        (".hidden.txt", 400, "plain file name"),
        ("evil.exe", 415, "unsupported"),
        ("empty.txt", 422, "no readable article"),
    ],
)
def test_bad_uploads_are_refused_and_write_nothing(
    client: TestClient, corpus: Path, key: dict[str, str], name: str, status: int, words: str
) -> None:
    before = sorted(p.name for p in corpus.parent.rglob("*"))
    data = b"   " if name == "empty.txt" else ARTICLE.encode()
    response = _upload(client, name, data, key)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert sorted(p.name for p in corpus.parent.rglob("*")) == before


def test_too_large_upload_is_413(
    client: TestClient, corpus: Path, key: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("rag.ingest.loaders.MAX_FILE_BYTES", 100)
    response = _upload(client, "big.txt", ARTICLE.encode(), key)
    assert response.status_code == 413 and "too large" in response.json()["detail"]
    assert not (corpus / "big.txt").exists()


def test_row_ids_are_refused_with_the_file_to_delete(
    client: TestClient, key: dict[str, str]
) -> None:
    response = client.delete("/api/documents/export.jsonl%233", headers=key)  # "#" is %23
    assert response.status_code == 400
    assert "export.jsonl" in response.json()["detail"]


def test_documents_paging(client: TestClient) -> None:
    everything = client.get("/api/documents")
    rows = everything.json()
    assert everything.headers["X-Total-Count"] == str(len(rows)) and len(rows) >= 2
    page = client.get("/api/documents", params={"offset": 1, "limit": 1})
    assert page.json() == rows[1:2] and page.headers["X-Total-Count"] == str(len(rows))
    assert client.get("/api/documents", params={"offset": len(rows)}).json() == []
    assert client.get("/api/documents", params={"limit": 0}).status_code == 422


def test_page_controls_use_the_same_checks(
    pipeline: Pipeline, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = PageAdmin(QAService(pipeline, pipeline.settings))
    monkeypatch.delenv("RAG_API_KEY", raising=False)
    assert not admin.enabled()
    monkeypatch.setenv("RAG_API_KEY", KEY)
    assert admin.enabled()
    upload = tmp_path / "page.txt"
    upload.write_text(ARTICLE, encoding="utf-8")
    with pytest.raises(ValueError, match="X-API-Key"):
        admin.upload("wrong", str(upload), False)
    assert not (corpus / "page.txt").exists()
    added = admin.upload(KEY, str(upload), False)
    assert [d["doc_id"] for d in added["documents"]] == ["page.txt"]
    assert admin.delete(KEY, "page.txt")["update"]["removed"] == ["page.txt"]
    assert not (corpus / "page.txt").exists()


def test_questions_are_answered_while_an_upload_is_indexed(
    client: TestClient, key: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The update runs beside answering: questions get the old index's answers while it
    runs (they used to wait for all of it), and the new index's once it is swapped in."""
    indexing, release = threading.Event(), threading.Event()

    def held_update(*args: object, **kwargs: object) -> object:
        indexing.set()
        assert release.wait(60), "the test never released the update"
        return update_store(*args, **kwargs)

    monkeypatch.setattr(api, "update_store", held_update)
    with ThreadPoolExecutor(max_workers=2) as pool:
        upload = pool.submit(_upload, client, NAME, ARTICLE.encode(), key)
        assert indexing.wait(60)
        during = pool.submit(client.post, "/api/ask", json={"question": QUESTION})
        try:
            answered = during.result(timeout=60)
            health = client.get("/api/health")
        finally:
            release.set()
        assert upload.result(timeout=120).status_code == 200
    assert answered.status_code == 200 and health.status_code == 200
    assert NAME not in {s["doc_id"] for s in answered.json()["sources"]}
    after = client.post("/api/ask", json={"question": QUESTION}).json()
    assert after["sources"][0]["doc_id"] == NAME and "3만2천" in after["answer"]
    assert client.delete(f"/api/documents/{NAME}", headers=key).status_code == 200


@pytest.mark.parametrize("corpus_state", ["missing", "empty"])
def test_a_reindex_without_articles_is_a_clear_409_and_keeps_the_index(
    pipeline: Pipeline, tmp_path: Path, key: dict[str, str], corpus_state: str
) -> None:
    folder = tmp_path / "news"
    if corpus_state == "empty":
        folder.mkdir()
    settings = pipeline.settings.model_copy(update={"corpus_dir": folder})
    with TestClient(create_app(pipeline, settings)) as client:
        response = client.post("/api/reindex", headers=key)
        assert response.status_code == 409
        assert "index not updated" in response.json()["detail"]
        assert str(folder) in response.json()["detail"]
        still = client.post("/api/ask", json={"question": "인천시는 무슨 상을 받았어?"})
        assert still.status_code == 200 and still.json()["sources"]
