"""Fit the answer selection (:mod:`rag.answer.selection`) on held-out training articles.

The reader is trained on the KorQuAD (and newsqa-ko) train articles; the combination of its
scores with retrieval and the abstention threshold are fitted on the *val* articles, which
the reader never saw, so its confidence is judged on unseen text. Retrieval runs over the
train + val paragraphs of KorQuAD (never the test articles) and over the whole newsqa-ko
folder. Each val question is asked three times: as is (answerable); with its own article
removed from the results (the documents do not say: abstain); and as a *near miss*, one year
or proper noun swapped for one its article never mentions ("서울시는 2023년 …" asked of an
article about 인천시), which retrieval still matches to the article: abstain too. A question
that names a year is also asked with the nearest other year its article names: abstain; these
teach the weights (the year check) but are left out of the thresholds and the val figures.

The article and its copies in other outlets are dropped from the question's results, so the
passages left keep the retrieval scores they had beside the article. Leaving the article out
inside retrieval instead (scores scaled to the best passage of a corpus without it) was
tried: with either reader it fitted a higher threshold that refused more answerable questions
on every held-out set (README, "The 7-layer reader fitted the earlier way").
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, get_args

import numpy as np
from tqdm import tqdm

from rag.answer.reader import ExtractiveReader
from rag.answer.retrieval import Hit
from rag.answer.selection import (
    FEATURES,
    SELECTION_FILE,
    Candidate,
    Selection,
    logit,
    normalize_span,
    read_candidates,
)
from rag.evaluation.harness import (
    EvalQuestion,
    char_f1,
    copies_of_gold,
    korquad_documents,
    korquad_pipeline,
    load_questions,
)
from rag.pipeline import Pipeline
from rag.settings import ReaderKind, Settings
from rag.training.near_misses import near_miss, question_names, year_elsewhere
from rag.training.reader import korquad_split, newsqa_split

#: The KorQuAD val questions answer selection is fitted on (the first, in file order): the
#: shipped selection's; the other val questions are a check the fit never sees.
SELECTION_QUESTIONS = 400

#: A candidate counts as right when its character F1 with the gold answer reaches this.
CORRECT_F1 = 0.6


@dataclass
class Instance:
    candidates: list[Candidate]
    labels: list[int]
    answerable: bool
    near_miss: bool = False
    #: What the rule extractor does with the same question and passages (the ``combined``
    #: reader's fallback): answers at all, and answers right.
    rules_answered: bool = False
    rules_right: bool = False
    #: The val set it comes from (KorQuAD, newsqa-ko).
    source: str = ""
    #: Teaches the weights only; left out of the thresholds and the figures, so that these
    #: are chosen on the same mix of questions as before it was added.
    weights_only: bool = False


@dataclass
class ValSet:
    """Val questions of one data set, and how to find and read their articles."""

    name: str
    pipeline: Pipeline
    questions: list[EvalQuestion]
    #: The question's article (KorQuAD: the title; newsqa-ko: the file).
    article: Callable[[EvalQuestion], str]
    article_text: Callable[[str], str]
    #: The article a document (a retrieved passage's ``doc_id``) belongs to.
    article_of: Callable[[str], str]

    def copies(self, article: str) -> set[str]:
        """The documents of ``article`` and its copies in other outlets (which answer the
        question too)."""
        documents = self.pipeline.index.documents
        own = [d for d in documents if self.article_of(d) == article]
        return {*own, *copies_of_gold(documents, own)}


class Asked(NamedTuple):
    """One way a val question is asked, and the passages retrieval gives it."""

    text: str
    hits: list[Hit]
    answerable: bool = False
    near_miss: bool = False
    weights_only: bool = False


def question_instances(
    val: ValSet,
    reader: ExtractiveReader,
    question: EvalQuestion,
    swapped: str | None,
    depth: int,
    unanswerable: bool = True,
    year_swapped: str | None = None,
) -> list[Instance]:
    """The question as is and, with ``unanswerable``, without its own article and as a near
    miss (``swapped``), and with its year swapped for another its article names
    (``year_swapped``, for the weights only)."""
    retriever = val.pipeline.retriever
    asked = [Asked(question.question, retriever.run(question.question, depth), answerable=True)]
    if unanswerable:
        gone = val.copies(val.article(question))
        hits = retriever.run(question.question, depth + 20)
        without = [h for h in hits if h.passage.doc_id not in gone][:depth]
        asked.append(Asked(question.question, without))
    asked += [
        Asked(text, retriever.run(text, depth), near_miss=True, weights_only=taught)
        for text, taught in ((swapped, False), (year_swapped, True))
        if text is not None
    ]
    out = []
    for a in asked:
        candidates = read_candidates(reader, a.text, a.hits, val.pipeline.documents)  # type: ignore[arg-type]
        labels = [int(a.answerable and is_right(c.text, question)) for c in candidates]
        ruled = val.pipeline.rules.run(a.text, a.hits)
        answered = not ruled.abstained and ruled.answer is not None
        right = answered and a.answerable and is_right(ruled.answer, question)
        out.append(
            Instance(
                candidates,
                labels,
                a.answerable,
                a.near_miss,
                answered,
                right,
                val.name,
                a.weights_only,
            )
        )
    return out


def is_right(answer: str, question: EvalQuestion) -> bool:
    """Whether ``answer`` matches one of the gold answers closely enough to count."""
    return max(char_f1(answer, g) for g in question.answers) >= CORRECT_F1


def read_val_set(
    val: ValSet,
    reader: ExtractiveReader,
    depth: int,
    rng: random.Random,
    unanswerable: bool = True,
) -> list[Instance]:
    """Each question three ways, four where it names a year its article has another of
    (only as asked, without ``unanswerable``); near misses draw names from the set's own
    questions."""
    names = sorted({n for q in val.questions for n in question_names(q.question)})
    instances = []
    for q in tqdm(val.questions, desc=f"reading {val.name} val questions", unit="q"):
        swapped = year_swapped = None
        if unanswerable:
            article = val.article_text(val.article(q))
            swapped = near_miss(q.question, article, names, rng)
            year_swapped = year_elsewhere(q.question, article)
        instances += question_instances(val, reader, q, swapped, depth, unanswerable, year_swapped)
    return instances


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


def best_candidates(
    instances: list[Instance], scores: list[list[float]]
) -> list[tuple[float, bool]]:
    """Each instance's best score and whether that candidate is right."""
    tops = []
    for inst, probs in zip(instances, scores, strict=True):
        i = int(np.argmax(probs)) if probs else -1
        tops.append((probs[i] if probs else 0.0, bool(inst.labels[i]) if probs else False))
    return tops


