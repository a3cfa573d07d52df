"""Reader training: splits are stable and disjoint, labels point at the answer, and a few
steps on a handful of examples lower the loss."""

import json
import random
from pathlib import Path

import pytest
import torch

from rag.answer.reader import SpanModel, load_base, save_reader
from rag.training.reader import (
    Example,
    average_readers,
    cache_lower,
    features,
    fit_upper,
    split_of,
)

ROOT = Path(__file__).resolve().parents[2]


def _example(question: str, context: str, answer: str | None) -> Example:
    start = context.index(answer) if answer else -1
    return Example(question, context, (start, start + len(answer)) if answer else None)


EXAMPLES = [
    _example(
        "부산시가 확보한 예산은?",
        "부산시는 올해 관광 예산으로 1,234억 원을 확보했다.",
        "1,234억 원",
    ),
    _example("인천시가 받은 상은?", "인천시는 일자리 대상에서 국무총리상을 받았다.", "국무총리상"),
    _example(
        "행사는 어디서 열렸나?",
        "행사는 지난 5일 서울시청 대회의실에서 열렸다.",
        "서울시청 대회의실",
    ),
    _example("행사는 어디서 열렸나?", "날씨가 맑고 바람이 불었다.", None),
]


@pytest.mark.parametrize("name", ["korquad-split.json", "newsqa-split.json"])
def test_committed_splits_are_disjoint_and_follow_the_hash_rule(name: str) -> None:
    split = json.loads((ROOT / "eval" / name).read_text(encoding="utf-8"))
    parts = [set(split[p]) for p in ("train", "val", "test")]
    assert all(parts) and not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    prefix, shares = ("", (10, 28)) if name.startswith("korquad") else ("newsqa:", (10, 50))
    for part in ("train", "val", "test"):
        assert all(split_of(prefix + key, *shares) == part for key in split[part])


@pytest.fixture(scope="module")
def base(seed_pipeline):
    from rag.index.embedder import resolve_model_path

    return resolve_model_path(seed_pipeline.settings, show_progress=False)


def test_labels_point_at_the_answer_tokens(base) -> None:
    _, tokenizer = load_base(base)
    feats = features(tokenizer, EXAMPLES, random.Random(0))
    assert len(feats) == 4
    for ex, f in zip(EXAMPLES, feats, strict=True):
        if ex.answer is None:
            assert (f.start, f.end) == (0, 0)
            continue
        covered = ex.context[f.window.offsets[f.start][0] : f.window.offsets[f.end][1]].strip()
        gold = ex.context[ex.answer[0] : ex.answer[1]]
        # Subword tokens may carry a particle past the answer ("원을"), never more.
        assert covered.startswith(gold) and len(covered) - len(gold) <= 2


@pytest.mark.parametrize("bf16", [False, True])
def test_a_few_steps_lower_the_loss(base, bf16: bool) -> None:
    encoder, tokenizer = load_base(base)
    model = SpanModel(encoder, trained_layers=1)
    feats = features(tokenizer, EXAMPLES, random.Random(0))
    cache = cache_lower(model.eval(), feats, tokenizer.pad_token_id)
    losses = fit_upper(
        model,
        feats,
        cache,
        epochs=12,
        batch_size=4,
        learning_rate=1e-3,
        rng=random.Random(0),
        bf16=bf16,
    )
    assert sum(losses[-3:]) / 3 < 0.6 * sum(losses[:3]) / 3


def test_a_near_miss_shows_the_window_of_the_answer_labelled_no_answer(base) -> None:
    _, tokenizer = load_base(base)
    long_context = "날씨가 맑고 바람이 불었다. " * 60 + EXAMPLES[0].context
    start = long_context.index("1,234억 원")
    example = Example("부산시가 확보한 예산은?", long_context, (start, start + 8))
    answered = [
        f for f in features(tokenizer, [example], random.Random(0)) if (f.start, f.end) != (0, 0)
    ]
    near = Example("강원도가 확보한 예산은?", long_context, example.answer, answerable=False)
    missed = features(tokenizer, [near], random.Random(0))
    assert missed and all((f.start, f.end) == (0, 0) for f in missed)
    # The windows that hold the original answer, not an arbitrary one of the article.
    for f in missed:
        w = f.window
        assert w.offsets[w.first][0] <= start and w.offsets[w.last][1] >= start + 8
    assert len(missed) == len(answered)


