"""Score retrieval and answers on a fixed question set (or KorQuAD 1.0), the same way
every time, so configurations can be compared side by side.

Retrieval metrics are document-level (hit@k, MRR@10, nDCG@10 with binary relevance and
the ideal DCG over the gold list), plus answer_hit@1: the first document holds a gold
answer, whichever article it is (a news set labels one of the articles that report a fact,
so hit@1 counts another outlet's report of it as a miss); answer metrics follow the
official KorQuAD 1.0 script (normalisation, exact match, character-level F1).
"""

import hashlib
import json
import math
import re
import string
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from rag.answer.answerer import Answer
from rag.answer.questions import reading_form
from rag.answer.retrieval import Hit, HybridRetriever
from rag.answer.selection import ReaderAnswerer, document_texts, read_candidates
from rag.index.embedded import EmbeddedStore
from rag.index.embedder import Embedder
from rag.index.passage_store import PassageStore
from rag.index.store import (
    CorpusIndex,
    DocumentInfo,
    IndexNotReady,
    build_from_documents,
    load_index,
)
from rag.ingest.cleaning import CleanDocument
from rag.ingest.passages import Passage
from rag.pipeline import Pipeline
from rag.settings import RetrievalMode, Settings


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: list[str]
    docs: list[str]
    type: str

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_questions(path: Path) -> list[EvalQuestion]:
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [
        EvalQuestion(r["id"], r["question"], list(r["answers"]), list(r["docs"]), r.get("type", ""))
        for r in rows
    ]


# --- KorQuAD 1.0 official normalisation and scores -------------------------------------
_KORQUAD_QUOTES = re.compile(r"['\"《》<>〈〉()‘’]")


def normalize_answer(text: str) -> str:
    text = _KORQUAD_QUOTES.sub(" ", text).lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def char_f1(prediction: str, gold: str) -> float:
    pred = list(normalize_answer(prediction).replace(" ", ""))
    ref = list(normalize_answer(gold).replace(" ", ""))
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains_answer(prediction: str, gold: str) -> bool:
    """The gold answer appears in the returned answer, white space ignored."""
    return re.sub(r"\s+", "", gold) in re.sub(r"\s+", "", prediction)


# --- retrieval metrics ---------------------------------------------------------------------
def ranked_docs(hits: Sequence[Hit], same_content: Mapping[str, str] | None = None) -> list[str]:
    """Document ids in order of their best passage, each once; a document in
    ``same_content`` counts as the gold document it copies (retrieval shows one of a group
    of near-duplicates, whichever ranks best)."""
    alias = same_content or {}
    return list(dict.fromkeys(alias.get(h.passage.doc_id, h.passage.doc_id) for h in hits))


def copies_of_gold(documents: Mapping[str, DocumentInfo], gold: list[str]) -> dict[str, str]:
    """Near-duplicates of the gold documents (another outlet's copy) → the gold one."""
    return {twin: g for g in gold if g in documents for twin in documents[g].same_as}


def retrieval_metrics(ranking: list[str], gold: list[str]) -> dict[str, float]:
    gold_set = set(gold)
    first = next((i for i, d in enumerate(ranking[:10], start=1) if d in gold_set), None)
    dcg = sum(1 / math.log2(i + 1) for i, d in enumerate(ranking[:10], start=1) if d in gold_set)
    idcg = sum(1 / math.log2(i + 1) for i in range(1, min(len(gold_set), 10) + 1))
    return {
        "hit@1": float(first == 1),
        "hit@5": float(first is not None and first <= 5),
        "hit@20": float(any(d in gold_set for d in ranking[:20])),
        "mrr@10": 1 / first if first else 0.0,
        "ndcg@10": dcg / idcg if idcg else 0.0,
    }


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


