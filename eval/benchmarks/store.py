"""The two stores side by side on synthetic passages: the embedded index (FAISS flat +
bm25s files) and Qdrant (local mode, or a server with ``--qdrant-url``). Insert rate and
size on disk, then single-query latency and throughput of dense and lexical top-50
searches, with and without a date filter that keeps about a quarter of the passages.

Qdrant local mode is Qdrant's API over numpy in this process: it commits points to SQLite
(about 800 passages/s on the 2-core machine, two minutes for 100 k) and scores lexical and
filtered queries in Python (about a second each at 100 k: use fewer ``--store-queries``). A
server is the real comparison: ``--qdrant-url``."""

import argparse
import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rag.index.embedded import EmbeddedStore
from rag.index.passage_store import IndexedDocument, PassageFilter, PassageStore
from rag.index.qdrant_store import QdrantStore
from rag.index.store import DocumentInfo, index_path, write_index, write_lock
from rag.ingest.passages import Passage
from rag.settings import Settings

from .common import SEED, WARMUP, load_note, log, percentiles, print_table
from .scaling import perturbed_queries, synthetic_vectors

MiB = 1024 * 1024
#: Passages per article (~3.75 measured, docs/scaling.md), terms per passage (Kiwi content
#: morphemes of a 400-character passage), vocabulary of the Zipf draw.
PASSAGES_PER_DOC = 4
TERMS_PER_PASSAGE = 60
VOCABULARY = 50_000
OUTLETS = 20
#: Candidates each retriever hands to fusion (``Settings.fusion_depth``).
DEPTH = 50
#: A quarter of the synthetic dates (uniform over 2023–2024).
QUARTER = PassageFilter(date_from="2024-07-01", date_to="2024-12-31")


def synthetic_documents(n: int, rng: np.random.Generator) -> list[IndexedDocument]:
    """``n`` passages (random unit vectors, Zipf terms) in documents of a few passages,
    with random outlets and dates."""
    vectors = synthetic_vectors(n, rng)
    ids = np.minimum(rng.zipf(1.2, size=(n, TERMS_PER_PASSAGE)), VOCABULARY) - 1
    days = rng.integers(0, 730, size=n)
    docs = []
    for start in range(0, n, PASSAGES_PER_DOC):
        doc_id = f"doc{start // PASSAGES_PER_DOC:08d}.txt"
        rows = range(start, min(n, start + PASSAGES_PER_DOC))
        terms = [[f"w{t}" for t in ids[r]] for r in rows]
        passages = [
            Passage(f"{doc_id}#{i}", doc_id, 0, len(text), text, doc_id, ((0, len(text)),))
            for i, text in enumerate(" ".join(t) for t in terms)
        ]
        date = np.datetime64("2023-01-01") + int(days[start])
        info = DocumentInfo(
            doc_id,
            doc_id,
            f"outlet{start % OUTLETS}",
            str(date),
            None,
            hashlib.sha256(doc_id.encode()).hexdigest(),
            len(passages),
        )
        docs.append(IndexedDocument(info, passages, terms, vectors[rows.start : rows.stop]))
    return docs


def insert_embedded(settings: Settings, docs: list[IndexedDocument]) -> EmbeddedStore:
    """What ``rag index`` writes: FAISS, bm25s, passages and manifest files."""
    passages = [p for d in docs for p in d.passages]
    terms = [t for d in docs for t in d.terms]
    vectors = np.ascontiguousarray(np.concatenate([d.vectors for d in docs]), dtype=np.float32)
    root = index_path(settings)
    with write_lock(root):
        index = write_index(
            root, settings, {d.info.doc_id: d.info for d in docs}, passages, terms, vectors
        )
    return EmbeddedStore(index, settings)


def folder_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / MiB


def query_rows(
    name: str, store: PassageStore, vectors: np.ndarray, lexical: list[list[str]]
) -> list[list[object]]:
    """p50/p95 and queries per second of one-query dense and lexical searches."""
    searches: list[tuple[str, Callable[[int], object]]] = [
        ("dense", lambda i: store.dense_search(vectors[i : i + 1], DEPTH)),
        ("lexical", lambda i: store.lexical_search(lexical[i : i + 1], DEPTH)),
        ("dense, dated", lambda i: store.dense_search(vectors[i : i + 1], DEPTH, QUARTER)),
        ("lexical, dated", lambda i: store.lexical_search(lexical[i : i + 1], DEPTH, QUARTER)),
    ]
    rows: list[list[object]] = []
    for label, search in searches:
        for i in range(WARMUP):
            search(i)
        samples = []
        for i in range(len(lexical)):
            started = time.perf_counter()
            search(i)
            samples.append((time.perf_counter() - started) * 1000)
        p50, p95, _ = percentiles(samples)
        rows.append([name, label, p50, p95, 1000 / float(np.mean(samples))])
        log(f"{name}: {label} p50 {p50:.1f} ms")
    return rows


