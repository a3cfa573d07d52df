"""PDFs with a text layer through the loader registry: the extracted text, page numbers per
passage, and damaged or image-only PDFs skipped with one line."""

from __future__ import annotations

import logging

import pytest

from rag.ingest.cleaning import clean
from rag.ingest.loaders import Skipped, UnreadableFile, load_corpus, load_file
from rag.ingest.passages import split_passages

PAGE_1 = [
    "부산시 일자리 대상 보도자료",
    "부산시는 고용노동부가 주관한 일자리 대상에서 우수상을 받아 사업비 8500만원을 확보했다고 밝혔다.",
    "시는 청년 일자리 사업과 신중년 재취업 지원 사업에서 좋은 평가를 받았다고 설명했다.",
]
PAGE_2 = [
    "인천시는 같은 평가에서 국무총리상을 수상했으며 고용률은 67.7%로 집계됐다.",
    "시 관계자는 내년에도 지역 기업과 함께 일자리를 늘려가겠다고 말했다.",
]
PAGE_3 = ["대구시는 장려상을 받았고 사업비 3000만원을 지원받는다고 밝혔다."]


def test_passages_know_their_page_and_verify_against_the_text(tmp_path, make_pdf):
    (tmp_path / "release.pdf").write_bytes(make_pdf([PAGE_1, PAGE_2, [], PAGE_3]))
    source = load_file(tmp_path / "release.pdf", tmp_path)
    assert len(source.page_starts) == 4 and source.page_starts[0] == 0
    assert source.text[source.page_starts[1] :].startswith(PAGE_2[0])
    assert source.text[source.page_starts[3] :].startswith(PAGE_3[0])
    assert all(line in source.text for line in PAGE_1 + PAGE_2 + PAGE_3)
    doc = clean(source)
    passages = split_passages(doc, chunk_chars=400, overlap_sentences=1)
    assert passages
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
    page_of = {p.text: p.page for p in passages}
    assert any(text.startswith("부산시는") and page == 1 for text, page in page_of.items())
    assert any(text.startswith("인천시는") and page == 2 for text, page in page_of.items())
    # Page 3 is empty: the last page's passage is on page 4.
    assert any(text.startswith("대구시는") and page == 4 for text, page in page_of.items())
    for p in passages:
        assert source.page_starts[p.page - 1] <= p.start
        assert p.page == len(source.page_starts) or p.end <= source.page_starts[p.page]


def test_the_title_comes_from_the_pdf_unless_it_is_a_file_name(tmp_path, make_pdf):
    (tmp_path / "a.pdf").write_bytes(make_pdf([PAGE_1], title="부산시 일자리 대상 수상"))
    (tmp_path / "b.pdf").write_bytes(make_pdf([PAGE_1], title="보도자료(0802).hwp"))
    assert clean(load_file(tmp_path / "a.pdf", tmp_path)).title == "부산시 일자리 대상 수상"
    assert clean(load_file(tmp_path / "b.pdf", tmp_path)).title == PAGE_1[0]  # from the text


def test_a_txt_document_has_no_pages(tmp_path):
    (tmp_path / "a.txt").write_text("\n".join(PAGE_1), encoding="utf-8")
    doc = clean(load_file(tmp_path / "a.txt", tmp_path))
    assert all(p.page is None for p in split_passages(doc, 400, 1))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "not a readable PDF"),
        (b"this is not a pdf at all", "not a readable PDF"),
        ("truncated", "not a readable PDF"),
        ("image-only", "without a text layer"),
    ],
)
def test_unreadable_pdfs_are_skipped_with_one_line(tmp_path, caplog, make_pdf, data, reason):
    if data == "truncated":
        data = make_pdf([PAGE_1])[:300]
    elif data == "image-only":
        data = make_pdf([[], []])
    (tmp_path / "bad.pdf").write_bytes(data)
    (tmp_path / "good.pdf").write_bytes(make_pdf([PAGE_1]))
    with pytest.raises(UnreadableFile, match=reason):
        load_file(tmp_path / "bad.pdf", tmp_path)
    skipped: list[Skipped] = []
    with caplog.at_level(logging.WARNING, logger="rag.ingest.loaders"):
        assert [d.doc_id for d in load_corpus(tmp_path, skipped=skipped)] == ["good.pdf"]
    assert [s.path for s in skipped] == ["bad.pdf"] and reason in skipped[0].reason
    lines = [r.getMessage() for r in caplog.records if r.name == "rag.ingest.loaders"]
    assert len(lines) == 1 and "\n" not in lines[0]
