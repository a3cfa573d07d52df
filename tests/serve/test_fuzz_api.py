"""Property-based fuzzing of the JSON API: whatever a client sends, the server answers
with JSON and a 200 or a 4xx, never a 5xx (a crash would also surface here as the
exception the TestClient re-raises). Budgets are fixed and derandomized for CI."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rag.pipeline import Pipeline
from rag.serve.api import MAX_BODY_BYTES, create_app
from rag.settings import Settings

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
DOC_IDS = sorted(p.name for p in SEEDS.glob("*.txt"))


class Client(TestClient):
    """The app's TestClient, with a short repr for Hypothesis's falsifying examples."""

    def __repr__(self) -> str:
        return "<client of the seed app>"


@pytest.fixture(scope="module")
def client(seed_pipeline: Pipeline, seed_settings: Settings) -> Iterator[TestClient]:
    with Client(create_app(seed_pipeline, seed_settings)) as c:
        yield c


def check(response: Response) -> object:
    """A 200 or a 4xx, with a JSON body; the body, parsed."""
    assert response.status_code == 200 or 400 <= response.status_code < 500, (
        response.status_code,
        response.text[:500],
    )
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def check_answer(body: object) -> None:
    """A 200 of /api/ask keeps the answer contract."""
    assert isinstance(body, dict)
    assert 0.0 <= body["confidence"] <= 1.0
    assert (body["answer"] is None) == body["abstained"]
    for source in body["sources"]:
        assert source["end"] - source["start"] == len(source["quote"])
    if not body["abstained"]:
        assert body["answer"] in body["sources"][0]["quote"]


# --- JSON values ---------------------------------------------------------------------------

_TEXT = (
    st.text(max_size=30)
    | st.sampled_from(["", " ", "\ud800", "\udcff가", "\x00", "\x1b[2J", "부산시 사업비는 얼마야?"])
    | st.integers(999, 1002).map(lambda n: "가" * n)
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),  # NaN and ±Infinity too: Python's JSON reader accepts them
    _TEXT,
)


def _containers(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4)


JSON_VALUES = st.recursive(_SCALARS, _containers, max_leaves=12)
_FIELDS = ("question", "history", "outlets", "since", "until", "doc_ids")


@st.composite
def ask_bodies(draw: st.DrawFn) -> object:
    """Any JSON value, or an object with some of the request's keys (any types), plus
    random keys."""
    if draw(st.booleans()):
        return draw(JSON_VALUES)
    keys = draw(st.lists(st.sampled_from(_FIELDS), unique=True))
    body = {key: draw(JSON_VALUES) for key in keys}
    body |= draw(st.dictionaries(_TEXT, JSON_VALUES, max_size=2))
    return body


def _dumps(value: object) -> bytes:
    """JSON text as a client might send it: lone surrogates escaped, NaN as a bare word."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


def post_ask(
    client: TestClient, content: bytes, content_type: str = "application/json"
) -> Response:
    return client.post("/api/ask", content=content, headers={"content-type": content_type})


@settings(max_examples=150)
@given(body=ask_bodies())
@example(body={"question": "\ud800"})
@example(body={"question": "부산시 사업비는?", "history": [["nested"]], "since": math.nan})
@example(body={"question": "부산시 사업비는?", "since": "2023-02-30"})
@example(body={"question": "부산시 사업비는?", "since": "٢٠٢٣-٠١-٠١"})
def test_ask_answers_any_json_with_200_or_4xx(client: TestClient, body: object) -> None:
    result = check(post_ask(client, _dumps(body)))
    if isinstance(result, dict) and "sources" in result:
        check_answer(result)


