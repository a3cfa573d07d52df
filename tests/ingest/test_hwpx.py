"""HWPX documents through the loader registry: paragraphs in order (tables included), the
package title, and broken or oversized packages skipped with one line."""

from __future__ import annotations

import io
import logging
import zipfile

import pytest

from rag.ingest import hwpx
from rag.ingest.cleaning import clean
from rag.ingest.loaders import Skipped, UnreadableFile, load_corpus, load_file
from rag.ingest.passages import split_passages

LEAD = "창원시는 올해 방위산업 육성 사업에 모두 300억원을 투입한다고 5일 밝혔다. 시는 방산 부품 국산화를 지원한다."
TABLE = (
    "<hp:p><hp:run><hp:tbl><hp:tr><hp:tc><hp:subList><hp:p><hp:run><hp:t>부품 국산화</hp:t>"
    "</hp:run></hp:p></hp:subList></hp:tc><hp:tc><hp:subList><hp:p><hp:run><hp:t>120억원</hp:t>"
    "</hp:run></hp:p></hp:subList></hp:tc></hp:tr></hp:tbl><hp:t>표 1. 사업별 예산</hp:t>"
    "</hp:run></hp:p>"
)
INLINE = "<hp:p><hp:run><hp:t>항목<hp:tab/>금액<hp:lineBreak/>둘째 줄</hp:t></hp:run></hp:p>"


def test_paragraphs_in_order_across_sections_and_tables(tmp_path, make_hwpx):
    sections = [
        ["보도자료", "창원시, 방위산업 육성에 300억 투입", LEAD, TABLE],
        [INLINE, "홍남표 시장은 방산 도시가 되겠다고 말했다."],
    ]
    (tmp_path / "release.hwpx").write_bytes(make_hwpx(sections, title="창원시 방위산업 보도자료"))
    source = load_file(tmp_path / "release.hwpx", tmp_path)
    assert source.text.split("\n") == [
        "보도자료",
        "창원시, 방위산업 육성에 300억 투입",
        LEAD,
        "표 1. 사업별 예산",  # the paragraph holding the table, then the cells' paragraphs
        "부품 국산화",
        "120억원",
        "항목\t금액",
        "둘째 줄",
        "홍남표 시장은 방산 도시가 되겠다고 말했다.",
    ]
    doc = clean(source)
    assert doc.title == "창원시 방위산업 보도자료"
    passages = split_passages(doc, chunk_chars=400, overlap_sentences=1)
    assert any("300억원" in p.text for p in passages)
    assert all(doc.text[p.start : p.end] == p.text for p in passages)


def test_ten_sections_are_read_in_numeric_order(tmp_path, make_hwpx):
    sections = [[f"{i}번째 구역의 문장입니다."] for i in range(11)]
    (tmp_path / "many.hwpx").write_bytes(make_hwpx(sections))
    text = load_file(tmp_path / "many.hwpx", tmp_path).text
    assert text.split("\n") == [f"{i}번째 구역의 문장입니다." for i in range(11)]


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def test_a_zip_bomb_is_not_unpacked(tmp_path, monkeypatch):
    monkeypatch.setattr(hwpx, "MAX_UNPACKED_BYTES", 100_000)
    padding = b"<hp:p><hp:run><hp:t>" + b" " * 5_000_000 + b"</hp:t></hp:run></hp:p>"
    bomb = _zip({"Contents/section0.xml": b"<hs:sec>" + padding + b"</hs:sec>"})
    assert len(bomb) < 50_000  # tiny on disk, 5 MB unpacked
    (tmp_path / "bomb.hwpx").write_bytes(bomb)
    with pytest.raises(UnreadableFile, match="unpacks to more than"):
        load_file(tmp_path / "bomb.hwpx", tmp_path)


def test_a_zip_that_lies_about_its_size_is_not_trusted(tmp_path, monkeypatch):
    monkeypatch.setattr(hwpx, "MAX_UNPACKED_BYTES", 100_000)
    data = bytearray(_zip({"Contents/section0.xml": b"<a>" + b" " * 1_000_000 + b"</a>"}))
    # Declare 100 bytes in the central directory (the size zipfile trusts).
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    (tmp_path / "liar.hwpx").write_bytes(bytes(data))
    with pytest.raises(UnreadableFile):
        load_file(tmp_path / "liar.hwpx", tmp_path)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04 broken zip", "not a readable HWPX"),
        (b"not a zip at all", "not a readable HWPX"),
        (_zip({"Contents/section0.xml": b"<hs:sec><hp:p>unclosed"}), "not a readable HWPX"),
        (_zip({"mimetype": b"application/hwp+zip"}), "no Contents/section"),
    ],
    ids=["broken-zip", "not-zip", "bad-xml", "no-sections"],
)
def test_unreadable_hwpx_is_skipped_with_one_line(tmp_path, caplog, make_hwpx, data, reason):
    (tmp_path / "bad.hwpx").write_bytes(data)
    (tmp_path / "good.hwpx").write_bytes(make_hwpx([[LEAD]]))
    skipped: list[Skipped] = []
    with caplog.at_level(logging.WARNING, logger="rag.ingest.loaders"):
        assert [d.doc_id for d in load_corpus(tmp_path, skipped=skipped)] == ["good.hwpx"]
    assert [s.path for s in skipped] == ["bad.hwpx"] and reason in skipped[0].reason
    lines = [r.getMessage() for r in caplog.records if r.name == "rag.ingest.loaders"]
    assert len(lines) == 1 and "\n" not in lines[0]
