"""Fit the answer selection (:mod:`rag.answer.selection`) on held-out training articles.

The reader is trained on the KorQuAD train articles; the combination of its scores with
retrieval and the abstention threshold are fitted on the *val* articles, which the reader
never saw, so its confidence is judged on unseen text. Retrieval runs over the train + val
paragraphs (never the test articles). Each val question is asked twice: as is (answerable),
and with its own article removed from the results (the documents do not say: abstain).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.answer.reader import ExtractiveReader
from rag.answer.selection import (
    FEATURES,
    SELECTION_FILE,
    Candidate,
    Selection,
    read_candidates,
)
from rag.evaluation.harness import char_f1, korquad_documents, korquad_pipeline
from rag.settings import Settings
from rag.training.reader import korquad_split

#: A candidate counts as right when its character F1 with the gold answer reaches this.
CORRECT_F1 = 0.6


@dataclass
class Instance:
    candidates: list[Candidate]
    labels: list[int]
    answerable: bool


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 50) -> np.ndarray:
    """Weights then bias, by Newton's method on the L2-penalised log-loss."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    ridge = l2 * np.diag(np.r_[np.ones(x.shape[1]), 0.0])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        gradient = xb.T @ (p - y) + ridge @ w
        hessian = (xb * (p * (1 - p))[:, None]).T @ xb + ridge
        w -= np.linalg.solve(hessian, gradient)
    return w


def best_threshold(instances: list[Instance], selection: Selection) -> tuple[float, float]:
    """Threshold maximising the share of answerable questions answered right plus the
    share of unanswerable ones refused (each set weighs the same)."""
    tops = []
    for inst in instances:
        probs = [selection.probability(c.features) for c in inst.candidates]
        i = int(np.argmax(probs)) if probs else -1
        tops.append((probs[i] if probs else 0.0, bool(inst.labels[i]) if probs else False))
    answerable = [t for t, inst in zip(tops, instances, strict=True) if inst.answerable]
    unanswerable = [t for t, inst in zip(tops, instances, strict=True) if not inst.answerable]

    def value(t: float) -> float:
        right = sum(1 for p, ok in answerable if p >= t and ok) / max(1, len(answerable))
        refused = sum(1 for p, _ in unanswerable if p < t) / max(1, len(unanswerable))
        return right + refused

    grid = sorted({0.0, *(round(p, 3) for p, _ in tops)})
    best = max(grid, key=lambda t: (value(t), -t))
    return best, value(best) / 2


def fit_selection(
    settings: Settings,
    korquad: Path,
    reader: ExtractiveReader,
    out: Path = SELECTION_FILE,
    limit: int | None = None,
) -> dict[str, object]:
    data = json.loads(korquad.read_text(encoding="utf-8"))["data"]
    split = korquad_split(data)
    seen = set(split["train"]) | set(split["val"])
    docs, questions = korquad_documents(korquad)
    pipeline = korquad_pipeline(
        settings, korquad, show_progress=True, keep=lambda d: d.title in seen, name="trainval"
    )
    val = [q for q in questions if q.docs[0].rsplit("#", 1)[0] in set(split["val"])]
    val = val[:limit] if limit else val
    depth = settings.answer_passages
    instances: list[Instance] = []
    for q in tqdm(val, desc="reading val questions", unit="q"):
        hits = pipeline.retriever.run(q.question, depth + 20)
        article = q.docs[0].rsplit("#", 1)[0]
        for answerable, chosen in (
            (True, hits[:depth]),
            (False, [h for h in hits if h.passage.title != article][:depth]),
        ):
            candidates = read_candidates(reader, q.question, chosen)
            labels = [
                int(answerable and max(char_f1(c.text, g) for g in q.answers) >= CORRECT_F1)
                for c in candidates
            ]
            instances.append(Instance(candidates, labels, answerable))
    x = np.array([c.features for inst in instances for c in inst.candidates], dtype=float)
    y = np.array([label for inst in instances for label in inst.labels], dtype=float)
    w = fit_logistic(x, y)
    selection = Selection(tuple(float(v) for v in w[:-1]), float(w[-1]), 0.5)
    threshold, balanced = best_threshold(instances, selection)
    facts: dict[str, object] = {
        "features": list(FEATURES),
        "weights": [round(v, 6) for v in selection.weights],
        "bias": round(selection.bias, 6),
        "threshold": threshold,
        "fitted_on": f"KorQuAD val articles ({len(val)} questions, each also with its own "
        "article removed from the results), retrieval over train + val paragraphs",
        "candidates": len(y),
        "positive_rate": round(float(y.mean()), 4) if len(y) else None,
        "val_balanced_accuracy": round(balanced, 4),
    }
    out.write_text(json.dumps(facts, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return facts
