"""Build, update and load the on-disk index: passages, dense vectors (FAISS), BM25.

Layout under ``index_dir/<corpus name>/``::

    CURRENT            name of the live version folder (replaced atomically)
    v-<timestamp>/     manifest.json, passages.jsonl, embeddings.npy, dense.faiss, bm25/,
                       texts.jsonl (the documents' texts, which all offsets refer to)

A build writes a new version folder and only then points ``CURRENT`` at it, so a crash
mid-build leaves the previous index intact. Documents whose checksum is unchanged keep
their passages and vectors; a change of model or passage settings rebuilds everything.
"""

import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np

from rag.index.duplicates import duplicate_groups
from rag.index.duplicates import signature as text_signature
from rag.index.model_store import exclusive_lock
from rag.index.texts import write_texts
from rag.index.tokenization import content_terms_batch
from rag.ingest.cleaning import CleanDocument, clean
from rag.ingest.loaders import Skipped, SourceFile, load_corpus
from rag.ingest.passages import Passage, split_passages
from rag.settings import DenseIndexType, Settings

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
_CURRENT = "CURRENT"
#: Held by the one process writing an index folder.
_LOCK = "write.lock"


class IndexNotReady(RuntimeError):
    """The index is missing, corrupt or built with other settings; says how to fix it."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "missing" | "corrupt" | "mismatch" | "unreachable" (a server)


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    title: str
    outlet: str | None
    date: str | None
    reporter: str | None
    checksum: str
    passages: int
    #: field → (line start, line end, value start, value end, line text): where the
    #: outlet, date or reporter was read, to quote it as an answer's source.
    evidence: dict[str, tuple[int, int, int, int, str]] = field(default_factory=dict)
    url: str | None = None  # where an HTML page or an export row says it was published
    #: MinHash of the text (``rag.index.duplicates``); None in indexes built before it.
    signature: str | None = None
    #: The other documents of its near-duplicate group: the same article elsewhere.
    same_as: tuple[str, ...] = ()


@dataclass
class CorpusIndex:
    path: Path
    manifest: dict
    documents: dict[str, DocumentInfo]
    passages: list[Passage]
    terms: list[list[str]]
    embeddings: np.ndarray
    dense: faiss.Index
    bm25: bm25s.BM25


@dataclass
class UpdateReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    rebuilt: bool = False
    seconds: float = 0.0
    #: Copied from the embedded index into another store, vectors and all.
    migrated: bool = False
    #: Files, folders and export rows of the corpus that could not be read, and why.
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def wrote(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt)


def index_path(settings: Settings) -> Path:
    """One index per corpus folder, named after it and a hash of its full path
    (``index/seeds-1a2b3c4d``): two folders of one name never share an index."""
    folder = settings.corpus_dir.resolve()
    name = re.sub(r"[^\w.-]+", "-", folder.name) or "corpus"
    digest = hashlib.sha1(os.fsencode(folder)).hexdigest()[:8]
    return settings.index_dir / f"{name}-{digest}"


def make_dense_index(vectors: np.ndarray, kind: DenseIndexType) -> faiss.Index:
    """Exact inner product by default; HNSW or IVF when the corpus is too big for it."""
    dim = vectors.shape[1]
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
    elif kind == "ivf" and len(vectors) >= 1024:
        nlist = int(4 * np.sqrt(len(vectors)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = max(1, nlist // 16)
    else:  # "flat", or IVF on a corpus too small to train it
        index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    return index


def make_bm25(terms: list[list[str]]) -> bm25s.BM25:
    bm25 = bm25s.BM25()
    bm25.index(terms, show_progress=False)
    return bm25


def _manifest(settings: Settings, dim: int, docs: dict[str, DocumentInfo], n: int) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "model": settings.model,
        "dim": dim,
        "settings": settings.index_signature(),
        "corpus_dir": str(settings.corpus_dir),
        "passage_count": n,
        "documents": {doc_id: asdict(info) for doc_id, info in sorted(docs.items())},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _write(
    root: Path,
    manifest: dict,
    passages: list[Passage],
    terms: list[list[str]],
    embeddings: np.ndarray,
    dense: faiss.Index,
    bm25: bm25s.BM25,
    docs: Iterable[CleanDocument],
) -> Path:
    """Write a complete new version folder (texts included: offsets refer to them, not
    always to the files), then switch ``CURRENT`` to it atomically. The version it
    replaces is kept until the next write: a reader still answering from it (a server
    swapping in the new version) can finish reading its texts."""
    root.mkdir(parents=True, exist_ok=True)
    replaced = _live_version(root)
    version = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = root / f".{version}.tmp"
    tmp.mkdir()
    with open(tmp / "passages.jsonl", "w", encoding="utf-8") as f:
        for passage, passage_terms in zip(passages, terms, strict=True):
            row = asdict(passage) | {"terms": passage_terms}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    np.save(tmp / "embeddings.npy", embeddings)
    faiss.write_index(dense, str(tmp / "dense.faiss"))
    bm25.save(str(tmp / "bm25"), show_progress=False)
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    write_texts(tmp, docs)
    tmp.rename(root / version)
    pointer = root / f".{_CURRENT}.tmp"
    pointer.write_text(version)
    if (root / _CURRENT).is_dir():  # damaged: a pointer must be a file
        shutil.rmtree(root / _CURRENT)
    os.replace(pointer, root / _CURRENT)
    for old in root.iterdir():  # earlier versions and leftovers of crashed builds
        if old.name not in (version, replaced, _CURRENT, _LOCK):
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()
    return root / version


def _live_version(root: Path) -> str | None:
    """The version folder ``CURRENT`` names, if it is a readable pointer to one."""
    pointer = root / _CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text(errors="replace").strip()
    return name if name.startswith("v-") and (root / name).is_dir() else None


def load_index(root: Path, settings: Settings | None = None) -> CorpusIndex:
    """Load the live version; with ``settings``, refuse one built with other settings."""
    fix = f"run `rag index --rebuild` (index folder: {root})"
    pointer = root / _CURRENT
    if not pointer.exists():
        raise IndexNotReady("missing", f"no index at {root}: run `rag index` to build it")
    if not pointer.is_file():
        raise IndexNotReady("corrupt", f"index pointer {pointer} is not a file: {fix}")
    path = root / pointer.read_text(errors="replace").strip()
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexNotReady(
                "mismatch",
                f"index format {manifest.get('format_version')} is not {FORMAT_VERSION}: {fix}",
            )
        with open(path / "passages.jsonl", encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        terms = [row.pop("terms") for row in rows]
        passages = [
            Passage(**row | {"sentences": tuple(tuple(s) for s in row["sentences"])})
            for row in rows
        ]
        embeddings = np.load(path / "embeddings.npy")
        dense = faiss.read_index(str(path / "dense.faiss"))
        bm25 = bm25s.BM25.load(str(path / "bm25"), show_progress=False)
        documents = {
            k: DocumentInfo(
                **v
                | {
                    "evidence": {f: tuple(e) for f, e in v["evidence"].items()},
                    "same_as": tuple(v.get("same_as", ())),
                }
            )
            for k, v in manifest["documents"].items()
        }
        consistent = (
            len(passages) == dense.ntotal == len(embeddings) == manifest["passage_count"]
            and dense.d == embeddings.shape[1] == manifest["dim"]
        )
        built_with = manifest["settings"]
    except IndexNotReady:
        raise
    except Exception as exc:  # any unreadable piece means the same thing to the user
        raise IndexNotReady("corrupt", f"index at {path} is unreadable ({exc}): {fix}") from exc
    if not consistent:
        raise IndexNotReady("corrupt", f"index at {path} is inconsistent: {fix}")
    if settings is not None and built_with != settings.index_signature():
        raise IndexNotReady(
            "mismatch",
            f"index at {root} was built with other settings ({built_with}): {fix}",
        )
    return CorpusIndex(path, manifest, documents, passages, terms, embeddings, dense, bm25)


def build_from_documents(
    docs: list[CleanDocument],
    settings: Settings,
    embed: Callable[[list[str]], np.ndarray],
    root: Path,
    previous: CorpusIndex | None = None,
) -> CorpusIndex:
    """Index ``docs``; passages and vectors of documents whose checksum is unchanged in
    ``previous`` are reused instead of being re-embedded."""
    rows_of: dict[str, list[int]] = {}
    if previous is not None:
        for i, passage in enumerate(previous.passages):
            rows_of.setdefault(passage.doc_id, []).append(i)
    # Per document: its passages, and the rows of ``previous`` to reuse (None = embed anew).
    plan: list[tuple[CleanDocument, list[Passage], list[int] | None]] = []
    for doc in docs:
        old = previous.documents.get(doc.doc_id) if previous is not None else None
        if previous is not None and old is not None and old.checksum == doc.checksum:
            rows = rows_of.get(doc.doc_id, [])
            plan.append((doc, [previous.passages[i] for i in rows], rows))
        else:
            split = split_passages(doc, settings.chunk_chars, settings.chunk_overlap_sentences)
            plan.append((doc, split, None))
    fresh = [p for _, doc_passages, rows in plan if rows is None for p in doc_passages]
    if not fresh and not any(rows for _, _, rows in plan):
        raise ValueError("the corpus has no text to index")
    new_vectors = embed([p.embedding_text() for p in fresh]) if fresh else None
    new_terms = content_terms_batch(p.embedding_text() for p in fresh)

    passages: list[Passage] = []
    terms: list[list[str]] = []
    blocks: list[np.ndarray] = []
    infos: dict[str, DocumentInfo] = {}
    taken = 0
    for doc, doc_passages, rows in plan:
        if rows is None:
            n = len(doc_passages)
            blocks.append(new_vectors[taken : taken + n])  # type: ignore[index]
            terms.extend(new_terms[taken : taken + n])
            taken += n
            kept = None
        else:
            blocks.append(previous.embeddings[rows])  # type: ignore[union-attr]
            terms.extend(previous.terms[i] for i in rows)  # type: ignore[union-attr]
            kept = previous.documents[doc.doc_id].signature  # type: ignore[union-attr]
        passages.extend(doc_passages)
        infos[doc.doc_id] = document_info(doc, len(doc_passages), kept)
    embeddings = np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)
    return write_index(root, settings, infos, passages, terms, embeddings, docs)


def document_info(doc: CleanDocument, passages: int, signature: str | None = None) -> DocumentInfo:
    """What the index keeps of a document besides its passages; ``signature`` is reused
    for an unchanged document instead of being computed again."""
    evidence = {k: (*v, doc.text[v[0] : v[1]]) for k, v in doc.evidence.items()}
    return DocumentInfo(
        doc.doc_id,
        doc.title,
        doc.outlet,
        doc.date,
        doc.reporter,
        doc.checksum,
        passages,
        evidence,
        doc.url,
        signature or text_signature(doc.text),
    )


def mark_duplicates(infos: dict[str, DocumentInfo]) -> dict[str, DocumentInfo]:
    """``infos`` with ``same_as`` set from their signatures: groups change as documents
    come and go, so they are recomputed over the whole corpus at every write."""
    groups = duplicate_groups({k: v.signature for k, v in infos.items()})
    return {k: replace(v, same_as=groups[k]) for k, v in infos.items()}


def same_content(documents: Mapping[str, DocumentInfo], doc_id: str) -> list[dict[str, Any]]:
    """The ``also_in`` of a hit or source: the other outlets carrying ``doc_id``'s article."""
    info = documents.get(doc_id)
    others = (documents.get(d) for d in (info.same_as if info is not None else ()))
    return [{"doc_id": o.doc_id, "outlet": o.outlet, "title": o.title} for o in others if o]


