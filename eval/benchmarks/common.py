"""Paths, seeds and plain-text reporting shared by every benchmark part."""

import json
import os
import platform
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO / "seeds"
QUESTIONS = REPO / "eval" / "questions.jsonl"
KORQUAD = REPO.parent / "shared" / "benchmarks" / "korquad-v1" / "KorQuAD_v1.0_dev.json"
NEWSQA_DIR = REPO.parent / "shared" / "benchmarks" / "newsqa-ko" / "articles"
WARMUP = 5
SEED = 1234


def log(message: str) -> None:
    """Progress on stderr, so stdout holds only the tables."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def seed_questions(limit: int) -> list[str]:
    """The first ``limit`` questions of eval/questions.jsonl, about the seed articles."""
    with open(QUESTIONS, encoding="utf-8") as f:
        questions = [json.loads(line)["question"] for line in f if line.strip()]
    return questions[:limit]


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
