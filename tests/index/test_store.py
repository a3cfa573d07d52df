"""Index builds: incremental updates, atomic writes, clear errors for bad indexes."""

import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rag.index.store import IndexNotReady, index_path, load_index, update_index
from rag.index.texts import read_text
from rag.settings import Settings


@pytest.fixture()
def corpus(tmp_path: Path, seeds_dir: Path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    for name in ("001_d4b40c634d9b42e7.txt", "004_d142976b477de943.txt"):
        shutil.copy(seeds_dir / name, folder / name)
    return folder


def _settings(corpus: Path, tmp_path: Path, **overrides) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", **overrides)


def test_incremental_update_reembeds_only_changed_documents(corpus, tmp_path, counting_embed):
    settings = _settings(corpus, tmp_path)
    embed, calls = counting_embed
    first, report = update_index(settings, embed)
    assert report.rebuilt and sorted(report.added) == sorted(first.documents)
    busan = [i for i, p in enumerate(first.passages) if p.doc_id.startswith("004")]
    busan_vectors = first.embeddings[busan]

    _, report = update_index(settings, embed)
    assert not report.wrote and len(calls) == 1  # nothing changed, nothing embedded

    changed = corpus / "001_d4b40c634d9b42e7.txt"
    extended = changed.read_text(encoding="utf-8") + "\n추가된 문장입니다.\n"
    changed.write_text(extended, encoding="utf-8")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "new.txt").write_text(
        "서울시는 2025년 일자리 박람회를 열어 청년 3천 명의 취업을 도왔다고 밝혔다.",
        encoding="utf-8",
    )
    second, report = update_index(settings, embed)
    assert report.changed == ["001_d4b40c634d9b42e7.txt"]
    assert report.added == ["sub/new.txt"]
    embedded_now = calls[-1]
    fresh = [p for p in second.passages if not p.doc_id.startswith("004")]
    assert embedded_now == len(fresh)  # Busan's passages were reused, not re-embedded
    reused = [i for i, p in enumerate(second.passages) if p.doc_id.startswith("004")]
    np.testing.assert_array_equal(second.embeddings[reused], busan_vectors)

    (corpus / "sub" / "new.txt").unlink()
    third, report = update_index(settings, embed)
    assert report.removed == ["sub/new.txt"]
    assert "sub/new.txt" not in third.documents
    assert all(p.doc_id != "sub/new.txt" for p in third.passages)
    assert third.dense.ntotal == len(third.passages) == third.manifest["passage_count"]


def test_manifest_records_model_settings_and_checksums(corpus, tmp_path, embedder):
    settings = _settings(corpus, tmp_path)
    built, _ = update_index(settings, embedder.encode_passages)
    manifest = load_index(index_path(settings), settings).manifest
    assert manifest["model"] == settings.model
    assert manifest["dim"] == 384
    assert manifest["settings"] == settings.index_signature()
    assert manifest["passage_count"] == len(built.passages)
    assert set(manifest["documents"]) == {p.name for p in corpus.iterdir()}
    assert all(len(d["checksum"]) == 64 for d in manifest["documents"].values())


def test_missing_mismatched_and_corrupt_indexes_say_how_to_fix(corpus, tmp_path, embedder):
    settings = _settings(corpus, tmp_path)
    with pytest.raises(IndexNotReady, match="rag index") as missing:
        load_index(index_path(settings), settings)
    assert missing.value.reason == "missing"

    built, _ = update_index(settings, embedder.encode_passages)
    other = _settings(corpus, tmp_path, chunk_chars=200)
    with pytest.raises(IndexNotReady, match="rag index --rebuild") as mismatch:
        load_index(index_path(other), other)
    assert mismatch.value.reason == "mismatch"

    (built.path / "embeddings.npy").write_bytes(b"garbage")
    with pytest.raises(IndexNotReady, match="rag index --rebuild") as corrupt:
        load_index(index_path(settings), settings)
    assert corrupt.value.reason == "corrupt"

    # `rag index` repairs both: a corrupt index is rebuilt in full.
    repaired, report = update_index(settings, embedder.encode_passages)
    assert report.rebuilt and load_index(index_path(settings), settings).dense.ntotal > 0
    assert repaired.path != built.path