@dataclass
class QuestionResult:
    question: EvalQuestion
    answer: Answer | None  # None when only retrieval is evaluated
    ranking: list[str]
    latency_ms: float
    #: What went wrong when answering raised; the run goes on and reports it.
    error: str | None = None
    #: Near-duplicates of the gold documents → the gold one (see :func:`copies_of_gold`).
    same_content: dict[str, str] = field(default_factory=dict)
    #: Whether the first-ranked document holds a gold answer (answer_hit@1).
    first_holds_answer: bool | None = None

    def record(self) -> dict[str, Any]:
        q, a = self.question, self.answer
        out: dict[str, Any] = {
            "id": q.id,
            "type": q.type,
            "answerable": q.answerable,
            "abstained": a is not None and a.abstained,
            "latency_ms": self.latency_ms,
        }
        if a is not None:
            out["confidence"] = a.confidence
            if not a.abstained:  # an answer to an unanswerable question is a wrong one
                out["answered_right"] = float(
                    q.answerable and any(contains_answer(a.answer or "", g) for g in q.answers)
                )
        if q.answerable and q.docs:
            out |= retrieval_metrics(self.ranking, q.docs)
        if q.answerable and self.first_holds_answer is not None:
            out["answer_hit@1"] = float(self.first_holds_answer)
        if self.error is not None:
            out["error"] = self.error
            if q.answerable:  # an answer that never came is a wrong one
                out |= {"correct": 0.0, "em": 0.0, "f1": 0.0}
        if q.answerable and a is not None:
            text = a.answer or ""
            out["correct"] = float(any(contains_answer(text, g) for g in q.answers))
            out["em"] = max(exact_match(text, g) for g in q.answers)
            out["f1"] = max(char_f1(text, g) for g in q.answers)
            if not a.abstained:
                out["answer_chars"] = len(text)
                cited = a.sources[0].doc_id if a.sources else None
                out["cited"] = float(self.same_content.get(cited, cited) in q.docs)
        return out


def _mean(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if key in r]
    return round(float(np.mean(values)), 4) if values else None


def summarize(results: list[QuestionResult]) -> dict[str, Any]:
    """Stable keys: the ``rag eval --json`` contract."""
    rows = [r.record() for r in results]
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    abstained = [r for r in rows if r["abstained"]]
    true_abstentions = sum(1 for r in abstained if not r["answerable"])
    latencies = [r["latency_ms"] for r in rows]
    metrics: dict[str, Any] = {
        "questions": len(rows),
        "errors": sum(1 for r in rows if "error" in r),
        "retrieval": {
            k: _mean(answerable, k)
            for k in ("hit@1", "hit@5", "hit@20", "mrr@10", "ndcg@10", "answer_hit@1")
        },
        "answers": {
            "accuracy": _mean(answerable, "correct"),
            "exact_match": _mean(answerable, "em"),
            "f1": _mean(answerable, "f1"),
            "mean_answer_chars": _mean(answerable, "answer_chars"),
            "short_answer_rate": round(
                sum(1 for r in answerable if r.get("answer_chars", 99) <= 30)
                / max(1, len(answerable)),
                4,
            )
            if any("correct" in r for r in answerable)
            else None,
            "citation_accuracy": _mean(answerable, "cited"),
        },
        "abstention": {
            "unanswerable": len(unanswerable),
            "abstained": len(abstained),
            "precision": round(true_abstentions / len(abstained), 4) if abstained else None,
            "recall": round(true_abstentions / len(unanswerable), 4) if unanswerable else None,
            "wrongly_refused": sum(1 for r in abstained if r["answerable"]),
        },
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 1),
            "p95": round(percentile(latencies, 95), 1),
        },
        "latencies_ms": [round(x, 1) for x in latencies],
    }
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_type[r["type"]].append(r)
    metrics["by_type"] = {
        t: {
            "questions": len(rs),
            "hit@1": _mean(rs, "hit@1"),
            "mrr@10": _mean(rs, "mrr@10"),
            "accuracy": _mean(rs, "correct"),
            "f1": _mean(rs, "f1"),
            "abstained": sum(1 for r in rs if r["abstained"]),
        }
        for t, rs in sorted(by_type.items())
    }
    metrics["reliability"] = reliability(rows)
    metrics["answers"]["calibration_error"] = calibration_error(metrics["reliability"])
    metrics["failures"] = [failure(r) for r in results if is_failure(r)]
    return metrics


def reliability(rows: list[dict[str, Any]], bins: int = 5) -> list[dict[str, Any]]:
    """Of the answers given with a confidence in each bin, the share that was right: a
    calibrated system's accuracy matches its confidence."""
    answered = [r for r in rows if "answered_right" in r]
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [
            r
            for r in answered
            if lo <= r["confidence"] < hi or (b == bins - 1 and r["confidence"] >= hi)
        ]
        out.append(
            {
                "bin": f"{lo:.1f}–{hi:.1f}",
                "answers": len(inside),
                "mean_confidence": _mean(inside, "confidence"),
                "accuracy": _mean(inside, "answered_right"),
            }
        )
    return out


