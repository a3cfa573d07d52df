"""Answer selection fitting: the logistic fit finds the signal, the threshold trades
answers against refusals."""

import json
import math

import numpy as np
import pytest

from rag.answer.selection import FEATURES, Selection
from rag.evaluation.harness import EvalQuestion
from rag.pipeline import shared_reader
from rag.settings import ReaderKind, Settings
from rag.training.reader import split_of
from rag.training.selection import (
    SELECTION_QUESTIONS,
    Instance,
    ValSet,
    balanced_accuracy_by_set,
    best_candidates,
    best_threshold,
    calibrate_selection,
    early_threshold,
    fit_calibration,
    fit_logistic,
    fit_on,
    probabilities,
    question_instances,
    reader_outcomes,
    val_instances,
)


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


def test_each_reader_is_scored_on_each_val_set_alone() -> None:
    # Threshold 0.5: the reader answers the first two; the rules answer three others.
    instances = [
        Instance([_C(0.9)], [1], True, source="news"),  # reader right
        Instance([_C(0.6)], [0], False, source="news"),  # reader answers the unanswerable
        Instance([_C(0.4)], [0], True, rules_answered=True, rules_right=True, source="news"),
        Instance([_C(0.1)], [0], False, rules_answered=True, source="news"),
        Instance([_C(0.2)], [0], True, source="wiki"),  # nobody answers
        Instance([_C(0.2)], [0], False, source="wiki"),  # nobody answers: refused
    ]
    scores = [[c.features[0] for c in inst.candidates] for inst in instances]

    def by_set(reader: ReaderKind) -> dict[str, float]:
        outcomes = reader_outcomes(instances, best_candidates(instances, scores), 0.5, reader)
        return balanced_accuracy_by_set(instances, outcomes)

    assert by_set("neural") == {"news": (1 / 2 + 1 / 2) / 2, "wiki": 0.5}
    assert by_set("rules") == {"news": (1 / 2 + 1 / 2) / 2, "wiki": 0.5}
    assert by_set("combined") == {"news": (1 + 0) / 2, "wiki": 0.5}


def test_calibration_lifts_answers_that_are_right_more_often_than_their_probability() -> None:
    # Answers at probability 0.3 are right 3 times in 4, at 0.6 every time: the selection's
    # probability reads low, and the fitted confidence reads higher, in the same order.
    tops = [(0.3, True), (0.3, True), (0.3, True), (0.3, False), *[(0.6, True)] * 4]
    instances = [Instance([], [], True) for _ in tops]
    # refused answerable instances and unanswerable ones do not count
    tops += [(0.1, False), (0.9, False)]
    instances += [Instance([], [], True), Instance([], [], False)]
    slope, bias = fit_calibration(instances, tops, threshold=0.25)
    calibrated = Selection((0.0,) * len(FEATURES), 0.0, 0.25, None, (slope, bias))
    assert 0.6 < calibrated.confidence(0.3) < 0.9
    assert calibrated.confidence(0.6) > 0.9
    assert calibrated.confidence(0.1) < calibrated.confidence(0.3) < calibrated.confidence(0.6)
    assert fit_calibration(instances[:4], tops[:4], threshold=0.5) == (1.0, 0.0)  # none answered
    assert Selection((0.0,) * len(FEATURES), 0.0, 0.5).confidence(0.37) == pytest.approx(0.37)


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


def test_instances_for_the_weights_only_are_left_out_of_the_threshold() -> None:
    from dataclasses import replace

    rest = [0.0] * (len(FEATURES) - 1)
    counted = [Instance([_C(2.0, *rest)], [1], True), Instance([_C(-2.0, *rest)], [0], False)]
    # Unanswerable, yet scored as the answerable one is: no threshold tells them apart.
    taught = [Instance([_C(2.0, *rest)], [0], False, weights_only=True)] * 3
    assert fit_on(counted + taught, [0])[1] == 1.0  # judged on the counted two alone
    assert fit_on(counted + [replace(t, weights_only=False) for t in taught], [0])[1] < 1.0


