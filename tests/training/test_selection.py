"""Answer selection fitting: the logistic fit finds the signal, the threshold trades
answers against refusals."""

import numpy as np

from rag.answer.selection import Selection
from rag.training.selection import Instance, best_threshold, fit_logistic


def test_fit_logistic_separates_a_signal_from_noise() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + 0.3 * rng.normal(size=400) > 0.5).astype(float)
    w = fit_logistic(x, y)
    assert w[0] > 2.0 and abs(w[1]) < 0.5 and w[2] < 0  # feature 0 matters, 1 does not


class _C:
    def __init__(self, margin: float) -> None:
        self.features = (margin,)


def test_threshold_refuses_weak_answers_and_keeps_strong_ones() -> None:
    selection = Selection((1.0,), 0.0, 0.5)
    instances = [
        Instance([_C(4.0)], [1], True),  # confident and right
        Instance([_C(3.0)], [1], True),
        Instance([_C(-3.0)], [0], False),  # unanswerable, weak
        Instance([_C(-2.0)], [0], False),
    ]
    threshold, balanced = best_threshold(instances, selection)
    assert selection.probability((-2.0,)) < threshold <= selection.probability((3.0,))
    assert balanced == 1.0
