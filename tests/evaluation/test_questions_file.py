"""Sanity checks for the fixed evaluation question set ``eval/questions.jsonl``."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
QUESTIONS = ROOT / "eval" / "questions.jsonl"
SEEDS = ROOT / "seeds"

ALLOWED_TYPES = {
    "fact",
    "number",
    "date",
    "person",
    "place",
    "paraphrase",
    "casual",
    "multi-doc",
    "unanswerable",
}
REQUIRED_KEYS = {"id": str, "question": str, "answers": list, "docs": list, "type": str}
MIN_QUESTIONS = 80
MIN_UNANSWERABLE = 10


@cache
def _seed_text(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


@cache
def _load() -> tuple[dict, ...]:
    items = []
    for lineno, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:  # pragma: no cover - failure path
            pytest.fail(f"line {lineno}: invalid JSON ({exc})")
        if not isinstance(obj, dict):
            pytest.fail(f"line {lineno}: not a JSON object")
        items.append(obj)
    return tuple(items)


def _qid(item: dict) -> str:
    return str(item.get("id", "<no id>"))


def test_file_exists_and_parses():
    assert QUESTIONS.is_file(), f"missing {QUESTIONS}"
    assert _load(), "questions file is empty"


def test_required_keys_and_types():
    problems = []
    for item in _load():
        for key, typ in REQUIRED_KEYS.items():
            if key not in item:
                problems.append(f"{_qid(item)}: missing key {key!r}")
            elif not isinstance(item[key], typ):
                problems.append(f"{_qid(item)}: {key!r} should be {typ.__name__}")
        for key in ("answers", "docs"):
            values = item.get(key)
            if isinstance(values, list) and not all(isinstance(v, str) and v for v in values):
                problems.append(f"{_qid(item)}: {key!r} must hold non-empty strings")
        if isinstance(item.get("question"), str) and not item["question"].strip():
            problems.append(f"{_qid(item)}: empty question")
    assert not problems, "\n".join(problems)


def test_ids_unique():
    counts = Counter(_qid(item) for item in _load())
    dupes = sorted(i for i, n in counts.items() if n > 1)
    assert not dupes, f"duplicate ids: {dupes}"


def test_types_allowed():
    bad = [f"{_qid(i)}: {i.get('type')!r}" for i in _load() if i.get("type") not in ALLOWED_TYPES]
    assert not bad, "unknown types:\n" + "\n".join(bad)


def test_docs_exist():
    bad = [
        f"{_qid(item)}: {doc}"
        for item in _load()
        for doc in item.get("docs", [])
        if not (SEEDS / doc).is_file()
    ]
    assert not bad, "docs not found under seeds/:\n" + "\n".join(bad)


def test_answers_are_verbatim_spans():
    bad = []
    for item in _load():
        docs = [d for d in item.get("docs", []) if (SEEDS / d).is_file()]
        texts = [_seed_text(d) for d in docs]
        for answer in item.get("answers", []):
            if not any(answer in t for t in texts):
                bad.append(f"{_qid(item)}: {answer!r} not in {docs}")
    assert not bad, "answers not found verbatim:\n" + "\n".join(bad)


def test_unanswerable_iff_empty():
    bad = []
    for item in _load():
        unans = item.get("type") == "unanswerable"
        empty_answers = item.get("answers") == []
        empty_docs = item.get("docs") == []
        if unans and not (empty_answers and empty_docs):
            bad.append(f"{_qid(item)}: unanswerable but answers/docs not empty")
        if not unans and (empty_answers or empty_docs):
            bad.append(f"{_qid(item)}: type {item.get('type')!r} but answers or docs empty")
    assert not bad, "\n".join(bad)


def test_counts_and_coverage():
    items = _load()
    assert len(items) >= MIN_QUESTIONS, f"only {len(items)} questions (< {MIN_QUESTIONS})"

    types = Counter(i.get("type") for i in items)
    missing_types = sorted(ALLOWED_TYPES - set(types))
    assert not missing_types, f"types never used: {missing_types}"
    assert types["unanswerable"] >= MIN_UNANSWERABLE, (
        f"only {types['unanswerable']} unanswerable questions (< {MIN_UNANSWERABLE})"
    )

    covered = {d for i in items for d in i.get("docs", [])}
    seeds = {p.name for p in SEEDS.glob("*.txt")}
    uncovered = sorted(seeds - covered)
    assert not uncovered, f"seed articles with no question: {uncovered}"
