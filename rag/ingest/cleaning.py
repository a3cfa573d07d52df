"""Separate an article from its page furniture, and read its metadata.

News pages scraped as text carry bylines, share widgets, repeated photo captions, comment
boxes, copyright lines and lists of unrelated "latest" articles. Cleaning never rewrites
text: it returns the character spans of the original that are article body, so every
passage and quote can be checked against the file verbatim.
"""

import re
from dataclasses import dataclass, field

from rag.ingest.loaders import Metadata, SourceFile

# A line that ends the article: what follows is comments or other articles.
_END_MARKERS = re.compile(
    r"^(최신\s*뉴스|많이\s*본\s*기사|인기\s*기사|관련\s*기사|실시간\s*인기|PHOTO NEWS|포토\s*뉴스|"
    r"뉴스\s*댓글.*|댓글|\d+개의 댓글|이\s*시각\s*주요\s*뉴스|주요\s*뉴스|함께\s*보면.*)$",
    re.IGNORECASE,
)
# A copyright footer names the right holder and forbids reuse, in one short line.
_COPYRIGHT = re.compile(r"저작권자|[©ⓒ]|copyright", re.IGNORECASE)
_NO_REUSE = re.compile(r"무단|재배포|전재|금지|all rights reserved", re.IGNORECASE)
# Widgets and chrome that can sit anywhere on the page.
_FURNITURE = re.compile(
    r"^([-+]|닫기|등록|취소|확인|삭제|인쇄|공유|스크랩|도구모음|더보기|기사보내기|글자\s*크기.*|로그인.*|댓글.*|신고.*|"
    r"차단.*|사용자 차단.*|이미 참여.*|이미 신고.*|\(?\d+\)?|\d+\s*/\s*\d+|.*기사\s*보기|"
    r"도배방지 이미지|기사 이미지 확대 보기|기자정보, 기사등록일|[\w_]+_PC|SNS 기사보내기|"
    r"페이스북|트위터|카카오톡|밴드|URL 복사|※ 댓글.*)$"
)
_PHOTO_CREDIT = re.compile(r"\s*(?:/?\s*사진\s*제공\s*=|/\s*사진\s*=|\[사진\s*=)[^\n]*$")
_PHOTO_ONLY = re.compile(r"^(▲.{0,30}|\[?사진\s*=?[^\s]*\]?|사진\S{0,12})$")
_DATE = re.compile(r"(20\d{2})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})")
_REPORTER = re.compile(
    r"([가-힣]{2,4}(?:\s*[·,]\s*[가-힣]{2,4})*)\s*(?:대표|선임|수석|객원|인턴)?\s*기자(?![가-힣])"
)
_BYLINE_LINE = re.compile(r"^[가-힣]{2,4}\s*(?:대표|선임|수석|객원|인턴)?\s*기자(?:\s+\S+@\S+)?$")
_BYLINE_HINT = re.compile(r"기자|입력|승인|등록|수정|발행")
# "[뉴스스텝] " or "[스마트에프엔=서수원 기자] " in front of the lead paragraph.
_DATELINE = re.compile(r"^\[([^\]=]{2,20})(?:=([^\]]*))?\]\s*")
_OUTLET_IN_COPYRIGHT = re.compile(
    r"[©ⓒ]\s*(?:'[^']*'\s*)?([^\s.\]'’\"]{2,20})|저작권자\s*[©ⓒ]?\s*\(?([^\s.\])]{2,20})"
)
_OUTLET_LINE = re.compile(
    r"^\S{2,15}(뉴스|일보|신문|경제|넷|투데이|타임즈|타임스|저널|미디어|방송)$"
)
_KEY_STRIP = re.compile(r"[\s•◆▲■□●○◇※·\-–—\"'“”‘’\[\]]+")
# The lead paragraph: long and ending like a Korean sentence.
_BODY_MIN_CHARS = 60
_SENTENCE_END = re.compile(r"(다|요|음|함|됨)[.”\"']?\s*$|[.!?]\s*$")


@dataclass
class CleanDocument:
    """An article: its original text, metadata, and the body spans kept for passages."""

    doc_id: str
    text: str
    checksum: str
    title: str
    outlet: str | None = None
    date: str | None = None
    reporter: str | None = None
    #: Runs of adjacent body paragraphs; each paragraph is a (start, end) span of ``text``.
    blocks: list[list[tuple[int, int]]] = field(default_factory=list)
    #: Where each metadata value was read: field → (line start, line end, value start,
    #: value end), so "who wrote this?" can be answered with a verbatim quote.
    evidence: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    url: str | None = None
    #: Offset in ``text`` where each page begins (PDF); empty for formats without pages.
    page_starts: tuple[int, ...] = ()


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line's non-blank content; blank lines give (i, i)."""
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n")
        stripped = content.strip()
        start = pos + (len(content) - len(content.lstrip())) if stripped else pos
        spans.append((start, start + len(stripped)))
        pos += len(line)
    return spans


def _is_furniture(line: str) -> bool:
    bare = line.strip(" \t•·▶►")
    return not bare or bool(_FURNITURE.match(bare)) or bool(_PHOTO_ONLY.match(bare))


def _key(line: str) -> str:
    return _KEY_STRIP.sub("", _PHOTO_CREDIT.sub("", line))


def _is_body_start(line: str, min_chars: int) -> bool:
    """The lead paragraph: long and ending like a Korean sentence; a short article's
    first sentence-like line if no line is long."""
    return (
        len(line) >= min_chars
        and not _PHOTO_CREDIT.search(line)
        and bool(_SENTENCE_END.search(line))
    )