def write_index(
    root: Path,
    settings: Settings,
    infos: dict[str, DocumentInfo],
    passages: list[Passage],
    terms: list[list[str]],
    embeddings: np.ndarray,
    docs: Iterable[CleanDocument] = (),
) -> CorpusIndex:
    """Build the dense and BM25 indexes over these rows and write them, with the texts of
    ``docs``, as the live version. The caller holds ``write_lock(root)``."""
    infos = mark_duplicates(infos)
    dense = make_dense_index(embeddings, settings.dense_index)
    bm25 = make_bm25(terms)
    manifest = _manifest(settings, embeddings.shape[1], infos, len(passages))
    path = _write(root, manifest, passages, terms, embeddings, dense, bm25, docs)
    return CorpusIndex(path, manifest, infos, passages, terms, embeddings, dense, bm25)


def write_lock(root: Path) -> AbstractContextManager[None]:
    """Held by the one process writing the index folder ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    return exclusive_lock(root / _LOCK)


def refresh_index(
    settings: Settings,
    embed: Callable[[list[str]], np.ndarray],
    previous: CorpusIndex | None,
) -> tuple[CorpusIndex, UpdateReport]:
    """Bring ``previous`` (or nothing) in line with the corpus folder, re-embedding only
    the documents that are new or changed. One writer at a time per index: a second one
    waits, then starts from what the first wrote."""
    started = time.perf_counter()
    skipped: list[Skipped] = []
    sources = load_corpus(settings.corpus_dir, settings, skipped)  # read before the lock
    if not sources:
        raise ValueError(f"no readable articles in {settings.corpus_dir}")
    root = index_path(settings)
    root.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(root / _LOCK):
        if previous is not None and previous.path.parent == root:
            previous = _latest(root, settings, previous)
        index, report = _refresh(settings, embed, previous, sources)
    report.seconds = time.perf_counter() - started
    report.skipped = skipped
    return index, report


def _latest(root: Path, settings: Settings, previous: CorpusIndex) -> CorpusIndex:
    """``previous``, or the version another writer switched ``CURRENT`` to meanwhile."""
    if _live_version(root) not in (None, previous.path.name):
        try:
            return load_index(root, settings)
        except IndexNotReady:
            return previous
    return previous


def _refresh(
    settings: Settings,
    embed: Callable[[list[str]], np.ndarray],
    previous: CorpusIndex | None,
    sources: list[SourceFile],
) -> tuple[CorpusIndex, UpdateReport]:
    old_docs = previous.documents if previous is not None else {}
    report = diff_corpus({k: v.checksum for k, v in old_docs.items()}, sources)
    report.rebuilt = previous is None
    if previous is not None and not report.wrote:
        return previous, report
    docs = [clean(source) for source in sources]
    return build_from_documents(docs, settings, embed, index_path(settings), previous), report


def diff_corpus(checksums: dict[str, str], sources: list[SourceFile]) -> UpdateReport:
    """Which documents of the corpus are new, changed or gone, by checksum."""
    report = UpdateReport()
    for source in sources:
        old = checksums.get(source.doc_id)
        if old is None:
            report.added.append(source.doc_id)
        elif old != source.checksum:
            report.changed.append(source.doc_id)
        else:
            report.unchanged += 1
    report.removed = sorted(set(checksums) - {s.doc_id for s in sources})
    return report


def update_index(
    settings: Settings, embed: Callable[[list[str]], np.ndarray], rebuild: bool = False
) -> tuple[CorpusIndex, UpdateReport]:
    """What ``rag index`` does: update in place, or rebuild when asked, or when the index
    is corrupt or was built with other settings."""
    previous = None
    if not rebuild:
        try:
            previous = load_index(index_path(settings), settings)
        except IndexNotReady as exc:
            if exc.reason != "missing":
                log.warning("%s; rebuilding it", exc)
    return refresh_index(settings, embed, previous)
