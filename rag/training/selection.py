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


def best_threshold(instances: list[Instance], scores: list[list[float]]) -> tuple[float, float]:
    """Threshold on the best candidate's score maximising the share of answerable questions
    answered right plus the share of unanswerable ones refused (each set weighs the same);
    returns it and that balanced accuracy."""
    tops = []
    for inst, probs in zip(instances, scores, strict=True):
        i = int(np.argmax(probs)) if probs else -1
        tops.append((probs[i] if probs else 0.0, bool(inst.labels[i]) if probs else False))
    answerable = [t for t, inst in zip(tops, instances, strict=True) if inst.answerable]
    unanswerable = [t for t, inst in zip(tops, instances, strict=True) if not inst.answerable]

    def value(t: float) -> float:
        right = sum(1 for p, ok in answerable if p >= t and ok) / max(1, len(answerable))
        refused = sum(1 for p, _ in unanswerable if p < t) / max(1, len(unanswerable))
        return (right + refused) / 2

    grid = sorted({0.0, *(round(p, 4) for p, _ in tops)})
    best = max(grid, key=lambda t: (value(t), -t))
    return best, value(best)


def fit_on(instances: list[Instance], columns: list[int]) -> tuple[Selection, float]:
    """Logistic weights over the chosen feature columns (others weigh 0), the threshold,
    and the balanced accuracy they reach on ``instances``."""
    x = np.array([[c.features[j] for j in columns] for i in instances for c in i.candidates])
    y = np.array([label for inst in instances for label in inst.labels], dtype=float)
    w = fit_logistic(x, y)
    weights = [0.0] * len(FEATURES)
    for j, value in zip(columns, w[:-1], strict=True):
        weights[j] = float(value)
    selection = Selection(tuple(weights), float(w[-1]), 0.5)
    scores = [[selection.probability(c.features) for c in inst.candidates] for inst in instances]
    threshold, balanced = best_threshold(instances, scores)
    return Selection(selection.weights, selection.bias, threshold), balanced


#: Feature groups whose worth the fit reports by leaving each out.
ABLATIONS = {
    "retrieval score and rank": ("retrieval_score", "inverse_rank"),
    "question's entities in the passage": ("missing_entities",),
    "agreement across passages": ("agreement",),
    "number asked, number given": ("number_fit", "number_misfit"),
    "answer length": ("log_length",),
}


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
    _, questions = korquad_documents(korquad)
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
    everything = list(range(len(FEATURES)))
    selection, balanced = fit_on(instances, everything)
    ablation = {"reader margin and score only": round(fit_on(instances, [0, 1])[1], 4)}
    for name, left_out in ABLATIONS.items():
        kept = [j for j in everything if FEATURES[j] not in left_out]
        ablation[f"without {name}"] = round(fit_on(instances, kept)[1], 4)
    labels = [label for inst in instances for label in inst.labels]
    facts: dict[str, object] = {
        "features": list(FEATURES),
        "weights": [round(v, 6) for v in selection.weights],
        "bias": round(selection.bias, 6),
        "threshold": selection.threshold,
        "fitted_on": f"KorQuAD val articles ({len(val)} questions, each also with its own "
        "article removed from the results), retrieval over train + val paragraphs",
        "candidates": len(labels),
        "positive_rate": round(float(np.mean(labels)), 4) if labels else None,
        "val_balanced_accuracy": round(balanced, 4),
        "val_balanced_accuracy_ablation": ablation,
    }
    out.write_text(json.dumps(facts, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return facts
