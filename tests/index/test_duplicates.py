"""Near-duplicate articles (one press release rewritten by several outlets) are grouped at
index time by both stores, collapsed to the best one in results, and the others named."""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rag.answer.retrieval import HybridRetriever
from rag.cli import app
from rag.index.duplicates import THRESHOLD, duplicate_groups, signature, similarity
from rag.index.embedded import EmbeddedStore
from rag.index.passage_store import index_documents
from rag.index.qdrant_store import QdrantStore
from rag.index.store import build_from_documents, index_path, load_index
from rag.ingest.cleaning import clean
from rag.ingest.loaders import load_corpus
from rag.settings import Settings
from ui.app import render_answer_html

INCHEON_2023 = "000_1ff51a0f1b8abdfa.txt"
INCHEON_2024 = "001_d4b40c634d9b42e7.txt"
BUSAN = "004_d142976b477de943.txt"
REWRITE = "005_busan_rewrite.txt"
BUSAN_QUESTION = "부산시가 고용노동부로부터 확보한 사업비는 얼마야?"


def _rewrite(seeds: Path) -> str:
    """The Busan article as another outlet would run the same press release: its own
    title, byline and lead, two paragraphs left out, a few words changed."""
    paragraphs = (seeds / BUSAN).read_text(encoding="utf-8").split("\n\n")
    first = next(i for i, p in enumerate(paragraphs) if p.startswith("전국 지방자치단체"))
    last = next(i for i, p in enumerate(paragraphs) if p.startswith("박형준"))
    body = paragraphs[first : last + 1]
    del body[3], body[6]
    body = [p.replace("시는 지난해", "부산시는 지난해").replace("거뒀다", "거두었다") for p in body]
    return "\n\n".join(
        [
            "부산시, 일자리대상 2관왕… 사업비 8500만원 확보",
            "홍길동 기자 | 입력 2023-08-03 10:12",
            "[부산뉴스=홍길동 기자] 부산광역시가 2일 세종컨벤션센터에서 열린 고용노동부 주관 "
            "‘2023 전국 지방자치단체 일자리대상’에서 공시제 부문과 우수사업 부문 우수상을 함께 받았다.",
            *body,
            "홍길동 기자 hong@example.com",
        ]
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, seeds_dir) -> Path:
    """Two Incheon articles (different awards), the Busan one and its rewrite."""
    folder = tmp_path_factory.mktemp("dup") / "news"
    folder.mkdir()
    for name in (INCHEON_2023, INCHEON_2024, BUSAN):
        shutil.copy(seeds_dir / name, folder / name)
    (folder / REWRITE).write_text(_rewrite(seeds_dir), encoding="utf-8")
    return folder


def _docs(folder: Path, settings: Settings) -> dict:
    return {d.doc_id: d for d in (clean(s) for s in load_corpus(folder, settings))}


def test_similarity_tells_a_rewrite_from_another_article(corpus):
    docs = _docs(corpus, Settings(corpus_dir=corpus))
    sig = {k: signature(d.text) for k, d in docs.items()}
    # The seeds' two Incheon articles are two awards (2023 and 2024), not one release.
    assert similarity(sig[INCHEON_2023], sig[INCHEON_2024]) < 0.1
    assert similarity(sig[BUSAN], sig[REWRITE]) >= THRESHOLD + 0.1
    assert duplicate_groups(sig) == {
        INCHEON_2023: (),
        INCHEON_2024: (),
        BUSAN: (REWRITE,),
        REWRITE: (BUSAN,),
    }
    assert signature("") is None and duplicate_groups({"a": None}) == {"a": ()}


def _fake_embed(texts: list[str]) -> np.ndarray:
    rows = []
    for text in texts:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        rows.append(np.random.default_rng(seed).standard_normal(16))
    vectors = np.asarray(rows, dtype=np.float32).reshape(-1, 16)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["embedded", "qdrant"])
