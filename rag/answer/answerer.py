"""Extractive answers: pick the sentence that answers the question among the retrieved
passages, lift the short answer span out of it, cite it, or abstain.

No text is generated: an answer is always ``original[start:end]`` of a cited sentence.
"""

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from kiwipiepy import Token

from rag.answer.boundaries import widen_span
from rag.answer.extract import (
    SENTENCE_TYPES,
    QuestionType,
    Span,
    analyse_ahead,
    classify_question,
    extract_span,
)
from rag.answer.retrieval import Hit
from rag.index.embedder import Embedder
from rag.index.passage_store import PassageStore
from rag.index.store import DocumentInfo
from rag.index.tokenization import content_terms, content_terms_batch, expand_question_terms
from rag.ingest.korean import get_kiwi
from rag.ingest.passages import Passage

NOT_FOUND = "문서에서 답을 찾을 수 없습니다"

# "인천광역시", "인천시", "인천" all name one place: compare place names without suffixes.
_PLACE_SUFFIXES = ("특별자치시", "특별자치도", "광역시", "특별시", "시", "도", "군", "구")
_PLACE_SUFFIX = re.compile(f"({'|'.join(_PLACE_SUFFIXES)})$")
# Words that say what kind of answer is wanted, not what it is about.
_QUESTION_WORDS = {
    "얼마",
    "몇",
    "언제",
    "누구",
    "어디",
    "무엇",
    "뭐",
    "무슨",
    "어떤",
    "어떻다",
    "어느",
    "왜",
    "어떻게",
    "하다",
    "되다",
    "있다",
    "이다",
    "받다",
    "알다",
    "말하다",
    "대하다",
}


# Questions about the article itself — who wrote it, when, which outlet — are answered
# from its byline or copyright line rather than from its body.
_ABOUT_ARTICLE = re.compile(r"기사|기자(?!회견)|매체|언론|신문|보도|게재|승인|작성|출처")
_ASKS_REPORTER = re.compile(r"기자(?!회견)|쓴 사람|작성자|작성한 사람|누가 썼")
_ASKS_OUTLET = re.compile(r"매체|언론사?|신문사|출처|어디(?:서|에서)?\s*보도|보도한 곳")


def article_field(question: str, qtype: QuestionType) -> str | None:
    """ "reporter", "date" or "outlet" when the question asks about the article itself."""
    if not _ABOUT_ARTICLE.search(question):
        return None
    if qtype == "date":
        return "date"
    if _ASKS_REPORTER.search(question) and qtype in ("person", "thing", "other"):
        return "reporter"
    if _ASKS_OUTLET.search(question):
        return "outlet"
    return None


def canonical(term: str) -> str:
    return _PLACE_SUFFIX.sub("", term) if len(term) >= 3 else term


def spellings(term: str) -> list[str]:
    """The terms ``canonical`` maps to ``term`` ("인천" ← "인천", "인천시", "인천광역시"…)."""
    candidates = [term, *(term + suffix for suffix in _PLACE_SUFFIXES)]
    return [t for t in candidates if t and canonical(t) == term]


def _term_set(terms: list[str]) -> set[str]:
    return {canonical(t) for t in terms} - _QUESTION_WORDS


def _terms(text: str) -> set[str]:
    return _term_set(content_terms(text))


def byline(info: DocumentInfo) -> str:
    """The outlet and reporter of a document: a question that names them ("…기사를 쓴
    아주경제 기자는?") names this article, though its body never says them."""
    return " ".join(part for part in (info.outlet, info.reporter) if part)


#: How much less likely (log-probability) Kiwi's second reading of a question may be for
#: the proper nouns it finds there to count too.
_NEAR_READING = 2.0