def balanced_accuracy(instances: list[Instance], outcomes: list[tuple[bool, bool]]) -> float:
    """The share of answerable instances answered right plus the share of unanswerable ones
    refused, halved (each set weighs the same); ``outcomes``: (answered, right) each."""
    right = [ok for inst, (_, ok) in zip(instances, outcomes, strict=True) if inst.answerable]
    refused = [
        not answered
        for inst, (answered, _) in zip(instances, outcomes, strict=True)
        if not inst.answerable
    ]
    return (sum(right) / max(1, len(right)) + sum(refused) / max(1, len(refused))) / 2


def best_threshold(instances: list[Instance], scores: list[list[float]]) -> tuple[float, float]:
    """Threshold on the best candidate's score maximising the balanced accuracy; returns it
    and that balanced accuracy."""
    tops = best_candidates(instances, scores)

    def value(t: float) -> float:
        return balanced_accuracy(instances, [(p >= t, p >= t and ok) for p, ok in tops])

    grid = sorted({0.0, *(round(p, 4) for p, _ in tops)})
    best = max(grid, key=lambda t: (value(t), -t))
    return best, value(best)


def reader_outcomes(
    instances: list[Instance], tops: list[tuple[float, bool]], threshold: float, reader: ReaderKind
) -> list[tuple[bool, bool]]:
    """What each reader does with each instance, (answered, right): ``neural`` answers with
    its best span (``tops``, from :func:`best_candidates`) at or above ``threshold``,
    ``rules`` as the rule extractor did, and ``combined`` with the span, else the rules'
    answer."""
    outcomes = []
    for (p, ok), inst in zip(tops, instances, strict=True):
        if reader != "rules" and p >= threshold:
            outcomes.append((True, ok))
        elif reader != "neural" and inst.rules_answered:
            outcomes.append((True, inst.rules_right))
        else:
            outcomes.append((False, False))
    return outcomes


