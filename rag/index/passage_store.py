"""The store interface between indexing/retrieval and storage.

Retrieval, answering, the API and the UI talk to a ``PassageStore`` and never learn which
one it is: the embedded store (FAISS + bm25s files, ``rag.index.embedded``) or a Qdrant
collection (``rag.index.qdrant_store``). Both return candidates keyed by passage id with
raw scores, so one fusion (``rag.answer.retrieval``) ranks for both.
"""

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.index.store import DocumentInfo, document_info
from rag.index.tokenization import content_terms_batch
from rag.ingest.cleaning import CleanDocument
from rag.ingest.passages import Passage, split_passages
from rag.settings import Settings


@dataclass(frozen=True)
class PassageFilter:
    """Which passages a search may return. Stores apply it inside the search, so ``k``
    results are the best ``k`` among the matching passages, not what survives of the
    overall top ``k``. Unset fields do not filter; set ones must all hold."""

    outlets: frozenset[str] | None = None
    #: Inclusive ISO dates (``YYYY-MM-DD``); a document without a date fails a date bound.
    date_from: str | None = None
    date_to: str | None = None
    doc_ids: frozenset[str] | None = None

    def __post_init__(self) -> None:
        for bound in (self.date_from, self.date_to):
            if bound is not None and not re.fullmatch(r"\d{4}-\d\d-\d\d", bound):
                raise ValueError(f"date bound {bound!r} is not YYYY-MM-DD")

    def accepts(self, info: DocumentInfo) -> bool:
        if self.doc_ids is not None and info.doc_id not in self.doc_ids:
            return False
        if self.outlets is not None and info.outlet not in self.outlets:
            return False
        if self.date_from is not None or self.date_to is not None:
            if info.date is None:
                return False
            if self.date_from is not None and info.date < self.date_from:
                return False
            if self.date_to is not None and info.date > self.date_to:
                return False
        return True


def make_filter(
    outlets: Iterable[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    doc_ids: Iterable[str] | None = None,
) -> PassageFilter | None:
    """The filter the CLI, API and page build from their options; ``None`` when none is
    set (no filtering). Raises ``ValueError`` with a user-facing message for a date that
    is not a real ``YYYY-MM-DD`` day or a range that ends before it starts."""
    for name, value in (("since", since), ("until", until)):
        if value is None:
            continue
        try:
            if not re.fullmatch(r"\d{4}-\d\d-\d\d", value):
                raise ValueError
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{name}: 날짜는 YYYY-MM-DD 형식이어야 합니다 (date must be YYYY-MM-DD): {value!r}"
            ) from None
    if since is not None and until is not None and since > until:
        raise ValueError(f"since {since} is after until {until} (시작일이 종료일보다 늦습니다)")
    # An empty list means "not given" (a repeatable option left out), not "match nothing".
    outlet_set = frozenset(outlets) if outlets else None
    doc_set = frozenset(doc_ids) if doc_ids else None
    if outlet_set is None and doc_set is None and since is None and until is None:
        return None
    return PassageFilter(outlet_set, since, until, doc_set)


@dataclass(frozen=True)
class IndexedDocument:
    """One document ready to store: its passages with their lexical terms and vectors."""

    info: DocumentInfo
    passages: list[Passage]
    terms: list[list[str]]
    vectors: np.ndarray


#: Candidates of one query: passage id → raw score (cosine or BM25), best first.
Candidates = dict[str, float]


@runtime_checkable
class PassageStore(Protocol):
    """Passages with their vectors and terms, searchable densely and lexically."""

    @property
    def kind(self) -> str:
        """``embedded`` or ``qdrant``."""
        ...

    @property
    def location(self) -> str:
        """Where it lives, for messages."""
        ...

    @property
    def version(self) -> str:
        """Changes with every write (``index_version`` of the API)."""
        ...

    @property
    def manifest(self) -> dict[str, Any]:
        """format_version, model, dim, settings (signature), passage_count, built_at."""
        ...

    @property
    def documents(self) -> Mapping[str, DocumentInfo]:
        """Every indexed document (with its checksum), by id."""
        ...

    @property
    def passage_count(self) -> int: ...

    def dense_search(
        self, vectors: np.ndarray, k: int, where: PassageFilter | None = None
    ) -> list[Candidates]:
        """Top ``k`` passages by inner product with each (normalised) query vector."""
        ...

    def lexical_search(
        self, queries: Sequence[Sequence[str]], k: int, where: PassageFilter | None = None
    ) -> list[Candidates]:
        """Top ``k`` passages by BM25 over each query's terms (repeats count again);
        only passages sharing a term with the query."""
        ...

    def passages(self, passage_ids: Iterable[str]) -> dict[str, Passage]:
        """The passages of these ids that exist."""
        ...

    def passage_terms(self, passage_ids: Iterable[str]) -> dict[str, list[str]]:
        """The lexical terms of these passages (those that exist)."""
        ...

    def term_document_counts(self, groups: Sequence[Sequence[str]]) -> list[int]:
        """Per group of terms, how many passages hold at least one of them."""
        ...

    def iter_passages(self) -> Iterator[Passage]: ...

    def write(self, put: Sequence[IndexedDocument], remove: Collection[str]) -> "PassageStore":
        """Add or replace (by doc id) the ``put`` documents and drop the ``remove`` ones;
        returns the store as it is afterwards."""
        ...


def index_documents(
    docs: Sequence[CleanDocument],
    settings: Settings,
    embed: Callable[[list[str]], np.ndarray],
) -> list[IndexedDocument]:
    """Split, embed (one call for all) and term ``docs``, ready for ``PassageStore.write``."""
    split = [
        split_passages(d, settings.chunk_chars, settings.chunk_overlap_sentences) for d in docs
    ]
    texts = [p.embedding_text() for passages in split for p in passages]
    vectors = embed(texts) if texts else np.zeros((0, 0), dtype=np.float32)
    terms = content_terms_batch(texts)
    out, taken = [], 0
    for doc, passages in zip(docs, split, strict=True):
        n = len(passages)
        out.append(
            IndexedDocument(
                document_info(doc, n),
                passages,
                terms[taken : taken + n],
                np.ascontiguousarray(vectors[taken : taken + n], dtype=np.float32),
            )
        )
        taken += n
    return out