def _nudged(model: SpanModel, seed: int) -> SpanModel:
    """The model with its trained weights moved, as a training run would."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if model.is_trained(name):
                p.add_(torch.randn_like(p) * 0.01)
    return model


def test_averaging_readers_meets_halfway_and_counts_untrained_layers_as_bundled(
    base, tmp_path: Path
) -> None:
    encoder, _ = load_base(base)
    deep = SpanModel(encoder, trained_layers=2)
    bundled = deep.trained_state()
    _nudged(deep, 0)
    shallow = _nudged(SpanModel(load_base(base)[0], trained_layers=1), 1)
    save_reader(shallow, tmp_path / "shallow.safetensors", {})
    ours, theirs = deep.trained_state(), shallow.trained_state()

    average_readers(deep, tmp_path / "shallow.safetensors", 0.25, bundled)

    mixed = deep.trained_state()
    half = lambda t: t.half().float()  # noqa: E731 - stored weights are fp16
    both = "encoder.encoder.layer.11.attention.self.query.weight"  # trained by both
    only_deep = "encoder.encoder.layer.10.attention.self.query.weight"
    for key, partner in (
        (both, theirs[both]),
        (only_deep, bundled[only_deep]),
        ("qa.weight", theirs["qa.weight"]),
    ):
        assert torch.allclose(mixed[key], 0.75 * half(ours[key]) + 0.25 * half(partner))
        assert not torch.allclose(mixed[key], half(ours[key]))
    # A partner that trained layers this reader keeps frozen cannot be averaged in.
    save_reader(deep, tmp_path / "deep.safetensors", {})
    with pytest.raises(ValueError, match="trains more"):
        average_readers(shallow, tmp_path / "deep.safetensors", 0.5, shallow.trained_state())


def _train_reader_args(tmp_path: Path) -> list[str]:
    """`rag train-reader` over an empty KorQuAD file and an empty newsqa-ko folder: enough
    for the checks that must fail before training."""
    korquad, newsqa = tmp_path / "korquad.json", tmp_path / "newsqa"
    korquad.write_text('{"data": []}', encoding="utf-8")
    newsqa.mkdir()
    (newsqa / "questions-dev.jsonl").write_text("", encoding="utf-8")
    return ["train-reader", "--korquad", str(korquad), "--newsqa", str(newsqa)]


@pytest.mark.parametrize(
    ("content", "layers", "message"),
    [
        (None, "7", "is no reader of at most 6"),  # deeper than the reader to train
        (None, None, "is no reader of at most 6"),  # weights without a reader's metadata
        (b"not weights", None, "is no safetensors file"),
    ],
)
def test_averaging_with_a_reader_that_does_not_fit_fails_before_training(
    tmp_path: Path, content: bytes | None, layers: str | None, message: str
) -> None:
    from safetensors.torch import save_file
    from typer.testing import CliRunner

    from rag.cli import app

    partner = tmp_path / "partner.safetensors"
    if content is None:
        save_file(
            {"qa.bias": torch.zeros(2)},
            str(partner),
            {"trained_layers": layers} if layers else None,
        )
    else:
        partner.write_bytes(content)
    result = CliRunner().invoke(
        app,
        _train_reader_args(tmp_path) + ["--trained-layers", "6", "--average-with", str(partner)],
    )
    assert result.exit_code == 1
    assert message in result.output


@pytest.mark.parametrize("part", ["val", "test"])
def test_training_on_the_written_val_or_test_part_fails_before_training(
    tmp_path: Path, part: str
) -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    written = ROOT / "eval" / f"questions-written-{part}.jsonl"
    splits = {p: p.read_bytes() for p in (ROOT / "eval").glob("*-split.json")}
    result = CliRunner().invoke(
        app,
        _train_reader_args(tmp_path)
        + ["--written-questions", str(written), "--out", str(tmp_path / "r.safetensors")],
    )
    assert result.exit_code == 1
    assert "of the written val or test part" in result.output
    assert not (tmp_path / "r.safetensors").exists()
    assert {p: p.read_bytes() for p in splits} == splits  # the committed splits untouched