def balanced_accuracy_by_set(
    instances: list[Instance], outcomes: list[tuple[bool, bool]]
) -> dict[str, float]:
    """:func:`balanced_accuracy` of each val set on its own, rounded."""
    return {
        name: round(
            balanced_accuracy(
                [i for i in instances if i.source == name],
                [o for i, o in zip(instances, outcomes, strict=True) if i.source == name],
            ),
            4,
        )
        for name in dict.fromkeys(i.source for i in instances)
    }


def probabilities(instances: list[Instance], selection: Selection) -> list[list[float]]:
    """Each instance's candidates scored by ``selection``."""
    return [[selection.probability(c.features) for c in inst.candidates] for inst in instances]


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
    counted = [i for i in instances if not i.weights_only]
    threshold, balanced = best_threshold(counted, probabilities(counted, selection))
    return Selection(selection.weights, selection.bias, threshold), balanced


#: Answering from the top passage alone may give another answer than reading all passages
#: for at most this share of the answerable val questions.
EARLY_CHANGES = 0.01


def top_passage_alone(instance: Instance, selection: Selection) -> tuple[float, int] | None:
    """The top passage's span as the reader scores it read alone (the same features, but
    agreeing with no other span), and its index among the candidates; ``None`` when the
    top passage has no span."""
    rank, agreement = FEATURES.index("inverse_rank"), FEATURES.index("agreement")
    for i, c in enumerate(instance.candidates):
        if c.features[rank] == 1.0:
            alone = tuple(0.0 if j == agreement else x for j, x in enumerate(c.features))
            return selection.probability(alone), i
    return None


@dataclass(frozen=True)
class EarlyOutcome:
    """One instance answered from its top passage alone, against reading all passages."""

    probability: float
    #: An answerable question answered otherwise than reading all passages answers it, or
    #: an unanswerable one answered where reading all refuses it.
    changed: bool
    right_alone: bool
    right_all: bool
    answerable: bool


def early_threshold(
    instances: list[Instance],
    scores: list[list[float]],
    tops: list[tuple[float, bool]],
    selection: Selection,
) -> tuple[float | None, dict[str, object]]:
    """The lowest probability (never below the abstention threshold) at which the top
    passage's span is answered without reading the others, such that at most
    :data:`EARLY_CHANGES` of the answerable questions change (:class:`EarlyOutcome`); and
    what it does on ``instances``. ``scores`` and ``tops``: the instances' candidates scored
    by ``selection`` (:func:`probabilities`) and the best of each (:func:`best_candidates`)."""
    answered = [p >= selection.threshold for p, _ in tops]
    outcomes = []
    for inst, probs, (_, ok), said in zip(instances, scores, tops, answered, strict=True):
        alone = top_passage_alone(inst, selection)
        if alone is None:
            continue
        p, first = alone
        best = inst.candidates[int(np.argmax(probs))].text
        same = normalize_span(best) == normalize_span(inst.candidates[first].text)
        changed = not said or (inst.answerable and not same)
        outcomes.append(
            EarlyOutcome(p, changed, bool(inst.labels[first]), said and ok, inst.answerable)
        )
    answerable = sum(inst.answerable for inst in instances)
    options = sorted({o.probability for o in outcomes if o.probability >= selection.threshold})
    chosen = next(
        (
            t
            for t in options
            if sum(o.changed for o in outcomes if o.probability >= t) <= EARLY_CHANGES * answerable
        ),
        None,
    )
    if chosen is None:
        return None, {}
    early = [o for o in outcomes if o.probability >= chosen]
    right_all = sum(
        said and ok
        for inst, (_, ok), said in zip(instances, tops, answered, strict=True)
        if inst.answerable
    )
    return round(chosen, 4), {
        "answerable_answered_early": round(sum(o.answerable for o in early) / answerable, 4),
        "answers_changed": sum(o.changed for o in early),
        "answerable_right_reading_all": right_all,
        "answerable_right_reading_early": right_all
        - sum(o.right_all - o.right_alone for o in early if o.answerable),
    }


