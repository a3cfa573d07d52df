"""Read a corpus folder into decoded texts, one loader per file type.

Offsets everywhere in the system are character offsets into the text returned here, so a
loader must return the file's text as-is (decoded, not rewritten). To support a new format
(HTML, Markdown, JSONL), register a function in ``LOADERS``.
"""

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

log = logging.getLogger(__name__)


#: Larger files are skipped: no news article or press release comes near this.
MAX_FILE_BYTES = 20 * 1024 * 1024
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class UnreadableFile(ValueError):
    """A file that cannot become a document; the message says why, in one line."""


@dataclass(frozen=True)
class SourceFile:
    doc_id: str  # path relative to the corpus folder, with "/" separators
    path: Path
    text: str
    encoding: str
    checksum: str  # sha256 of the raw bytes


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


#: File suffix → function turning the file's bytes into (text, encoding).
LOADERS: dict[str, Callable[[bytes], tuple[str, str]]] = {".txt": decode_bytes}


def shown(path: Path, corpus_dir: Path) -> str:
    """A corpus path for logs: relative, with undecodable name bytes escaped."""
    relative = os.path.relpath(path, corpus_dir)
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Supported files under ``corpus_dir``, in a stable order. Hidden entries are ignored;
    links that lead outside the folder, undecodable names and unreadable folders are
    skipped with a warning. The walk keeps its own stack, so depth cannot overflow it."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    root = corpus_dir.resolve()
    found: list[Path] = []
    visited = {root}
    stack = [corpus_dir]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            log.warning("skipped folder %s: %s", shown(folder, corpus_dir), exc.strerror or exc)
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            real = _readable_path(path, root)
            if isinstance(real, str):
                log.warning("skipped %s: %s", shown(path, corpus_dir), real)
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


def load_file(path: Path, corpus_dir: Path) -> SourceFile:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(f"too large ({size:,} bytes; the limit is {MAX_FILE_BYTES:,})")
    data = path.read_bytes()
    text, encoding = LOADERS[path.suffix.lower()](data)
    if not text.strip():
        raise UnreadableFile("empty file")
    return SourceFile(
        doc_id=path.relative_to(corpus_dir).as_posix(),
        path=path,
        text=text,
        encoding=encoding,
        checksum=hashlib.sha256(data).hexdigest(),
    )


def load_corpus(corpus_dir: Path) -> list[SourceFile]:
    """Every readable file of the corpus; unreadable ones are logged and skipped."""
    files = []
    for path in corpus_files(corpus_dir):
        try:
            files.append(load_file(path, corpus_dir))
        except (UnreadableFile, OSError) as exc:
            log.warning("skipped %s: %s", shown(path, corpus_dir), exc)
    return files
