"""Unit tests for ``rag.ingest.cleaning``: body spans and metadata, on the seeds and synthetic pages."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from rag.ingest.cleaning import CleanDocument, clean
from rag.ingest.loaders import Metadata, SourceFile, load_file

SEEDS = Path(__file__).parents[2] / "seeds"


@cache
def seed(prefix: str) -> CleanDocument:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return clean(load_file(path, SEEDS))


def spans(doc: CleanDocument) -> list[tuple[int, int]]:
    return [span for block in doc.blocks for span in block]


def paragraphs(doc: CleanDocument) -> list[str]:
    return [doc.text[s:e] for s, e in spans(doc)]


def body(doc: CleanDocument) -> str:
    return "\n".join(paragraphs(doc))


def synthetic(
    text: str, meta: Metadata | None = None, body_only: bool = False, doc_id: str = "synthetic.txt"
) -> CleanDocument:
    """A text cleaned as if read from a file, with the metadata its loader stated."""
    source = SourceFile(
        doc_id, Path(doc_id), text, "utf-8", "0" * 64, meta or Metadata(), body_only
    )
    return clean(source)


def assert_well_formed(doc: CleanDocument) -> None:
    flat = spans(doc)
    assert flat, "no body at all"
    for block in doc.blocks:
        assert block, "empty block"
    for s, e in flat:
        assert 0 <= s < e <= len(doc.text)
        piece = doc.text[s:e]
        assert piece.strip(), (s, e)
        assert piece == piece.strip(), repr(piece)
        assert "\n" not in piece and "\r" not in piece, repr(piece)
    for (_, e1), (s2, _) in zip(flat, flat[1:], strict=False):
        assert e1 <= s2, "spans overlap or are out of order"


SEED_IDS = ["000", "001", "002", "003", "004"]


# --- seeds: structure ---------------------------------------------------------------


@pytest.mark.parametrize("prefix", SEED_IDS)
def test_seed_spans_are_stripped_ordered_and_disjoint(prefix):
    doc = seed(prefix)
    assert doc.text == (next(SEEDS.glob(f"{prefix}_*.txt"))).read_text(encoding="utf-8")
    assert doc.doc_id.startswith(prefix)
    assert len(doc.checksum) == 64
    assert_well_formed(doc)


@pytest.mark.parametrize("prefix", SEED_IDS)
def test_seed_copyright_lines_are_not_body(prefix):
    text = body(seed(prefix))
    for marker in ("저작권자", "무단전재", "무단 전재", "재배포", "©", "ⓒ"):
        assert marker not in text, marker


# --- seeds: furniture removed ---------------------------------------------------------


def test_001_latest_news_block_and_comment_link_are_not_body():
    text = body(seed("001"))
    for junk in ("구미시", "화천군", "인제활성화사업단", "PHOTO NEWS", "많이 본 기사", "최신뉴스"):
        assert junk not in text, junk
    assert "뉴스댓글" not in text
    assert "더보기" not in text
    assert "인쇄" not in text
    assert "▲ 인천시청" not in text
    # The article's own last paragraph is still there.
    assert paragraphs(seed("001"))[-1].startswith("박찬훈 시 경제산업본부장은")


def test_003_comment_widget_and_toolbar_are_not_body():
    text = body(seed("003"))
    for junk in ("닫기", "로그인", "신고", "댓글", "차단", "0 / 300", "0 / 100", "도구모음"):
        assert junk not in text, junk
    assert "글자크기" not in text
    assert "컴패션_PC" not in text
    assert "기사 이미지 확대 보기" not in text
    assert "실시간 인기" not in text
    assert "사진강원도" not in text and "[사진=강원도]" not in text
    assert paragraphs(seed("003"))[-1].startswith("김진태 강원도지사는")


def test_000_duplicated_photo_caption_appears_at_most_once():
    doc = seed("000")
    text = body(doc)
    caption = (
        "인천광역시는 2일 ‘2023년 전국 지방자치단체 일자리대상’ 일자리 공시제 부문 "
        "대상을 차지해 국무총리상을 수상했다."
    )
    assert doc.text.count(caption) == 2  # the file really does repeat it
    assert text.count(caption) <= 1
    assert "사진제공" not in text
    assert "=인천광역시" not in text


def test_002_repeated_title_and_byline_are_not_body():
    doc = seed("002")
    text = body(doc)
    title = "의정부시, 2023년 전국 지방자치단체 일자리 대상 우수상 수상"
    assert doc.text.count(title) == 2
    assert title not in paragraphs(doc)
    assert title not in text
    for junk in ("노영찬", "대표기자", "기사입력", "입력 :", "[17:46]", "도배방지", "기사보기"):
        assert junk not in text, junk
    assert "핫타임뉴스" not in text
    assert paragraphs(doc)[0].startswith("의정부시(시장 김동근)가 8월 2일")
    assert paragraphs(doc)[-1].startswith("김동근 시장은")


def test_004_comment_box_and_closing_byline_are_not_body():
    doc = seed("004")
    text = body(doc)
    assert "댓글" not in text
    assert "inutil@naver.com" not in text
    assert "(0)" not in text
    assert "/사진=" not in text and "사진=부산시" not in text
    assert "서수원" not in text
    assert "[스마트에프엔" not in text  # the dateline is trimmed from the lead paragraph
    assert any(p.startswith("부산시는 2일 정부 세종컨벤션센터에서") for p in paragraphs(doc))
    assert paragraphs(doc)[-1].startswith("박형준 부산시장은")


def test_001_dateline_is_trimmed_from_the_lead():
    first = paragraphs(seed("001"))[0]
    assert first.startswith("인천광역시는 8일")
    assert "[뉴스스텝]" not in body(seed("001"))


@pytest.mark.parametrize(
    ("prefix", "sentence"),
    [
        ("004", "사업비 8500만원을 확보"),
        ("004", "총 2년간 17억4000만원을 투입해"),
        ("000", "2억4,000만 원"),
        ("000", "500만원의 추가 인센티브 사업비를 확보했다."),
        ("003", "1억3500만원"),
        ("003", "6년 연속 수상이라는 쾌거를 이루었다."),
        ("002", "7천만 원"),
        ("002", "여성 고용률은 58.2%로 전년 대비 4.4%p 상승했다."),
        ("001", "2,263개"),
        ("001", "‘뿌리산업 일자리센터 운영’이 높은 평가를 받았다."),
    ],
)
def test_key_content_is_kept_inside_one_paragraph(prefix, sentence):
    assert any(sentence in p for p in paragraphs(seed(prefix))), sentence


# --- seeds: metadata ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "title"),
    [
        ("001", "인천시, 전국 지자체 일자리대상 우수사업 부문 우수상 수상"),
        ("002", "의정부시, 2023년 전국 지방자치단체 일자리 대상 우수상 수상"),
        ("003", "강원도, 2023 전국 지방자치단체 일자리대상"),
        ("004", "부산시, ‘전국 지자체 일자리대상’ 우수상 수상"),
    ],
)
def test_seed_titles(prefix, title):
    assert seed(prefix).title == title


def test_000_title_is_a_real_line_without_photo_credit():
    title = seed("000").title
    assert title and title in seed("000").text
    assert "사진제공" not in title


@pytest.mark.parametrize(
    ("prefix", "outlet"),
    [
        ("000", "이로운넷"),
        ("001", "뉴스스텝"),
        ("002", "핫타임뉴스"),
        ("003", "아주경제"),
        ("004", "스마트에프엔"),
    ],
)
def test_seed_outlets(prefix, outlet):
    assert seed(prefix).outlet == outlet


@pytest.mark.parametrize(
    ("prefix", "date"),
    [
        ("000", None),
        ("001", "2024-08-08"),
        ("002", "2023-08-03"),
        ("003", "2023-08-03"),
        ("004", "2023-08-02"),
    ],
)
def test_seed_dates(prefix, date):
    assert seed(prefix).date == date


@pytest.mark.parametrize(
    ("prefix", "reporter"),
    [("001", "최선경"), ("002", "노영찬"), ("004", "서수원")],
)
def test_seed_reporters(prefix, reporter):
    assert seed(prefix).reporter == reporter


def test_003_reporter_names_the_first_author():
    reporter = seed("003").reporter
    assert reporter is not None and "강대웅" in reporter
    assert "기자" not in reporter and "춘천" not in reporter


# --- synthetic pages -------------------------------------------------------------------

TITLE = "서울시, 청년 일자리 지원 사업 시작"
P1 = (
    "서울시는 오늘 청년 일자리 지원 사업을 새로 시작한다고 밝혔다. "
    "이번 사업은 만 19세부터 34세까지의 청년을 대상으로 한다."
)
P2 = (
    "시는 올해 총 50억원의 예산을 투입해 청년 3천 명에게 "
    "맞춤형 취업 상담과 직무 교육을 제공할 계획이다."
)
P3 = (
    "오세훈 시장은 “청년이 꿈을 펼칠 수 있는 도시를 만들겠다”고 말했다. "
    "신청은 다음 달 1일부터 받는다."
)


def test_synthetic_most_read_list_after_the_article_is_not_body():
    text = (
        f"{TITLE}\n\n홍길동 기자 2024-03-05 10:00\n\n{P1}\n\n{P2}\n\n{P3}\n\n"
        "많이 본 기사\n\n"
        "대전시, 과학 축제에 시민 10만 명 방문했다고 밝혔다. "
        "이번 축제는 매우 성공적이었다고 평가했다.\n"
        "부산 해운대 해수욕장 조기 개장\n"
        "1\n광주시, 인공지능 산업 육성 계획 발표\n"
    )
    doc = synthetic(text)
    assert_well_formed(doc)
    assert paragraphs(doc) == [P1, P2, P3]
    assert len(doc.blocks) == 1
    for junk in ("많이 본 기사", "대전시", "해운대", "광주시"):
        assert junk not in body(doc)
    assert (doc.title, doc.reporter, doc.date) == (TITLE, "홍길동", "2024-03-05")


@pytest.mark.parametrize("marker", ["최신뉴스", "관련기사", "인기 기사", "이 시각 주요뉴스"])
def test_synthetic_other_end_markers_cut_the_rest(marker):
    other = "다른 기사의 긴 첫 문단이 여기에 이어지는데 이것은 본문이 아니어야 한다고 본다."
    text = f"{TITLE}\n\n{P1}\n\n{P2}\n\n{marker}\n\n{other}\n"
    doc = synthetic(text)
    assert paragraphs(doc) == [P1, P2]


def test_synthetic_comment_box_in_the_middle_is_not_body():
    box = [
        "댓글 0",
        "로그인 후 댓글작성이 가능합니다.",
        "0 / 300",
        "※ 댓글 작성시 상대방에 대한 배려와 책임을 담아 깨끗한 댓글 환경에 동참에 주세요.",
        "신고하기",
        "닫기",
    ]
    text = f"{TITLE}\n\n홍길동 기자 2024-03-05\n\n{P1}\n\n" + "\n".join(box) + f"\n\n{P2}\n\n{P3}\n"
    doc = synthetic(text)
    assert_well_formed(doc)
    assert paragraphs(doc) == [P1, P2, P3]
    # The cut-out furniture splits the body: no passage may span it.
    assert doc.blocks == [[spans(doc)[0]], spans(doc)[1:]]
    for line in box:
        assert line not in body(doc)
    assert "댓글" not in body(doc)


def test_synthetic_comment_box_buttons_are_not_body():
    box = ["댓글 0", "로그인 후 댓글작성이 가능합니다.", "0 / 300", "등록", "취소"]
    text = f"{TITLE}\n\n{P1}\n\n" + "\n".join(box) + f"\n\n{P2}\n"
    doc = synthetic(text)
    assert paragraphs(doc) == [P1, P2]


def test_synthetic_dateline_is_trimmed_and_gives_outlet_and_reporter():
    text = f"{TITLE}\n\n[뉴스1=홍길동 기자] {P1}\n\n{P2}\n"
    doc = synthetic(text)
    assert_well_formed(doc)
    first_start, _ = spans(doc)[0]
    assert doc.text[first_start:].startswith(P1)
    assert text[first_start - len("[뉴스1=홍길동 기자] ") : first_start] == "[뉴스1=홍길동 기자] "
    assert paragraphs(doc) == [P1, P2]
    assert doc.outlet == "뉴스1"
    assert doc.reporter == "홍길동"
    assert doc.title == TITLE


def test_synthetic_dateline_without_reporter_gives_outlet_only():
    doc = synthetic(f"{TITLE}\n\n[뉴스스텝] {P1}\n\n{P2}\n")
    assert paragraphs(doc) == [P1, P2]
    assert doc.outlet == "뉴스스텝"
    assert doc.reporter is None


def test_synthetic_crlf_line_endings_keep_exact_offsets():
    lines = [
        TITLE,
        "",
        "홍길동 기자 | 입력 2024.03.05 10:00",
        "  • 인쇄",
        "",
        f"  [뉴스1=홍길동 기자] {P1}  ",
        "",
        f"{P2}\t",
        "",
        f"{P3} /사진=서울시",
        "",
        "ⓒ 뉴스1 무단전재 및 재배포 금지",
        "",
    ]
    crlf = synthetic("\r\n".join(lines))
    lf = synthetic("\n".join(lines))
    for doc in (crlf, lf):
        assert_well_formed(doc)
        assert paragraphs(doc) == [P1, P2, P3]
        assert (doc.title, doc.outlet, doc.reporter, doc.date) == (
            TITLE,
            "뉴스1",
            "홍길동",
            "2024-03-05",
        )
    # Offsets shift by one per earlier line break, and point at the same text.
    for (s1, e1), (s2, e2) in zip(spans(crlf), spans(lf), strict=True):
        assert crlf.text[s1:e1] == lf.text[s2:e2]
        breaks_before = lf.text.count("\n", 0, s2)
        assert (s1 - s2, e1 - e2) == (breaks_before, breaks_before)


def test_synthetic_crlf_mixed_with_lone_cr_and_lf():
    text = f"{TITLE}\r\n\r\n{P1}\r{P2}\n\r\n{P3}\r\n"
    doc = synthetic(text)
    assert_well_formed(doc)
    assert paragraphs(doc) == [P1, P2, P3]
    for (s, e), expected in zip(spans(doc), (P1, P2, P3), strict=True):
        assert text.index(expected) == s and s + len(expected) == e


def test_synthetic_repeated_paragraph_is_kept_once():
    doc = synthetic(f"{TITLE}\n\n{P1}\n\n{P2}\n\n{P1}\n\n{P3}\n")
    assert paragraphs(doc) == [P1, P2, P3]


def test_synthetic_without_header_uses_first_body_paragraph_as_title():
    doc = synthetic(f"{P1}\n\n{P2}\n")
    assert paragraphs(doc) == [P1, P2]
    assert doc.title == P1[:100]


def test_synthetic_sentence_mentioning_copyright_holders_is_body():
    lead = (
        "문화체육관광부는 창작자 보호를 강화하고 불법 유통을 막기 위한 저작권법 개정안을 "
        "5일 입법예고한다고 밝혔다."
    )
    middle = "개정안은 저작권자의 허락 없이 음원을 내려받는 행위의 처벌을 강화했다."
    text = f"문체부, 저작권법 개정안 발표\n\n홍길동 기자 2024-03-05\n\n{lead}\n\n{middle}\n\n{P2}\n"
    assert paragraphs(synthetic(text)) == [lead, middle, P2]


def test_synthetic_short_article_header_is_not_body():
    lead = "인천시는 2일 일자리 대상을 받았다고 밝혔다."
    rest = "시는 사업비 5억원을 확보했다."
    doc = synthetic(
        f"인천시, 일자리 대상 수상\n\n홍길동 기자 2024-03-05 10:00\n\n{lead}\n\n{rest}\n"
    )
    assert paragraphs(doc) == [lead, rest]
    assert (doc.date, doc.reporter) == ("2024-03-05", "홍길동")


# --- metadata a format states (HTML, exports, PDF/HWPX titles) ------------------------------


STATED_PAGE = (
    "부산시 일자리 대상 수상\n"
    "부산일보\n"
    "홍길동 기자 입력 2023.08.02 10:30\n"
    "\n"
    "부산시는 고용노동부가 주관한 2023년 전국 지방자치단체 일자리 대상에서 우수상을 받아 사업비를 확보했다.\n"
)


def test_stated_metadata_wins_and_evidence_stays_only_where_the_text_agrees():
    guessed = synthetic(STATED_PAGE)
    assert (guessed.outlet, guessed.reporter, guessed.date) == ("부산일보", "홍길동", "2023-08-02")
    doc = synthetic(
        STATED_PAGE,
        Metadata(title="기사 제목", outlet="부산일보", reporter="김철수", date="2023-08-03T09:00"),
    )
    assert (doc.title, doc.outlet, doc.reporter, doc.date) == (
        "기사 제목",
        "부산일보",
        "김철수",
        "2023-08-03",
    )
    assert "outlet" in doc.evidence  # the text says the same: its quote still proves it
    assert "reporter" not in doc.evidence and "date" not in doc.evidence
    assert paragraphs(doc) == paragraphs(guessed)  # the body does not depend on metadata


def test_an_extracted_body_has_no_header_and_moved_bylines_are_dropped():
    text = (
        "창원시는 방산에 300억원을 쓴다.\n"  # a short lead: in a file it would look like a title
        "시는 방산 부품 국산화 지원과 수출 상담회 개최 등 12개 사업을 추진한다고 5일 밝혔다.\n"
        "창원시, 방위산업 육성에 300억 투입\n"  # the headline, moved below the body by the extractor
        "입력 2024-03-05 09:00 | 김철수 기자\n"
    )
    doc = synthetic(text, Metadata(title="창원시, 방위산업 육성에 300억 투입"), body_only=True)
    assert paragraphs(doc) == [
        "창원시는 방산에 300억원을 쓴다.",
        "시는 방산 부품 국산화 지원과 수출 상담회 개최 등 12개 사업을 추진한다고 5일 밝혔다.",
    ]
    assert (doc.reporter, doc.date) == ("김철수", "2024-03-05")
    assert (
        synthetic(text).title == "창원시는 방산에 300억원을 쓴다."
    )  # as a .txt: header rules apply