def test_an_article_left_out_takes_its_copies_and_keeps_the_others_scores(
    seed_pipeline,
) -> None:
    asked = "2022년 인천시가 실제로 만들어 낸 일자리는 몇 개였나?"
    documents = seed_pipeline.index.documents
    article = seed_pipeline.retriever.run(asked, 5)[0].passage.doc_id
    val = ValSet("seeds", seed_pipeline, [], lambda q: q.docs[0], str, lambda doc_id: doc_id)
    assert val.copies(article) == {article, *documents[article].same_as}
    question = EvalQuestion("i", asked, ["14만8,962개"], [article], "number")
    reader = shared_reader(str(seed_pipeline.settings.model_cache_dir))
    beside, without = question_instances(val, reader, question, None, 5)
    # The passages left are read with the scores they had ranked beside the article.
    scores = {c.hit.passage.passage_id: c.hit.score for c in beside.candidates}
    left = {c.hit.passage.passage_id: c.hit.score for c in without.candidates}
    assert left and all(scores.get(p, s) == s for p, s in left.items())
    assert max(left.values()) < max(scores.values())


def test_an_article_left_out_is_all_its_paragraphs_and_their_copies() -> None:
    from dataclasses import replace
    from types import SimpleNamespace

    from rag.index.store import DocumentInfo

    info = DocumentInfo("x", "t", None, None, None, "0" * 64, 1)
    documents = {
        "A#0": info,
        "A#1": replace(info, same_as=("B#4",)),
        "B#4": replace(info, same_as=("A#1",)),
        "AB#0": info,  # another article whose title starts alike
    }
    pipeline = SimpleNamespace(index=SimpleNamespace(documents=documents))
    val = ValSet("kq", pipeline, [], str, str, lambda d: d.rsplit("#", 1)[0])  # type: ignore[arg-type]
    assert val.copies("A") == {"A#0", "A#1", "B#4"}
    assert val.copies("AB") == {"AB#0"}


def test_a_question_is_read_as_asked_alone_or_four_ways(seed_pipeline) -> None:
    reader = shared_reader(str(seed_pipeline.settings.model_cache_dir))
    asked = "부산시가 확보한 인센티브 사업비는 얼마야?"
    article = seed_pipeline.retriever.run(asked, 5)[0].passage.doc_id
    question = EvalQuestion("b", asked, ["8500만원"], [article], "number")
    val = ValSet("seeds", seed_pipeline, [question], lambda q: q.docs[0], str, lambda d: d)
    swapped = "서울시가 확보한 인센티브 사업비는 얼마야?"
    other_year = "부산시가 2021년 확보한 인센티브 사업비는 얼마야?"
    four = question_instances(val, reader, question, swapped, 5, year_swapped=other_year)
    three = four[:3]
    alone = question_instances(val, reader, question, None, 5, unanswerable=False)
    assert [(i.answerable, i.near_miss, i.weights_only) for i in four] == [
        (True, False, False),
        (False, False, False),
        (False, True, False),
        (False, True, True),  # another year the article names: teaches the weights only
    ]
    # Without its article the question is read over other articles only: the same question
    # over the same passages would teach the fit that a right span is wrong.
    assert {c.hit.passage.doc_id for c in three[0].candidates} & {article}
    assert not {c.hit.passage.doc_id for c in three[1].candidates} & {
        article,
        *seed_pipeline.index.documents[article].same_as,
    }
    assert len(alone) == 1 and alone[0].labels == three[0].labels and alone[0].answerable


class _Span:
    def __init__(self, text: str, margin: float, rank: int, agreement: float = 0.0) -> None:
        self.text = text
        features = [0.0] * len(FEATURES)
        features[FEATURES.index("margin")] = margin
        features[FEATURES.index("inverse_rank")] = 1 / (1 + rank)
        features[FEATURES.index("agreement")] = agreement
        self.features = tuple(features)


def _early(instances: list[Instance], selection: Selection) -> tuple[float | None, dict]:
    scores = probabilities(instances, selection)
    return early_threshold(instances, scores, best_candidates(instances, scores), selection)


