"""``eval/unspaced.py``: the question set respelt without spaces, everything else kept."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[2] / "eval" / "unspaced.py"


@pytest.mark.parametrize(
    ("way", "expected"),
    [
        ("none", "부산은상받고돈얼마나챙겼대?몇개야"),
        ("joined", "부산은상받고돈 얼마나 챙겼대? 몇개야"),
    ],
)
def test_questions_lose_their_spaces_and_keep_the_rest(tmp_path, way, expected) -> None:
    row = {
        "id": "q1",
        "question": "부산은 상 받고 돈 얼마나 챙겼대? 몇 개야",
        "answers": ["8500만원"],
    }
    source, out = tmp_path / "q.jsonl", tmp_path / "out.jsonl"
    source.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    subprocess.run([sys.executable, str(SCRIPT), str(source), str(out), "--way", way], check=True)
    assert [json.loads(line) for line in out.read_text("utf-8").splitlines()] == [
        row | {"question": expected}
    ]
