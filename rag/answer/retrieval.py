"""Hybrid retrieval: dense and lexical (BM25 over Kiwi morphemes), fused.

Dense vectors catch paraphrases ("돈을 얼마 받았어" ~ "사업비를 확보"); BM25 catches exact
names and numbers that a small embedding model blurs. The default fusion is a weighted
sum of normalised scores (on KorQuAD dev it beat reciprocal rank fusion, which lets the
weaker dense ranking pull good BM25 hits down); RRF is kept as an option. Whichever store
holds the index (``rag.index.passage_store``) hands back raw candidates; fusion is here.
"""

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.index.embedder import Embedder
from rag.index.passage_store import Candidates, PassageFilter, PassageStore
from rag.index.store import same_content
from rag.index.tokenization import content_terms_batch, expand_question_terms
from rag.ingest.passages import Passage
from rag.settings import RetrievalMode, Settings


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    #: The same article in other outlets (``{doc_id, outlet, title}``), collapsed into it.
    also_in: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, object]:
        """One result of ``rag search --json`` and ``GET /api/search``."""
        p = self.passage
        return {
            "doc_id": p.doc_id,
            "passage_id": p.passage_id,
            "title": p.title,
            "text": p.text,
            "start": p.start,
            "end": p.end,
            "score": round(self.score, 6),
            "page": p.page,
            "also_in": list(self.also_in),
        }


def _fuse_rrf(rankings: list[tuple[float, list[str]]], rrf_k: int) -> dict[str, float]:
    fused: dict[str, float] = {}
    for weight, ranking in rankings:
        for rank, pid in enumerate(ranking, start=1):
            fused[pid] = fused.get(pid, 0.0) + weight / (rrf_k + rank)
    return fused


def _fuse_scores(
    dense: Candidates, bm25: Candidates, dense_weight: float, bm25_weight: float
) -> dict[str, float]:
    """Weighted sum of scores on one scale: cosines min-max normalised over the
    candidates (they crowd into a narrow band), BM25 divided by the best score."""
    low, high = min(dense.values(), default=0.0), max(dense.values(), default=1.0)
    span = (high - low) or 1.0
    top = max(bm25.values(), default=1.0) or 1.0
    return {
        pid: (dense_weight * (dense[pid] - low) / span if pid in dense else 0.0)
        + bm25_weight * bm25.get(pid, 0.0) / top
        for pid in dense.keys() | bm25.keys()
    }


def _corpus_order(passage_id: str) -> tuple[str, int]:
    """Ties go to the earlier passage: by document, then position (``<doc_id>#<n>``)."""
    n = passage_id.rpartition("#")[2]
    return _doc_id(passage_id), int(n) if n.isdigit() else -1


#: A year the question names ("2023년 일자리대상에서…").
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*년")
#: Share of its score kept by a passage whose article is dated in a year the question
#: does not name, when articles of a named year are among the candidates.
OTHER_YEAR = 0.8


def named_years(question: str) -> set[str]:
    return set(_YEAR.findall(question))


def _doc_id(passage_id: str) -> str:
    return passage_id.rpartition("#")[0]


class HybridRetriever:
    """Ranks passages of one ``PassageStore`` for questions; ``run`` is the entry point."""

    def __init__(self, index: PassageStore, embedder: Embedder, settings: Settings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def _bm25(
        self, questions: list[str], depth: int, where: PassageFilter | None
    ) -> list[Candidates]:
        queries = [
            [t for group in expand_question_terms(question_terms) for t in group]
            for question_terms in content_terms_batch(questions)
        ]
        return self.index.lexical_search(queries, depth, where)

    def _prefer_named_years(self, question: str, fused: dict[str, float]) -> dict[str, float]:
        """A question naming a year asks about that time: articles dated in another year
        step back. Only when some candidate is dated in a named year, so a year no article
        was published in (a history, "2012년부터") changes nothing; undated ones stay."""
        years = named_years(question)
        if not years or not fused:
            return fused
        documents = self.index.documents
        year_of = {}
        for doc_id in {_doc_id(pid) for pid in fused}:
            info = documents.get(doc_id)
            year_of[doc_id] = info.date[:4] if info is not None and info.date else None
        if not years & set(year_of.values()):
            return fused
        return {
            pid: score * OTHER_YEAR if year_of[_doc_id(pid)] not in (None, *years) else score
            for pid, score in fused.items()
        }

    def _one_per_article(self, ranked: list[str], k: int) -> list[str]:
        """The best ``k`` passages with each near-duplicate group (one press release
        rewritten by several outlets) left to its best-ranked document: the copies
        would otherwise crowd other articles out of the results."""
        documents = self.index.documents
        shown: dict[str, str] = {}
        out: list[str] = []
        for pid in ranked:
            doc_id = _doc_id(pid)
            info = documents.get(doc_id)
            group = min((doc_id, *info.same_as)) if info is not None else doc_id
            if shown.setdefault(group, doc_id) == doc_id:
                out.append(pid)
                if len(out) == k:
                    break
        return out

    def run_batch(
        self,
        questions: list[str],
        k: int | None = None,
        mode: RetrievalMode | None = None,
        query_vectors: np.ndarray | None = None,
        *,
        where: PassageFilter | None = None,
    ) -> list[list[Hit]]:
        """Top ``k`` passages for each question (one embedding call for all of them);
        pass ``query_vectors`` when the caller has embedded the questions already, and
        ``where`` to search only the passages it accepts."""
        s = self.settings
        k = k or s.top_k
        mode = mode or s.mode
        depth = min(max(s.fusion_depth, k), self.index.passage_count)
        if mode != "bm25":
            if query_vectors is None:
                query_vectors = self.embedder.encode_queries(questions)
            dense = self.index.dense_search(query_vectors, depth, where)
        else:
            dense = [{} for _ in questions]
        lexical = (
            self._bm25(questions, depth, where) if mode != "dense" else [{} for _ in questions]
        )
        rankings = []
        for question, d, b in zip(questions, dense, lexical, strict=True):
            if mode == "dense":
                fused = d
            elif mode == "bm25":
                fused = b
            elif s.fusion == "rrf":
                fused = _fuse_rrf(
                    [
                        (s.dense_weight, sorted(d, key=d.__getitem__, reverse=True)),
                        (s.bm25_weight, sorted(b, key=b.__getitem__, reverse=True)),
                    ],
                    s.rrf_k,
                )
            else:
                fused = _fuse_scores(d, b, s.dense_weight, s.bm25_weight)
            fused = self._prefer_named_years(question, fused)
            ranked = sorted(fused, key=lambda i: (-fused[i], _corpus_order(i)))
            ranked = self._one_per_article(ranked, k)
            rankings.append((ranked, fused, d, b))
        # One lookup for all questions; a passage removed meanwhile is left out.
        found = self.index.passages(i for ranked, *_ in rankings for i in ranked)
        documents = self.index.documents
        return [
            [
                Hit(
                    found[i],
                    fused[i],
                    d.get(i),
                    b.get(i),
                    tuple(same_content(documents, found[i].doc_id)),
                )
                for i in ranked
                if i in found
            ]
            for ranked, fused, d, b in rankings
        ]

    def run(
        self,
        question: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        *,
        where: PassageFilter | None = None,
    ) -> list[Hit]:
        return self.run_batch([question], k, mode, where=where)[0]
