"""Embedding precision: bf16 vectors stay those of fp32, and an index records which one
built it, so it is never read with the other."""

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from rag.index.embedder import Embedder, ModelTurns
from rag.index.store import IndexNotReady, index_path, load_index, update_index
from rag.settings import Settings

PASSAGES = [
    "인천시는 2023년 전국 지방자치단체 일자리대상에서 최우수상을 받았다.",
    "의정부시는 LH 경기북부지역본부 유치로 매년 70억 원 이상의 세입 증대를 기대한다.",
]


def test_bf16_vectors_point_where_fp32_vectors_do(seed_settings) -> None:
    vectors = {
        p: Embedder(seed_settings.model_copy(update={"embedding_precision": p})).encode_passages(
            PASSAGES
        )
        for p in ("fp32", "bf16")
    }
    assert vectors["fp32"].dtype == vectors["bf16"].dtype == np.float32
    cosines = np.sum(vectors["fp32"] * vectors["bf16"], axis=1)
    assert np.all(cosines > 0.999) and not np.array_equal(vectors["fp32"], vectors["bf16"])


def test_the_precision_is_part_of_the_index_signature() -> None:
    assert "embedding_precision" not in Settings(embedding_precision="fp32").index_signature()
    assert Settings(embedding_precision="bf16").index_signature()["embedding_precision"] == "bf16"


def test_an_index_is_not_read_with_the_other_precision(tmp_path: Path, seeds_dir, embedder):
    corpus = tmp_path / "news"
    corpus.mkdir()
    shutil.copy(seeds_dir / "004_d142976b477de943.txt", corpus)
    fp32 = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", embedding_precision="fp32")
    update_index(fp32, embedder.encode_passages)
    bf16 = fp32.model_copy(update={"embedding_precision": "bf16"})
    with pytest.raises(IndexNotReady) as mismatch:
        load_index(index_path(bf16), bf16)
    assert mismatch.value.reason == "mismatch"
    assert load_index(index_path(fp32), fp32).passages


def test_batches_come_back_in_the_order_given(embedder) -> None:
    texts = [p * n for n in (1, 3, 2) for p in PASSAGES]  # lengths out of order
    vectors = embedder.encode_passages(texts)
    for text, vector in zip(texts, vectors, strict=True):
        alone = embedder.encode_passages([text])[0]
        assert float(vector @ alone) > 0.999


def test_the_model_is_held_in_turn_so_a_question_waits_for_one_batch() -> None:
    turns, order = ModelTurns(), []
    first_batch = threading.Event()

    def update() -> None:
        for i in range(3):
            with turns.hold():
                order.append(f"batch {i}")
                first_batch.set()
                deadline = time.monotonic() + 10
                while i == 0 and turns._next_ticket < 2 and time.monotonic() < deadline:
                    time.sleep(0.001)  # hold the model until the question waits for it

    thread = threading.Thread(target=update)
    thread.start()
    assert first_batch.wait(10)
    with turns.hold():
        order.append("question")
    thread.join(10)
    assert order == ["batch 0", "question", "batch 1", "batch 2"]


def test_a_waiter_interrupted_before_its_turn_does_not_block_the_next_ones(monkeypatch) -> None:
    turns, served = ModelTurns(), []
    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        with turns.hold():
            holding.set()
            release.wait(10)

    def interrupted(*_: object) -> bool:
        raise KeyboardInterrupt

    def later() -> None:
        with turns.hold():
            served.append("later")

    thread = threading.Thread(target=first)
    thread.start()
    assert holding.wait(10)
    with monkeypatch.context() as patched, pytest.raises(KeyboardInterrupt):
        patched.setattr(turns._changed, "wait_for", interrupted)
        with turns.hold():  # interrupted while it waits for the first
            served.append("interrupted")
    waiter = threading.Thread(target=later, daemon=True)
    waiter.start()
    release.set()
    thread.join(10)
    waiter.join(10)
    assert served == ["later"]


def test_a_question_is_embedded_between_batches_of_a_long_embedding(embedder) -> None:
    """An index update embeds thousands of passages with the model the questions use: a
    question waits for one batch, not for the update."""
    texts = [f"{i}번째 문단. " + PASSAGES[i % 2] * 4 for i in range(embedder.batch_size * 12)]
    started = threading.Event()
    real_encode = embedder.model.encode

    def encode(*args: object, **kwargs: object) -> np.ndarray:
        started.set()
        return real_encode(*args, **kwargs)

    embedder.model.encode = encode
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            long = pool.submit(embedder.encode_passages, texts)
            assert started.wait(60)
            embedder.encode_queries(["한 묶음만 기다리는 임베딩 시험 질문"])  # not cached
            assert not long.done()  # the question did not wait for all twelve batches
            assert long.result(timeout=300).shape == (len(texts), embedder.dim)
    finally:
        del embedder.model.encode
