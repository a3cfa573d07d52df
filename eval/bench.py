"""Benchmark figures: index build time, peak memory, embedding throughput, query latency,
and FAISS scaling on synthetic vectors. Prints plain-text tables; it is not a test.

    python eval/bench.py --part seeds
    python eval/bench.py --part korquad --queries 300
    python eval/bench.py --part scaling --sizes 10000,100000,1000000

Each index build runs in a fresh subprocess (this script with ``--child``) so its peak
RSS (``VmHWM``) is its own; latencies are measured afterwards in this, warm, process.
Progress goes to stderr, tables to stdout.
"""

import argparse
import gc
import hashlib
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import faiss
import numpy as np
import torch

from rag.cleaning import CleanDocument
from rag.embedder import Embedder
from rag.index import (
    build_from_documents,
    index_path,
    load_index,
    make_bm25,
    make_dense_index,
    update_index,
)
from rag.pipeline import Pipeline
from rag.retrieval import HybridRetriever
from rag.settings import DenseIndexType, Settings

REPO = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO / "seeds"
QUESTIONS = REPO / "eval" / "questions.jsonl"
KORQUAD = REPO.parent / "shared" / "benchmarks" / "korquad-v1" / "KorQuAD_v1.0_dev.json"
RESULT_TAG = "BENCH_RESULT "
KORQUAD_CHUNK_CHARS = 100_000  # one paragraph = one passage
WARMUP = 5
DIM = 384
SEED = 1234
MiB = 1024 * 1024


def log(message: str) -> None:
    """Progress on stderr, so stdout holds only the tables."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- reporting


def machine_info() -> str:
    """One line describing the machine and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), {mem_gib:.1f} GiB RAM, "
        f"{platform.system()} {platform.release()} | Python {platform.python_version()} | "
        f"faiss {faiss.__version__} (omp threads {faiss.omp_get_max_threads()}) | "
        f"torch {torch.__version__} (threads {torch.get_num_threads()}) | numpy {np.__version__}"
        f" | {load_note()}"
    )


def load_note() -> str:
    """The load average now: other processes skew every timing below."""
    one, five, fifteen = os.getloadavg()
    return f"load avg {one:.1f}/{five:.1f}/{fifteen:.1f} on {os.cpu_count()} cores"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A plain-text table with right-aligned columns."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(cells[0], widths, strict=True)))
    print(line)
    for row in cells[1:]:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    sys.stdout.flush()


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def percentiles(samples_ms: Sequence[float]) -> tuple[float, float, float]:
    """p50, p95, p99 of latencies in milliseconds."""
    p50, p95, p99 = np.percentile(np.asarray(samples_ms, dtype=np.float64), [50, 95, 99])
    return float(p50), float(p95), float(p99)


def peak_rss_mib() -> float:
    """This process's RSS high-water mark (VmHWM), falling back to ru_maxrss."""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------ index builds


class TimedEmbed:
    """Wraps ``Embedder.encode_passages`` to count passages and embedding time."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.seconds = 0.0
        self.passages = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        started = time.perf_counter()
        vectors = self.embedder.encode_passages(texts)
        self.seconds += time.perf_counter() - started
        self.passages += len(texts)
        return vectors


def korquad_settings(index_dir: Path) -> Settings:
    """Settings for the KorQuAD index: every paragraph stays one passage."""
    return Settings(
        corpus_dir=Path("korquad-v1"), index_dir=index_dir, chunk_chars=KORQUAD_CHUNK_CHARS
    )


def korquad_documents(path: Path) -> list[CleanDocument]:
    """KorQuAD paragraphs as cleaned documents, one body block each."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    docs = []
    for article in data:
        for i, paragraph in enumerate(article["paragraphs"]):
            text = paragraph["context"].strip()
            docs.append(
                CleanDocument(
                    doc_id=f"{article['title']}#{i}",
                    text=text,
                    checksum=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                    title=article["title"],
                    blocks=[[(0, len(text))]],
                )
            )
    return docs


