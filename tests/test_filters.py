"""Metadata filters (outlet, date range, documents) on the CLI, the API and the chat page,
against the real seed index: a filter changes which article answers, a filter matching
nothing is the plain no-answer reply, a bad date is a usage error, never a traceback."""

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rag.cli import app
from rag.index.passage_store import make_filter
from rag.serve.api import QAService, create_app
from ui.app import NOT_FOUND, build_ui, document_rows, outlet_choices, page_filters, respond

runner = CliRunner()
INCHEON = "인천시는 일자리대상에서 무슨 상을 받았어?"
INCHEON_2023 = "000_1ff51a0f1b8abdfa.txt"  # 이로운넷, undated: 국무총리상
INCHEON_2024 = "001_d4b40c634d9b42e7.txt"  # 뉴스스텝, 2024-08-08: 우수상
BUSAN = "004_d142976b477de943.txt"


@pytest.fixture()
def env(seed_settings, seed_pipeline):
    return {
        "RAG_CORPUS_DIR": str(seed_settings.corpus_dir),
        "RAG_INDEX_DIR": str(seed_settings.index_dir),
    }


@pytest.fixture(scope="module")
def client(seed_pipeline, seed_settings):
    with TestClient(create_app(seed_pipeline, seed_settings)) as c:
        yield c


def _last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def test_make_filter_rejects_bad_dates_and_treats_empty_as_unset():
    assert make_filter() is None and make_filter([], None, None, []) is None
    for bad in ("2023-13-01", "2023-02-30", "20230101", "어제"):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            make_filter(since=bad)
    with pytest.raises(ValueError, match="after"):
        make_filter(since="2024-01-01", until="2023-01-01")


def test_cli_outlet_and_date_filters_change_the_answer(env):
    plain = runner.invoke(app, ["ask", INCHEON, "--json"], env=env)
    assert plain.exit_code == 0, plain.output
    assert _last_json(plain.stdout)["sources"][0]["doc_id"] == INCHEON_2023
    for args in (["--outlet", "뉴스스텝"], ["--since", "2024-01-01"]):
        result = runner.invoke(app, ["ask", INCHEON, "--json", *args], env=env)
        assert result.exit_code == 0, result.output
        payload = _last_json(result.stdout)
        assert payload["answer"] == "우수상"
        assert {s["doc_id"] for s in payload["sources"]} == {INCHEON_2024}


def test_cli_search_doc_and_outlets(env):
    result = runner.invoke(app, ["search", INCHEON, "--json", "--k", "3", "--doc", BUSAN], env=env)
    assert result.exit_code == 0, result.output
    assert {r["doc_id"] for r in _last_json(result.stdout)["results"]} == {BUSAN}
    both = ["--outlet", "뉴스스텝", "--outlet", "스마트에프엔"]
    result = runner.invoke(app, ["search", INCHEON, "--json", "--k", "10", *both], env=env)
    assert {r["doc_id"] for r in _last_json(result.stdout)["results"]} == {INCHEON_2024, BUSAN}


def test_cli_filter_matching_nothing_is_the_plain_no_answer(env):
    result = runner.invoke(app, ["ask", INCHEON, "--outlet", "없는신문"], env=env)
    assert result.exit_code == 0, result.output
    assert "문서에서 답을 찾을 수 없습니다" in result.stdout
    result = runner.invoke(app, ["search", INCHEON, "--until", "2000-01-01"], env=env)
    assert result.exit_code == 0 and "(no matching passages)" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "2023-13-01"],
        ["--until", "2023/08/01"],
        ["--since", "2024-01-01", "--until", "2023-01-01"],
    ],
)
def test_cli_bad_dates_are_usage_errors(env, args):
    result = runner.invoke(app, ["ask", INCHEON, *args], env=env)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "YYYY-MM-DD" in result.output or "after" in result.output


