"""Commands as a user at the terminal meets them: each ``rag`` command a new process on the
seeds (models loaded, index opened, one question), its wall time and its own peak RSS."""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence

from .common import REPO, load_note, log, print_table

QUESTION = "인천시 일자리 목표는 몇 개였어?"
#: What is timed: a label and the ``rag`` arguments.
COMMANDS = [
    ("rag search", ["search", QUESTION]),
    ("rag ask (neural, the default)", ["ask", QUESTION]),
    ("rag ask --reader rules", ["ask", "--reader", "rules", QUESTION]),
]


PEAK_TAG = "@peak-kib "
#: The command, reporting its own peak RSS as it exits: a child's ``ru_maxrss`` would count
#: the parent's pages it was forked with (Linux keeps the pre-exec high-water mark). It reads
#: ``VmHWM`` itself rather than calling ``common.peak_rss_mib``: importing ``common`` would
#: load faiss and torch into every timed command, ``rag --help`` included.
_CHILD = f"""
import atexit, sys
def _peak():
    with open("/proc/self/status", encoding="utf-8") as f:
        kib = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    sys.stderr.write("\\n" + {PEAK_TAG!r} + kib + "\\n")
atexit.register(_peak)
from rag.cli import app
app()
"""


def cold_command(arguments: Sequence[str], env: Mapping[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, the process's own ``VmHWM``) of one ``rag`` command
    run in a new process from the repository root."""
    with tempfile.TemporaryFile() as stderr:  # a pipe could fill and stall the child
        started = time.perf_counter()
        code = subprocess.call(
            [sys.executable, "-c", _CHILD, *arguments],
            cwd=REPO,
            env=dict(env),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        seconds = time.perf_counter() - started
        stderr.seek(0)
        said = stderr.read().decode(errors="replace")
    if code != 0:
        raise RuntimeError(f"rag {' '.join(arguments)} failed: {said[-500:]}")
    peaks = [line[len(PEAK_TAG) :] for line in said.splitlines() if line.startswith(PEAK_TAG)]
    return seconds, int(peaks[-1]) / 1024


def startup_rows(runs: int, env: Mapping[str, str]) -> list[list[object]]:
    """Median wall time and peak RSS of ``runs`` runs of each command, in turn."""
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in COMMANDS}
    for _ in range(runs):
        for label, arguments in COMMANDS:
            samples[label].append(cold_command(arguments, env))
    return [
        [
            label,
            runs,
            statistics.median(s for s, _ in samples[label]),
            statistics.median(m for _, m in samples[label]),
        ]
        for label, _ in COMMANDS
    ]


def part_startup(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = {**os.environ, "RAG_INDEX_DIR": tmp, "RAG_CORPUS_DIR": str(REPO / "seeds")}
        env.pop("RAG_READER", None)  # the default reader, whatever this shell says
        log("the first command builds the seeds index (not timed)")
        cold_command(["index"], env)
        print_table(
            f"seeds: cold commands, each a new process with the index built (median of "
            f"{args.cold_runs} runs, the commands in turn); {load_note()}",
            ["command", "runs", "wall (s)", "peak RSS (MiB)"],
            startup_rows(args.cold_runs, env),
        )
