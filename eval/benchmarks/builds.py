"""Index builds: each runs in a fresh subprocess (``bench.py --child``) so its peak RSS
(``VmHWM``) is its own, and reports build time, embedding throughput and memory."""

import json
import os
import resource
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import numpy as np

from rag.evaluation.harness import korquad_documents
from rag.index.embedder import Embedder
from rag.index.store import build_from_documents, index_path, update_index
from rag.pipeline import Pipeline
from rag.settings import Settings

from .common import NEWSQA_DIR, REPO, SEEDS_DIR, load_note, log, peak_rss_mib, print_table

#: The child re-executes the entry point, not this module.
BENCH_SCRIPT = REPO / "eval" / "bench.py"
RESULT_TAG = "BENCH_RESULT "
KORQUAD_CHUNK_CHARS = 100_000  # one paragraph = one passage


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


def child_build(corpus: str, index_dir: Path, korquad: Path) -> dict[str, float]:
    """In the child process: load the model, build one index from scratch, report."""
    started = time.perf_counter()
    folder = NEWSQA_DIR if corpus == "newsqa" else SEEDS_DIR
    settings = (
        korquad_settings(index_dir)
        if corpus == "korquad"
        else Settings(corpus_dir=folder, index_dir=index_dir)
    )
    embedder = Embedder(settings, show_progress=False)
    load_s = time.perf_counter() - started
    rss_model = peak_rss_mib()
    embed = TimedEmbed(embedder)
    started = time.perf_counter()
    if corpus == "korquad":
        docs, _ = korquad_documents(korquad)
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


def run_build(
    corpus: str, index_dir: Path, korquad: Path, env: dict[str, str] | None = None
) -> dict[str, float]:
    """Build in a fresh subprocess so peak memory is measured per build; ``env`` adds
    settings (``RAG_…`` variables) for the child."""
    log(f"building the {corpus} index in a subprocess ({index_dir}) {env or ''}")
    cmd = [
        sys.executable,
        str(BENCH_SCRIPT),
        "--child",
        corpus,
        "--index-dir",
        str(index_dir),
        "--korquad",
        str(korquad),
    ]
    started = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})}
    )
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
    texts = [p.embedding_text() for p in islice(pipeline.index.iter_passages(), limit)]
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
