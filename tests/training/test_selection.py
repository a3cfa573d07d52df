"""Answer selection fitting: the logistic fit finds the signal, the threshold trades
answers against refusals."""

import numpy as np

from rag.answer.selection import FEATURES
from rag.training.selection import Instance, best_threshold, fit_logistic, fit_on


def test_fit_logistic_separates_a_signal_from_noise() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0.5).astype(float)
    w = fit_logistic(x, y)
    assert w[0] > 2.0 and abs(w[1]) < 0.2 * w[0] and w[2] < 0  # feature 0 matters, 1 does not


class _C:
    def __init__(self, *features: float) -> None:
        self.features = features


def test_threshold_refuses_weak_answers_and_keeps_strong_ones() -> None:
    instances = [
        Instance([_C(4.0)], [1], True),  # confident and right
        Instance([_C(3.0)], [1], True),
        Instance([_C(-3.0)], [0], False),  # unanswerable, weak
        Instance([_C(-2.0)], [0], False),
    ]
    scores = [[c.features[0] for c in inst.candidates] for inst in instances]
    threshold, balanced = best_threshold(instances, scores)
    assert -2.0 < threshold <= 3.0 and balanced == 1.0


def test_fit_on_a_subset_ignores_the_other_features() -> None:
    rng = np.random.default_rng(1)
    instances = []
    for i in range(200):
        right = i % 2 == 0
        signal = rng.normal(2.0 if right else -2.0)
        instances.append(
            Instance([_C(signal, *[rng.normal()] * (len(FEATURES) - 1))], [int(right)], True)
        )
    selection, balanced = fit_on(instances, [0])
    assert selection.weights[0] > 0 and all(w == 0 for w in selection.weights[1:])
    assert balanced == 0.25  # all answered, half right; no unanswerable ones to refuse
