"""A question set as people type it in a hurry: the same questions (ids, answers, gold
documents kept) with their spaces taken out, to see what spacing costs the answers.

    python eval/unspaced.py eval/questions.jsonl /tmp/seeds-unspaced.jsonl
    python eval/unspaced.py eval/questions.jsonl /tmp/seeds-joined.jsonl --way joined
    rag eval --questions /tmp/seeds-unspaced.jsonl --reader rules,neural,combined

``none``: every space removed ("부산시가고용노동부로부터확보한사업비는얼마야?"). ``joined``: the
spaces a chat message most often drops: after 몇 or a digit, and before a word of one or
two letters ("몇개야", "상받고", "돈얼마"). The output is written where asked; a set that may
not be copied (newsqa-ko) stays outside the project.
"""

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path


def without_spaces(question: str) -> str:
    return question.replace(" ", "")


def joined(question: str) -> str:
    words = re.sub(r"(몇|\d)\s+(?=[가-힣])", r"\1", question).split(" ")
    return words[0] + "".join(w if len(w) <= 2 else " " + w for w in words[1:])


WAYS: dict[str, Callable[[str], str]] = {"none": without_spaces, "joined": joined}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path, help="JSONL question set (a 'question' field)")
    parser.add_argument("out", type=Path, help="where to write the unspaced set")
    parser.add_argument("--way", choices=list(WAYS), default="none")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.questions.read_text("utf-8").splitlines() if line]
    respell = WAYS[args.way]
    args.out.write_text(
        "".join(
            json.dumps(row | {"question": respell(row["question"])}, ensure_ascii=False) + "\n"
            for row in rows
        ),
        encoding="utf-8",
    )
    print(f"{len(rows)} questions -> {args.out} ({args.way})")


if __name__ == "__main__":
    main()
