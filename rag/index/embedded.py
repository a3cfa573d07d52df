"""The embedded store: one corpus folder's FAISS + bm25s index files (``rag.index.store``)
behind the ``PassageStore`` interface. Everything is in memory, so a filter is a mask
over rows: exact scores over the allowed rows for dense search, zeroed BM25 scores."""

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from rag.index.passage_store import Candidates, IndexedDocument, PassageFilter
from rag.index.store import CorpusIndex, DocumentInfo, write_index, write_lock
from rag.ingest.passages import Passage
from rag.settings import Settings


class EmbeddedStore:
    """A loaded ``CorpusIndex``; ``write`` makes a new version folder, as ``rag index`` does."""

    kind = "embedded"

    def __init__(self, index: CorpusIndex, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self._rows = {p.passage_id: i for i, p in enumerate(index.passages)}
        self._doc_rows: dict[str, list[int]] = {}
        for i, p in enumerate(index.passages):
            self._doc_rows.setdefault(p.doc_id, []).append(i)
        #: The last filter's rows: a hybrid search asks twice (dense, lexical) for one filter.
        self._last_allowed: tuple[PassageFilter, np.ndarray] | None = None

    @property
    def location(self) -> str:
        return str(self.index.path.parent)

    @property
    def version(self) -> str:
        return self.index.path.name

    @property
    def manifest(self) -> dict[str, Any]:
        return self.index.manifest

    @property
    def documents(self) -> Mapping[str, DocumentInfo]:
        return self.index.documents

    @property
    def passage_count(self) -> int:
        return len(self.index.passages)

    def _allowed_rows(self, where: PassageFilter) -> np.ndarray:
        if self._last_allowed is None or self._last_allowed[0] != where:
            rows = [
                row
                for doc_id, info in self.index.documents.items()
                if where.accepts(info)
                for row in self._doc_rows.get(doc_id, ())
            ]
            self._last_allowed = (where, np.array(sorted(rows), dtype=np.int64))
        return self._last_allowed[1]

    def dense_search(
        self, vectors: np.ndarray, k: int, where: PassageFilter | None = None
    ) -> list[Candidates]:
        passages = self.index.passages
        if where is None:
            scores, rows = self.index.dense.search(vectors, k)
            return [
                {
                    passages[r].passage_id: float(s)
                    for r, s in zip(row, score, strict=True)
                    if r >= 0
                }
                for row, score in zip(rows, scores, strict=True)
            ]
        # A filtered subset is searched exactly: simple, and full recall whatever the index.
        allowed = self._allowed_rows(where)
        scores = self.index.embeddings[allowed] @ np.asarray(vectors, dtype=np.float32).T
        out = []
        for column in scores.T:
            top = np.argsort(-column, kind="stable")[:k]
            out.append({passages[allowed[i]].passage_id: float(column[i]) for i in top})
        return out

    def lexical_search(
        self, queries: Sequence[Sequence[str]], k: int, where: PassageFilter | None = None
    ) -> list[Candidates]:
        mask = None
        if where is not None:
            mask = np.zeros(len(self.index.passages), dtype=np.float32)
            mask[self._allowed_rows(where)] = 1.0
        out = []
        for query in queries:
            terms = [t for t in query if t]  # bm25s keeps "" for itself
            if not terms:
                out.append({})
                continue
            scores = self.index.bm25.get_scores(terms)
            if mask is not None:
                scores = scores * mask
            top = np.argsort(-scores)[:k]
            out.append(
                {self.index.passages[r].passage_id: float(scores[r]) for r in top if scores[r] > 0}
            )
        return out

    def passages(self, passage_ids: Iterable[str]) -> dict[str, Passage]:
        return {i: self.index.passages[self._rows[i]] for i in passage_ids if i in self._rows}

    def passage_terms(self, passage_ids: Iterable[str]) -> dict[str, list[str]]:
        return {i: self.index.terms[self._rows[i]] for i in passage_ids if i in self._rows}

    def term_document_counts(self, groups: Sequence[Sequence[str]]) -> list[int]:
        # BM25 scores are positive exactly where a passage holds one of the terms.
        counts = []
        for group in groups:
            terms = [t for t in group if t]
            scores = self.index.bm25.get_scores(terms) if terms else np.zeros(0)
            counts.append(int(np.count_nonzero(scores > 0)))
        return counts

    def iter_passages(self) -> Iterator[Passage]:
        return iter(self.index.passages)

    def write(self, put: Sequence[IndexedDocument], remove: Collection[str]) -> "EmbeddedStore":
        """A new version with ``put`` in place of (or after) the documents of their ids and
        without ``remove``; unchanged documents keep their rows' vectors and terms."""
        index = self.index
        fresh = {d.info.doc_id: d for d in put}
        dim = index.manifest["dim"]
        if any(d.vectors.shape[1] != dim for d in put if d.passages):
            raise ValueError(f"vectors must have the index's dimension {dim}")
        passages: list[Passage] = []
        terms: list[list[str]] = []
        blocks: list[np.ndarray] = []
        infos: dict[str, DocumentInfo] = {}
        order = dict.fromkeys([p.doc_id for p in index.passages] + list(index.documents))
        for doc_id in [*order, *(d for d in fresh if d not in order)]:
            if doc_id in remove and doc_id not in fresh:
                continue
            if doc_id in fresh:
                doc = fresh[doc_id]
                passages += doc.passages
                terms += doc.terms
                blocks.append(doc.vectors.reshape(len(doc.passages), -1))
                infos[doc_id] = doc.info
            else:
                rows = self._doc_rows.get(doc_id, [])
                passages += [index.passages[r] for r in rows]
                terms += [index.terms[r] for r in rows]
                blocks.append(index.embeddings[rows])
                infos[doc_id] = index.documents[doc_id]
        if not passages:
            raise ValueError("an index needs at least one passage")
        embeddings = np.ascontiguousarray(
            np.concatenate([b for b in blocks if len(b)]), dtype=np.float32
        )
        root = index.path.parent
        with write_lock(root):
            built = write_index(root, self.settings, infos, passages, terms, embeddings)
        return EmbeddedStore(built, self.settings)
