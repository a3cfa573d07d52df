"""Warm query latency of ``search`` and ``ask`` on the seed and KorQuAD indexes, each
index built first (see :mod:`.builds`); latencies are measured in this, warm, process."""

import argparse
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np
import torch

from rag.answer.retrieval import HybridRetriever
from rag.evaluation.harness import korquad_documents
from rag.index.embedded import EmbeddedStore
from rag.index.embedder import Embedder
from rag.index.store import index_path, load_index
from rag.pipeline import Pipeline
from rag.settings import Settings

from .builds import (
    KORQUAD_CHUNK_CHARS,
    korquad_settings,
    print_build,
    run_build,
    warm_embed_rate,
)
from .common import (
    SEED,
    SEEDS_DIR,
    WARMUP,
    load_note,
    log,
    percentiles,
    print_table,
    seed_questions,
)


@contextmanager
def thread_limit(threads: int | None) -> Iterator[None]:
    """Run with ``threads`` torch and FAISS (OpenMP) threads; None keeps the defaults."""
    if threads is None:
        yield
        return
    torch_threads, faiss_threads = torch.get_num_threads(), faiss.omp_get_max_threads()
    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(torch_threads)
        faiss.omp_set_num_threads(faiss_threads)


#: (label, threads, prepare): ``prepare(question)`` does any untimed set-up and returns
#: the call to time.
Variant = tuple[str, int | None, Callable[[str], Callable[[], object]]]


def time_alternating(variants: Sequence[Variant], questions: Sequence[str]) -> list[list[float]]:
    """Milliseconds per call of each variant. The first ``WARMUP`` questions warm every
    variant up untimed; the rest go to the variants in turn, one each, so every question
    is asked once (no cache sees it twice) and load from other processes hits all alike."""
    samples: list[list[float]] = [[] for _ in variants]
    for i, q in enumerate(questions):
        chosen = range(len(variants)) if i < WARMUP else [i % len(variants)]
        for v in chosen:
            _, threads, prepare = variants[v]
            call = prepare(q)
            with thread_limit(threads):
                started = time.perf_counter()
                call()
                elapsed = (time.perf_counter() - started) * 1000
            if i >= WARMUP:
                samples[v].append(elapsed)
    return samples


def fresh_answerer(pipeline: Pipeline) -> Pipeline:
    """The same pipeline with a new answerer: no sentence vectors or terms cached."""
    return Pipeline(pipeline.settings, pipeline.embedder, pipeline.index, pipeline.retriever)


def latency_rows(pipeline: Pipeline, questions: Sequence[str]) -> list[list[object]]:
    """p50/p95/p99 of ``search`` and ``ask`` in this warm process, each with the default
    thread counts and with one thread. ``ask`` is timed twice: with a fresh answerer (it
    embeds the sentences of the retrieved passages) and after ``answerer.warm`` has
    embedded them. The question-vector cache is off: every call embeds its question."""
    if hasattr(pipeline.embedder, "cache_queries"):
        pipeline.embedder.cache_queries = False
    default = f"{torch.get_num_threads()} torch / {faiss.omp_get_max_threads()} faiss"
    thread_options: list[tuple[str, int | None]] = [(default, None), ("1 torch / 1 faiss", 1)]

    def search(q: str) -> Callable[[], object]:
        return lambda: pipeline.search(q)

    def cold_ask(q: str) -> Callable[[], object]:
        fresh = fresh_answerer(pipeline)
        return lambda: fresh.ask(q)

    def warm_ask(q: str) -> Callable[[], object]:
        return lambda: pipeline.ask(q)

    rows = _timed_rows("search", search, thread_options, questions)
    rows += _timed_rows("ask, fresh answerer", cold_ask, thread_options, questions)
    log(f"warming the answerer on the passages of {len(questions)} questions")
    depth = pipeline.settings.answer_passages
    pipeline.answerer.warm(
        h.passage for hits in pipeline.search_batch(list(questions), k=depth) for h in hits
    )
    rows += _timed_rows("ask, warmed answerer", warm_ask, thread_options, questions)
    return rows


def _timed_rows(
    name: str,
    prepare: Callable[[str], Callable[[], object]],
    thread_options: Sequence[tuple[str, int | None]],
    questions: Sequence[str],
) -> list[list[object]]:
    log(f"timing {name} over {len(questions)} questions")
    variants = [(label, threads, prepare) for label, threads in thread_options]
    samples = time_alternating(variants, questions)
    return [
        [name, label, len(s), *percentiles(s), float(np.mean(s))]
        for (label, _, _), s in zip(variants, samples, strict=True)
    ]


LATENCY_NOTE = (
    f"first {WARMUP} questions warm up every row, the rest alternate between the two thread "
    "settings; question-vector cache off"
)
LATENCY_HEADERS = [
    "call",
    "threads",
    "timed queries",
    "p50 (ms)",
    "p95 (ms)",
    "p99 (ms)",
    "mean (ms)",
]


def part_seeds(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-seeds-") as tmp:
        result = run_build("seeds", Path(tmp), args.korquad)
        settings = Settings(corpus_dir=SEEDS_DIR, index_dir=Path(tmp))
        pipeline = Pipeline.load(settings, show_progress=False)
        print_build(
            "seeds: full rebuild of seeds/ (fresh subprocess)", result, warm_embed_rate(pipeline)
        )
        questions = seed_questions(args.queries)
        print_table(
            f"seeds: warm query latency ({pipeline.index.passage_count} passages, "
            f"mode {settings.mode}, k={settings.top_k}; {LATENCY_NOTE}); {load_note()}",
            LATENCY_HEADERS,
            latency_rows(pipeline, questions),
        )


def part_korquad(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-korquad-") as tmp:
        result = run_build("korquad", Path(tmp), args.korquad)
        settings = korquad_settings(Path(tmp))
        index = EmbeddedStore(load_index(index_path(settings), settings), settings)
        embedder = Embedder(settings, show_progress=False)
        pipeline = Pipeline(settings, embedder, index, HybridRetriever(index, embedder, settings))
        print_build(
            f"korquad: KorQuAD 1.0 dev paragraphs, chunk_chars={KORQUAD_CHUNK_CHARS:,} "
            "(fresh subprocess)",
            result,
            warm_embed_rate(pipeline),
        )
        _, korquad = korquad_documents(args.korquad)
        sample = random.Random(SEED).sample(korquad, args.queries)
        questions = [q.question for q in sample]
        rows = latency_rows(pipeline, questions)
        ranked = pipeline.search_batch(questions)
        hits = sum(
            any(h.passage.doc_id in q.docs for h in found)
            for found, q in zip(ranked, sample, strict=True)
        )
        print_table(
            f"korquad: warm query latency ({len(index.passages)} passages, "
            f"{len(questions)} sampled questions, mode {settings.mode}, k={settings.top_k}; "
            f"{LATENCY_NOTE}; "
            f"sanity: gold paragraph in top {settings.top_k} for {hits / len(sample):.1%}); "
            f"{load_note()}",
            LATENCY_HEADERS,
            rows,
        )
