"""Unit tests for ``rag.ingest.loaders``: decoding, corpus walking, skipping and checksums."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import pytest

from rag.ingest.loaders import (
    LOADERS,
    Metadata,
    Skipped,
    SourceFile,
    UnreadableFile,
    corpus_files,
    decode_bytes,
    load_corpus,
    load_file,
)

# Every character here exists in EUC-KR (KS X 1001), so all four encodings can carry it.
KOREAN = (
    "부산시, 전국 지자체 일자리대상 우수상 수상\n"
    "\n"
    "부산시는 이번 일자리 대상 수상으로 고용노동부로부터 사업비 8500만원을 확보했다.\n"
    "인천시는 2일 국무총리상을 수상했다. (15~64세) 고용률 67.7%!\n"
)

LOGGER = "rag.ingest.loaders"


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def ids(files: list[SourceFile]) -> list[str]:
    return [f.doc_id for f in files]


# --- decoding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "data", "reported"),
    [
        ("utf-8", KOREAN.encode("utf-8"), "utf-8"),
        ("utf-8 with BOM", b"\xef\xbb\xbf" + KOREAN.encode("utf-8"), "utf-8"),
        ("cp949", KOREAN.encode("cp949"), "cp949"),
        ("euc-kr", KOREAN.encode("euc-kr"), "cp949"),
    ],
)
def test_decode_bytes_korean_encodings_give_the_same_text(encoding, data, reported):
    text, used = decode_bytes(data)
    assert text == KOREAN, encoding
    assert not text.startswith("\ufeff")
    assert used == reported


def test_cp949_only_syllables_decode():
    # "똠" and "햏" are in CP949's extension, outside EUC-KR's 2,350 syllables.
    sample = "똠방각하와 햏자는 기사를 읽었다.\n"
    assert decode_bytes(sample.encode("cp949")) == (sample, "cp949")


@pytest.mark.parametrize(
    "name,data",
    [
        ("utf-8.txt", KOREAN.encode("utf-8")),
        ("bom.txt", b"\xef\xbb\xbf" + KOREAN.encode("utf-8")),
        ("cp949.txt", KOREAN.encode("cp949")),
        ("euckr.txt", KOREAN.encode("euc-kr")),
    ],
)
def test_load_file_decodes_every_encoding_to_the_same_text(tmp_path, name, data):
    path = write(tmp_path / name, data)
    source = load_file(path, tmp_path)
    assert source.text == KOREAN
    assert source.doc_id == name
    assert source.path == path


def test_load_corpus_all_encodings_agree(tmp_path):
    write(tmp_path / "a_utf8.txt", KOREAN.encode("utf-8"))
    write(tmp_path / "b_bom.txt", b"\xef\xbb\xbf" + KOREAN.encode("utf-8"))
    write(tmp_path / "c_cp949.txt", KOREAN.encode("cp949"))
    write(tmp_path / "d_euckr.txt", KOREAN.encode("euc-kr"))
    files = load_corpus(tmp_path)
    assert ids(files) == ["a_utf8.txt", "b_bom.txt", "c_cp949.txt", "d_euckr.txt"]
    assert {f.text for f in files} == {KOREAN}
    assert [f.encoding for f in files] == ["utf-8", "utf-8", "cp949", "cp949"]


def test_decoding_keeps_text_as_is():
    # Offsets are into this text, so CRLF, tabs and odd spaces must survive untouched.
    sample = "제목\r\n\r\n\t본문 첫 줄입니다.  \r\n둘째 줄\u3000끝.\n"
    assert decode_bytes(sample.encode("utf-8"))[0] == sample
    assert decode_bytes(sample.encode("cp949"))[0] == sample
    with_nbsp = "본문\u00a0첫 줄\u200b입니다.\n"  # not encodable in CP949
    assert decode_bytes(with_nbsp.encode("utf-8"))[0] == with_nbsp


def test_decode_bytes_rejects_nul_bytes():
    with pytest.raises(UnreadableFile, match="binary"):
        decode_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")


# --- skipping unreadable files ----------------------------------------------------------


def test_binary_and_empty_files_are_skipped_with_a_warning(tmp_path, caplog):
    write(tmp_path / "good.txt", KOREAN.encode("utf-8"))
    write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    write(tmp_path / "empty.txt", b"")
    write(tmp_path / "blank.txt", b" \r\n\t\n   \n")
    write(tmp_path / "bom_only.txt", b"\xef\xbb\xbf\n")
    write(tmp_path / "sub" / "also_good.txt", KOREAN.encode("cp949"))

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        files = load_corpus(tmp_path)

    assert ids(files) == ["good.txt", "sub/also_good.txt"]
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    messages = [r.getMessage() for r in warnings]
    assert len(messages) == 4, messages
    for name in ("image.txt", "empty.txt", "blank.txt", "bom_only.txt"):
        assert any(name in m for m in messages), (name, messages)
    assert any("image.txt" in m and "binary" in m for m in messages)
    assert any("empty.txt" in m and "empty" in m for m in messages)
    assert any("blank.txt" in m and "empty" in m for m in messages)


@pytest.mark.parametrize(
    "data",
    [
        "한국어 문장입니다".encode()[:-1],  # UTF-8 cut in the middle of a syllable
        b"\xff\xfe\xfd\x80\x80\x81\xff",  # neither UTF-8 nor CP949
        "일자리 대상".encode("cp949") + b"\x80\xff",  # CP949 with invalid trailing bytes
        b"\xc0\xaf\xe0\x80\xaf" * 50,  # overlong UTF-8 sequences
    ],
)
def test_undecodable_bytes_do_not_raise_out_of_load_corpus(tmp_path, caplog, data):
    write(tmp_path / "bad.txt", data)
    write(tmp_path / "good.txt", KOREAN.encode("utf-8"))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        files = load_corpus(tmp_path)  # must not raise
    assert "good.txt" in ids(files)
    by_id = {f.doc_id: f for f in files}
    if "bad.txt" in by_id:  # a guessed decoding is acceptable, as long as it is text
        assert isinstance(by_id["bad.txt"].text, str) and by_id["bad.txt"].text.strip()
    else:
        assert any("bad.txt" in r.getMessage() for r in caplog.records if r.name == LOGGER)


def test_load_file_raises_unreadable_for_empty_file(tmp_path):
    path = write(tmp_path / "empty.txt", b"   \n")
    with pytest.raises(UnreadableFile, match="empty"):
        load_file(path, tmp_path)


def test_utf8_file_with_truncated_last_character_still_loads(tmp_path):
    body = "부산시는 사업비 8500만원을 확보했다. 지역 일자리 사업에 활용할 계획이다."
    write(tmp_path / "cut.txt", (body + "박").encode("utf-8")[:-1])
    files = load_corpus(tmp_path)
    assert ids(files) == ["cut.txt"]
    assert files[0].text.startswith(body)


# --- walking the corpus folder ----------------------------------------------------------


def test_doc_id_is_relative_posix_path_for_nested_folders(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "top.txt", KOREAN.encode())
    write(corpus / "2023" / "08" / "busan.txt", KOREAN.encode())
    write(corpus / "2023" / "incheon.txt", KOREAN.encode())
    files = load_corpus(corpus)
    assert ids(files) == ["2023/08/busan.txt", "2023/incheon.txt", "top.txt"]
    for f in files:
        assert "\\" not in f.doc_id
        assert f.path == corpus / f.doc_id
        assert f.path.is_absolute() == corpus.is_absolute()


def test_hidden_files_and_folders_are_ignored(tmp_path):
    corpus = tmp_path / "corpus"
    write(corpus / "visible.txt", KOREAN.encode())
    write(corpus / ".hidden.txt", KOREAN.encode())
    write(corpus / ".git" / "notes.txt", KOREAN.encode())
    write(corpus / "sub" / ".cache" / "deep.txt", KOREAN.encode())
    write(corpus / "sub" / ".secret.txt", KOREAN.encode())
    write(corpus / "sub" / "kept.txt", KOREAN.encode())
    assert [p.relative_to(corpus).as_posix() for p in corpus_files(corpus)] == [
        "sub/kept.txt",
        "visible.txt",
    ]
    assert ids(load_corpus(corpus)) == ["sub/kept.txt", "visible.txt"]


def test_a_hidden_corpus_folder_itself_is_fine(tmp_path):
    # Only parts *below* the corpus folder count as hidden.
    corpus = tmp_path / ".data" / "corpus"
    write(corpus / "a.txt", KOREAN.encode())
    assert ids(load_corpus(corpus)) == ["a.txt"]


def test_unsupported_suffixes_are_ignored(tmp_path):
    write(tmp_path / "article.txt", KOREAN.encode())
    write(tmp_path / "UPPER.TXT", KOREAN.encode())  # suffix match is case-insensitive
    for name in ("notes.rtf", "page.xml", "data.json", "README", "archive.txt.gz", "x.hwp"):
        write(tmp_path / name, KOREAN.encode())
    (tmp_path / "folder.txt").mkdir()  # a directory with a supported suffix is not a file
    assert set(LOADERS) == {
        ".txt",
        ".md",
        ".markdown",
        ".html",
        ".htm",
        ".pdf",
        ".hwpx",
        ".jsonl",
        ".csv",
    }
    assert ids(load_corpus(tmp_path)) == ["UPPER.TXT", "article.txt"]


def test_missing_corpus_folder_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_corpus(tmp_path / "nope")
    with pytest.raises(FileNotFoundError):
        corpus_files(tmp_path / "nope")
    a_file = write(tmp_path / "file.txt", KOREAN.encode())
    with pytest.raises(FileNotFoundError):
        load_corpus(a_file)


def test_empty_corpus_folder_gives_no_files(tmp_path):
    assert load_corpus(tmp_path) == []


def test_order_is_stable(tmp_path):
    for name in ("b.txt", "a.txt", "c/a.txt", "0.txt"):
        write(tmp_path / name, KOREAN.encode())
    first = ids(load_corpus(tmp_path))
    assert first == sorted(first)
    assert ids(load_corpus(tmp_path)) == first


# --- checksums --------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "cp949"])
def test_checksum_is_sha256_of_the_raw_bytes(tmp_path, codec):
    data = KOREAN.encode(codec)
    path = write(tmp_path / "a.txt", data)
    assert load_file(path, tmp_path).checksum == hashlib.sha256(data).hexdigest()


def test_checksum_changes_when_the_file_changes(tmp_path):
    path = write(tmp_path / "a.txt", KOREAN.encode())
    before = load_file(path, tmp_path).checksum
    assert load_file(path, tmp_path).checksum == before  # deterministic

    path.write_bytes((KOREAN + "추가 문장입니다.\n").encode())
    after = load_file(path, tmp_path).checksum
    assert after != before

    # Same text, different bytes: the checksum follows the bytes.
    path.write_bytes(KOREAN.encode("cp949"))
    reencoded = load_file(path, tmp_path)
    assert reencoded.text == KOREAN
    assert reencoded.checksum not in (before, after)


# --- hostile corpora -------------------------------------------------------------------------


def test_links_leading_outside_the_corpus_are_not_read(tmp_path, caplog):
    outside = write(tmp_path / "secret" / "passwd.txt", b"root:x:0:0\n")
    corpus = tmp_path / "corpus"
    write(corpus / "a.txt", KOREAN.encode())
    (corpus / "leak.txt").symlink_to(outside)
    (corpus / "leakdir").symlink_to(outside.parent, target_is_directory=True)
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)
    (corpus / "inside.txt").symlink_to(corpus / "a.txt")  # stays inside: fine
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert ids(load_corpus(corpus)) == ["a.txt", "inside.txt"]
    assert "leak.txt: a link to outside the corpus folder" in caplog.text
    assert "leakdir: a link to outside" in caplog.text


def test_a_very_deep_folder_tree_is_walked_without_recursion(tmp_path):
    corpus = deep = tmp_path / "c"
    corpus.mkdir()
    for _ in range(1000):  # one level at a time: mkdir(parents=True) recurses too
        deep = deep / "d"
        deep.mkdir()
    (deep / "a.txt").write_bytes(KOREAN.encode())
    try:
        assert [p.name for p in corpus_files(corpus)] == ["a.txt"]
    finally:  # bottom-up: pytest's own clean-up (shutil.rmtree) would overflow the stack
        (deep / "a.txt").unlink()
        while deep != corpus:
            deep.rmdir()
            deep = deep.parent


def test_an_undecodable_file_name_skips_that_file_alone(tmp_path, caplog):
    corpus = tmp_path / "corpus"
    write(corpus / "good.txt", KOREAN.encode())
    bad = os.path.join(os.fsencode(corpus), b"bad\xff.txt")
    with open(bad, "wb") as f:
        f.write(KOREAN.encode())
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert ids(load_corpus(corpus)) == ["good.txt"]
    assert "bad\\xff.txt: file name is not valid UTF-8" in caplog.text


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom_is_text_not_binary(tmp_path, codec):
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    path = write(tmp_path / "u.txt", bom + KOREAN.encode(codec))
    assert load_file(path, tmp_path).text == KOREAN


def test_a_huge_file_is_skipped_before_reading(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("rag.ingest.loaders.MAX_FILE_BYTES", 1000)
    write(tmp_path / "big.txt", KOREAN.encode() * 20)
    write(tmp_path / "small.txt", KOREAN.encode())
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert ids(load_corpus(tmp_path)) == ["small.txt"]
    assert "big.txt: too large" in caplog.text


# --- other formats: Markdown here; HTML, exports, PDF and HWPX in their own test files -------


def test_markdown_is_read_as_is_with_its_first_heading_as_title(tmp_path):
    text = "---\n\n# 부산시 일자리 대상 #\r\n\n## 개요\n\n**부산시**는 사업비 8500만원을 확보했다.\n# 둘째 제목\n"
    path = write(tmp_path / "notes.md", text.encode("cp949"))
    source = load_file(path, tmp_path)
    assert source.text == text  # offsets are into the raw file
    assert source.meta.title == "부산시 일자리 대상"
    assert not source.body_only
    plain = load_file(write(tmp_path / "plain.markdown", b"no heading here\n"), tmp_path)
    assert plain.meta.title is None


def test_txt_files_carry_no_stated_metadata(tmp_path):
    source = load_file(write(tmp_path / "a.txt", KOREAN.encode()), tmp_path)
    assert source.meta == Metadata() and not source.body_only and source.page_starts == ()


def test_a_mixed_corpus_reads_every_format_and_lists_what_it_skipped(
    tmp_path, caplog, make_pdf, make_hwpx
):
    body = "부산시는 일자리 대상에서 우수상을 받아 사업비 8500만원을 확보했다고 밝혔다."
    write(tmp_path / "a.txt", KOREAN.encode())
    write(tmp_path / "b.md", f"# 제목\n\n{body}\n".encode())
    write(
        tmp_path / "c.html",
        f"<html><head><title>t</title></head><body><article><p>{body}</p><p>{body} 또한 인천시도 상을 받았다.</p></article></body></html>".encode(),
    )
    write(tmp_path / "d.jsonl", f'{{"id": 1, "body": "{body}"}}\n{{broken\n'.encode())
    write(tmp_path / "e.csv", f"title,body\n제목,{body}\n".encode())
    write(tmp_path / "f.pdf", make_pdf([[body]]))
    write(tmp_path / "g.hwpx", make_hwpx([[body]]))
    write(tmp_path / "h.pdf", b"%PDF-1.4 broken")
    write(tmp_path / "i.hwpx", b"PK\x03\x04 broken")
    write(tmp_path / "j.txt", b"")
    skipped: list[Skipped] = []
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        files = load_corpus(tmp_path, skipped=skipped)
    assert ids(files) == ["a.txt", "b.md", "c.html", "d.jsonl#1", "e.csv#1", "f.pdf", "g.hwpx"]
    assert [(s.path, s.row) for s in skipped] == [
        ("d.jsonl", "line 2"),
        ("h.pdf", None),
        ("i.hwpx", None),
        ("j.txt", None),
    ]
    assert [str(s) for s in skipped][0].startswith("d.jsonl (line 2): not valid JSON")
    assert len([r for r in caplog.records if r.name == LOGGER]) == len(skipped)
    for f in files:
        assert body in f.text or f.doc_id == "a.txt"


def test_links_outside_the_corpus_are_listed_as_skipped(tmp_path):
    outside = write(tmp_path / "secret.txt", KOREAN.encode())
    corpus = tmp_path / "corpus"
    write(corpus / "a.txt", KOREAN.encode())
    (corpus / "leak.txt").symlink_to(outside)
    skipped: list[Skipped] = []
    assert ids(load_corpus(corpus, skipped=skipped)) == ["a.txt"]
    assert skipped == [Skipped("leak.txt", "a link to outside the corpus folder")]
