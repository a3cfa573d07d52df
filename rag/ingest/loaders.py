"""Read a corpus folder into documents, one loader per file type.

Offsets everywhere in the system are character offsets into a document's ``text``. For
plain text and Markdown that is the decoded file, as-is; for formats whose text has to be
extracted (HTML, PDF, HWPX, rows of JSONL/CSV exports) it is the extracted text, which the
index stores beside itself so that every quote stays verifiable. To support a new format,
register a function in ``LOADERS``.
"""

import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from rag.settings import Settings

log = logging.getLogger(__name__)


#: Larger files are skipped: no news article or press release comes near this.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Exports hold many articles, and PDF or HWPX files carry images: they may be larger.
MAX_BYTES_BY_SUFFIX = {
    ".jsonl": 256 * 1024 * 1024,
    ".csv": 256 * 1024 * 1024,
    ".pdf": 100 * 1024 * 1024,
    ".hwpx": 100 * 1024 * 1024,
}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_MARKDOWN_TITLE = re.compile(r"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*\r?$", re.MULTILINE)


class UnreadableFile(ValueError):
    """A file that cannot become a document; the message says why, in one line."""


@dataclass(frozen=True)
class Metadata:
    """What a format states about its article; preferred over what cleaning guesses."""

    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    reporter: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Loaded:
    """One document a loader read: a whole file, or one row of an export."""

    text: str
    encoding: str
    meta: Metadata = Metadata()
    #: The text is the article body alone (an extractor or an export field already left
    #: the page header out), so cleaning looks for no header in it.
    body_only: bool = False
    #: Offset in ``text`` where each page begins (PDF), for a passage's page number.
    page_starts: tuple[int, ...] = ()
    #: Row id in an export holding many articles: the doc_id becomes ``path#key``.
    key: str | None = None
    #: A row's own checksum, so that editing one row re-indexes only that row; a whole
    #: file's is the sha256 of its bytes.
    checksum: str | None = None


@dataclass(frozen=True)
class Rejected:
    """A row of an export that cannot become a document; the rest of the file can."""

    row: str  # "line 3", "row 7"
    reason: str


@dataclass(frozen=True)
class Skipped:
    """A file, folder or row left out of the corpus, for ``rag index`` to list."""

    path: str  # relative to the corpus folder, undecodable bytes escaped
    reason: str
    row: str | None = None

    def __str__(self) -> str:
        return f"{self.path}{f' ({self.row})' if self.row else ''}: {self.reason}"


@dataclass(frozen=True)
class SourceFile:
    doc_id: str  # path relative to the corpus folder, with "/" separators (+ "#row id")
    path: Path
    text: str
    encoding: str
    checksum: str  # sha256 of the raw bytes (of the row's content for an export row)
    meta: Metadata = Metadata()
    body_only: bool = False
    page_starts: tuple[int, ...] = ()


Loader = Callable[[bytes, Settings], list[Loaded | Rejected]]


def one_line(exc: BaseException) -> str:
    """A library's error message as one short line, for a skip reason."""
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message if len(message) <= 200 else message[:199] + "…"


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode Korean text: UTF-8 first, then CP949 (a superset of EUC-KR), then a guess;
    UTF-16 only with its byte-order mark (without one it looks like binary)."""
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"broken UTF-16 ({exc.reason})") from None
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file (contains NUL bytes)")
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return data.decode(encoding), encoding.removesuffix("-sig")
        except UnicodeDecodeError:
            continue
    for encoding in ("utf-8-sig", "cp949"):  # a truncated scrape or a stray bad byte
        text = data.decode(encoding, errors="replace")
        if text.count("\ufffd") <= max(1, len(text) // 200):
            return text, encoding.removesuffix("-sig")
    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise UnreadableFile("cannot detect the text encoding")
    return str(best), best.encoding


def load_text(data: bytes, _: Settings) -> list[Loaded | Rejected]:
    """Plain text: the decoded file is the document, as-is."""
    return [Loaded(*decode_bytes(data))]


def load_markdown(data: bytes, _: Settings) -> list[Loaded | Rejected]:
    """Markdown as-is (offsets into the raw file); the title is the first ``# `` heading."""
    text, encoding = decode_bytes(data)
    heading = _MARKDOWN_TITLE.search(text)
    title = heading.group(1).strip() if heading else None
    return [Loaded(text, encoding, Metadata(title=title or None))]


# The other formats import their libraries on first use: `rag ask` never pays for them.
def _load_html(data: bytes, _: Settings) -> list[Loaded | Rejected]:
    from rag.ingest.webpage import load_html

    return [load_html(data)]


def _load_pdf(data: bytes, _: Settings) -> list[Loaded | Rejected]:
    from rag.ingest.pdf import load_pdf

    return [load_pdf(data)]


def _load_hwpx(data: bytes, _: Settings) -> list[Loaded | Rejected]:
    from rag.ingest.hwpx import load_hwpx

    return [load_hwpx(data)]


def _load_jsonl(data: bytes, settings: Settings) -> list[Loaded | Rejected]:
    from rag.ingest.exports import load_jsonl

    return load_jsonl(data, settings.row_fields())


