"""Embedding arithmetic: bf16 autocast against fp32, side by side in one run. The build of
the 1,000 newsqa-ko articles with each (fresh subprocess: time, peak memory), the cosine
between the two sets of passage vectors, and KorQuAD open-domain retrieval with each
(R@1, R@5, MRR@10 over the same questions): what ``embedding_precision`` trades."""

import argparse
import random
import tempfile
from pathlib import Path

import numpy as np

from rag.evaluation.harness import (
    korquad_documents,
    korquad_pipeline,
    ranked_docs,
    retrieval_metrics,
)
from rag.index.store import index_path, load_index
from rag.pipeline import Pipeline
from rag.settings import Precision, Settings

from .builds import run_build
from .common import NEWSQA_DIR, SEED, load_note, log, print_table

PRECISIONS: tuple[Precision, ...] = ("fp32", "bf16")


def part_precision(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-precision-") as tmp:
        builds, vectors = {}, {}
        for precision in PRECISIONS:
            index_dir = Path(tmp) / precision
            env = {"RAG_EMBEDDING_PRECISION": precision}
            builds[precision] = run_build("newsqa", index_dir, args.korquad, env)
            settings = Settings(
                corpus_dir=NEWSQA_DIR, index_dir=index_dir, embedding_precision=precision
            )
            vectors[precision] = load_index(index_path(settings), settings).embeddings
        print_table(
            f"newsqa-ko: index build of {NEWSQA_DIR.name}/ by embedding precision (cold model, "
            f"fresh subprocess each, one after the other); {load_note()}",
            ["precision", "docs", "passages", "build (s)", "embed (s)", "peak RSS (MiB)"],
            [
                [
                    p,
                    int(r["documents"]),
                    int(r["passages"]),
                    r["build_s"],
                    r["embed_s"],
                    r["peak_rss_mib"],
                ]
                for p, r in builds.items()
            ],
        )
        cosines = np.sum(vectors["fp32"] * vectors["bf16"], axis=1)
        print_table(
            "newsqa-ko: cosine between the fp32 and bf16 vector of each passage",
            ["passages", "mean", "min", "p01"],
            [[len(cosines), cosines.mean(), cosines.min(), np.percentile(cosines, 1)]],
        )
        print_table(
            f"KorQuAD 1.0 dev open-domain retrieval (hybrid, {args.parity_queries} sampled "
            f"questions, all paragraphs indexed with each precision); {load_note()}",
            ["precision", "questions", "R@1", "R@5", "MRR@10"],
            [
                korquad_parity(args.korquad, Path(tmp) / f"kq-{p}", p, args.parity_queries)
                for p in PRECISIONS
            ],
        )


def korquad_parity(path: Path, index_dir: Path, precision: Precision, n: int) -> list[object]:
    settings = Settings(index_dir=index_dir, embedding_precision=precision)
    log(f"KorQuAD index and retrieval in {precision}")
    return [precision, *korquad_retrieval(korquad_pipeline(settings, path, False), path, n)]


def korquad_retrieval(pipeline: Pipeline, path: Path, n: int) -> list[object]:
    """Questions scored, R@1, R@5 and MRR@10 of ``n`` KorQuAD questions sampled with the
    benchmark seed (the same sample for every pipeline compared)."""
    _, questions = korquad_documents(path)
    sample = random.Random(SEED).sample(questions, min(n, len(questions)))
    hits = pipeline.search_batch([q.question for q in sample], k=10)
    rows = [retrieval_metrics(ranked_docs(h), q.docs) for q, h in zip(sample, hits, strict=True)]
    return [
        len(rows),
        *(float(np.mean([r[k] for r in rows])) for k in ("hit@1", "hit@5", "mrr@10")),
    ]