def calibration_error(bins: list[dict[str, Any]]) -> float | None:
    """Expected calibration error (ECE) over the :func:`reliability` bins: the gap between
    the answers' confidence and their accuracy, bin by bin, weighted by the answers in each."""
    answers = sum(b["answers"] for b in bins)
    if not answers:
        return None
    gaps = sum(
        b["answers"] * abs(b["accuracy"] - b["mean_confidence"]) for b in bins if b["answers"]
    )
    return round(gaps / answers, 4)


def is_failure(result: QuestionResult) -> bool:
    q, a = result.question, result.answer
    if result.error is not None:
        return True
    if a is None:
        return False
    if not q.answerable:
        return not a.abstained
    return a.abstained or not any(contains_answer(a.answer or "", g) for g in q.answers)


def failure(result: QuestionResult) -> dict[str, Any]:
    q, a = result.question, result.answer
    row = {
        "id": q.id,
        "type": q.type,
        "question": q.question,
        "expected": q.answers or None,
        "expected_docs": q.docs,
        "answer": a.answer if a else None,
        "abstained": a.abstained if a else False,
        "confidence": round(a.confidence, 3) if a else 0.0,
        "cited": [s.doc_id for s in a.sources] if a else [],
        "quote": a.sources[0].quote if a and a.sources else None,
    }
    return row | {"error": result.error} if result.error is not None else row


def _first_holds_answer(store: PassageStore, q: EvalQuestion, hits: list[Hit]) -> bool | None:
    """Whether the first-ranked document holds a gold answer (``None``: nothing to check)."""
    if not (hits and q.answerable):
        return None
    doc = hits[0].passage.doc_id
    text = document_texts(store, [doc])[doc]
    return any(contains_answer(text, g) for g in q.answers)


def run_questions(
    pipeline: Pipeline,
    questions: list[EvalQuestion],
    mode: RetrievalMode | None = None,
    answers: bool = True,
) -> list[QuestionResult]:
    """Every question through the same path as ``rag ask`` (one at a time, so latencies
    are those of a warm single request), plus a 20-deep document ranking. With
    ``answers=False`` only retrieval is run and timed."""
    texts = [q.question for q in questions]
    rankings = pipeline.retriever.run_batch(texts, k=20, mode=mode)
    if answers:  # latencies of a warm process, not of first contact with each passage
        depth = pipeline.settings.answer_passages
        pipeline.answerer.warm(h.passage for hits in rankings for h in hits[:depth])
    results = []
    steps = zip(questions, rankings, strict=True)
    with pipeline.embedder.uncached():  # each timed question embeds itself, as a request does
        for q, hits in tqdm(steps, total=len(questions), desc="questions", unit="q", leave=False):
            copies = copies_of_gold(pipeline.index.documents, q.docs)
            ranking = ranked_docs(hits, copies)
            in_first = _first_holds_answer(pipeline.index, q, hits)
            if not answers:
                started = time.perf_counter()
                pipeline.retriever.run(q.question, pipeline.settings.answer_passages, mode)
                latency = (time.perf_counter() - started) * 1000
                results.append(QuestionResult(q, None, ranking, latency, None, copies, in_first))
                continue
            try:
                answer = pipeline.ask(q.question, mode)
            except Exception as exc:  # one broken question must not end the run
                error = f"{type(exc).__name__}: {exc}"
                results.append(QuestionResult(q, None, ranking, 0.0, error, copies, in_first))
                continue
            latency = answer.timings_ms["total"]
            results.append(QuestionResult(q, answer, ranking, latency, None, copies, in_first))
    return results


def evaluate(
    pipeline: Pipeline,
    questions: list[EvalQuestion],
    mode: RetrievalMode | None = None,
    answers: bool = True,
) -> dict[str, Any]:
    started = time.perf_counter()
    metrics = summarize(run_questions(pipeline, questions, mode, answers))
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    return metrics


