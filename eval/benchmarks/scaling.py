"""FAISS and bm25s scaling on synthetic data: build time, size, single-query latency and
recall at corpus sizes the seed corpus does not reach."""

import argparse
import gc
import time

import faiss
import numpy as np

from rag.index.store import make_bm25, make_dense_index

from .common import SEED, WARMUP, load_note, log, percentiles, print_table

DIM = 384
MiB = 1024 * 1024


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