#: Feature groups whose worth the fit reports by leaving each out.
ABLATIONS = {
    "retrieval score and rank": ("retrieval_score", "inverse_rank"),
    "question's names and years in the document": ("entity_missing_in_document",),
    "agreement across passages": ("agreement",),
    "number asked, number given": ("number_fit", "number_misfit"),
    "answer length": ("log_length",),
    "another year in the answer's sentence": ("other_year_in_sentence",),
}


def val_instances(
    settings: Settings,
    korquad: Path,
    reader: ExtractiveReader,
    limit: int | None = None,
    newsqa: Path | None = None,
    unanswerable: bool = True,
) -> tuple[list[Instance], str]:
    """The val instances the selection is fitted on: the first ``SELECTION_QUESTIONS`` (or
    ``limit``, if fewer) KorQuAD val questions and, with ``newsqa``, the newsqa-ko val
    articles too, each question asked three ways (:func:`question_instances`; only as asked,
    without ``unanswerable``); and what they are, in words."""
    # `reader` reads; the pipelines only retrieve (and the rules answer, for `combined`), so
    # the selection being refitted, perhaps on other features, is never loaded.
    settings = settings.model_copy(update={"reader": "rules"})
    data = json.loads(korquad.read_text(encoding="utf-8"))["data"]
    split = korquad_split(data)
    seen = set(split["train"]) | set(split["val"])
    _, questions = korquad_documents(korquad)
    pipeline = korquad_pipeline(
        settings, korquad, show_progress=True, keep=lambda d: d.title in seen, name="trainval"
    )
    val_titles = set(split["val"])
    fitted_on = SELECTION_QUESTIONS if limit is None else min(limit, SELECTION_QUESTIONS)
    articles = {
        a["title"]: "\n".join([a["title"], *(p["context"] for p in a["paragraphs"])])
        for a in data
        if a["title"] in seen
    }
    val_sets = [
        ValSet(
            "KorQuAD",
            pipeline,
            [q for q in questions if q.docs[0].rsplit("#", 1)[0] in val_titles][:fitted_on],
            lambda q: q.docs[0].rsplit("#", 1)[0],
            articles.__getitem__,
            lambda doc_id: doc_id.rsplit("#", 1)[0],
        )
    ]
    if newsqa is not None:
        folder = newsqa / "articles"
        asked = load_questions(newsqa / "questions-dev.jsonl")
        val_docs = set(newsqa_split(d for q in asked for d in q.docs)["val"])
        news = Pipeline.load(settings.model_copy(update={"corpus_dir": folder}))
        news_val = [q for q in asked if q.docs[0] in val_docs]
        val_sets.append(
            ValSet(
                "newsqa-ko",
                news,
                news_val[:limit],
                lambda q: q.docs[0],
                lambda doc: (folder / doc).read_text(encoding="utf-8"),
                lambda doc_id: doc_id,
            )
        )
    rng = random.Random(13)
    instances = [
        instance
        for val in val_sets
        for instance in read_val_set(val, reader, settings.answer_passages, rng, unanswerable)
    ]
    described = (
        "val articles: "
        + " and ".join(f"{len(v.questions)} {v.name} questions" for v in val_sets)
        + " (KorQuAD retrieval over train + val paragraphs, newsqa-ko over all its articles)"
    )
    if unanswerable:
        near_misses = sum(inst.near_miss and not inst.weights_only for inst in instances)
        described += (
            ", each also asked with its own article (and its copies) removed from the results, "
            f"and {near_misses} near misses (a year or name swapped for one the article never "
            f"mentions); {sum(inst.weights_only for inst in instances)} more with the year "
            "swapped for another the article names teach the weights only"
        )
    return instances, described