def test_api_ask_and_search_filters(client):
    body = {"question": INCHEON, "outlets": ["뉴스스텝"]}
    answer = client.post("/api/ask", json=body).json()
    assert answer["answer"] == "우수상" and answer["sources"][0]["doc_id"] == INCHEON_2024
    nothing = client.post("/api/ask", json={"question": INCHEON, "doc_ids": ["없는.txt"]})
    assert nothing.status_code == 200
    assert nothing.json()["abstained"] is True and nothing.json()["sources"] == []
    params = {"q": INCHEON, "k": 10, "since": "2023-08-03", "until": "2023-08-03"}
    hits = client.get("/api/search", params=params).json()["results"]
    # 2023-08-03: the 의정부 and 강원 articles only.
    assert {h["doc_id"][:3] for h in hits} == {"002", "003"}
    by_doc = client.get("/api/search", params={"q": INCHEON, "doc_id": [BUSAN, INCHEON_2024]})
    assert {h["doc_id"] for h in by_doc.json()["results"]} <= {BUSAN, INCHEON_2024}


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("post", {"url": "/api/ask", "json": {"question": INCHEON, "since": "2023-02-30"}}),
        ("get", {"url": "/api/search", "params": {"q": INCHEON, "until": "yesterday"}}),
    ],
)
def test_api_bad_dates_are_422_with_a_message(client, method, kwargs):
    response = getattr(client, method)(**kwargs)
    assert response.status_code == 422
    assert "YYYY-MM-DD" in response.json()["detail"]


def test_page_filters_and_documents_tab(seed_pipeline, seed_settings):
    service = QAService(seed_pipeline, seed_settings)
    filters = page_filters(["뉴스스텝"], " ", "")
    assert filters == {"outlets": ["뉴스스텝"], "since": None, "until": None}
    _, messages, asked = respond(service.page_ask, INCHEON, [], [], filters)
    assert "우수상" in messages[-1]["content"] and "뉴스스텝" in messages[-1]["content"]
    assert asked == [INCHEON]
    _, messages, _ = respond(service.page_ask, INCHEON, [], [], page_filters([], "", ""))
    assert "국무총리상" in messages[-1]["content"]  # no filter set: the whole corpus
    _, messages, _ = respond(service.page_ask, INCHEON, [], [], page_filters(None, "2023-8-1", ""))
    assert "rag-error" in messages[-1]["content"] and "YYYY-MM-DD" in messages[-1]["content"]
    _, messages, _ = respond(
        service.page_ask, INCHEON, [], [], page_filters(None, "2030-01-01", "")
    )
    assert NOT_FOUND in messages[-1]["content"]
    documents = service.documents()
    assert outlet_choices(documents) == [
        "뉴스스텝",
        "스마트에프엔",
        "아주경제",
        "이로운넷",
        "핫타임뉴스",
    ]
    rows = document_rows(documents)
    assert rows[0][1:3] == ["뉴스스텝", "2024-08-08"] and rows[-1][2] == ""  # undated last
    build_ui(service.page_ask, documents=service.documents)  # the page builds with both


def test_a_named_year_prefers_articles_dated_then(seed_pipeline):
    """Articles dated in another year step back, undated ones stay, and a year no
    candidate was published in changes nothing."""
    prefer = seed_pipeline.retriever._prefer_named_years
    fused = {f"{INCHEON_2024}#0": 1.0, f"{INCHEON_2023}#0": 0.9, f"{BUSAN}#0": 0.95}
    in_2023 = prefer("2023년 인천시는 무슨 상을 받았어?", fused)
    assert in_2023 == pytest.approx(fused | {f"{INCHEON_2024}#0": 0.8})
    in_2024 = prefer("2024년 인천시는 무슨 상을 받았어?", fused)
    assert in_2024 == pytest.approx(fused | {f"{BUSAN}#0": 0.76})
    assert prefer("인천시는 2012년부터 상을 받았어?", fused) == fused
    assert prefer("인천시는 무슨 상을 받았어?", fused) == fused
    hits = seed_pipeline.search("2024년 인천시는 일자리대상에서 무슨 상을 받았어?", 3)
    assert hits[0].passage.doc_id == INCHEON_2024