def test_crash_mid_build_leaves_previous_index_intact(corpus, tmp_path, embedder, monkeypatch):
    settings = _settings(corpus, tmp_path)
    built, _ = update_index(settings, embedder.encode_passages)
    extra = "인천시는 새 일자리 사업을 시작했다고 밝혔다."
    (corpus / "extra.txt").write_text(extra, encoding="utf-8")

    import rag.index.store

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rag.index.store.faiss, "write_index", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        update_index(settings, embedder.encode_passages)
    monkeypatch.undo()

    survivor = load_index(index_path(settings), settings)
    assert survivor.path == built.path
    assert "extra.txt" not in survivor.documents
    _, report = update_index(settings, embedder.encode_passages)  # next run finishes the job
    assert report.added == ["extra.txt"]
    leftovers = [p.name for p in index_path(settings).iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_empty_or_missing_corpus_is_a_clear_error(tmp_path, embedder):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("   \n", encoding="utf-8")
    (empty / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(ValueError, match="no readable"):
        update_index(_settings(empty, tmp_path), embedder.encode_passages)
    with pytest.raises(FileNotFoundError, match="not found"):
        update_index(_settings(tmp_path / "nowhere", tmp_path), embedder.encode_passages)
    assert not (index_path(_settings(empty, tmp_path)) / "CURRENT").exists()


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_dense_index_types_build_and_search(kind):
    from rag.index.store import make_dense_index

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(2000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = make_dense_index(vectors, kind)
    _, rows = index.search(vectors[:20], 1)
    assert (rows[:, 0] == np.arange(20)).mean() >= 0.9


def _versions(settings: Settings) -> list[str]:
    return sorted(p.name for p in index_path(settings).iterdir() if p.name.startswith("v-"))


def _break_manifest(path: Path, **changes) -> None:
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            del manifest[key]
        else:
            manifest[key] = value
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("damage", ["no settings", "wrong dim", "pointer is a folder"])
def test_damaged_indexes_are_reported_then_repaired(corpus, tmp_path, embedder, damage):
    settings = _settings(corpus, tmp_path)
    built, _ = update_index(settings, embedder.encode_passages)
    if damage == "no settings":
        _break_manifest(built.path, settings=None)
    elif damage == "wrong dim":
        _break_manifest(built.path, dim=built.embeddings.shape[1] + 1)
    else:
        pointer = index_path(settings) / "CURRENT"
        pointer.unlink()
        pointer.mkdir()
    with pytest.raises(IndexNotReady) as broken:
        load_index(index_path(settings), settings)
    assert broken.value.reason == "corrupt" and "rag index --rebuild" in str(broken.value)
    repaired, report = update_index(settings, embedder.encode_passages)
    assert report.rebuilt and load_index(index_path(settings), settings).path == repaired.path
    # No orphan: the repaired version, and at most the one it replaced (kept for readers
    # still using it) until the next write.
    assert repaired.path.name in _versions(settings) and len(_versions(settings)) <= 2
    again, _ = update_index(settings, embedder.encode_passages, rebuild=True)
    assert _versions(settings) == sorted([repaired.path.name, again.path.name])


def test_two_corpus_folders_with_one_name_get_their_own_indexes(corpus, tmp_path, embedder):
    twin = tmp_path / "elsewhere" / corpus.name
    twin.mkdir(parents=True)
    (twin / "only.txt").write_text("목포시는 케이블카를 개통했다고 밝혔다.", encoding="utf-8")
    first, second = _settings(corpus, tmp_path), _settings(twin, tmp_path)
    assert index_path(first) != index_path(second)
    update_index(first, embedder.encode_passages)
    update_index(second, embedder.encode_passages)
    _, report = update_index(first, embedder.encode_passages)
    assert not report.wrote  # the twin did not overwrite it
    assert list(load_index(index_path(second), second).documents) == ["only.txt"]


def test_two_writers_at_once_take_turns(corpus, tmp_path, embedder):
    settings = _settings(corpus, tmp_path)
    errors: list[BaseException] = []

    def slow_embed(texts: list[str]) -> np.ndarray:
        time.sleep(0.5)  # both writers are inside the build at the same time without a lock
        return embedder.encode_passages(texts)

    def write() -> None:
        try:
            update_index(settings, slow_embed, rebuild=True)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(_versions(settings)) == 2  # the second writer's, and the first's it replaced
    assert load_index(index_path(settings), settings).dense.ntotal > 0


def test_a_reader_of_the_replaced_version_can_still_read_its_texts(corpus, tmp_path, embedder):
    """A server answering from the old version while an update swaps in a new one reads
    document texts lazily from the old version's folder: it must outlive the update."""
    settings = _settings(corpus, tmp_path)
    old, _ = update_index(settings, embedder.encode_passages)
    doc_id = next(iter(old.documents))
    (corpus / doc_id).write_text(
        "다른 내용으로 바뀐 기사입니다. 예산은 10억 원이다.", encoding="utf-8"
    )
    new, report = update_index(settings, embedder.encode_passages)
    assert report.changed == [doc_id] and new.path != old.path
    assert read_text(old.path, doc_id) is not None and "10억" not in read_text(old.path, doc_id)
    assert "10억" in read_text(new.path, doc_id)
