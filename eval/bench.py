"""Benchmark figures: index build time, peak memory, embedding throughput, query latency,
FAISS scaling on synthetic vectors, and the neural reader's cost. Prints plain-text tables;
it is not a test.

    python eval/bench.py --part seeds
    python eval/bench.py --part korquad --queries 300
    python eval/bench.py --part scaling --sizes 10000,100000,1000000
    python eval/bench.py --part reader --queries 100
    python eval/bench.py --part precision --parity-queries 2000
    python eval/bench.py --part store --store-passages 100000
    python eval/bench.py --part store-parity --parity-queries 2000
    python eval/bench.py --part startup --cold-runs 3

Each part lives in ``eval/benchmarks/``. Each index build runs in a fresh subprocess (this
script with ``--child``) so its peak RSS (``VmHWM``) is its own; latencies are measured
afterwards in this, warm, process. Progress goes to stderr, tables to stdout.
"""

import argparse
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.builds import RESULT_TAG, child_build
from benchmarks.common import KORQUAD, machine_info
from benchmarks.latency import part_korquad, part_seeds
from benchmarks.precision import part_precision
from benchmarks.reader import part_reader
from benchmarks.scaling import part_scaling
from benchmarks.startup import part_startup
from benchmarks.store import part_store, part_store_parity

from rag.settings import DenseIndexType

#: ``--part all`` runs them in this order.
PARTS: dict[str, Callable[[argparse.Namespace], None]] = {
    "seeds": part_seeds,
    "korquad": part_korquad,
    "scaling": part_scaling,
    "reader": part_reader,
    "precision": part_precision,
    "store": part_store,
    "store-parity": part_store_parity,
    "startup": part_startup,
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=[*PARTS, "all"], default="all")
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
        help="questions timed (KorQuAD sample size; seeds and reader use at most this)",
    )
    parser.add_argument("--scaling-queries", type=int, default=200)
    parser.add_argument(
        "--parity-queries",
        type=int,
        default=2000,
        help="KorQuAD questions retrieved with each embedding precision or store "
        "(parts precision, store-parity)",
    )
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
    parser.add_argument(
        "--store-passages",
        type=lambda s: int(s.replace("_", "")),
        default=100_000,
        help="synthetic passages for --part store (embedded vs Qdrant)",
    )
    parser.add_argument("--store-queries", type=int, default=200, help="queries per search kind")
    parser.add_argument("--qdrant-url", help="--part store against this Qdrant server")
    parser.add_argument("--korquad", type=Path, default=KORQUAD)
    parser.add_argument(
        "--cold-runs", type=int, default=3, help="runs of each command for --part startup"
    )
    parser.add_argument("--child", choices=["seeds", "korquad", "newsqa"], help=argparse.SUPPRESS)
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
    parts = list(PARTS) if args.part == "all" else [args.part]
    for part in parts:
        PARTS[part](args)


if __name__ == "__main__":
    main()
