"""Answers read by the trained reader: its best span in each retrieved passage, one
calibrated probability per span (reader scores, retrieval score and rank, whether the
passage names the places, names and years the question does, and whether the span's sentence
says the question's words of another year), the most probable span
answered, or an abstention below the fitted threshold.

The top passage is read first: where its span alone is probable enough (a second threshold,
chosen on val so that it changes almost no answer), it is answered without reading the rest.

The combination and the threshold are fitted on training articles by
:mod:`rag.training.selection` and shipped beside the reader's weights.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from rag.answer.answerer import (
    Answer,
    ExtractiveAnswerer,
    Source,
    article_field,
    byline,
    canonical,
    question_entities,
)
from rag.answer.boundaries import widen_span, without_stray_brackets
from rag.answer.extract import (
    QuestionType,
    asked_counter,
    asks_for_sentence,
    classify_question,
    counts_otherwise,
    said_in_question,
)
from rag.answer.reader import WEIGHTS_DIR, ExtractiveReader, SpanCandidate
from rag.answer.retrieval import Hit
from rag.index.passage_store import PassageStore
from rag.ingest.korean import get_kiwi
from rag.ingest.passages import Passage

SELECTION_FILE = WEIGHTS_DIR / "selection.json"

FEATURES = (
    "margin",
    "span_score",
    "retrieval_score",
    "inverse_rank",
    "entity_missing_in_document",
    "agreement",
    "number_fit",
    "number_misfit",
    "log_length",
    "other_year_in_sentence",
)
#: Question types that want a number (amount, count, date) in the answer.
_NUMBER_TYPES = ("amount", "date")


def logit(probability: float) -> float:
    p = min(max(probability, 1e-9), 1.0 - 1e-9)
    return math.log(p / (1.0 - p))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Selection:
    """Logistic combination of :data:`FEATURES`, the abstention threshold, the probability
    at which the top passage's span is answered without reading the others (``None``:
    always read them all), and the calibration of the confidence an answer is shown with."""

    weights: tuple[float, ...]
    bias: float
    threshold: float
    early: float | None = None
    #: Platt scaling (slope, bias on the logit) of :meth:`probability` into :meth:`confidence`.
    calibration: tuple[float, float] = (1.0, 0.0)

    @classmethod
    def load(cls, path: Path = SELECTION_FILE) -> Selection:
        if not path.is_file():  # before the first fit: trust the reader's own margin
            margin_and_entity = (1.0, 0.0, 0.0, 0.0, -1.0)
            rest = (0.0,) * (len(FEATURES) - len(margin_and_entity))
            return cls(margin_and_entity + rest, 0.0, 0.5)
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("features") != list(FEATURES):
            raise ValueError(
                f"{path} was fitted on other features: run `rag train-reader --selection-only`"
            )
        slope, bias = data.get("calibration", (1.0, 0.0))
        return cls(
            tuple(data["weights"]),
            data["bias"],
            data["threshold"],
            data.get("early_threshold"),
            (slope, bias),
        )

    def probability(self, features: tuple[float, ...]) -> float:
        """What answering and abstaining are decided on (the thresholds are on this)."""
        return _sigmoid(self.bias + sum(w * x for w, x in zip(self.weights, features, strict=True)))

    def confidence(self, probability: float) -> float:
        """How often an answer of this :meth:`probability` is right, for a question its
        articles answer (fitted on the val questions): what the answer is shown with. The
        order is kept, so a refusal still shows less than any answer."""
        slope, bias = self.calibration
        return _sigmoid(slope * logit(probability) + bias)


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
    entity_missing: bool,
    wants_number: bool,
    text: str,
    agreement: int,
    other_year: bool,
) -> tuple[float, ...]:
    """One row of :data:`FEATURES`."""
    has_number = any(ch.isdigit() for ch in text)
    return (
        span.margin,
        span.score,
        hit.score,
        1.0 / (1 + rank),
        float(entity_missing),
        float(agreement),
        float(wants_number and has_number),
        float(wants_number and not has_number),
        math.log1p(len(text)),
        float(other_year),
    )


#: A year and the word after it, as sentences write them: "‘2023년 전국 지방자치단체…".
_YEAR_AND_WORD = re.compile(r"(?<![\d.,])((?:1[89]|20)\d\d)년\W{0,2}([가-힣A-Za-z0-9]{2,})")


def names_other_year(sentence: str, question: str) -> bool:
    """Whether ``sentence`` says of another year what the question asks of one ("2023년
    전국 지방자치단체 일자리대상" for "2025년 전국 지방자치단체 일자리대상 시상식은 어디서…?"):
    the question's "<year>년 <word>" with another year, and the question's year nowhere in it."""
    for year, word in _YEAR_AND_WORD.findall(question):
        if year in sentence:
            continue
        for other, said in _YEAR_AND_WORD.findall(sentence):
            if other != year and said[:2] == word[:2]:
                return True
    return False


#: Characters after a span that Kiwi sees too, so that a name ending like a particle
#: ("허희도 는") is read as the name it is.
_PARTICLE_CONTEXT = 12


def without_particles(text: str, start: int, end: int) -> int:
    """Where ``text[start:end]`` ends once the particles a subword token glued onto it are
    dropped ("1,234억 원을" → "1,234억 원"; "▁원을" is one token). Read in context: alone,
    "허희도" parses as "허희" + the particle "도"."""
    window = text[start : min(len(text), end + _PARTICLE_CONTEXT)]
    length = end - start
    cut = length
    for token in reversed(get_kiwi().tokenize(window)):
        if token.start >= length:
            continue
        if not token.tag.startswith("J") or token.start == 0 or token.end > length:
            break
        cut = token.start
    return start + len(window[:cut].rstrip())


#: The whole text of documents by id, for the checks that look past one passage.
DocumentTexts = Callable[[Iterable[str]], Mapping[str, str]]


def document_texts(store: PassageStore, doc_ids: Iterable[str]) -> dict[str, str]:
    """Title, byline and passages of each document: where the places, names and years a
    question gives must occur for the document to answer it (a passage alone may not repeat
    them; a question may name the outlet or reporter)."""
    groups = {
        doc: [f"{doc}#{i}" for i in range(store.documents[doc].passages)] for doc in set(doc_ids)
    }
    found = store.passages([p for group in groups.values() for p in group])
    infos = {doc: store.documents[doc] for doc in groups}
    return {
        doc: "\n".join(
            [infos[doc].title, byline(infos[doc]), *(found[p].text for p in group if p in found)]
        )
        for doc, group in groups.items()
    }


def read_candidates(
    reader: ExtractiveReader,
    question: str,
    hits: list[Hit],
    documents: DocumentTexts,
    qtype: QuestionType | None = None,
) -> list[Candidate]:
    """The reader's best span in each passage, as absolute offsets into its file, with
    the features answer selection weighs. ``documents``: the text of each hit's document
    (:func:`document_texts`); ``qtype``: the question's type, if known."""
    spans = reader.run(question, [h.passage.text for h in hits])
    return span_candidates(question, hits, spans, documents, qtype)


def span_candidates(
    question: str,
    hits: list[Hit],
    spans: list[SpanCandidate | None],
    documents: DocumentTexts,
    qtype: QuestionType | None = None,
) -> list[Candidate]:
    """:func:`read_candidates` from spans already read, one per hit (``None``: none). A span
    the question itself says is no candidate (:func:`named_in_question`), nor one that counts
    something other than the question asks (:func:`counts_otherwise`)."""
    entities = {canonical(e) for e in question_entities(question, near_names=True)}
    # Whole documents are read only when the question names something to look for.
    texts = documents(h.passage.doc_id for h in hits) if entities else {}
    qtype = qtype or classify_question(question)
    asked = asked_counter(question)
    found = []
    for rank, (hit, span) in enumerate(zip(hits, spans, strict=True)):
        if span is None:
            continue
        passage, raw = hit.passage.text, hit.passage.text[span.start : span.end]
        first = span.start + len(raw) - len(raw.lstrip())
        last = without_particles(passage, first, span.end)
        core = passage[first:last]
        if last > first and not (
            named_in_question(core, question) or counts_otherwise(core, asked)
        ):
            found.append((rank, hit, span, first, last))
    # Features weigh the span the reader marked (as selection was fitted); the answer is
    # that span, without stray brackets, grown to the words the question asks for.
    counts = Counter(normalize_span(h.passage.text[f:la]) for _, h, _, f, la in found)
    out = []
    for rank, hit, span, first, last in found:
        passage, core = hit.passage.text, hit.passage.text[first:last]
        start, end = widen_span(
            passage, *without_stray_brackets(passage, first, last), question, qtype
        )
        features = candidate_features(
            span,
            hit,
            rank,
            any(e not in texts[hit.passage.doc_id] for e in entities),
            qtype in _NUMBER_TYPES,
            core,
            counts[normalize_span(core)] - 1,
            names_other_year(passage[slice(*span_sentence(hit.passage, first, last))], question),
        )
        offset = hit.passage.start
        out.append(Candidate(hit, span, passage[start:end], offset + start, offset + end, features))
    return out


#: "A와 B 중 어느…?": the answer to a choice is one of the things the question names.
_CHOICE = re.compile(r"(?:중|가운데)\s*(?:어느|누가|누구|무엇|어떤|뭐|어디)")


def named_in_question(span: str, question: str) -> bool:
    """Whether the question itself says ``span`` (:func:`said_in_question`): what the question
    names is not what it asks ("김영삼 후보" for "김영삼후보와 같이 출마한 후보는?", "환경영웅" for
    "…환경영웅으로 선정한 매체는?"), unless it offers a choice ("A와 B 중 어느…?")."""
    return not _CHOICE.search(question) and said_in_question(span, question)


def normalize_span(text: str) -> str:
    """Spans that say the same thing compare equal ("1억 원" and "1억원")."""
    return "".join(text.split())


def span_sentence(passage: Passage, start: int, end: int) -> tuple[int, int]:
    """Where the sentences of ``passage`` holding ``passage.text[start:end]`` start and end
    in its text."""
    p, start, end = passage, passage.start + start, passage.start + end
    inside = [(s, e) for s, e in p.sentences if s < end and e > start]
    if inside:
        start, end = max(p.start, inside[0][0]), min(p.end, inside[-1][1])
    return start - p.start, end - p.start


def _quote(candidate: Candidate) -> tuple[int, int]:
    """The sentences of the passage that hold the span, as offsets into its file."""
    p = candidate.hit.passage
    start, end = span_sentence(p, candidate.start - p.start, candidate.end - p.start)
    return p.start + start, p.start + end


class ReaderAnswerer:
    """Answer = the most probable reader span over the retrieved passages, or none; with
    ``fall_back``, where the reader abstains the rule extractor may still answer (the
    ``combined`` reader)."""

    #: Other documents giving the same answer are cited as support.
    max_support = 2

    def __init__(
        self,
        index: PassageStore,
        load_reader: Callable[[], ExtractiveReader],
        rules: ExtractiveAnswerer,
        documents: DocumentTexts,
        selection: Selection | None = None,
        fall_back: bool = False,
        answer_early: bool = True,
    ) -> None:
        self.index = index
        self._load_reader = load_reader
        #: Still answers questions about the article itself (reporter, date, outlet) from
        #: its byline, which passages do not hold.
        self.rules = rules
        self.selection = selection or Selection.load()
        self.fall_back = fall_back
        self.documents = documents
        #: Answer from the top passage alone where the selection's early threshold allows.
        self.answer_early = answer_early

    @property
    def reader(self) -> ExtractiveReader:
        """Loaded on first use (about 2 s): ``rag search`` and the questions the rules answer
        (bylines, why and how) never need it."""
        return self._load_reader()

    def warm(self, passages: Iterable[Passage]) -> None:
        """The reader loaded, nothing to precompute for it (it reads each question afresh);
        the rules it falls back on embed the passages' sentences."""
        self._load_reader()  # a server's first question should not wait for it
        if self.fall_back:
            self.rules.warm(passages)

    def run(self, question: str, hits: list[Hit], query_vector: object = None) -> Answer:
        started = time.perf_counter()
        qtype = classify_question(question)
        if hits and article_field(question, qtype) is not None:
            byline = self.rules.run(question, hits, query_vector)  # type: ignore[arg-type]
            if byline.sources and byline.sources[0].passage_id.endswith(
                ("#reporter", "#date", "#outlet")
            ):
                return byline
        if hits and asks_for_sentence(question):
            # The reader learnt KorQuAD's short spans: asked why or how, it marks a phrase or
            # refuses; the rules answer with the sentence that gives the reason or the way.
            return self.rules.run(question, hits, query_vector)  # type: ignore[arg-type]
        candidates = self._read(question, hits, qtype)
        scored = sorted(
            ((self.selection.probability(c.features), c) for c in candidates),
            key=lambda pc: -pc[0],
        )
        best_p = scored[0][0] if scored else 0.0
        abstained = best_p < self.selection.threshold
        if abstained and self.fall_back:
            ruled = self.rules.run(question, hits, query_vector)  # type: ignore[arg-type]
            if not ruled.abstained:
                return ruled
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
            confidence=self.selection.confidence(best_p),
            sources=[self._source(c, p, with_span=not abstained) for p, c in chosen]
            or self._where_it_looked(hits),
            question_type=qtype,
            timings_ms={"answer": (time.perf_counter() - started) * 1000},
        )

    def _read(self, question: str, hits: list[Hit], qtype: QuestionType) -> list[Candidate]:
        """The top passage first; the others only when its span is not probable enough to
        answer alone (most questions are answered from the top passage, in a fraction of
        the reading time). Alone, a span agrees with no other span, so (the agreement
        weighing positively) it scores at most what reading them all gives it: answering
        early never answers a question that reading all would refuse."""
        early = self.selection.early if self.answer_early else None
        if early is None or len(hits) < 2:
            return read_candidates(self.reader, question, hits, self.documents, qtype)
        spans = self.reader.run(question, [hits[0].passage.text])
        first = span_candidates(question, hits[:1], spans, self.documents, qtype)
        if first and self.selection.probability(first[0].features) >= early:
            return first
        spans += self.reader.run(question, [h.passage.text for h in hits[1:]])
        return span_candidates(question, hits, spans, self.documents, qtype)

    def _where_it_looked(self, hits: list[Hit]) -> list[Source]:
        """A refusal with no span left to weigh (none read, or none of the kind asked) still
        shows where it looked: the first sentence of each of the top documents' passages."""
        sources: list[Source] = []
        seen: set[str] = set()
        for hit in hits:
            p = hit.passage
            if p.doc_id in seen:
                continue
            if len(seen) == 3:
                break
            seen.add(p.doc_id)
            start, end = p.sentences[0] if p.sentences else (p.start, p.end)
            start, end = max(p.start, start), min(p.end, end)
            quote = p.text[start - p.start : end - p.start]
            info = self.index.documents[p.doc_id]
            sources.append(Source.cite(info, p.passage_id, quote, start, None, None, 0.0, p.page))
        return sources

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
            self.selection.confidence(probability),
            p.page,
        )
