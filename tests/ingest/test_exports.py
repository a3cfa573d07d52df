"""JSONL and CSV exports through the loader registry: one document per row, configurable
column names, bad rows skipped one log line each, per-row checksums."""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest

from rag.ingest.cleaning import clean
from rag.ingest.loaders import Skipped, load_corpus
from rag.ingest.passages import split_passages
from rag.settings import Settings

LOGGER = "rag.ingest.loaders"
ROWS = [
    {
        "id": "a1",
        "title": "부산시 일자리 대상 우수상",
        "body": "부산시는 일자리 대상에서 우수상을 받아 사업비 8500만원을 확보했다고 2일 밝혔다. "
        "시는 청년 일자리 사업에 이 돈을 쓸 계획이다.",
        "date": "2023.08.02",
        "press": "부산일보",
        "author": "홍길동",
        "url": "https://example.com/a1",
    },
    {
        "id": 2,
        "title": "인천시 국무총리상",
        "content": "인천시는 같은 평가에서 국무총리상을 수상했다.\n15~64세 고용률은 67.7%로 집계됐다.",
        "source": "인천일보",
    },
]


def jsonl(rows: list[object]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def csv_bytes(rows: list[dict], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=sorted({k for r in rows for k in r}))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def test_each_jsonl_row_is_a_document_with_its_metadata(tmp_path):
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "news.jsonl").write_bytes(jsonl(ROWS))
    docs = {d.doc_id: d for d in load_corpus(tmp_path)}
    assert sorted(docs) == ["export/news.jsonl#2", "export/news.jsonl#a1"]
    first = clean(docs["export/news.jsonl#a1"])
    assert first.text == ROWS[0]["body"]  # the stored text is the body field, as-is
    assert (first.title, first.outlet, first.date, first.reporter, first.url) == (
        "부산시 일자리 대상 우수상",
        "부산일보",
        "2023-08-02",  # normalised like dates read from text
        "홍길동",
        "https://example.com/a1",
    )
    second = clean(docs["export/news.jsonl#2"])
    assert (second.title, second.outlet) == ("인천시 국무총리상", "인천일보")
    for doc in (first, second):
        passages = split_passages(doc, chunk_chars=400, overlap_sentences=1)
        assert passages
        assert all(doc.text[p.start : p.end] == p.text for p in passages)
    # A body's short first line is body, not a header: the row has its own title.
    assert "인천시는 같은 평가에서" in " ".join(p.text for p in split_passages(second, 400, 1))