def test_both_stores_group_on_write_and_collapse_results(kind, corpus, tmp_path):
    """Index without the rewrite, then add it: the older article joins its group too."""
    settings = Settings(
        corpus_dir=corpus,
        index_dir=tmp_path / "index",
        qdrant_path=tmp_path / "qdrant",
        model="fake",
        store=kind,
        mode="bm25",
    )
    docs = _docs(corpus, settings)
    first = [d for k, d in docs.items() if k != REWRITE]
    index = build_from_documents(first, settings, _fake_embed, index_path(settings))
    store = EmbeddedStore(index, settings) if kind == "embedded" else None
    store = store or QdrantStore.from_index(index, settings)
    assert store.documents[BUSAN].same_as == ()
    store = store.write(index_documents([docs[REWRITE]], settings, _fake_embed), ())
    assert store.documents[BUSAN].same_as == (REWRITE,)
    assert store.documents[REWRITE].same_as == (BUSAN,)
    assert store.documents[INCHEON_2024].same_as == ()

    hits = HybridRetriever(store, None, settings).run(BUSAN_QUESTION, k=8)  # type: ignore[arg-type]
    shown = {h.passage.doc_id for h in hits}
    assert len(shown & {BUSAN, REWRITE}) == 1  # one of the pair, never both
    assert shown & {INCHEON_2023, INCHEON_2024}  # other articles keep their places
    assert len(hits) == 8  # the copies' places go to other passages
    best = next(h for h in hits if h.passage.doc_id in (BUSAN, REWRITE))
    other = REWRITE if best.passage.doc_id == BUSAN else BUSAN
    assert [a["doc_id"] for a in best.also_in] == [other]
    assert best.to_json()["also_in"][0]["outlet"] == docs[other].outlet
    assert all(h.also_in == () for h in hits if h.passage.doc_id not in (BUSAN, REWRITE))

    store = store.write([], [REWRITE])  # the copy withdrawn: the original stands alone
    assert store.documents[BUSAN].same_as == ()


def test_an_old_manifest_without_groups_still_loads(corpus, tmp_path):
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path, model="fake")
    docs = list(_docs(corpus, settings).values())
    built = build_from_documents(docs, settings, _fake_embed, index_path(settings))
    manifest_file = built.path / "manifest.json"
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    for info in manifest["documents"].values():
        del info["signature"], info["same_as"]
    manifest_file.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    old = load_index(index_path(settings), settings)
    assert old.documents[BUSAN].same_as == () and old.documents[BUSAN].signature is None
    # Rebuilding from it computes what it lacked, even for unchanged documents.
    rebuilt = build_from_documents(docs, settings, _fake_embed, index_path(settings), old)
    assert rebuilt.documents[BUSAN].same_as == (REWRITE,)


def test_answers_and_text_outputs_name_the_other_outlets(corpus, tmp_path):
    """The real model end to end: the JSON source lists the copy, the CLI and page say
    "같은 내용: <outlet>"."""
    env = {"RAG_CORPUS_DIR": str(corpus), "RAG_INDEX_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["ask", BUSAN_QUESTION, "--json"], env=env)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["answer"] == "8500만원"
    cited = [s["doc_id"] for s in answer["sources"]]
    assert len(set(cited) & {BUSAN, REWRITE}) == 1
    source = next(s for s in answer["sources"] if s["doc_id"] in (BUSAN, REWRITE))
    outlets = {BUSAN: "스마트에프엔", REWRITE: "부산뉴스"}
    titles = {
        BUSAN: "부산시, ‘전국 지자체 일자리대상’ 우수상 수상",
        REWRITE: "부산시, 일자리대상 2관왕… 사업비 8500만원 확보",
    }
    (other,) = set(outlets) - {source["doc_id"]}
    assert source["also_in"] == [
        {"doc_id": other, "outlet": outlets[other], "title": titles[other]}
    ]
    human = CliRunner().invoke(app, ["ask", BUSAN_QUESTION], env=env)
    assert f"같은 내용: {outlets[other]}" in human.stdout
    search = CliRunner().invoke(app, ["search", BUSAN_QUESTION, "--k", "6"], env=env)
    assert f"같은 내용: {outlets[other]}" in search.stdout
    page = render_answer_html(answer | {"question": BUSAN_QUESTION})
    assert f"같은 내용: {outlets[other]}" in page
