"""The JSON API against the real pipeline built from seeds/ into a temporary index."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from collections.abc import Iterator  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from rag.ingest.loaders import decode_bytes  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.serve.api import HitOut, SourceOut, create_app  # noqa: E402
from rag.settings import Settings  # noqa: E402

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
ANSWERABLE = "부산시가 확보한 사업비는 얼마야?"
UNANSWERABLE = "화성에 사는 사람은 몇 명이야?"
CONTRACT = {"question", "answer", "abstained", "confidence", "sources", "timings_ms"}


@pytest.fixture(scope="module")
def settings(seed_settings: Settings) -> Settings:
    return seed_settings


@pytest.fixture(scope="module")
def client(seed_pipeline: Pipeline, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(seed_pipeline, settings)) as c:
        yield c


def _span(source: dict) -> str:
    a, b = source["answer_start"] - source["start"], source["answer_end"] - source["start"]
    return source["quote"][a:b]


def _ask(client: TestClient, question: str, history: list[str] | None = None) -> dict:
    body = {"question": question} | ({"history": history} if history is not None else {})
    response = client.post("/api/ask", json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("question", [ANSWERABLE, UNANSWERABLE, "인천시는 무슨 상을 받았어?"])
def test_ask_contract(client: TestClient, question: str, source_keys) -> None:
    result = _ask(client, question)
    assert set(result) >= CONTRACT
    assert result["question"] == question
    assert isinstance(result["abstained"], bool)
    assert (result["answer"] is None) == result["abstained"]
    assert isinstance(result["confidence"], float) and 0.0 <= result["confidence"] <= 1.0
    assert set(result["timings_ms"]) >= {"retrieve", "answer", "total"}
    assert all(isinstance(v, float | int) for v in result["timings_ms"].values())
    for source in result["sources"]:
        assert set(source) == source_keys
        original = decode_bytes((SEEDS / source["doc_id"]).read_bytes())[0]
        assert original[source["start"] : source["end"]] == source["quote"]
        if source["answer_start"] is not None:
            assert source["start"] <= source["answer_start"] < source["answer_end"] <= source["end"]
    if not result["abstained"]:  # the answer is quoted verbatim from the first source
        best = result["sources"][0]
        expected = best["quote"] if best["answer_start"] is None else _span(best)
        assert result["answer"] == expected


def test_follow_up_uses_history(client: TestClient) -> None:
    alone = _ask(client, "그럼 의정부시는?")
    assert alone["resolved_question"] == "그럼 의정부시는?"
    followed = _ask(client, "그럼 의정부시는?", history=[ANSWERABLE])
    assert followed["question"] == "그럼 의정부시는?"
    assert followed["resolved_question"] == "의정부시가 확보한 사업비는 얼마야?"


def test_search(client: TestClient, hit_keys) -> None:
    response = client.get("/api/search", params={"q": ANSWERABLE, "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["question"] == ANSWERABLE
    assert 1 <= len(body["results"]) <= 3
    hit = body["results"][0]
    assert set(hit) == hit_keys
    original = decode_bytes((SEEDS / hit["doc_id"]).read_bytes())[0]
    assert hit["end"] > hit["start"] and len(original) >= hit["end"]


def test_documents_and_health(client: TestClient) -> None:
    documents = client.get("/api/documents").json()
    assert {d["doc_id"] for d in documents} == {p.name for p in SEEDS.glob("*.txt")}
    assert all(
        set(d) == {"doc_id", "title", "outlet", "date", "reporter", "passages", "same_as"}
        for d in documents
    )
    health = client.get("/api/health").json()
    assert health["status"] == "ok"
    assert health["document_count"] == len(documents)
    assert health["passage_count"] == sum(d["passages"] for d in documents)
    assert health["index_version"].startswith("v-")
    assert {"model", "format_version"} <= set(health)


def test_openapi_docs_live_under_api(client: TestClient) -> None:
    assert client.get("/api/docs").status_code == 200
    schema = client.get("/api/openapi.json").json()
    assert {"/ask", "/search", "/documents", "/health", "/reindex"} <= set(schema["paths"])


@pytest.mark.parametrize("question", ["", "   \n\t ", "가" * 1001])
def test_bad_questions_are_422_with_bilingual_message(client: TestClient, question: str) -> None:
    for response in (
        client.post("/api/ask", json={"question": question}),
        client.get("/api/search", params={"q": question}),
    ):
        assert response.status_code == 422
        detail = response.json()["detail"]
        assert "질문" in detail and "question" in detail


@pytest.mark.parametrize("k", [0, 51, 999])
def test_k_out_of_range_is_422(client: TestClient, k: int) -> None:
    response = client.get("/api/search", params={"q": ANSWERABLE, "k": k})
    assert response.status_code == 422
    assert "k" in response.json()["detail"]


def test_unknown_api_route_is_json_404(client: TestClient) -> None:
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert "/api/nope" in response.json()["detail"]


def test_reindex_needs_the_configured_key(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAG_API_KEY", raising=False)
    assert client.post("/api/reindex", headers={"X-API-Key": "anything"}).status_code == 403
    monkeypatch.setenv("RAG_API_KEY", "s3cret")
    assert client.post("/api/reindex").status_code == 403
    assert client.post("/api/reindex", headers={"X-API-Key": "wrong"}).status_code == 403
    response = client.post("/api/reindex", headers={"X-API-Key": "s3cret"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "ok" and report["document_count"] == 5
    assert report["added"] == report["changed"] == report["removed"] == []
    assert _ask(client, ANSWERABLE)["sources"]  # the swapped-in pipeline answers


def test_concurrent_requests_all_succeed(client: TestClient) -> None:
    questions = [
        ANSWERABLE,
        UNANSWERABLE,
        "강원도는 몇 년 연속 수상했어?",
        "인천시는 무슨 상을 받았어?",
    ]

    def call(i: int) -> int:
        q = questions[i % len(questions)]
        if i % 4 == 3:
            return client.get("/api/search", params={"q": q, "k": 5}).status_code
        return client.post("/api/ask", json={"question": q}).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        codes = list(pool.map(call, range(32)))
    assert codes == [200] * 32


def test_a_lone_surrogate_is_a_clear_422_not_a_500(client: TestClient) -> None:
    response = client.post(
        "/api/ask",
        content='{"question": "\\ud800 부산"}'.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert "UTF-8" in response.json()["detail"]


def test_large_bodies_are_refused_and_errors_do_not_echo_input(client: TestClient) -> None:
    big = client.post("/api/ask", json={"question": "가" * 400_000})
    assert big.status_code == 413 and "bytes" in big.json()["detail"]
    bad = client.post("/api/ask", json={"question": ["나" * 50_000]})
    assert bad.status_code == 422
    assert len(bad.content) < 2_000 and "나나나" not in bad.text


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/no-such-route"])
def test_security_headers_on_page_and_api(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_the_api_models_carry_the_contract_keys(source_keys, hit_keys) -> None:
    assert set(SourceOut.model_fields) == source_keys
    assert set(HitOut.model_fields) == hit_keys