_DEPTHS = st.integers(min_value=1, max_value=(MAX_BODY_BYTES - 64) // 2)


@settings(max_examples=20)
@given(depth=_DEPTHS, shape=st.sampled_from(["list", "object", "question", "history"]))
@example(depth=(MAX_BODY_BYTES - 64) // 2, shape="list")
@example(depth=5000, shape="question")
def test_ask_survives_deep_nesting_within_the_size_limit(
    client: TestClient, depth: int, shape: str
) -> None:
    """Nesting deeper than the JSON parser's recursion limit, under the body limit."""
    if shape == "list":
        content = "[" * depth + "]" * depth
    elif shape == "object":
        depth = min(depth, (MAX_BODY_BYTES - 64) // 8)
        content = '{"a":' * depth + "1" + "}" * depth
    else:
        inner = "[" * depth + '"x"' + "]" * depth
        field = "question" if shape == "question" else "history"
        content = f'{{"question": "몇 명이야?", "{field}": {inner}}}'
    check(post_ask(client, content.encode()))


_RAW = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=100).map(lambda s: s.encode("utf-8", "surrogatepass")),
    JSON_VALUES.map(lambda v: _dumps(v)[: max(0, len(_dumps(v)) - 1)]),  # truncated
    st.sampled_from(
        [b"", b"{", b'{"question": "\xff\xfe"}', b'{"question": "a"}{}', b"\xef\xbb\xbf{}"]
    ),
)


@settings(max_examples=150)
@given(
    content=_RAW,
    content_type=st.sampled_from(
        [
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "",
            "multipart/form-data",
        ]
    ),
)
def test_ask_answers_raw_bytes_with_200_or_4xx(
    client: TestClient, content: bytes, content_type: str
) -> None:
    check(post_ask(client, content, content_type))


def test_ask_over_the_size_limit_is_413(client: TestClient) -> None:
    body = _dumps({"question": "가" * MAX_BODY_BYTES})
    response = post_ask(client, body)
    assert response.status_code == 413 and check(response)


# --- valid questions with random filters ---------------------------------------------------

_DATES = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(
        ["2023-02-30", "2023-1-1", "20230101", "٢٠٢٣-٠١-٠١", "２０２３-０１-０１", "", " "]
    ),
    st.text(max_size=12),
)
_QUESTIONS = st.sampled_from(
    [
        "부산시가 확보한 사업비는 얼마야?",
        "인천시는 무슨 상을 받았어?",
        "기사를 쓴 기자는 누구야?",
        "2017.02.13 몇 년도에",
        "3월",
        "은는이가",
        "😀",
    ]
)


@settings(max_examples=12)
@given(
    question=_QUESTIONS,
    history=st.lists(_QUESTIONS | st.text(max_size=20), max_size=3),
    outlets=st.none()
    | st.lists(st.sampled_from(["뉴스스텝", "뉴스1"]) | st.text(max_size=8), max_size=3),
    since=st.none() | _DATES,
    until=st.none() | _DATES,
    doc_ids=st.none() | st.lists(st.sampled_from([*DOC_IDS, "x", "../etc/passwd", ""]), max_size=3),
)
@example(
    question="부산시가 확보한 사업비는 얼마야?",
    history=[],
    outlets=None,
    since=None,
    until=None,
    doc_ids=["x"],
)
def test_ask_with_random_filters(
    client: TestClient,
    question: str,
    history: list[str],
    outlets: list[str] | None,
    since: str | None,
    until: str | None,
    doc_ids: list[str] | None,
) -> None:
    body = {
        "question": question,
        "history": history,
        "outlets": outlets,
        "since": since,
        "until": until,
        "doc_ids": doc_ids,
    }
    result = check(client.post("/api/ask", json=body))
    if isinstance(result, dict) and "sources" in result:
        check_answer(result)


# --- query strings -------------------------------------------------------------------------

_QUERY_KEYS = st.sampled_from(
    ["q", "k", "outlet", "since", "until", "doc_id", "offset", "limit"]
) | st.text(max_size=6)
_QUERY_VALUES = st.one_of(
    _QUESTIONS,
    _DATES,
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["0", "1", "50", "51", "-1", "1e3", "0x10", "NaN", "", "٣", "５"]),
    st.text(max_size=20),
    st.sampled_from(DOC_IDS),
)


def _encode(text: str) -> str:
    """Percent-encoded UTF-8; lone surrogates become invalid UTF-8 on the wire."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@st.composite
def query_strings(draw: st.DrawFn, required: tuple[str, ...] = ()) -> str:
    pairs = [(key, draw(_QUERY_VALUES)) for key in required]
    pairs += draw(st.lists(st.tuples(_QUERY_KEYS, _QUERY_VALUES), max_size=5))
    query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
    garbage = draw(st.sampled_from(["", "&", "&&=", "&%", "&%ZZ", "&q=%ff%fe", "&k", "&=x"]))
    return query + garbage


@settings(max_examples=80)
@given(query=query_strings() | query_strings(required=("q",)))
@example(query="q=%ED%A0%80")  # a lone surrogate, UTF-8-encoded
@example(query="q=%ff%fe&k=0")
@example(query="q=%EB%B6%80%EC%82%B0&since=2023-02-30")
def test_search_answers_any_query_with_200_or_4xx(client: TestClient, query: str) -> None:
    result = check(client.get(f"/api/search?{query}"))
    if isinstance(result, dict) and "results" in result:
        for hit in result["results"]:
            assert hit["end"] - hit["start"] == len(hit["text"])


@settings(max_examples=100)
@given(query=query_strings())
@example(query=f"offset={2**70}&limit=1")
@example(query="offset=-1")
def test_documents_answers_any_query_with_200_or_4xx(client: TestClient, query: str) -> None:
    result = check(client.get(f"/api/documents?{query}"))
    if not isinstance(result, dict):
        assert isinstance(result, list)
