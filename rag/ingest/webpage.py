"""Saved news pages (.html): the article text and metadata, by trafilatura.

Trafilatura (with htmldate for the date) is a maintained extractor that drops navigation,
"most read" lists, comment boxes and footers; hand-written tag rules would break with
every site redesign. The document's text is the extracted text, so offsets (and quotes)
refer to it; the index stores it.
"""

import re
from typing import TYPE_CHECKING

import trafilatura

from rag.ingest.loaders import Loaded, Metadata, UnreadableFile, decode_bytes, one_line

# A byline's role words and e-mail address around a reporter's name.
_ROLE = re.compile(
    r"\s*(?:대표|선임|수석|객원|인턴)?\s*(?:기자|특파원|논설위원|편집위원|위원|에디터|PD)$"
)
_EMAIL = re.compile(r"\S+@\S+")
_NAME = re.compile(r"[가-힣]{2,4}|[A-Za-z][A-Za-z .'-]{1,40}")
#: Byline words that look like a two-syllable name.
_NOT_NAMES = {"입력", "수정", "승인", "등록", "발행", "송고", "기사", "사진", "기사입력"}

if TYPE_CHECKING:
    from lxml.html import HtmlElement  # trafilatura's parse tree

#: Meta tags naming the author. Trafilatura drops one-word authors, and a Korean name is
#: one word, so they are read here as well (``dable:author`` is common on Korean sites).
_AUTHOR_META = ("author", "article:author", "dable:author")


def _meta(tree: "HtmlElement") -> dict[str, str]:
    """``<meta>`` content by property or name (lower-cased), first one of each kept."""
    found: dict[str, str] = {}
    for element in tree.iterfind(".//meta"):
        key = (element.get("property") or element.get("name") or "").strip().lower()
        content = (element.get("content") or "").strip()
        if key and content:
            found.setdefault(key, content)
    return found


def _reporter(author: str, outlet: str | None) -> str | None:
    """Reporter names out of an author string such as "홍길동 기자; 입력"."""
    names = []
    for part in re.split(r"[;,/·|]", _EMAIL.sub("", author)):
        name = _ROLE.sub("", part.strip()).strip()
        if _NAME.fullmatch(name) and name not in {outlet, *_NOT_NAMES, *names}:
            names.append(name)
    return "·".join(names) or None


def _title(candidates: list[str | None], site_names: set[str]) -> str | None:
    """The first candidate that is not the site's own name (a page's <title> often is)."""
    for candidate in candidates:
        title = " ".join((candidate or "").split())
        if title and title not in site_names:
            return title
    return None


def load_html(data: bytes) -> Loaded:
    text, encoding = decode_bytes(data)
    try:
        tree = trafilatura.load_html(text)
        if tree is None:
            raise UnreadableFile("not an HTML page")
        meta = _meta(tree)  # before extraction, which prunes the tree
        heading = tree.find(".//h1")
        h1 = heading.text_content() if heading is not None else None
        doc = trafilatura.bare_extraction(
            tree,
            with_metadata=True,
            favor_precision=True,  # furniture out; the default mode merges it into the body
            include_comments=False,
            # Only dates the page states: the wider search turns "2023년" in the text
            # into 2023-01-01, and a stated date outranks the one cleaning reads.
            date_extraction_params={"original_date": True, "extensive_search": False},
        )
    except UnreadableFile:
        raise
    except Exception as exc:  # a library failing on one odd page must not stop the index
        raise UnreadableFile(f"cannot extract the page ({one_line(exc)})") from None
    if doc is None or not (doc.text or "").strip():
        raise UnreadableFile("no article text found in the page")
    sitename = doc.sitename if doc.sitename and "." not in doc.sitename else None
    outlet = meta.get("og:site_name") or sitename  # a domain name is no outlet
    author = doc.author or next((meta[k] for k in _AUTHOR_META if k in meta), None)
    return Loaded(
        text=doc.text,
        encoding=encoding,
        meta=Metadata(
            title=_title([doc.title, meta.get("og:title"), h1], {outlet or "", doc.sitename or ""}),
            outlet=outlet,
            date=doc.date,
            reporter=_reporter(author, outlet) if author else None,
            url=doc.url,
        ),
        body_only=True,
    )
