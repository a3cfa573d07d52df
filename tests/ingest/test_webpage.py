"""Saved news pages (.html/.htm) through the loader registry: trafilatura's article text,
metadata from the page, page furniture kept out of passages, offsets into the stored text."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rag.ingest.cleaning import clean
from rag.ingest.loaders import UnreadableFile, load_corpus, load_file
from rag.ingest.passages import split_passages

BODY = [
    "부산시는 고용노동부가 주관한 2023년 전국 지방자치단체 일자리 대상에서 우수상을 받아 "
    "사업비 8500만원을 확보했다고 2일 밝혔다.",
    "시는 청년 일자리 사업과 신중년 재취업 지원 사업에서 좋은 평가를 받았다. 시 관계자는 "
    '"지역 기업과 함께 일자리를 늘려가겠다"고 말했다.',
    "인천시는 같은 평가에서 국무총리상을 수상했으며, 15~64세 고용률은 67.7%로 집계됐다.",
]
TITLE = "부산시, 전국 지자체 일자리대상 우수상 수상"
# Page furniture: none of it may reach a passage.
FURNITURE = [
    "정치",
    "로그인",
    "주요뉴스",
    "해운대 해수욕장 개장 첫날 인파 몰려",
    "많이 본 기사",
    "가덕도 신공항 착공 일정 발표",
    "댓글",
    "우리 동네도 일자리 좀 늘려주세요",
    "발행인",
    "부산광역시 동구 중앙대로 365",
    "무단전재",
    "All rights reserved",
]


def page(
    *,
    head: str | None = None,
    headline: str = f"<h1>{TITLE}</h1>",
    byline: str = '<div class="byline">홍길동 기자 | 입력 2023-08-02 10:30</div>',
    charset: str = "utf-8",
) -> str:
    if head is None:
        head = (
            f'<title>{TITLE} - 부산일보</title><meta property="og:title" content="{TITLE}">'
            '<meta property="og:site_name" content="부산일보">'
            '<meta property="article:published_time" content="2023-08-02T10:30:00+09:00">'
            '<link rel="canonical" href="https://www.busan.com/view/2023080212">'
        )
    paragraphs = "\n".join(f"<p>{p}</p>" for p in BODY)
    return f"""<!DOCTYPE html>
<html lang="ko"><head><meta charset="{charset}">{head}</head><body>
<header><nav><ul><li><a href="/">홈</a></li><li><a href="/politics">정치</a></li>
<li><a href="/economy">경제</a></li><li><a href="/login">로그인</a></li></ul></nav></header>
<div class="main"><article>{headline}{byline}
<div id="article-body">{paragraphs}</div></article>
<aside><h3>주요뉴스</h3><ul><li><a href="/a">해운대 해수욕장 개장 첫날 인파 몰려</a></li>
<li><a href="/b">부산 지하철 요금 인상 확정</a></li></ul>
<h3>많이 본 기사</h3><ul><li><a href="/c">서면 상권 되살아난다</a></li>
<li><a href="/d">가덕도 신공항 착공 일정 발표</a></li></ul></aside>
<section class="comments"><h3>댓글 2개</h3><div class="comment"><p>좋은 소식이네요 축하합니다</p></div>
<div class="comment"><p>우리 동네도 일자리 좀 늘려주세요 제발요</p></div></section></div>
<footer><p>부산일보사 | 부산광역시 동구 중앙대로 365 | 발행인 김부산 | 편집인 이편집</p>
<p>저작권자 © 부산일보 무단전재 및 재배포 금지</p><p>Copyright © Busan Ilbo. All rights reserved.</p>
</footer></body></html>"""


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def test_article_text_and_metadata_come_from_the_page(tmp_path):
    source = load_file(write(tmp_path, "busan.html", page()), tmp_path)
    assert source.doc_id == "busan.html"
    assert source.body_only
    assert source.meta.title == TITLE
    assert source.meta.outlet == "부산일보"
    assert source.meta.date == "2023-08-02"
    assert source.meta.reporter == "홍길동"  # from "홍길동 기자 | 입력 ...", role words dropped
    assert source.meta.url == "https://www.busan.com/view/2023080212"
    for paragraph in BODY:
        assert paragraph in source.text


def test_furniture_never_becomes_a_passage_and_offsets_verify(tmp_path):
    doc = clean(load_file(write(tmp_path, "busan.htm", page()), tmp_path))
    assert (doc.title, doc.outlet, doc.date, doc.reporter) == (
        TITLE,
        "부산일보",
        "2023-08-02",
        "홍길동",
    )
    passages = split_passages(doc, chunk_chars=400, overlap_sentences=1)
    assert passages
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        for junk in FURNITURE:
            assert junk not in p.text, (junk, p.text)
    body = " ".join(p.text for p in passages)
    assert "8500만원" in body and "국무총리상" in body and "67.7%" in body


def test_title_falls_back_to_h1_when_the_page_names_only_the_site(tmp_path):
    head = (
        "<title>부산일보</title>"
        '<meta property="og:title" content="부산일보">'
        '<meta property="og:site_name" content="부산일보">'
    )
    source = load_file(write(tmp_path, "a.html", page(head=head)), tmp_path)
    assert source.meta.title == TITLE
    assert source.meta.outlet == "부산일보"


def test_a_korean_author_in_a_meta_tag_is_kept(tmp_path):
    # Trafilatura drops one-word authors; a Korean name is one word.
    head = '<meta property="og:site_name" content="부산일보"><meta name="author" content="김철수 기자">'
    source = load_file(write(tmp_path, "a.html", page(head=head, byline="")), tmp_path)
    assert source.meta.reporter == "김철수"
    assert source.meta.date is None  # no date anywhere on the page: none is made up


def test_a_euc_kr_page_is_decoded(tmp_path):
    html = page(charset="euc-kr").replace("©", "(c)")  # © is not in EUC-KR
    source = load_file(write(tmp_path, "old.html", html, "cp949"), tmp_path)
    assert source.encoding == "cp949"
    assert BODY[0] in source.text


@pytest.mark.parametrize(
    "content",
    [
        b"",
        "<html><body><nav><ul><li><a href='/'>홈</a></li><li><a href='/b'>정치</a></li></ul>"
        "</nav><footer>Copyright 2024</footer></body></html>".encode(),
        b"\x89PNG\r\n\x1a\n\x00\x00binary",
    ],
    ids=["empty", "no-article", "binary"],
)
def test_a_page_without_an_article_is_skipped_with_one_line(tmp_path, caplog, content):
    (tmp_path / "bad.html").write_bytes(content)
    write(tmp_path, "good.html", page())
    with pytest.raises(UnreadableFile):
        load_file(tmp_path / "bad.html", tmp_path)
    with caplog.at_level(logging.WARNING, logger="rag.ingest.loaders"):
        docs = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["good.html"]
    lines = [r.getMessage() for r in caplog.records if "bad.html" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0]
