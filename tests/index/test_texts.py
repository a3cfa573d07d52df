"""A corpus of every format indexed: the documents' texts kept beside the index so every
offset verifies, pages and urls kept, skipped files reported, one edited row re-embedded."""

import json
from pathlib import Path

import pytest

from rag.index.passage_store import make_filter
from rag.index.store import index_path, load_index, update_index
from rag.index.texts import TEXTS_FILE, read_text
from rag.settings import Settings

BODY = "부산시는 고용노동부가 주관한 일자리 대상에서 우수상을 받아 사업비 8500만원을 확보했다고 밝혔다."
PAGE_2 = "인천시는 같은 평가에서 국무총리상을 수상했으며 고용률은 67.7%로 집계됐다고 설명했다."


@pytest.fixture()
def corpus(tmp_path: Path, make_pdf, make_hwpx) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "a.txt").write_text(f"부산시 일자리 대상\n\n{BODY}\n", encoding="utf-8")
    (folder / "b.md").write_text(f"# 마크다운 제목\n\n{BODY}\n", encoding="utf-8")
    (folder / "c.html").write_text(
        '<html><head><meta property="og:site_name" content="부산일보">'
        '<meta property="og:title" content="웹 기사 제목"></head><body><nav>홈 정치 경제</nav>'
        f"<article><h1>웹 기사 제목</h1><p>{BODY}</p><p>{PAGE_2}</p></article>"
        "<footer>저작권자 © 부산일보 무단전재 및 재배포 금지</footer></body></html>",
        encoding="utf-8",
    )
    rows = [
        {"id": "r1", "title": "첫 행", "body": BODY, "url": "https://example.com/r1"},
        {"id": "r2", "title": "둘째 행", "body": PAGE_2},
    ]
    (folder / "d.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    (folder / "e.pdf").write_bytes(make_pdf([["보도자료", BODY], [PAGE_2]]))
    (folder / "f.hwpx").write_bytes(make_hwpx([["한글 보도자료", BODY]]))
    (folder / "g.pdf").write_bytes(b"%PDF-1.4 damaged")
    return folder


def test_every_offset_verifies_against_the_stored_text(corpus, tmp_path, embedder):
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    built, report = update_index(settings, embedder.encode_passages)
    assert sorted(built.documents) == [
        "a.txt",
        "b.md",
        "c.html",
        "d.jsonl#r1",
        "d.jsonl#r2",
        "e.pdf",
        "f.hwpx",
    ]
    assert [(s.path, "not a readable PDF" in s.reason) for s in report.skipped] == [("g.pdf", True)]
    assert (built.path / TEXTS_FILE).is_file()
    index = load_index(index_path(settings), settings)
    for p in index.passages:
        text = read_text(index.path, p.doc_id)
        assert text is not None and text[p.start : p.end] == p.text, p.passage_id
    for info in index.documents.values():
        text = read_text(index.path, info.doc_id)
        for line_start, line_end, start, end, line in info.evidence.values():
            assert text[line_start:line_end] == line and line_start <= start < end <= line_end
    assert read_text(index.path, "a.txt") == (corpus / "a.txt").read_text(encoding="utf-8")
    assert read_text(index.path, "nope.txt") is None
    assert index.documents["c.html"].title == "웹 기사 제목"
    assert index.documents["c.html"].outlet == "부산일보"
    assert index.documents["b.md"].title == "마크다운 제목"
    assert index.documents["d.jsonl#r1"].url == "https://example.com/r1"
    pages = {p.text: p.page for p in index.passages if p.doc_id == "e.pdf"}
    assert pages[BODY] == 1 and pages[PAGE_2] == 2
    assert {p.page for p in index.passages if p.doc_id != "e.pdf"} == {None}


def test_editing_one_row_reembeds_only_that_row(corpus, tmp_path, counting_embed):
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    embed, calls = counting_embed
    first, _ = update_index(settings, embed)
    lines = (corpus / "d.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[1]) | {"body": PAGE_2 + " 추가된 문장입니다."}
    lines[1] = json.dumps(row, ensure_ascii=False)
    (corpus / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    second, report = update_index(settings, embed)
    assert report.changed == ["d.jsonl#r2"] and not report.added and not report.removed
    assert calls[-1] == sum(p.doc_id == "d.jsonl#r2" for p in second.passages)
    assert read_text(second.path, "d.jsonl#r2") == row["body"]


def test_an_index_written_before_pages_and_texts_still_loads(corpus, tmp_path, embedder):
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    built, _ = update_index(settings, embedder.encode_passages)
    rows = [json.loads(line) for line in (built.path / "passages.jsonl").open(encoding="utf-8")]
    with open(built.path / "passages.jsonl", "w", encoding="utf-8") as f:
        for row in rows:
            row.pop("page")
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    manifest = json.loads((built.path / "manifest.json").read_text(encoding="utf-8"))
    for info in manifest["documents"].values():
        info.pop("url")
    (built.path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (built.path / TEXTS_FILE).unlink()
    old = load_index(index_path(settings), settings)
    assert len(old.passages) == len(built.passages)
    assert {p.page for p in old.passages} == {None}
    assert {d.url for d in old.documents.values()} == {None}
    assert read_text(old.path, "c.html") is None


def test_search_and_answers_give_the_pdf_page(corpus, tmp_path):
    from rag.pipeline import Pipeline

    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    pipeline = Pipeline.load(settings, show_progress=False)
    where = make_filter(None, None, None, ["e.pdf"])
    hit = pipeline.search("인천시 고용률은 얼마로 집계됐나?", k=1, where=where)[0].to_json()
    assert (hit["doc_id"], hit["page"]) == ("e.pdf", 2)
    answer = pipeline.ask("인천시 고용률은 얼마로 집계됐나?", where=where).to_json()
    assert answer["answer"] == "67.7%" and answer["sources"][0]["page"] == 2
    other = pipeline.search("부산시 사업비", k=1, where=make_filter(None, None, None, ["a.txt"]))
    assert other[0].to_json()["page"] is None