def _outlet_in_copyright(line: str) -> tuple[int, int] | None:
    match = _OUTLET_IN_COPYRIGHT.search(line)
    if match is None:
        return None
    group = 1 if match.group(1) else 2
    return match.start(group), match.end(group)


def _iso_date(value: str) -> str:
    if m := _DATE.search(value):
        return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    return value.strip()


def clean(source: SourceFile) -> CleanDocument:
    """Split ``source`` into header (metadata), body paragraphs and discarded furniture;
    metadata the format states (``source.meta``) wins over what the text suggests."""
    text = source.text
    lines = [(s, e, text[s:e]) for s, e in _lines(text)]
    body_start = 0
    if not source.body_only:  # an extracted body has no header: its short lead is body
        body_start = next(
            (i for i, (_, _, ln) in enumerate(lines) if _is_body_start(ln, _BODY_MIN_CHARS)),
            next((i for i, (_, _, ln) in enumerate(lines) if _is_body_start(ln, 15)), 0),
        )

    doc = CleanDocument(
        doc_id=source.doc_id,
        text=text,
        checksum=source.checksum,
        title="",
        url=source.meta.url,
        page_starts=source.page_starts,
    )
    # A copy of the stated title inside the text (an extractor may move it) is not body.
    seen: set[str] = {_key(source.meta.title)} if source.meta.title else set()
    kept: list[tuple[int, int] | None] = []  # None marks a dropped line (breaks a block)

    def note(name: str, value: str, line: tuple[int, int], start: int, end: int) -> None:
        if getattr(doc, name) is None:
            setattr(doc, name, value)
            doc.evidence[name] = (*line, start, end)

    def note_byline(start: int, end: int) -> None:
        line = text[start:end]
        if m := _DATE.search(line):
            iso = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
            note("date", iso, (start, end), start + m.start(), start + m.end())
        if m := _REPORTER.search(line):
            name = re.sub(r"\s+", "", m.group(1))
            note("reporter", name, (start, end), start + m.start(1), start + m.end(1))

    for s, e, line in lines[:body_start]:  # header: title, outlet, byline, captions
        if not line or _is_furniture(line):
            continue
        if _BYLINE_HINT.search(line) and (_DATE.search(line) or _REPORTER.search(line)):
            note_byline(s, e)
        elif _OUTLET_LINE.match(line):
            note("outlet", line, (s, e), s, e)
        elif credit := _PHOTO_CREDIT.search(line):
            # A caption: keep its first copy as body text, without the photo credit.
            key = _key(line)
            if key and key not in seen:
                seen.add(key)
                kept.extend([(s, s + credit.start()), None])
                doc.title = doc.title or line[: credit.start()].strip()
        elif not doc.title:
            doc.title = line
            seen.add(_key(line))

    for s, e, line in lines[body_start:]:
        if not line:
            continue
        if _END_MARKERS.match(line):
            break
        if _COPYRIGHT.search(line) and _NO_REUSE.search(line) and len(line) < 120:
            if found := _outlet_in_copyright(line):
                doc.outlet = None  # the copyright line is the surest source
                note("outlet", line[found[0] : found[1]], (s, e), s + found[0], s + found[1])
            break
        if _is_furniture(line):
            kept.append(None)
            continue
        if (  # the header's byline, which an extractor may have moved below the body
            source.body_only
            and _BYLINE_HINT.search(line)
            and (_DATE.search(line) or _REPORTER.search(line))
            and not _SENTENCE_END.search(line)
        ):
            note_byline(s, e)
            kept.append(None)
            continue
        if _BYLINE_LINE.match(line):
            note_byline(s, e)  # a closing "홍길동 기자 email" line
            kept.append(None)
            continue
        key = _key(line)
        if key in seen:
            kept.append(None)
            continue
        seen.add(key)
        # Trimmed text must not end up inside a passage, so a trimmed line stands alone.
        if dateline := _DATELINE.match(line):
            bracket = (s, s + len(dateline.group(0).rstrip()))
            note("outlet", dateline.group(1), bracket, s + dateline.start(1), s + dateline.end(1))
            if dateline.group(2):
                note_byline(*bracket)
            s += dateline.end()
            kept.append(None)
        if credit := _PHOTO_CREDIT.search(text[s:e]):
            e = s + credit.start()
        kept.append((s, e))
        if credit:
            kept.append(None)

    block: list[tuple[int, int]] = []
    for span in [*kept, None]:
        if span is None:
            if block:
                doc.blocks.append(block)
            block = []
        elif span[1] > span[0]:
            block.append(span)
    _prefer_stated(doc, source.meta)
    if not doc.title:
        first = doc.blocks[0][0] if doc.blocks else (0, min(len(text), 100))
        doc.title = text[first[0] : first[1]][:100]
    return doc


def _prefer_stated(doc: CleanDocument, meta: Metadata) -> None:
    """Metadata the format states replaces what was read from the text; a field's quoted
    evidence is kept only where the text says the same."""
    doc.title = (meta.title or "").strip() or doc.title
    for name in ("outlet", "date", "reporter"):
        stated = getattr(meta, name)
        if stated and stated.strip():
            value = _iso_date(stated) if name == "date" else stated.strip()
            if value != getattr(doc, name):
                setattr(doc, name, value)
                doc.evidence.pop(name, None)
