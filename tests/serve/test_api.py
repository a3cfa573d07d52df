"""The JSON API against the real pipeline built from seeds/ into a temporary index."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import copy  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from httpx import Response  # noqa: E402

from rag.ingest.loaders import decode_bytes  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.serve import api  # noqa: E402
from rag.serve.api import HitOut, SourceOut, create_app  # noqa: E402
from rag.serve.security import (  # noqa: E402
    CONTENT_SECURITY_POLICY,
    allowed_hosts,
    host_allowed,
)
from rag.settings import Settings  # noqa: E402
from ui.app import PAGE_ERROR  # noqa: E402

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


# --- the browser-facing guards: Host names, CSP, page uploads, page errors, offline docs ---


@pytest.mark.parametrize(
    "host", ["localhost:7860", "127.0.0.1", "[::1]:7860", "LOCALHOST", "localhost.", "testserver"]
)
def test_loopback_and_configured_hosts_are_answered(client: TestClient, host: str) -> None:
    assert client.get("/api/health", headers={"host": host}).status_code == 200


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:7860", "127.0.0.1.evil.example", "localhost@evil.example", ""],
)
@pytest.mark.parametrize("path", ["/", "/api/health", "/gradio_api/upload"])
def test_foreign_hosts_are_a_400(client: TestClient, host: str, path: str) -> None:
    """DNS rebinding: a page of another name that resolves to this machine is refused."""
    response = client.get(path, headers={"host": host})
    assert response.status_code == 400
    assert "host" in response.json()["detail"] and "호스트" in response.json()["detail"]
    assert response.headers["x-frame-options"] == "DENY"


def test_allowed_hosts_are_loopback_the_bound_address_and_the_setting() -> None:
    assert Settings.model_fields["allowed_hosts"].default == ""
    assert allowed_hosts("") == ["127.0.0.1", "localhost", "[::1]"]
    hosts = allowed_hosts(" News.Example , *.lan ,", ("0.0.0.0", "::1", "fe80::1"))
    assert hosts == [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "0.0.0.0",
        "[fe80::1]",
        "news.example",
        "*.lan",
    ]
    assert host_allowed("a.b.lan:80", hosts) and not host_allowed("lan", hosts)
    assert host_allowed("anything", allowed_hosts("*"))


def test_without_the_setting_only_loopback_and_the_bound_address_are_answered(
    seed_pipeline: Pipeline, settings: Settings
) -> None:
    """The test host is answered only because the suite configures it (conftest)."""
    bare = settings.model_copy(update={"allowed_hosts": ""})
    with TestClient(create_app(seed_pipeline, bare, hosts=("192.0.2.7",))) as c:
        assert c.get("/api/health").status_code == 400  # Host: testserver
        for host in ("192.0.2.7:7860", "127.0.0.1:7860"):
            assert c.get("/api/health", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("path", ["/", "/api/health", "/api/docs", "/api/no-such-route"])
def test_the_content_security_policy_is_complete(client: TestClient, path: str) -> None:
    policy = client.get(path).headers["content-security-policy"]
    assert policy == CONTENT_SECURITY_POLICY
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["connect-src"] == "'self'"  # nothing is fetched from elsewhere


def _page_upload(client: TestClient, data: bytes = b"hello") -> Response:
    return client.post("/gradio_api/upload", files={"files": ("a.txt", data, "text/plain")})


def test_page_uploads_need_an_admin_key(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a key the page has no file control: Gradio's upload route stores nothing."""
    monkeypatch.delenv("RAG_API_KEY", raising=False)
    for response in (
        _page_upload(client),
        client.post("/gradio_api/process_recording", files={"video": ("a.mp4", b"x")}),
    ):
        assert response.status_code == 403
        detail = response.json()["detail"]
        assert "RAG_API_KEY" in detail and "uploads are disabled" in detail and "파일" in detail
    monkeypatch.setenv("RAG_API_KEY", "s3cret")  # the 문서 tab's upload control works then
    stored = _page_upload(client)
    assert stored.status_code == 200, stored.text
    assert Path(stored.json()[0]).read_bytes() == b"hello"
    monkeypatch.setattr(api, "MAX_UPLOAD_BODY_BYTES", 1_000)  # the size limit still holds
    assert _page_upload(client, b"x" * 2_000).status_code == 413


def _page_call(client: TestClient, api_name: str, data: list) -> dict:
    """One event of the chat page through Gradio's queue, as the browser sends it: the
    ``process_completed`` message."""
    dependencies = client.get("/config").json()["dependencies"]
    fn_index = next(i for i, d in enumerate(dependencies) if d.get("api_name") == api_name)
    session = f"test-{api_name}-{len(data)}"
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "trigger_id": None}
    assert client.post("/gradio_api/queue/join", json=body).status_code == 200
    with client.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as s:
        messages = [json.loads(line[5:]) for line in s.iter_lines() if line.startswith("data:")]
    return next(m for m in messages if m.get("msg") == "process_completed")


def test_a_bad_date_on_the_page_is_shown_as_our_message(client: TestClient) -> None:
    done = _page_call(client, "turn", ["부산", [], [], None, "2023-13-45", ""])
    assert done["success"]
    reply = done["output"]["data"][1][-1]["content"][0]["text"]
    assert "rag-error" in reply and "YYYY-MM-DD" in reply and "Traceback" not in reply


def test_page_errors_show_no_internals(client: TestClient) -> None:
    """Input Gradio cannot read fails inside Gradio: the page gets no exception text (a
    pydantic error with the input's repr, with show_error on)."""
    done = _page_call(client, "turn", ["부산", "not a list of messages", [], None, "", ""])
    assert not done["success"] and done["output"]["error"] is None


class _BrokenIndex:
    @property
    def documents(self) -> dict:
        raise RuntimeError("<rag.index.store.EmbeddedIndex object at 0xdeadbeef>")


def test_unexpected_page_errors_are_generic_and_logged(
    seed_pipeline: Pipeline, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    broken = copy.copy(seed_pipeline)  # the chat page lists documents from its index
    broken.index = _BrokenIndex()  # type: ignore[assignment]
    with TestClient(create_app(broken, settings)) as c:
        done = _page_call(c, "load", [])
    assert not done["success"]
    assert done["output"]["error"] == PAGE_ERROR
    assert "0xdeadbeef" not in json.dumps(done)
    assert any("0xdeadbeef" in (r.exc_text or "") for r in caplog.records)


def test_api_docs_load_nothing_from_elsewhere(client: TestClient) -> None:
    """Swagger UI's files come from the installed swagger-ui-bundle (offline product)."""
    page = client.get("/api/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    assert not re.search(r"https?://|//[a-z]", page.text, re.IGNORECASE)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {a.rsplit(".", 1)[-1] for a in assets} == {"js", "css", "png"}
    for asset in assets:
        assert asset.startswith("/api/static/swagger/")
        response = client.get(asset)
        assert response.status_code == 200 and len(response.content) > 100, asset
    assert "'/api/openapi.json'" in page.text
    assert client.get("/api/static/swagger/nope.js").status_code == 404