def part_store(args: argparse.Namespace) -> None:
    n, count = args.store_passages, args.store_queries
    rng = np.random.default_rng(SEED)
    log(f"store: generating {n:,} synthetic passages")
    docs = synthetic_documents(n, rng)
    all_vectors = np.concatenate([d.vectors for d in docs])
    vectors = perturbed_queries(all_vectors, count, rng)
    lexical = [[f"w{t}" for t in rng.integers(10, 5_000, size=5)] for _ in range(count)]
    build_rows: list[list[object]] = []
    query_table: list[list[object]] = []
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        base = Settings(corpus_dir=Path(tmp) / "synthetic", index_dir=Path(tmp), model="synthetic")
        where = args.qdrant_url or "local mode"
        local = None if args.qdrant_url else Path(tmp) / "qdrant"
        qdrant_settings = base.model_copy(
            update={"store": "qdrant", "qdrant_url": args.qdrant_url, "qdrant_path": local}
        )
        stores: list[tuple[str, Callable[[], PassageStore], Path | None]] = [
            ("embedded", lambda: insert_embedded(base, docs), index_path(base)),
            (
                f"qdrant ({where})",
                lambda: QdrantStore.create(qdrant_settings, docs),
                local,
            ),
        ]
        for name, insert, folder in stores:
            log(f"store: inserting into {name}")
            started = time.perf_counter()
            store = insert()
            seconds = time.perf_counter() - started
            size = folder_mib(folder) if folder is not None else "-"
            build_rows.append([name, n, seconds, n / seconds, size])
            query_table += query_rows(name, store, vectors, lexical)
    print_table(
        f"store: insert {n:,} synthetic passages ({PASSAGES_PER_DOC} per document, dim 384 "
        f"unit vectors, {TERMS_PER_PASSAGE} Zipf terms of {VOCABULARY:,}); {load_note()}",
        ["store", "passages", "insert (s)", "passages/s", "on disk (MiB)"],
        build_rows,
    )
    print_table(
        f"store: {count} single queries each, top {DEPTH} (dense: corpus vector + noise; "
        f"lexical: 5 terms); date filter keeps ~1/4; {load_note()}",
        ["store", "search", "p50 (ms)", "p95 (ms)", "queries/s"],
        query_table,
    )


def part_store_parity(args: argparse.Namespace) -> None:
    """KorQuAD 1.0 dev open-domain retrieval over the same vectors in both stores: the
    embedded index, and a Qdrant local-mode collection copied from it (no re-embedding)."""
    from rag.answer.retrieval import HybridRetriever
    from rag.evaluation.harness import korquad_pipeline
    from rag.pipeline import Pipeline

    from .precision import korquad_retrieval

    with tempfile.TemporaryDirectory(prefix="bench-store-parity-") as tmp:
        settings = Settings(index_dir=Path(tmp) / "index")
        log("KorQuAD index (embedded), then its copy into Qdrant local mode")
        embedded = korquad_pipeline(settings, args.korquad, show_progress=False)
        qdrant_settings = embedded.settings.model_copy(
            update={"store": "qdrant", "qdrant_path": Path(tmp) / "qdrant"}
        )
        assert isinstance(embedded.index, EmbeddedStore)
        started = time.perf_counter()
        store = QdrantStore.from_index(embedded.index.index, qdrant_settings)
        copy_s = time.perf_counter() - started
        qdrant = Pipeline(
            qdrant_settings,
            embedded.embedder,
            store,
            HybridRetriever(store, embedded.embedder, qdrant_settings),
        )
        rows = []
        for name, pipeline in (("embedded", embedded), ("qdrant local", qdrant)):
            log(f"retrieving {args.parity_queries} questions from the {name} store")
            rows.append([name, *korquad_retrieval(pipeline, args.korquad, args.parity_queries)])
        print_table(
            f"KorQuAD 1.0 dev open-domain retrieval by store (hybrid, same vectors; the copy "
            f"into Qdrant took {copy_s:.1f} s for {embedded.index.passage_count} passages); "
            f"{load_note()}",
            ["store", "questions", "R@1", "R@5", "MRR@10"],
            rows,
        )
