"""The benchmark's split of a neural ``ask`` into stages runs on the real reader and leaves
the pipeline as it was; a cold command is timed and measured in its own process."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "eval"))

from benchmarks.common import WARMUP, seed_questions  # noqa: E402
from benchmarks.reader import TimedReader, stage_rows  # noqa: E402
from benchmarks.startup import cold_command  # noqa: E402


def test_stage_rows_time_the_reader_and_leave_the_pipeline_as_it_was(seed_pipeline) -> None:
    neural = seed_pipeline.with_settings(reader="neural")
    reader = neural.answerer.reader
    questions = seed_questions(WARMUP + 2)
    rows = {name: (p50, mean) for name, p50, mean in stage_rows(neural, questions)}
    assert set(rows) == {"retrieval", "reading", "the rest", "all"}
    assert 0 < rows["reading"][1] < rows["all"][1]
    assert neural.answerer.reader is reader and not isinstance(reader, TimedReader)
    assert neural.embedder.cache_queries  # left as it was


def test_a_cold_command_reports_its_own_time_and_memory() -> None:
    ballast = np.ones(800 * 2**20 // 8)  # 800 MiB held here, in the parent: not the child's
    seconds, peak_mib = cold_command(["--help"], os.environ)
    assert ballast[-1] == 1 and seconds > 0
    assert 20 < peak_mib < 500  # the CLI's imports alone
    with pytest.raises(RuntimeError, match="No such command"):  # its own words, kept
        cold_command(["no-such-command"], os.environ)