def test_the_early_threshold_keeps_answers_that_reading_all_would_change() -> None:
    weights = [0.0] * len(FEATURES)
    weights[FEATURES.index("margin")] = weights[FEATURES.index("agreement")] = 1.0
    selection = Selection(tuple(weights), 0.0, 0.5)
    sure = Instance([_Span("x", 3.0, 0), _Span("y", -1.0, 1)], [1, 0], True)
    # Alone the top span scores σ(1) = 0.73; read with the others, "b" agrees with a third
    # passage and wins (σ(2) = 0.88): answering early would change the answer.
    overruled = Instance(
        [_Span("a", 1.0, 0), _Span("b", 1.0, 1, 1), _Span("b", -4, 2, 1)], [0, 1, 1], True
    )
    unanswerable = Instance([_Span("c", -3.0, 0)], [0], False)

    early, facts = _early([sure] * 99 + [overruled, unanswerable], selection)
    assert early == round(1 / (1 + math.exp(-1.0)), 4)  # one change in 100 is allowed
    assert facts["answers_changed"] == 1 and facts["answerable_answered_early"] == 1.0
    assert facts["answerable_right_reading_all"] == 100
    assert facts["answerable_right_reading_early"] == 99

    early, facts = _early([sure] * 99 + [overruled] * 2 + [unanswerable], selection)
    assert early == round(1 / (1 + math.exp(-3.0)), 4)  # two are not: only "x" is sure
    assert facts["answers_changed"] == 0 and facts["answerable_answered_early"] == round(
        99 / 101, 4
    )


def test_calibrating_a_selection_keeps_its_weights_and_thresholds(tmp_path, monkeypatch) -> None:
    shipped = {
        "features": list(FEATURES),
        "weights": [1.0] + [0.0] * (len(FEATURES) - 1),
        "bias": 0.0,
        "threshold": 0.3,
        "early_threshold": 0.6,
    }
    path = tmp_path / "selection.json"
    path.write_text(json.dumps(shipped), encoding="utf-8")
    margins = [-0.5, -0.5, 0.0, 0.0, 0.5, 0.5, 1.0, 1.0]  # probabilities 0.38 … 0.73
    right = [1, 0, 1, 1, 1, 1, 1, 1]  # right more often than that
    instances = [
        Instance([_C(m, *[0.0] * (len(FEATURES) - 1))], [r], True)
        for m, r in zip(margins, right, strict=True)
    ]
    monkeypatch.setattr(
        "rag.training.selection.val_instances", lambda *args, **kwargs: (instances, "toy")
    )
    facts = calibrate_selection(None, tmp_path / "kq.json", None, path)  # type: ignore[arg-type]
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written == facts and {k: written[k] for k in shipped} == shipped
    assert written["calibration_fitted_on"].endswith("toy")
    loaded = Selection.load(path)
    assert (loaded.threshold, loaded.early) == (0.3, 0.6)
    assert loaded.confidence(0.5) > 0.6  # 6 of the 8 answers at 0.5 and above were right


@pytest.mark.parametrize(("limit", "read"), [(None, SELECTION_QUESTIONS), (7, 7)])
def test_the_fit_reads_the_first_val_questions_as_the_shipped_selection_was_fitted(
    tmp_path, monkeypatch, limit, read
) -> None:
    """`rag train-reader` alone fits on the val questions the shipped selection was fitted
    on: the first 400, not all of them (`--limit` fewer, for smoke runs)."""
    titles = [t for t in (f"article {i}" for i in range(200)) if split_of(t, 10, 28) == "val"]
    data = [
        {
            "title": title,
            "paragraphs": [
                {
                    "context": f"{title} 본문",
                    "qas": [
                        {
                            "id": f"{title}-{j}",
                            "question": f"질문 {j}?",
                            "answers": [{"text": "본문"}],
                        }
                        for j in range(SELECTION_QUESTIONS // 2)
                    ],
                }
            ],
        }
        for title in titles[:3]
    ]
    path = tmp_path / "korquad.json"
    path.write_text(json.dumps({"data": data}, ensure_ascii=False), encoding="utf-8")
    asked = []
    monkeypatch.setattr("rag.training.selection.korquad_pipeline", lambda *a, **k: None)
    monkeypatch.setattr(
        "rag.training.selection.read_val_set",
        lambda val, *a, **k: asked.extend(val.questions) or [],
    )
    val_instances(Settings(), path, None, limit)  # type: ignore[arg-type]
    in_file_order = [qa["id"] for a in data for p in a["paragraphs"] for qa in p["qas"]]
    assert len(in_file_order) > SELECTION_QUESTIONS
    assert [q.id for q in asked] == in_file_order[:read]
