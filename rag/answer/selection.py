"""Answers read by the trained reader: its best span in each retrieved passage, one
calibrated probability per span (reader scores, retrieval score and rank, and whether the
passage names the places, names and years the question does), the most probable span
answered, or an abstention below the fitted threshold.

The combination and the threshold are fitted on training articles by
:mod:`rag.training.selection` and shipped beside the reader's weights.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.answer.answerer import (
    Answer,
    ExtractiveAnswerer,
    Source,
    article_field,
    canonical,
    question_entities,
)
from rag.answer.extract import QuestionType, classify_question
from rag.answer.reader import WEIGHTS_DIR, ExtractiveReader, SpanCandidate
from rag.answer.retrieval import Hit
from rag.index.store import CorpusIndex
from rag.ingest.korean import get_kiwi
from rag.ingest.passages import Passage

SELECTION_FILE = WEIGHTS_DIR / "selection.json"

FEATURES = (
    "margin",
    "span_score",
    "retrieval_score",
    "inverse_rank",
    "missing_entities",
    "agreement",
    "number_fit",
    "number_misfit",
    "log_length",
)
#: Question types that want a number (amount, count, date) in the answer.
_NUMBER_TYPES = ("amount", "date")


@dataclass(frozen=True)
class Selection:
    """Logistic combination of :data:`FEATURES` and the abstention threshold."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def load(cls, path: Path = SELECTION_FILE) -> Selection:
        if not path.is_file():  # before the first fit: trust the reader's own margin
            return cls((1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0), 0.0, 0.5)
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("features") != list(FEATURES):
            raise ValueError(
                f"{path} was fitted on other features: run `rag train-reader --selection-only`"
            )
        return cls(tuple(data["weights"]), data["bias"], data["threshold"])

    def probability(self, features: tuple[float, ...]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Candidate:
    hit: Hit
    span: SpanCandidate
    #: The span's text, stripped of surrounding spaces; offsets below are absolute.
    text: str
    start: int
    end: int
    features: tuple[float, ...]


def candidate_features(
    span: SpanCandidate,
    hit: Hit,
    rank: int,
    entities: set[str],
    wants_number: bool,
    text: str,
    agreement: int,
) -> tuple[float, ...]:
    """One row of :data:`FEATURES`."""
    haystack = hit.passage.title + "\n" + hit.passage.text
    missing = sum(1 for e in entities if e not in haystack)
    has_number = any(ch.isdigit() for ch in text)
    return (
        span.margin,
        span.score,
        hit.score,
        1.0 / (1 + rank),
        float(missing),
        float(agreement),
        float(wants_number and has_number),
        float(wants_number and not has_number),
        math.log1p(len(text)),
    )


def without_particles(text: str) -> str:
    """Drop the particles a subword token glues onto an answer ("1,234억 원을" → "1,234억
    원"): spans end on token boundaries, and "▁원을" is one token."""
    tokens = get_kiwi().tokenize(text)
    cut = len(text)
    for token in reversed(tokens):
        if not token.tag.startswith("J") or token.start == 0:
            break
        cut = token.start
    return text[:cut].rstrip()


def read_candidates(
    reader: ExtractiveReader,
    question: str,
    hits: list[Hit],
    qtype: QuestionType | None = None,
) -> list[Candidate]:
    """The reader's best span in each passage, as absolute offsets into its file, with
    the features answer selection weighs (``qtype``: the question's type, if known)."""
    spans = reader.run(question, [h.passage.text for h in hits])
    entities = {canonical(e) for e in question_entities(question)}
    wants_number = (qtype or classify_question(question)) in _NUMBER_TYPES
    found = []
    for rank, (hit, span) in enumerate(zip(hits, spans, strict=True)):
        if span is None:
            continue
        raw = hit.passage.text[span.start : span.end]
        text = without_particles(raw.strip())
        if text:
            start = hit.passage.start + span.start + (len(raw) - len(raw.lstrip()))
            found.append((rank, hit, span, text, start))
    counts = Counter(normalize_span(text) for _, _, _, text, _ in found)
    return [
        Candidate(
            hit,
            span,
            text,
            start,
            start + len(text),
            candidate_features(
                span, hit, rank, entities, wants_number, text, counts[normalize_span(text)] - 1
            ),
        )
        for rank, hit, span, text, start in found
    ]


def normalize_span(text: str) -> str:
    """Spans that say the same thing compare equal ("1억 원" and "1억원")."""
    return "".join(text.split())


def _quote(candidate: Candidate) -> tuple[int, int]:
    """The sentences of the passage that hold the span."""
    p = candidate.hit.passage
    inside = [(s, e) for s, e in p.sentences if s < candidate.end and e > candidate.start]
    if not inside:
        return candidate.start, candidate.end
    return max(p.start, inside[0][0]), min(p.end, inside[-1][1])


class ReaderAnswerer:
    """Answer = the most probable reader span over the retrieved passages, or none."""

    #: Other documents giving the same answer are cited as support.
    max_support = 2

    def __init__(
        self,
        index: CorpusIndex,
        reader: ExtractiveReader,
        rules: ExtractiveAnswerer,
        selection: Selection | None = None,
    ) -> None:
        self.index = index
        self.reader = reader
        #: Still answers questions about the article itself (reporter, date, outlet) from
        #: its byline, which passages do not hold.
        self.rules = rules
        self.selection = selection or Selection.load()

    def warm(self, passages: Iterable[Passage]) -> None:
        """Nothing to precompute for the reader, which reads each question afresh; byline
        questions embed a few sentences on first use."""

    def run(self, question: str, hits: list[Hit], query_vector: object = None) -> Answer:
        started = time.perf_counter()
        qtype = classify_question(question)
        if hits and article_field(question, qtype) is not None:
            byline = self.rules.run(question, hits, query_vector)  # type: ignore[arg-type]
            if byline.sources and byline.sources[0].passage_id.endswith(
                ("#reporter", "#date", "#outlet")
            ):
                return byline
        candidates = read_candidates(self.reader, question, hits, qtype)
        scored = sorted(
            ((self.selection.probability(c.features), c) for c in candidates),
            key=lambda pc: -pc[0],
        )
        best_p = scored[0][0] if scored else 0.0
        abstained = best_p < self.selection.threshold
        if abstained:
            chosen = self._best_per_document(scored)[:3]
        else:
            best = scored[0][1]
            same = [
                (p, c)
                for p, c in scored[1:]
                if c.hit.passage.doc_id != best.hit.passage.doc_id
                and normalize_span(c.text) == normalize_span(best.text)
            ]
            chosen = [scored[0]] + self._best_per_document(same)[: self.max_support]
        return Answer(
            question=question,
            answer=None if abstained else scored[0][1].text,
            abstained=abstained,
            confidence=best_p,
            sources=[self._source(c, p, with_span=not abstained) for p, c in chosen],
            question_type=qtype,
            timings_ms={"answer": (time.perf_counter() - started) * 1000},
        )

    @staticmethod
    def _best_per_document(
        scored: list[tuple[float, Candidate]],
    ) -> list[tuple[float, Candidate]]:
        out, seen = [], set()
        for p, c in scored:
            if c.hit.passage.doc_id not in seen:
                seen.add(c.hit.passage.doc_id)
                out.append((p, c))
        return out

    def _source(self, c: Candidate, probability: float, with_span: bool) -> Source:
        p = c.hit.passage
        start, end = _quote(c)
        return Source.cite(
            self.index.documents[p.doc_id],
            p.passage_id,
            p.text[start - p.start : end - p.start],
            start,
            c.start if with_span else None,
            c.end if with_span else None,
            probability,
        )