def korquad_questions(path: Path) -> list[tuple[str, str]]:
    """(question, doc_id of its paragraph) for every KorQuAD question."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [
        (qa["question"], f"{article['title']}#{i}")
        for article in data
        for i, paragraph in enumerate(article["paragraphs"])
        for qa in paragraph["qas"]
    ]


def child_build(corpus: str, index_dir: Path, korquad: Path) -> dict[str, float]:
    """In the child process: load the model, build one index from scratch, report."""
    started = time.perf_counter()
    settings = (
        korquad_settings(index_dir)
        if corpus == "korquad"
        else Settings(corpus_dir=SEEDS_DIR, index_dir=index_dir)
    )
    embedder = Embedder(settings, show_progress=False)
    load_s = time.perf_counter() - started
    rss_model = peak_rss_mib()
    embed = TimedEmbed(embedder)
    started = time.perf_counter()
    if corpus == "korquad":
        docs = korquad_documents(korquad)
        index = build_from_documents(docs, settings, embed, index_path(settings))
    else:
        index, _ = update_index(settings, embed, rebuild=True)
    build_s = time.perf_counter() - started
    return {
        "documents": len(index.documents),
        "passages": len(index.passages),
        "passage_chars": sum(len(p.text) for p in index.passages) / max(1, len(index.passages)),
        "model_load_s": load_s,
        "build_s": build_s,
        "embed_s": embed.seconds,
        "embedded": embed.passages,
        "rss_after_model_mib": rss_model,
        "peak_rss_mib": peak_rss_mib(),
    }


def run_build(corpus: str, index_dir: Path, korquad: Path) -> dict[str, float]:
    """Build in a fresh subprocess so peak memory is measured per build."""
    log(f"building the {corpus} index in a subprocess ({index_dir})")
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        corpus,
        "--index-dir",
        str(index_dir),
        "--korquad",
        str(korquad),
    ]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise RuntimeError(f"{corpus} build failed with exit code {proc.returncode}")
    line = next(ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith(RESULT_TAG))
    result = json.loads(line[len(RESULT_TAG) :])
    result["process_s"] = wall
    # Largest of all children so far; equals this child's peak when it is the largest.
    result["children_maxrss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def warm_embed_rate(pipeline: Pipeline, limit: int = 256) -> float:
    """Passages/s re-embedding up to ``limit`` indexed passages in this warm process."""
    texts = [p.embedding_text() for p in pipeline.index.passages[:limit]]
    pipeline.embedder.encode_passages(texts[:8])
    started = time.perf_counter()
    pipeline.embedder.encode_passages(texts)
    return len(texts) / (time.perf_counter() - started)


def print_build(title: str, result: dict[str, float], warm_rate: float) -> None:
    headers = [
        "docs",
        "passages",
        "mean passage (chars)",
        "model load (s)",
        "build (s)",
        "embed (s)",
        "embed (passages/s)",
        "warm re-embed (passages/s)",
        "RSS after model load (MiB)",
        "peak RSS (MiB)",
        "subprocess wall (s)",
    ]
    row = [
        int(result["documents"]),
        int(result["passages"]),
        result["passage_chars"],
        result["model_load_s"],
        result["build_s"],
        result["embed_s"],
        result["embedded"] / max(result["embed_s"], 1e-9),
        warm_rate,
        result["rss_after_model_mib"],
        result["peak_rss_mib"],
        result["process_s"],
    ]
    print_table(f"{title}; {load_note()}", headers, [row])


# --------------------------------------------------------------------- query latencies


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
        with open(QUESTIONS, encoding="utf-8") as f:
            questions = [json.loads(line)["question"] for line in f if line.strip()]
        questions = questions[: args.queries]
        print_table(
            f"seeds: warm query latency ({len(pipeline.index.passages)} passages, "
            f"mode {settings.mode}, k={settings.top_k}; {LATENCY_NOTE}); {load_note()}",
            LATENCY_HEADERS,
            latency_rows(pipeline, questions),
        )


def part_korquad(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-korquad-") as tmp:
        result = run_build("korquad", Path(tmp), args.korquad)
        settings = korquad_settings(Path(tmp))
        index = load_index(index_path(settings), settings)
        embedder = Embedder(settings, show_progress=False)
        pipeline = Pipeline(settings, embedder, index, HybridRetriever(index, embedder, settings))
        print_build(
            f"korquad: KorQuAD 1.0 dev paragraphs, chunk_chars={KORQUAD_CHUNK_CHARS:,} "
            "(fresh subprocess)",
            result,
            warm_embed_rate(pipeline),
        )
        sample = random.Random(SEED).sample(korquad_questions(args.korquad), args.queries)
        questions = [q for q, _ in sample]
        rows = latency_rows(pipeline, questions)
        ranked = pipeline.search_batch(questions)
        hits = sum(
            any(h.passage.doc_id == gold for h in found)
            for found, (_, gold) in zip(ranked, sample, strict=True)
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


# --------------------------------------------------------------------- FAISS scaling


def synthetic_vectors(n: int, rng: np.random.Generator, latent_dim: int = 0) -> np.ndarray:
    """``n`` random unit vectors (float32, dim ``DIM``): uniform on the sphere, or with
    ``latent_dim`` > 0 drawn from a random ``latent_dim``-dimensional subspace plus a little
    noise (closer to real embeddings, whose neighbourhoods are not pure noise)."""
    if latent_dim:
        basis = rng.standard_normal((latent_dim, DIM), dtype=np.float32)
        vectors = rng.standard_normal((n, latent_dim), dtype=np.float32) @ basis
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors += 0.02 * rng.standard_normal((n, DIM), dtype=np.float32)
    else:
        vectors = rng.standard_normal((n, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def perturbed_queries(vectors: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Corpus vectors nudged by a little noise, so each has a near neighbour."""
    rows = rng.choice(len(vectors), size=count, replace=False)
    queries = vectors[rows] + 0.05 * rng.standard_normal((count, DIM), dtype=np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return np.ascontiguousarray(queries, dtype=np.float32)


def single_query_latency(
    index: faiss.Index, queries: np.ndarray, k: int, threads: int | None = None
) -> list[float]:
    """Milliseconds per one-query search, after a few warm-up searches; ``threads`` sets
    FAISS's OpenMP threads for the measurement (None: its default)."""
    default = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads or default)
    try:
        for q in queries[:WARMUP]:
            index.search(q[None, :], k)
        samples = []
        for q in queries:
            started = time.perf_counter()
            index.search(q[None, :], k)
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        faiss.omp_set_num_threads(default)
    return samples


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of the exact top k that the approximate search also returned."""
    k = exact.shape[1]
    return float(np.mean([len(set(f) & set(e)) / k for f, e in zip(found, exact, strict=True)]))


def index_params(index: faiss.Index) -> str:
    if isinstance(index, faiss.IndexHNSWFlat):
        return f"M=32 efC={index.hnsw.efConstruction} efS={index.hnsw.efSearch}"
    if isinstance(index, faiss.IndexIVFFlat):
        return f"nlist={index.nlist} nprobe={index.nprobe}"
    return "exact"


def part_scaling(args: argparse.Namespace) -> None:
    rows: list[list[object]] = []
    k = 10
    threads = faiss.omp_get_max_threads()
    for n in args.sizes:
        rng = np.random.default_rng(SEED)
        log(f"n={n:,}: generating vectors")
        vectors = synthetic_vectors(n, rng, args.latent_dim)
        queries = perturbed_queries(vectors, args.scaling_queries, rng)
        exact: np.ndarray | None = None
        for kind in args.kinds:
            if kind == "hnsw" and n > args.max_hnsw:
                rows.append([n, kind, f"skipped (> --max-hnsw {args.max_hnsw:,})", *["-"] * 9])
                continue
            log(f"n={n:,}: building {kind}")
            started = time.perf_counter()
            index = make_dense_index(vectors, kind)
            build_s = time.perf_counter() - started
            size_mib = faiss.serialize_index(index).nbytes / MiB
            log(f"n={n:,}: {kind} built in {build_s:.1f} s; timing searches")
            samples = single_query_latency(index, queries, k)
            one_thread = single_query_latency(index, queries, k, threads=1)
            _, found = index.search(queries, k)
            if exact is None:  # the flat index comes first: it is the ground truth
                exact = (
                    found
                    if kind == "flat"
                    else make_dense_index(vectors, "flat").search(queries, k)[1]
                )
            self_hit = float(np.mean(found[:, 0] == exact[:, 0]))
            p50, p95, p99 = percentiles(samples)
            p50_1, p95_1, _ = percentiles(one_thread)
            rows.append(
                [
                    n,
                    kind,
                    index_params(index),
                    build_s,
                    size_mib,
                    p50,
                    p95,
                    p99,
                    p50_1,
                    p95_1,
                    recall_at_k(found, exact),
                    self_hit,
                ]
            )
            del index
            gc.collect()
        del vectors
        gc.collect()
    shape = (
        f"rank-{args.latent_dim} subspace + noise" if args.latent_dim else "uniform on the sphere"
    )
    print_table(
        f"scaling: FAISS on synthetic unit vectors (dim {DIM}, float32, {shape}, seed {SEED}); "
        f"{args.scaling_queries} single-vector queries (corpus vector + noise), k={k}; "
        f"recall vs IndexFlatIP; {load_note()}",
        [
            "passages",
            "index",
            "params",
            "build (s)",
            "serialized size (MiB)",
            f"p50 (ms) {threads} thr",
            f"p95 (ms) {threads} thr",
            f"p99 (ms) {threads} thr",
            "p50 (ms) 1 thr",
            "p95 (ms) 1 thr",
            f"recall@{k}",
            "top-1 = exact top-1",
        ],
        rows,
    )
    if args.bm25_docs:
        bm25_scaling(args.bm25_docs, args.scaling_queries)


def bm25_scaling(n_docs: int, n_queries: int) -> None:
    """bm25s ``get_scores`` latency over synthetic Zipf-distributed documents."""
    rng = np.random.default_rng(SEED)
    vocab, doc_len = 50_000, 60
    log(f"bm25: {n_docs:,} synthetic docs of {doc_len} terms")
    ids = np.minimum(rng.zipf(1.2, size=(n_docs, doc_len)), vocab) - 1
    docs = [[f"w{t}" for t in row] for row in ids]
    started = time.perf_counter()
    bm25 = make_bm25(docs)
    build_s = time.perf_counter() - started
    queries = [[f"w{t}" for t in rng.integers(10, 5_000, size=5)] for _ in range(n_queries)]
    scores_ms, ranked_ms = [], []
    for q in queries[:WARMUP]:
        bm25.get_scores(q)
    for q in queries:
        started = time.perf_counter()
        scores = bm25.get_scores(q)
        mid = time.perf_counter()
        np.argsort(-scores)[:50]  # what HybridRetriever does with the scores
        scores_ms.append((mid - started) * 1000)
        ranked_ms.append((time.perf_counter() - started) * 1000)
    print_table(
        f"scaling: bm25s on synthetic docs ({doc_len} Zipf terms each, vocabulary {vocab:,}); "
        f"{n_queries} queries of 5 terms; {load_note()}",
        [
            "docs",
            "index (s)",
            "get_scores p50 (ms)",
            "get_scores p95 (ms)",
            "+ argsort p50 (ms)",
            "+ argsort p95 (ms)",
        ],
        [[n_docs, build_s, *percentiles(scores_ms)[:2], *percentiles(ranked_ms)[:2]]],
    )


# ------------------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["seeds", "korquad", "scaling", "all"], default="all")
    parser.add_argument(
        "--sizes",
        default="10000,100000,1000000",
        help="comma-separated corpus sizes for --part scaling",
    )
    parser.add_argument(
        "--kinds",
        default="flat,hnsw,ivf",
        help="FAISS index types for --part scaling (flat is the reference)",
    )
    parser.add_argument(
        "--max-hnsw",
        type=int,
        default=10**9,
        help="skip HNSW above this many vectors (its build is slow)",
    )
    parser.add_argument(
        "--queries",
        type=int,
        default=300,
        help="questions timed (KorQuAD sample size; seeds uses at most this)",
    )
    parser.add_argument("--scaling-queries", type=int, default=200)
    parser.add_argument(
        "--latent-dim",
        type=int,
        default=0,
        help="scaling vectors from a random subspace of this rank (0: uniform)",
    )
    parser.add_argument(
        "--bm25-docs",
        type=int,
        default=100_000,
        help="synthetic docs for the bm25s latency table (0 skips it)",
    )
    parser.add_argument("--korquad", type=Path, default=KORQUAD)
    parser.add_argument("--child", choices=["seeds", "korquad"], help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    kinds: list[DenseIndexType] = [k.strip() for k in args.kinds.split(",") if k.strip()]  # type: ignore[misc]
    if "flat" in kinds:  # the exact index goes first: it is the recall reference
        kinds.remove("flat")
        kinds.insert(0, "flat")
    args.kinds = kinds
    return args


def main(argv: Sequence[str] | None = None) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for the network (children inherit it)
    args = parse_args(argv)
    if args.child:
        result = child_build(args.child, args.index_dir, args.korquad)
        print(RESULT_TAG + json.dumps(result), flush=True)
        return
    print(machine_info())
    parts = ["seeds", "korquad", "scaling"] if args.part == "all" else [args.part]
    for part in parts:
        {"seeds": part_seeds, "korquad": part_korquad, "scaling": part_scaling}[part](args)


if __name__ == "__main__":
    main()
