"""The store contract, once per implementation: the embedded index and Qdrant (local mode).

Stores are built from the seed articles with cheap deterministic vectors (no model), and
every answer is checked against the embedded index's own data: exact inner products over
its vectors, bm25s over its terms.
"""

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.index.embedded import EmbeddedStore
from rag.index.passage_store import PassageFilter, PassageStore, index_documents
from rag.index.qdrant_store import QdrantStore
from rag.index.store import CorpusIndex, IndexNotReady, build_from_documents, index_path
from rag.index.tokenization import content_terms
from rag.ingest.cleaning import clean
from rag.ingest.loaders import load_corpus
from rag.settings import Settings

DIM = 16
KINDS = ["embedded", "qdrant"]
#: The unreachable-server test's client warns about the version check (later, in a thread).
pytestmark = pytest.mark.filterwarnings("ignore:Failed to obtain server version")


def fake_embed(texts: list[str]) -> np.ndarray:
    """A unit vector per text, the same for the same text."""
    rows = []
    for text in texts:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        rows.append(np.random.default_rng(seed).standard_normal(DIM))
    vectors = np.asarray(rows, dtype=np.float32).reshape(-1, DIM)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _settings(corpus: Path, root: Path, **overrides) -> Settings:
    return Settings(
        corpus_dir=corpus,
        index_dir=root / "index",
        qdrant_path=root / "qdrant",
        model="fake",
        **overrides,
    )


def _build(kind: str, corpus: Path, root: Path) -> tuple[PassageStore, CorpusIndex, Settings]:
    settings = _settings(corpus, root, store=kind)
    docs = [clean(s) for s in load_corpus(corpus, settings)]
    index = build_from_documents(docs, settings, fake_embed, index_path(settings))
    if kind == "embedded":
        return EmbeddedStore(index, settings), index, settings
    return QdrantStore.from_index(index, settings), index, settings


@pytest.fixture(scope="module", params=KINDS)
def built(request, tmp_path_factory, seeds_dir):
    """A store over the seed articles, with the embedded index it was made from."""
    return _build(request.param, seeds_dir, tmp_path_factory.mktemp(request.param))


@pytest.fixture(params=KINDS)
def fresh(request, tmp_path, seeds_dir):
    """A store of its own (over a copy of the seeds) for tests that write."""
    corpus = tmp_path / "news"
    shutil.copytree(seeds_dir, corpus)
    return _build(request.param, corpus, tmp_path)


def _exact_dense(index: CorpusIndex, vector: np.ndarray, rows: list[int] | None = None):
    rows = list(range(len(index.passages))) if rows is None else rows
    scores = index.embeddings[rows] @ vector
    return [(index.passages[rows[i]].passage_id, float(scores[i])) for i in np.argsort(-scores)]


def _questions(index: CorpusIndex) -> list[list[str]]:
    return [
        content_terms("부산시가 고용노동부로부터 확보한 사업비"),
        content_terms("강원도 최우수상 국비 일자리"),
        content_terms(index.passages[7].text)[:6],
    ]


def test_store_describes_itself(built):
    store, index, settings = built
    assert isinstance(store, PassageStore)
    manifest = store.manifest
    assert manifest["model"] == "fake" and manifest["dim"] == DIM
    assert manifest["settings"] == settings.index_signature()
    assert manifest["passage_count"] == store.passage_count == len(index.passages)
    assert dict(store.documents.items()) == index.documents
    assert len(store.documents) == len(index.documents)
    assert all(len(info.checksum) == 64 for info in store.documents.values())
    assert {p.passage_id for p in store.iter_passages()} == {p.passage_id for p in index.passages}
    assert store.version and store.location


def test_dense_search_is_inner_product(built):
    store, index, _ = built
    queries = fake_embed(["부산 사업비", "인천 청년"])
    queries = np.vstack([queries, index.embeddings[3][None, :]])
    for found, query in zip(store.dense_search(queries, 5), queries, strict=True):
        expected = _exact_dense(index, query)[:5]
        assert list(found) == [pid for pid, _ in expected]
        assert list(found.values()) == pytest.approx([s for _, s in expected], abs=1e-5)


def test_lexical_search_is_bm25(built):
    store, index, _ = built
    queries = _questions(index) + [[], ["없는낱말"]]
    for found, terms in zip(store.lexical_search(queries, 5), queries, strict=True):
        scores = index.bm25.get_scores(terms) if terms else np.zeros(len(index.passages))
        expected = [(index.passages[r].passage_id, scores[r]) for r in np.argsort(-scores)[:5]]
        expected = [(pid, s) for pid, s in expected if s > 0]
        assert list(found.values()) == pytest.approx([s for _, s in expected], rel=1e-4)
        assert set(found) == {pid for pid, _ in expected}  # ties may come in either order


