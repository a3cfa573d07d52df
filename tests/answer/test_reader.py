"""The trained reader: shipped weights load offline, windows cover long passages, spans
are decoded inside the passage, and answers are verbatim slices of their sources."""

import gc
import os
import re
import weakref

import numpy as np
import pytest

from rag.answer.reader import (
    CARD_FILE,
    MAX_LENGTH,
    WEIGHTS_FILE,
    ExtractiveReader,
    Window,
    best_span,
    file_sha256,
)
from rag.answer.selection import without_particles

LONG = "부산시는 해양 관광 예산으로 모두 1,234억 원을 확보했다고 밝혔다. " * 40


@pytest.fixture(scope="module")
def reader(seed_pipeline) -> ExtractiveReader:
    from rag.pipeline import shared_reader

    return shared_reader(str(seed_pipeline.settings.model_cache_dir))


def test_weights_are_small_and_match_the_model_card() -> None:
    assert WEIGHTS_FILE.stat().st_size <= 25 * 1024 * 1024
    card = CARD_FILE.read_text(encoding="utf-8")
    assert re.search(r"^sha256: ([0-9a-f]{64})$", card, re.M).group(1) == file_sha256(WEIGHTS_FILE)


def test_reader_loads_offline(reader: ExtractiveReader) -> None:
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert reader.model is not None


def test_windows_cover_a_long_passage_with_overlap(reader: ExtractiveReader) -> None:
    windows = reader.windows("부산시가 확보한 예산은?", [LONG, "짧은 문장."])
    long_windows = [w for w in windows if w.context == 0]
    assert len(long_windows) > 1 and all(len(w.ids) <= MAX_LENGTH for w in windows)
    covered = [(w.offsets[w.first][0], w.offsets[w.last][1]) for w in long_windows]
    assert covered[0][0] <= 1 and covered[-1][1] >= len(LONG.rstrip())
    assert all(b[0] < a[1] for a, b in zip(covered, covered[1:], strict=False))  # overlap
    assert [w.context for w in windows][-1] == 1


def test_best_span_stays_inside_the_passage_and_in_order() -> None:
    # Tokens 4..8 are the passage (characters 0..4); 0..3 the question and separators.
    offsets = [(0, 0)] * 4 + [(i, i + 1) for i in range(5)] + [(0, 0)]
    window = Window(0, list(range(10)), offsets, 4, 8)
    logits = np.full((10, 2), -10.0)
    logits[1, 0] = logits[2, 1] = 50.0  # inside the question: never a span
    logits[8, 0] = logits[4, 1] = 9.0  # best start after best end: not a span together
    logits[5, 0], logits[6, 1] = 3.0, 2.0
    span = best_span(window, logits)
    assert span is not None and (span.start, span.end) == (1, 3)
    assert span.score == pytest.approx(5.0) and span.margin == pytest.approx(25.0)


def test_reader_finds_the_amount_in_a_passage(reader: ExtractiveReader) -> None:
    contexts = [
        "날씨가 맑았다.",
        "부산시는 올해 해양 관광 예산으로 1,234억 원을 확보했다고 밝혔다.",
    ]
    spans = reader.run("부산시가 확보한 해양 관광 예산은 얼마야?", contexts)
    best = max((s for s in spans if s), key=lambda s: s.score)
    assert best.context == 1
    assert "1,234억" in contexts[1][best.start : best.end]


@pytest.mark.parametrize(
    "question",
    [
        "인천시가 받은 상은?",
        "의정부시는 언제부터 여성친화도시였나?",
        "목포시 케이블카 예산은 얼마야?",
    ],
)
def test_every_answer_is_a_verbatim_slice_of_its_source(seed_pipeline, seeds_dir, question) -> None:
    answer = seed_pipeline.ask(question)
    assert answer.sources
    for source in answer.sources:
        text = (seeds_dir / source.doc_id).read_bytes().decode("utf-8")
        assert text[source.start : source.end] == source.quote
        if source.answer_start is not None:
            assert text[source.answer_start : source.answer_end] == answer.answer
            assert source.start <= source.answer_start < source.answer_end <= source.end


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("사업비 1,234억 원을 확보했다", "1,234억 원을", "1,234억 원"),
        ("곽달원 대표가 서명했다", "곽달원 대표가", "곽달원 대표"),
        ("서울에서 열렸다", "서울에서", "서울"),
        # Alone "허희도" parses as "허희" + the particle "도"; what follows says it is a name.
        ("대표 허희도 는 6일 밝혔다", "허희도", "허희도"),
        ("대표 허희도는 6일 밝혔다", "허희도는", "허희도"),
    ],
)
def test_particles_glued_to_a_span_are_dropped_in_context(text, span, expected) -> None:
    start = text.index(span)
    end = without_particles(text, start, start + len(span))
    assert text[start:end] == expected


def test_bf16_reads_the_same_span_as_fp32(reader: ExtractiveReader) -> None:
    contexts = ["부산시는 올해 해양 관광 예산으로 1,234억 원을 확보했다고 밝혔다."]
    question = "부산시가 확보한 해양 관광 예산은 얼마야?"
    fast = ExtractiveReader(reader.model, reader.tokenizer, bf16=not reader.bf16)
    a, b = reader.run(question, contexts)[0], fast.run(question, contexts)[0]
    assert (a.start, a.end) == (b.start, b.end)
    assert a.score == pytest.approx(b.score, abs=0.5) and a.score != b.score


def test_the_pipelines_reader_borrows_the_retrievers_frozen_layers(seed_pipeline, reader) -> None:
    """The answering reader shares the embedder's embeddings and lower layers (no second
    copy in memory), keeps its trained upper layers to itself, and reads exactly as a
    reader loaded on its own does; the retriever's vectors are untouched by it."""
    embedder = seed_pipeline.embedder
    question = "의정부시는 상을 받고 사업비를 얼마나 확보했나?"
    with embedder.uncached():
        before = embedder.encode_queries([question])
    borrowing = seed_pipeline.answerer.reader
    with embedder.uncached():
        after = embedder.encode_queries([question])
    assert np.array_equal(before, after)
    base = embedder.model[0].auto_model
    ours = borrowing.model.encoder
    assert borrowing is not reader and ours.embeddings is base.embeddings
    assert ours.encoder.layer[0] is base.encoder.layer[0]
    assert ours.encoder.layer[-1] is not base.encoder.layer[-1]
    hits = seed_pipeline.search(question, k=5)
    contexts = [h.passage.text for h in hits]
    assert borrowing.run(question, contexts) == reader.run(question, contexts)


def test_a_borrowing_reader_lives_as_long_as_its_embedder(seed_settings) -> None:
    """Pipelines come and go (tests, evaluation configurations): the reader that borrowed
    one's layers is reused while its embedder lives and freed with it, never kept alive."""
    from rag.index.embedder import Embedder
    from rag.pipeline import shared_reader

    embedder = Embedder(seed_settings, show_progress=False)
    cache_dir = str(seed_settings.model_cache_dir)
    borrowing = shared_reader(cache_dir, "auto", embedder)
    assert shared_reader(cache_dir, "auto", embedder) is borrowing
    assert borrowing is not shared_reader(cache_dir, "auto")
    gone = weakref.ref(borrowing)
    del borrowing, embedder
    gc.collect()
    assert gone() is None