@lru_cache(maxsize=1024)
def question_entities(question: str, near_names: bool = False) -> frozenset[str]:
    """Proper nouns and years in the question: an answer's document must mention them. With
    ``near_names``, also the nouns of two or more syllables that Kiwi's second reading, nearly
    as likely, takes for proper nouns ("화성에 사는…": Mars first, 화성시 a close second).
    Cached: selection asks it again for the same question after reading the top passage."""
    readings = get_kiwi().analyze(question, top_n=2 if near_names else 1)
    tokens = readings[0][0]
    entities = {canonical(t.form) for t in tokens if t.tag == "NNP"}
    if len(readings) > 1 and readings[0][1] - readings[1][1] <= _NEAR_READING:
        entities |= {canonical(t.form) for t in readings[1][0] if t.tag == "NNP" and t.len >= 2}
    entities.update(t.form for t in year_tokens(tokens))
    return frozenset(entities)


def year_tokens(tokens: list[Token]) -> list[Token]:
    """The tokens of the years a question names ("2023" of "2023년")."""
    return [
        a
        for a, b in zip(tokens, tokens[1:], strict=False)
        if a.tag == "SN" and b.form == "년" and len(a.form) == 4 and a.form.isdigit()
    ]


@dataclass(frozen=True)
class Quote:
    """One sentence of a source, as offsets into the original file."""

    doc_id: str
    passage_id: str
    start: int
    end: int
    text: str
    retrieval_score: float
    rank: int
    page: int | None = None


@dataclass
class Source:
    doc_id: str
    title: str
    outlet: str | None
    date: str | None
    passage_id: str
    quote: str
    start: int
    end: int
    answer_start: int | None
    answer_end: int | None
    score: float
    #: 1-based page where the quoted passage starts (PDF); None for formats without pages.
    page: int | None = None
    #: The same article in other outlets (``{doc_id, outlet, title}``): retrieval keeps
    #: one document of a near-duplicate group and the pipeline names the others here.
    also_in: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def cite(
        cls,
        info: DocumentInfo,
        passage_id: str,
        quote: str,
        start: int,
        answer_start: int | None,
        answer_end: int | None,
        score: float,
        page: int | None = None,
    ) -> "Source":
        """A quote of ``info``'s file starting at ``start``, with the answer's offsets."""
        return cls(
            info.doc_id,
            info.title,
            info.outlet,
            info.date,
            passage_id,
            quote,
            start,
            start + len(quote),
            answer_start,
            answer_end,
            score,
            page,
        )


