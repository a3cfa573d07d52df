"""Read a corpus folder into decoded texts, one loader per file type.

Offsets everywhere in the system are character offsets into the text returned here, so a
loader must return the file's text as-is (decoded, not rewritten). To support a new format
(HTML, Markdown, JSONL), register a function in ``LOADERS``.
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

log = logging.getLogger(__name__)


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
    """Decode Korean text: UTF-8 first, then CP949 (a superset of EUC-KR), then a guess."""
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


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Supported files under ``corpus_dir``, in a stable order; hidden files are ignored."""
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus_dir}")
    return sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.is_file()
        and p.suffix.lower() in LOADERS
        and not any(part.startswith(".") for part in p.relative_to(corpus_dir).parts)
    )


def load_file(path: Path, corpus_dir: Path) -> SourceFile:
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
            log.warning("skipped %s: %s", path.relative_to(corpus_dir).as_posix(), exc)
    return files