def _load_csv(data: bytes, settings: Settings) -> list[Loaded | Rejected]:
    from rag.ingest.exports import load_csv

    return load_csv(data, settings.row_fields())


#: File suffix → function turning the file's bytes into documents (or rejected rows).
LOADERS: dict[str, Loader] = {
    ".txt": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".hwpx": _load_hwpx,
    ".jsonl": _load_jsonl,
    ".csv": _load_csv,
}


def shown(path: Path, corpus_dir: Path) -> str:
    """A corpus path for logs: relative, with undecodable name bytes escaped."""
    relative = os.path.relpath(path, corpus_dir)
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _skip(skipped: list[Skipped] | None, item: Skipped) -> None:
    log.warning("skipped %s", item)
    if skipped is not None:
        skipped.append(item)


def require_corpus_dir(corpus_dir: Path) -> None:
    """A missing corpus folder is a user error, said before any model is loaded."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")


def corpus_files(corpus_dir: Path, skipped: list[Skipped] | None = None) -> list[Path]:
    """Supported files under ``corpus_dir``, in a stable order. Hidden entries are ignored;
    links that lead outside the folder, undecodable names and unreadable folders are
    skipped with a warning (and added to ``skipped``). The walk keeps its own stack, so
    depth cannot overflow it."""
    require_corpus_dir(corpus_dir)
    root = corpus_dir.resolve()
    found: list[Path] = []
    visited = {root}
    stack = [corpus_dir]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            reason = f"unreadable folder ({exc.strerror or exc})"
            _skip(skipped, Skipped(shown(folder, corpus_dir), reason))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            real = _readable_path(path, root)
            if isinstance(real, str):
                _skip(skipped, Skipped(shown(path, corpus_dir), real))
            elif entry.is_dir():
                if real not in visited:  # a link back up would loop forever
                    visited.add(real)
                    stack.append(path)
            elif entry.is_file() and path.suffix.lower() in LOADERS:
                found.append(path)
    return sorted(found)


def _readable_path(path: Path, root: Path) -> Path | str:
    """Where ``path`` really is, or why it may not be read as part of the corpus."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8 (rename it)"
    try:
        real = path.resolve()
    except (OSError, RuntimeError) as exc:
        return f"cannot resolve ({exc})"
    return real if real.is_relative_to(root) else "a link to outside the corpus folder"


def size_limit(suffix: str) -> int:
    """Largest file of this suffix read as part of the corpus (uploads are held to it too)."""
    return MAX_BYTES_BY_SUFFIX.get(suffix.lower(), MAX_FILE_BYTES)


def load_documents(
    path: Path, corpus_dir: Path, settings: Settings
) -> tuple[list[SourceFile], list[Rejected]]:
    """The documents in one file (one, or one per row of an export) and its rejected rows."""
    suffix = path.suffix.lower()
    size, limit = path.stat().st_size, size_limit(suffix)
    if size > limit:
        raise UnreadableFile(f"too large ({size:,} bytes; the limit is {limit:,})")
    data = path.read_bytes()
    relative = path.relative_to(corpus_dir).as_posix()
    checksum = hashlib.sha256(data).hexdigest()
    docs: list[SourceFile] = []
    rejected: list[Rejected] = []
    for item in LOADERS[suffix](data, settings):
        if isinstance(item, Rejected):
            rejected.append(item)
            continue
        if not item.text.strip():
            raise UnreadableFile("empty file")
        docs.append(
            SourceFile(
                doc_id=relative if item.key is None else f"{relative}#{item.key}",
                path=path,
                text=item.text,
                encoding=item.encoding,
                checksum=item.checksum or checksum,
                meta=item.meta,
                body_only=item.body_only,
                page_starts=item.page_starts,
            )
        )
    if not docs and not rejected:
        raise UnreadableFile("empty file")
    return docs, rejected


def load_file(path: Path, corpus_dir: Path, settings: Settings | None = None) -> SourceFile:
    """The one document of a file that holds one article (every format but the exports)."""
    docs, rejected = load_documents(path, corpus_dir, settings or Settings())
    if len(docs) != 1 or rejected:
        raise UnreadableFile(f"holds {len(docs)} documents and {len(rejected)} bad rows, not one")
    return docs[0]


def load_corpus(
    corpus_dir: Path, settings: Settings | None = None, skipped: list[Skipped] | None = None
) -> list[SourceFile]:
    """Every readable document of the corpus; unreadable files and export rows are logged,
    one line each, and added to ``skipped``."""
    settings = settings or Settings()
    docs: list[SourceFile] = []
    for path in corpus_files(corpus_dir, skipped):
        where = shown(path, corpus_dir)
        try:
            found, rejected = load_documents(path, corpus_dir, settings)
        except (UnreadableFile, OSError) as exc:
            _skip(skipped, Skipped(where, str(exc)))
            continue
        docs.extend(found)
        for row in rejected:
            _skip(skipped, Skipped(where, row.reason, row.row))
    return docs