@dataclass
class Answer:
    question: str
    answer: str | None
    abstained: bool
    confidence: float
    sources: list[Source]
    question_type: str
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        """The ``rag ask --json`` / ``POST /api/ask`` contract."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "confidence": round(self.confidence, 4),
            "sources": [
                {
                    "doc_id": s.doc_id,
                    "title": s.title,
                    "outlet": s.outlet,
                    "date": s.date,
                    "passage_id": s.passage_id,
                    "quote": s.quote,
                    "start": s.start,
                    "end": s.end,
                    "answer_start": s.answer_start,
                    "answer_end": s.answer_end,
                    "score": round(s.score, 4),
                    "page": s.page,
                    "also_in": s.also_in,
                }
                for s in self.sources
            ],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


@dataclass
class Scored:
    quote: Quote
    score: float
    span: Span | None


class ExtractiveAnswerer:
    """Sentence selection (dense + lexical + entity match), span extraction, abstention."""

    #: Below this sentence score the system says the documents do not hold the answer.
    threshold = 0.42
    #: Other documents' sentences this close to the best one are cited as support.
    support_ratio = 0.9

    def __init__(self, index: PassageStore, embedder: Embedder) -> None:
        self.index = index
        self.embedder = embedder
        self._vectors: dict[tuple[str, int, int], np.ndarray] = {}
        self._term_cache: dict[tuple[str, int, int], set[str]] = {}
        #: Canonical term → passages holding it, asked of the store once per term.
        self._df: dict[str, int] = {}

    def _idf(self, terms: Iterable[str]) -> dict[str, float]:
        missing = [t for t in dict.fromkeys(terms) if t not in self._df]
        counts = self.index.term_document_counts([spellings(t) for t in missing])
        self._df.update(zip(missing, counts, strict=True))
        n = max(1, self.index.passage_count)
        return {t: math.log(1 + (n - self._df[t] + 0.5) / (self._df[t] + 0.5)) for t in terms}

    def _sentence_terms(self, quote: Quote) -> set[str]:
        key = (quote.doc_id, quote.start, quote.end)
        if key not in self._term_cache:
            self._term_cache[key] = _terms(quote.text)
        return self._term_cache[key]

    def _sentence_vectors(self, quotes: list[Quote]) -> np.ndarray:
        missing = [q for q in quotes if (q.doc_id, q.start, q.end) not in self._vectors]
        if missing:
            vectors = self.embedder.encode_passages([q.text for q in missing])
            for q, v in zip(missing, vectors, strict=True):
                self._vectors[(q.doc_id, q.start, q.end)] = v
        return np.stack([self._vectors[(q.doc_id, q.start, q.end)] for q in quotes])

    def carry_over(self, previous: "ExtractiveAnswerer", documents: set[str]) -> None:
        """Keep ``previous``'s sentence vectors and terms for ``documents`` (the ones an
        index update left unchanged), so the updated index answers as fast as the old one
        without embedding every sentence again. Term counts change with the corpus and
        are not kept."""
        self._vectors |= {k: v for k, v in previous._vectors.copy().items() if k[0] in documents}
        self._term_cache |= {
            k: v for k, v in previous._term_cache.copy().items() if k[0] in documents
        }

    def warm(self, passages: Iterable[Passage]) -> None:
        """Embed and analyse the sentences of ``passages`` ahead of questions, embeddings in
        large batches: the first question about a passage then pays neither."""
        quotes = self.quotes([Hit(p, 0.0) for p in passages])
        self._sentence_vectors(quotes)
        analyse_ahead(q.text for q in quotes)
        fresh = [q for q in quotes if (q.doc_id, q.start, q.end) not in self._term_cache]
        for q, terms in zip(fresh, content_terms_batch(q.text for q in fresh), strict=True):
            self._term_cache[(q.doc_id, q.start, q.end)] = _term_set(terms)

    @staticmethod
    def quotes(hits: list[Hit]) -> list[Quote]:
        seen: set[tuple[str, int]] = set()
        out = []
        for rank, hit in enumerate(hits):
            p = hit.passage
            for start, end in p.sentences:
                if (p.doc_id, start) in seen:
                    continue
                seen.add((p.doc_id, start))
                text = p.text[start - p.start : end - p.start]
                out.append(Quote(p.doc_id, p.passage_id, start, end, text, hit.score, rank, p.page))
        return out

    def score(
        self, question: str, qtype: QuestionType, query_vector: np.ndarray, quotes: list[Quote]
    ) -> list[Scored]:
        """Rank sentences by how well they answer: meaning (dense), the question's
        content words (IDF-weighted), a span of the asked-for kind, retrieval rank; a
        sentence whose passage (or byline) lacks a place, name or year the question names
        is unlikely to be about the same thing."""
        q_terms = _terms(question)
        weights = self._idf(q_terms)
        total = sum(weights.values()) or 1.0
        alternatives = {
            group[0]: {canonical(a) for a in group}
            for group in expand_question_terms(sorted(q_terms))
        }
        entities = question_entities(question)
        dense = self._sentence_vectors(quotes) @ query_vector
        passage_terms = {
            passage_id: {canonical(t) for t in terms}
            for passage_id, terms in self.index.passage_terms(q.passage_id for q in quotes).items()
        }
        bylines = {q.doc_id: byline(self.index.documents[q.doc_id]) for q in quotes}
        scored = []
        for quote, sim in zip(quotes, dense, strict=True):
            s_terms = self._sentence_terms(quote)
            context = passage_terms.get(quote.passage_id, set())
            lexical = (
                sum(
                    w
                    * (
                        1.0
                        if alternatives[t] & s_terms
                        else 0.5
                        if alternatives[t] & context
                        else 0.0
                    )
                    for t, w in weights.items()
                )
                / total
            )
            missing = [
                e
                for e in entities
                if e not in context and e not in s_terms and e not in bylines[quote.doc_id]
            ]
            span = extract_span(question, quote.text, qtype)
            value = (
                0.45 * float(np.clip((sim - 0.75) / 0.15, 0.0, 1.0))
                + 0.40 * lexical
                + 0.15 / (1 + quote.rank)
            )
            if qtype in SENTENCE_TYPES:
                value *= 0.8
            else:  # the question wants an amount, a date, a name…: does this sentence have one?
                value *= 0.35 + 0.65 * (span.score if span is not None else 0.0)
            if missing:
                value *= 0.5 ** len(missing)
            scored.append(Scored(quote, value, span))
        scored.sort(key=lambda s: -s.score)
        return scored

    def run(self, question: str, hits: list[Hit], query_vector: np.ndarray | None = None) -> Answer:
        started = time.perf_counter()
        qtype = classify_question(question)
        quotes = self.quotes(hits)
        if query_vector is None:
            query_vector = self.embedder.encode_queries([question])[0]
        scored = self.score(question, qtype, query_vector, quotes) if quotes else []
        best = scored[0] if scored else None
        confidence = min(1.0, best.score) if best else 0.0
        field_name = article_field(question, qtype)
        if best is not None and field_name is not None:
            info = self.index.documents[best.quote.doc_id]
            # The body names the article's subject; its byline answers the question.
            if field_name in info.evidence and best.score >= self.threshold / 2:
                source = self._evidence_source(info, field_name, best.score)
                offset = source.start
                return Answer(
                    question=question,
                    answer=source.quote[source.answer_start - offset : source.answer_end - offset],  # type: ignore[operator]
                    abstained=False,
                    confidence=confidence,
                    sources=[source],
                    question_type=qtype,
                    timings_ms={"answer": (time.perf_counter() - started) * 1000},
                )
        abstained = best is None or best.score < self.threshold
        if abstained:
            chosen = self._related(scored)
            answer = None
        else:
            chosen = [best] + [
                s
                for s in self._related(scored[1:])
                if s.quote.doc_id != best.quote.doc_id
                and s.score >= self.support_ratio * best.score
            ][:2]
            chosen = [self._grown(s, question, qtype) for s in chosen]
            best = chosen[0]
            answer = best.span.text if best.span is not None else best.quote.text
        sources = [self._source(s, with_span=not abstained) for s in chosen]
        return Answer(
            question=question,
            answer=answer,
            abstained=abstained,
            confidence=confidence,
            sources=sources,
            question_type=qtype,
            timings_ms={"answer": (time.perf_counter() - started) * 1000},
        )

    @staticmethod
    def _grown(s: Scored, question: str, qtype: QuestionType) -> Scored:
        """``s`` with its span grown to the words the question asks for, as the reader's
        (only for the spans shown: scoring weighs the extracted span)."""
        if s.span is None:
            return s
        start, end = widen_span(s.quote.text, s.span.start, s.span.end, question, qtype)
        return Scored(s.quote, s.score, Span(start, end, s.quote.text[start:end], s.span.score))

    @staticmethod
    def _related(scored: list[Scored], limit: int = 3) -> list[Scored]:
        """The best sentence of each of the top documents."""
        out, docs = [], set()
        for s in scored:
            if s.quote.doc_id not in docs:
                docs.add(s.quote.doc_id)
                out.append(s)
            if len(out) == limit:
                break
        return out

    @staticmethod
    def _evidence_source(info: DocumentInfo, field_name: str, score: float) -> Source:
        line_start, _, start, end, line = info.evidence[field_name]
        return Source.cite(info, f"{info.doc_id}#{field_name}", line, line_start, start, end, score)

    def _source(self, s: Scored, with_span: bool) -> Source:
        info = self.index.documents[s.quote.doc_id]
        span = s.span if with_span else None
        q = s.quote
        return Source.cite(
            info,
            q.passage_id,
            q.text,
            q.start,
            q.start + span.start if span else None,
            q.start + span.end if span else None,
            s.score,
            q.page,
        )