def fit_calibration(
    instances: list[Instance], tops: list[tuple[float, bool]], threshold: float
) -> tuple[float, float]:
    """Platt scaling of the answer's probability, fitted on the answerable val instances it
    answers (at or above ``threshold``): how often such an answer is right. The selection
    itself is fitted over every val instance, most of them unanswerable by construction
    (each question also asked without its article, and as a near miss), so its probability
    reads low for questions the articles do answer."""
    answered = [(p, ok) for inst, (p, ok) in zip(instances, tops, strict=True) if inst.answerable]
    answered = [(p, ok) for p, ok in answered if p >= threshold]
    if len({ok for _, ok in answered}) < 2:
        return 1.0, 0.0  # nothing to fit: leave the probability as it is
    x = np.array([[logit(p)] for p, _ in answered])
    y = np.array([float(ok) for _, ok in answered])
    slope, bias = fit_logistic(x, y)
    return round(float(slope), 6), round(float(bias), 6)


def calibration_facts(
    instances: list[Instance], tops: list[tuple[float, bool]], threshold: float, described: str
) -> dict[str, object]:
    """:func:`fit_calibration` and what it was fitted on, as ``selection.json`` holds them."""
    return {
        "calibration": list(fit_calibration(instances, tops, threshold)),
        "calibration_fitted_on": f"the answerable questions it answers, of the {described}",
    }


def _write(path: Path, facts: dict[str, object]) -> None:
    path.write_text(json.dumps(facts, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def calibrate_selection(
    settings: Settings,
    korquad: Path,
    reader: ExtractiveReader,
    path: Path = SELECTION_FILE,
    limit: int | None = None,
    newsqa: Path | None = None,
) -> dict[str, object]:
    """Fit only the confidence calibration of the selection in ``path`` (its weights and
    thresholds stay) on the val questions it was fitted on, each read only as asked (the
    calibration weighs answerable questions alone); write it there and return the file's
    facts."""
    selection = Selection.load(path)
    instances, described = val_instances(
        settings, korquad, reader, limit, newsqa, unanswerable=False
    )
    facts = json.loads(path.read_text(encoding="utf-8"))
    tops = best_candidates(instances, probabilities(instances, selection))
    facts |= calibration_facts(instances, tops, selection.threshold, described)
    _write(path, facts)
    return facts


def fit_selection(
    settings: Settings,
    korquad: Path,
    reader: ExtractiveReader,
    out: Path = SELECTION_FILE,
    limit: int | None = None,
    newsqa: Path | None = None,
) -> dict[str, object]:
    """Fit on the first KorQuAD val questions and, with ``newsqa``, the newsqa-ko val
    articles too (:func:`val_instances`); write ``out`` and return its facts."""
    instances, described = val_instances(settings, korquad, reader, limit, newsqa)
    everything = list(range(len(FEATURES)))
    selection, balanced = fit_on(instances, everything)
    counted = [i for i in instances if not i.weights_only]
    # Each instance's best candidate: the readers' outcomes, the near misses refused and
    # what answering from the top passage alone changes.
    scores = probabilities(counted, selection)
    tops = best_candidates(counted, scores)
    near_misses = [p for inst, (p, _) in zip(counted, tops, strict=True) if inst.near_miss]
    ablation = {"reader margin and score only": round(fit_on(instances, [0, 1])[1], 4)}
    for name, left_out in ABLATIONS.items():
        kept = [j for j in everything if FEATURES[j] not in left_out]
        ablation[f"without {name}"] = round(fit_on(instances, kept)[1], 4)
    early, early_facts = early_threshold(counted, scores, tops, selection)
    labels = [label for inst in instances for label in inst.labels]
    facts: dict[str, object] = {
        "features": list(FEATURES),
        "weights": [round(v, 6) for v in selection.weights],
        "bias": round(selection.bias, 6),
        "threshold": selection.threshold,
        "early_threshold": early,
        "fitted_on": described,
        **calibration_facts(counted, tops, selection.threshold, described),
        "candidates": len(labels),
        "positive_rate": round(float(np.mean(labels)), 4) if labels else None,
        "val_balanced_accuracy": round(balanced, 4),
        "val_near_misses_refused": (
            round(sum(p < selection.threshold for p in near_misses) / len(near_misses), 4)
            if near_misses
            else None
        ),
        "val_balanced_accuracy_by_reader": {
            reader: balanced_accuracy_by_set(
                counted, reader_outcomes(counted, tops, selection.threshold, reader)
            )
            for reader in get_args(ReaderKind)
        },
        "val_balanced_accuracy_ablation": ablation,
        "val_answering_early": early_facts,
    }
    _write(out, facts)
    return facts