@pytest.mark.parametrize(
    "where",
    [
        PassageFilter(doc_ids=frozenset({"002_f7151f5f38947686.txt"})),
        PassageFilter(date_from="2023-08-03", date_to="2023-08-31"),
        PassageFilter(date_to="2023-08-02"),
        "first outlet",
        PassageFilter(doc_ids=frozenset()),
    ],
    ids=["one document", "date range", "until a date", "outlet", "nothing"],
)
def test_filters_hold_inside_the_search(built, where):
    """k results among the matching passages, not the matches among the overall top k."""
    store, index, _ = built
    if where == "first outlet":
        outlet = next(i.outlet for i in index.documents.values() if i.outlet)
        where = PassageFilter(outlets=frozenset({outlet}))
    allowed = [i for i, p in enumerate(index.passages) if where.accepts(index.documents[p.doc_id])]
    allowed_ids = {index.passages[i].passage_id for i in allowed}
    k = 4
    query = index.embeddings[0]  # a passage the filters mostly exclude
    found = store.dense_search(query[None, :], k, where)[0]
    expected = _exact_dense(index, query, allowed)[:k]
    assert list(found) == [pid for pid, _ in expected]
    terms = [t for q in _questions(index) for t in q]
    lexical = store.lexical_search([terms], k, where)[0]
    scores = index.bm25.get_scores(terms)
    matching = sorted((scores[i] for i in allowed if scores[i] > 0), reverse=True)[:k]
    assert set(lexical) <= allowed_ids
    assert sorted(lexical.values(), reverse=True) == pytest.approx(matching, rel=1e-4)


def test_date_bounds_must_be_iso_dates():
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        PassageFilter(date_from="2023.08.01")


def test_passages_and_terms_are_looked_up_by_id(built):
    store, index, _ = built
    wanted = [index.passages[5].passage_id, "no-such-doc#0", index.passages[0].passage_id]
    found = store.passages(wanted)
    assert set(found) == {wanted[0], wanted[2]}
    assert found[wanted[0]] == index.passages[5]
    assert store.passage_terms(wanted) == {wanted[0]: index.terms[5], wanted[2]: index.terms[0]}
    assert store.passages([]) == {}


def test_term_document_counts(built):
    store, index, _ = built
    groups = [["부산시"], ["부산시", "인천시"], ["없는낱말"], []]
    expected = [sum(1 for terms in index.terms if set(g) & set(terms)) for g in groups]
    assert store.term_document_counts(groups) == expected
    assert expected[0] > 0 and expected[1] > expected[0]


def test_write_adds_replaces_and_removes_documents(fresh):
    store, index, settings = fresh
    corpus = settings.corpus_dir
    changed, gone = "001_d4b40c634d9b42e7.txt", "004_d142976b477de943.txt"
    (corpus / changed).write_text(
        "목포시 케이블카\n\n목포시는 해상 케이블카를 개통했다고 밝혔다.", encoding="utf-8"
    )
    (corpus / "new.txt").write_text("여수시는 밤바다 축제를 열었다고 밝혔다.", encoding="utf-8")
    sources = [s for s in load_corpus(corpus, settings) if s.doc_id in (changed, "new.txt")]
    put = index_documents([clean(s) for s in sources], settings, fake_embed)
    before = store.version

    after = store.write(put, [gone])

    assert after.version != before
    assert set(after.documents) == set(index.documents) - {gone} | {"new.txt"}
    assert after.documents[changed].checksum == next(s.checksum for s in sources)
    ids = {p.passage_id for p in after.iter_passages()}
    assert not any(i.startswith(gone) for i in ids)
    assert after.passage_count == len(ids) == after.manifest["passage_count"]
    queries = [content_terms("목포시 케이블카 개통"), content_terms("여수시 밤바다 축제")]
    hits = after.lexical_search(queries, 3)
    assert next(iter(hits[0])).startswith(f"{changed}#")
    assert next(iter(hits[1])).startswith("new.txt#")
    new_vector = put[1].vectors[0]
    assert next(iter(after.dense_search(new_vector[None, :], 1)[0])) == "new.txt#0"
    if after.kind == "qdrant":  # what was written is what the next process opens
        reopened = QdrantStore.open(settings)
        assert reopened.version == after.version and reopened.passage_count == len(ids)


def test_qdrant_says_what_is_wrong(tmp_path, seeds_dir):
    settings = _settings(seeds_dir, tmp_path, store="qdrant")
    with pytest.raises(IndexNotReady, match="rag index") as missing:
        QdrantStore.open(settings)
    assert missing.value.reason == "missing"

    _build("qdrant", seeds_dir, tmp_path)
    other = settings.model_copy(update={"chunk_chars": 200})
    with pytest.raises(IndexNotReady, match="--store qdrant --rebuild") as mismatch:
        QdrantStore.open(other)
    assert mismatch.value.reason == "mismatch"

    nowhere = settings.model_copy(update={"qdrant_url": "http://127.0.0.1:9", "qdrant_path": None})
    with pytest.raises(IndexNotReady, match="cannot reach Qdrant") as unreachable:
        QdrantStore.open(nowhere)
    assert unreachable.value.reason == "unreachable"


def test_a_rebuild_replaces_the_collection_in_one_step(tmp_path, seeds_dir):
    first, index, settings = _build("qdrant", seeds_dir, tmp_path)
    second = QdrantStore.from_index(index, settings)
    assert second.version != first.version
    assert QdrantStore.open(settings).version == second.version
    names = [c.name for c in second.client.get_collections().collections]
    assert len(names) == 1 and names[0].startswith(f"{second.collection}-v-")