# --- KorQuAD 1.0 open-domain --------------------------------------------------------------
def korquad_documents(path: Path) -> tuple[list[CleanDocument], list[EvalQuestion]]:
    """Every paragraph of the dev set as one document, every question pointing at its
    paragraph; question ids are the dataset's own."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    docs, questions = [], []
    for article in data:
        for i, paragraph in enumerate(article["paragraphs"]):
            context = paragraph["context"]
            doc_id = f"{article['title']}#{i}"
            start = len(context) - len(context.lstrip())
            docs.append(
                CleanDocument(
                    doc_id=doc_id,
                    text=context,
                    checksum=hashlib.sha256(context.encode("utf-8")).hexdigest(),
                    title=article["title"],
                    blocks=[[(start, len(context.rstrip()))]],
                )
            )
            for qa in paragraph["qas"]:
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(
                    EvalQuestion(qa["id"], qa["question"], answers, [doc_id], "korquad")
                )
    return docs, questions


def korquad_pipeline(
    settings: Settings,
    path: Path,
    show_progress: bool = True,
    keep: Callable[[CleanDocument], bool] | None = None,
    name: str = "dev",
) -> Pipeline:
    """Index the paragraphs (one passage each; only those ``keep`` accepts) beside the
    corpus indexes, reusing a previous build when the data and settings are unchanged. Each
    paragraph is a document; the reader's checks read its whole article."""
    docs, _ = korquad_documents(path)
    docs = [d for d in docs if keep is None or keep(d)]
    paragraphs: dict[str, list[str]] = defaultdict(list)
    for d in docs:
        paragraphs[d.title].append(d.text)
    articles = {title: "\n".join([title, *texts]) for title, texts in paragraphs.items()}
    settings = settings.model_copy(update={"chunk_chars": 100_000, "corpus_dir": path.parent})
    embedder = Embedder(settings, show_progress=show_progress)
    root = settings.index_dir / f"korquad-v1-{name}"
    try:
        previous: CorpusIndex | None = load_index(root, settings)
    except IndexNotReady:
        previous = None
    unchanged = previous is not None and {d.doc_id: d.checksum for d in docs} == {
        k: v.checksum for k, v in previous.documents.items()
    }
    index = (
        previous
        if unchanged
        else build_from_documents(
            docs,
            settings,
            lambda texts: embedder.encode_passages(texts, show_progress),
            root,
            previous,
        )
    )
    assert index is not None
    store = EmbeddedStore(index, settings)
    return Pipeline(
        settings,
        embedder,
        store,
        HybridRetriever(store, embedder, settings),
        documents=lambda ids: {d: articles[d.rsplit("#", 1)[0]] for d in ids},
    )


def reader_scores(pipeline: Pipeline, questions: list[EvalQuestion]) -> dict[str, float]:
    """EM / F1 when the gold paragraph is handed to the answerer: extraction alone. The
    neural reader's best span is scored even where selection would abstain (counted). A
    question that raises scores 0 and is counted in ``errors``."""
    by_doc = {p.doc_id: p for p in pipeline.index.iter_passages()}
    em, f1, abstained, errors = [], [], 0, 0
    for q in tqdm(questions, desc="gold paragraphs", unit="q", leave=False):
        try:
            text, refused = _gold_paragraph_answer(pipeline, q.question, by_doc[q.docs[0]])
        except Exception:  # counted, and the run goes on
            text, refused, errors = "", False, errors + 1
        abstained += refused
        em.append(max(exact_match(text, g) for g in q.answers))
        f1.append(max(char_f1(text, g) for g in q.answers))
    return {
        "exact_match": round(float(np.mean(em)), 4),
        "f1": round(float(np.mean(f1)), 4),
        "abstained": abstained,
        "errors": errors,
    }


def _gold_paragraph_answer(pipeline: Pipeline, question: str, passage: Passage) -> tuple[str, bool]:
    """The answer read from ``passage`` alone, and whether the system would refuse it; the
    question is read in the form :meth:`Pipeline.ask` reads it."""
    answerer, hits = pipeline.answerer, [Hit(passage, 1.0)]
    question = reading_form(question)
    if isinstance(answerer, ReaderAnswerer):
        best = max(
            read_candidates(answerer.reader, question, hits, answerer.documents),
            key=lambda c: c.span.score,
            default=None,
        )
        if best is None:
            return "", True
        return best.text, answerer.selection.probability(
            best.features
        ) < answerer.selection.threshold
    answer = answerer.run(question, hits)
    return answer.answer or "", answer.abstained