def test_bad_jsonl_rows_are_skipped_one_line_each(tmp_path, caplog):
    lines = [
        json.dumps(ROWS[0], ensure_ascii=False),
        "{not json",
        "[1, 2]",
        json.dumps({"id": "x", "title": "본문 없음"}, ensure_ascii=False),
        "",
        json.dumps({"body": "줄 번호가 id가 되는 기사입니다. 내용이 있다."}, ensure_ascii=False),
        json.dumps({"id": "a1", "body": "같은 id의 두 번째 행입니다."}, ensure_ascii=False),
    ]
    (tmp_path / "news.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    skipped: list[Skipped] = []
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        docs = load_corpus(tmp_path, skipped=skipped)
    assert [d.doc_id for d in docs] == ["news.jsonl#a1", "news.jsonl#6"]
    assert [(s.path, s.row) for s in skipped] == [
        ("news.jsonl", "line 2"),
        ("news.jsonl", "line 3"),
        ("news.jsonl", "line 4"),
        ("news.jsonl", "line 7"),
    ]
    assert "not valid JSON" in skipped[0].reason
    assert "no article text" in skipped[2].reason
    assert "'a1'" in skipped[3].reason
    warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(warnings) == 4
    assert all("\n" not in w and "Traceback" not in w for w in warnings)
    assert "news.jsonl (line 2): not valid JSON" in warnings[0]


def test_a_jsonl_body_with_a_line_separator_stays_one_row(tmp_path):
    body = "첫 문장입니다.\u2028같은 행의 둘째 문장입니다."
    (tmp_path / "n.jsonl").write_bytes(jsonl([{"id": 1, "body": body}]))
    (doc,) = load_corpus(tmp_path)
    assert doc.text == body


def test_csv_rows_in_cp949_with_korean_column_names(tmp_path):
    rows = [
        {
            "뉴스 식별자": "01",
            "제목": "창원시 방산 육성",
            "본문": "창원시는 방위산업 육성에 300억원을 투입한다.",
            "언론사": "경남신문",
            "일자": "20240305",
        },
        {
            "뉴스 식별자": "02",
            "제목": "김해 분양가",
            "본문": "김해 신도시 분양가가\n논란이 되고 있다.",
            "언론사": "경남신문",
            "일자": "2024-03-06",
        },
    ]
    (tmp_path / "bigkinds.csv").write_bytes(csv_bytes(rows, "cp949"))
    docs = {d.doc_id: d for d in load_corpus(tmp_path)}
    assert sorted(docs) == ["bigkinds.csv#01", "bigkinds.csv#02"]
    assert docs["bigkinds.csv#01"].encoding == "cp949"
    assert docs["bigkinds.csv#02"].text == "김해 신도시 분양가가\n논란이 되고 있다."
    doc = clean(docs["bigkinds.csv#02"])
    assert (doc.title, doc.outlet, doc.date) == ("김해 분양가", "경남신문", "2024-03-06")


def test_csv_without_a_body_column_is_one_skipped_file(tmp_path, caplog):
    (tmp_path / "stats.csv").write_text("id,views\n1,300\n2,400\n", encoding="utf-8")
    skipped: list[Skipped] = []
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert load_corpus(tmp_path, skipped=skipped) == []
    assert len(skipped) == 1 and skipped[0].row is None
    assert "no article text column" in skipped[0].reason


def test_csv_rows_without_an_id_are_numbered(tmp_path):
    rows = [
        {"title": "하나", "body": "첫째 기사입니다."},
        {"title": "둘", "body": ""},
        {"title": "셋", "body": "셋째 기사입니다."},
    ]
    (tmp_path / "e.csv").write_bytes(csv_bytes(rows))
    skipped: list[Skipped] = []
    assert [d.doc_id for d in load_corpus(tmp_path, skipped=skipped)] == ["e.csv#1", "e.csv#3"]
    assert [(s.row, "no article text" in s.reason) for s in skipped] == [("row 2", True)]


def test_field_names_are_configurable(tmp_path, monkeypatch):
    (tmp_path / "n.jsonl").write_bytes(
        jsonl(
            [{"article_no": "k9", "headline_ko": "제목입니다", "story": "설정한 본문 필드입니다."}]
        )
    )
    assert load_corpus(tmp_path) == []  # the default names find no body
    settings = Settings(
        row_id_fields="article_no", row_title_fields="headline_ko", row_body_fields="Story"
    )
    (doc,) = load_corpus(tmp_path, settings)
    assert (doc.doc_id, doc.text, doc.meta.title) == (
        "n.jsonl#k9",
        "설정한 본문 필드입니다.",
        "제목입니다",
    )
    monkeypatch.setenv("RAG_ROW_BODY_FIELDS", "story, body")
    assert Settings().row_fields()["body"] == ("story", "body")


def test_editing_one_row_changes_only_that_rows_checksum(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_bytes(jsonl(ROWS))
    before = {d.doc_id: d.checksum for d in load_corpus(tmp_path)}
    edited = [ROWS[0], {**ROWS[1], "content": ROWS[1]["content"] + " 추가 문장."}]
    path.write_bytes(jsonl(edited))
    after = {d.doc_id: d.checksum for d in load_corpus(tmp_path)}
    assert after["news.jsonl#a1"] == before["news.jsonl#a1"]
    assert after["news.jsonl#2"] != before["news.jsonl#2"]
    with_views = [ROWS[0] | {"views": 99}, *edited[1:]]  # an unread column changes nothing
    path.write_bytes(jsonl(with_views))
    assert {d.doc_id: d.checksum for d in load_corpus(tmp_path)} == after


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv"])
def test_an_empty_export_is_a_skipped_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"\n\n" if name.endswith("jsonl") else b"")
    skipped: list[Skipped] = []
    assert load_corpus(tmp_path, skipped=skipped) == []
    assert [s.path for s in skipped] == [name]
