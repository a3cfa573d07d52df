"""The trained reader: what a warm ``ask`` costs with it rather than the rule extractor,
where that time goes, and what bf16 autocast and int8 dynamic quantisation change against
fp32."""

import argparse
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from rag.answer.reader import ExtractiveReader, SpanCandidate, pad_ids
from rag.answer.selection import ReaderAnswerer
from rag.index.model_store import ensure_e5_model
from rag.pipeline import Pipeline
from rag.settings import Settings, bf16_autocast

from .common import SEEDS_DIR, WARMUP, load_note, log, percentiles, print_table, seed_questions
from .latency import time_alternating


def part_reader(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-reader-") as tmp:
        # Explicit, so a RAG_READER in the environment cannot swap the two sides.
        settings = Settings(corpus_dir=SEEDS_DIR, index_dir=Path(tmp), reader="neural")
        log(f"building the seeds index in this process ({tmp})")
        pipeline = Pipeline.load(settings, show_progress=False)
        questions = seed_questions(args.queries)
        print_table(
            f"seeds: warm ask latency, neural reader (top passage first, or every passage "
            f"read) vs rules ({pipeline.index.passage_count} passages, mode {settings.mode}, "
            f"up to {settings.answer_passages} passages read; first {WARMUP} questions warm "
            f"up each, the rest go to each in turn; question-vector cache off); {load_note()}",
            ["reader", "timed queries", "p50 (ms)", "p95 (ms)", "p99 (ms)", "mean (ms)"],
            ask_rows(pipeline, questions),
        )
        print_table(
            f"seeds: where a warm neural ask's time goes (questions {WARMUP + 1}–"
            f"{len(questions)}, question-vector cache off; reading = the reader's calls: "
            f"tokenising, forward passes, best spans); {load_note()}",
            ["stage", "p50 (ms)", "mean (ms)"],
            stage_rows(pipeline, questions),
        )
        print_table(
            f"reader: one forward pass over one window, by its length in tokens (median of "
            f"{WINDOW_REPEATS}, after one untimed); {load_note()}",
            ["tokens", "ms"],
            window_rows(pipeline),
        )
        print_table(
            f"reader: bf16 autocast and int8 dynamic quantisation vs fp32 (top "
            f"{settings.answer_passages} passages of {len(questions)} seed questions; best "
            f"span = highest score over the passages; the order rotates per question); "
            f"{load_note()}",
            [
                "reader",
                "questions",
                "same best span as fp32",
                "mean |score diff|",
                "p50 (ms)",
                "p95 (ms)",
            ],
            precision_rows(pipeline, questions),
        )


def ask_rows(neural: Pipeline, questions: Sequence[str]) -> list[list[object]]:
    """p50/p95/p99/mean of a warm ``ask`` answered by each reader, on one index and
    embedder, and by the trained reader reading every passage (not the top one first).
    The question-vector cache is off: every call embeds its question."""
    neural.embedder.cache_queries = False
    rules = neural.with_settings(reader="rules")
    every = neural.with_settings(answer_early=False)
    log(f"warming the answerers on the passages of {len(questions)} questions")
    depth = neural.settings.answer_passages
    passages = [h.passage for hits in neural.search_batch(list(questions), k=depth) for h in hits]
    answerers = [neural.answerer, rules.answerer]
    if isinstance(neural.answerer, ReaderAnswerer):
        answerers.append(neural.answerer.rules)  # it still answers byline questions
    for answerer in answerers:
        answerer.warm(passages)

    def asker(pipeline: Pipeline) -> Callable[[str], Callable[[], object]]:
        return lambda q: lambda: pipeline.ask(q)

    log(f"timing ask over {len(questions)} questions")
    variants = [
        ("neural", None, asker(neural)),
        ("neural, every passage read", None, asker(every)),
        ("rules", None, asker(rules)),
    ]
    samples = time_alternating(variants, questions)
    return [
        [label, len(s), *percentiles(s), float(np.mean(s))]
        for (label, _, _), s in zip(variants, samples, strict=True)
    ]


class TimedReader:
    """The reader, adding up the time of each call (to split ``ask`` into stages)."""

    def __init__(self, reader: ExtractiveReader) -> None:
        self.reader = reader
        self.ms = 0.0

    def run(self, question: str, contexts: list[str]) -> list[SpanCandidate | None]:
        started = time.perf_counter()
        try:
            return self.reader.run(question, contexts)
        finally:
            self.ms += (time.perf_counter() - started) * 1000


def stage_rows(neural: Pipeline, questions: Sequence[str]) -> list[list[object]]:
    """Retrieval, the reader's calls and the rest (answer selection, boundaries, checks)
    of warm ``ask`` calls with the trained reader, from the timings each answer reports."""
    answerer = neural.answerer
    if not isinstance(answerer, ReaderAnswerer):
        return []
    timed = TimedReader(answerer.reader)
    timing = replace(
        neural,
        answerer=ReaderAnswerer(
            answerer.index,
            lambda: timed,  # type: ignore[arg-type,return-value]
            answerer.rules,
            answerer.documents,
            answerer.selection,
            answerer.fall_back,
            answerer.answer_early,
        ),
    )
    stages: dict[str, list[float]] = {"retrieval": [], "reading": [], "the rest": [], "all": []}
    with neural.embedder.uncached():
        for i, q in enumerate(questions):
            timed.ms = 0.0
            timings = timing.ask(q).timings_ms
            if i >= WARMUP:
                stages["retrieval"].append(timings["retrieve"])
                stages["reading"].append(timed.ms)
                stages["the rest"].append(timings["answer"] - timed.ms)
                stages["all"].append(timings["total"])
    return [[name, percentiles(ms)[0], float(np.mean(ms))] for name, ms in stages.items()]


#: Forward passes timed per window length.
WINDOW_REPEATS = 9


def window_rows(neural: Pipeline) -> list[list[object]]:
    """What one window costs the reader: the fixed cost of its layers, then per token."""
    answerer = neural.answerer
    if not isinstance(answerer, ReaderAnswerer):
        return []
    reader = answerer.reader
    rows: list[list[object]] = []
    for tokens in (64, 128, 192, 256):
        ids, mask = pad_ids([list(range(5, 5 + tokens))], 1)
        with torch.inference_mode(), bf16_autocast(reader.bf16):
            reader.model(ids, mask)
            ms = []
            for _ in range(WINDOW_REPEATS):
                started = time.perf_counter()
                reader.model(ids, mask)
                ms.append((time.perf_counter() - started) * 1000)
        rows.append([tokens, float(np.median(ms))])
    return rows


def precision_rows(pipeline: Pipeline, questions: Sequence[str]) -> list[list[object]]:
    """The three readers on the same retrieved passages: how often their best span agrees
    with fp32's, how far its score moves, and per-question latency of each."""
    model_path = str(ensure_e5_model(pipeline.settings.model_cache_dir, show_progress=False))
    log("loading the reader in fp32, bf16 and int8")
    readers = {
        "fp32": ExtractiveReader.load(model_path),
        "bf16": ExtractiveReader.load(model_path, bf16=True),
        "int8": ExtractiveReader.load(model_path, quantize=True),
    }
    depth = pipeline.settings.answer_passages
    contexts = [
        [h.passage.text for h in hits] for hits in pipeline.search_batch(list(questions), k=depth)
    ]
    for reader in readers.values():  # untimed: the first call pays one-off set-up
        reader.run(questions[0], contexts[0])
    log(f"timing the readers over {len(questions)} questions")
    names = list(readers)
    best: dict[str, list[SpanCandidate | None]] = {name: [] for name in readers}
    ms: dict[str, list[float]] = {name: [] for name in readers}
    for i, (question, texts) in enumerate(zip(questions, contexts, strict=True)):
        for name in names[i % 3 :] + names[: i % 3]:
            started = time.perf_counter()
            spans = readers[name].run(question, texts)
            ms[name].append((time.perf_counter() - started) * 1000)
            found = [s for s in spans if s is not None]
            best[name].append(max(found, key=lambda s: s.score, default=None))
    rows = []
    for name in names:
        pairs = list(zip(best["fp32"], best[name], strict=True))
        same = np.mean([_where(a) == _where(b) for a, b in pairs])
        diffs = [abs(a.score - b.score) for a, b in pairs if a is not None and b is not None]
        rows.append(
            [
                name,
                len(questions),
                f"{same:.1%}",
                float(np.mean(diffs)) if diffs else "-",
                *percentiles(ms[name])[:2],
            ]
        )
    return rows


def _where(span: SpanCandidate | None) -> tuple[int, int, int] | None:
    """Passage and offsets: two best spans agree when these do, whatever their scores."""
    return None if span is None else (span.context, span.start, span.end)
