"""Qdrant as the store: one collection per corpus, so the index can outgrow one machine.

The collection is reached through an alias named like the embedded index folder
(``<folder>-<sha1[:8]>``). A full build fills a new collection ``<alias>-v-<time>`` and
then moves the alias to it in one step, so a crash mid-build leaves the previous one
live. It holds three kinds of points, told apart by the ``kind`` payload:

- ``passage``: the passage and its terms as payload, a ``dense`` named vector (cosine)
  and a ``lexical`` sparse vector (``rag.index.sparse``; Qdrant multiplies in the IDF);
- ``document``: the ``DocumentInfo`` with its checksum, written after the document's
  passages, so it marks the document complete for incremental updates;
- ``manifest``: model, dimension, settings signature, lexical constants, version.
"""

import atexit
import logging
import re
import threading
import time
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, fields
from itertools import islice
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from rag.index.duplicates import duplicate_groups
from rag.index.passage_store import Candidates, IndexedDocument, PassageFilter
from rag.index.sparse import HASH, K1, B, passage_vector, query_vector
from rag.index.store import CorpusIndex, DocumentInfo, IndexNotReady, index_path
from rag.ingest.passages import Passage
from rag.settings import Settings

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
DENSE = "dense"
LEXICAL = "lexical"
#: Points per upsert request.
BATCH = 256
_NAMESPACE = uuid.UUID("5b0e4b52-2f7c-4d7e-9a0c-6f1d1f3c9e21")
#: Looked-up documents kept per store (answers cite a few; listing all scrolls instead).
_DOCUMENT_CACHE = 4096


def point_id(kind: str, key: str) -> str:
    """Deterministic ids: re-writing a passage replaces it, whichever worker writes it."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{key}"))


MANIFEST_ID = point_id("manifest", "")
#: What filters and counts look up, indexed on a server.
_PAYLOAD_INDEXES = {
    "kind": models.PayloadSchemaType.KEYWORD,
    "doc_id": models.PayloadSchemaType.KEYWORD,
    "outlet": models.PayloadSchemaType.KEYWORD,
    "terms": models.PayloadSchemaType.KEYWORD,
    "day": models.PayloadSchemaType.INTEGER,
}
_REQUIRED = {"format_version", "model", "dim", "settings", "lexical", "passage_count", "version"}

_clients: dict[str, QdrantClient] = {}
_clients_lock = threading.Lock()


@atexit.register
def _close_clients() -> None:
    """Close local folders before the interpreter tears down what closing them needs."""
    with _clients_lock:
        while _clients:
            _clients.popitem()[1].close()


def collection_name(settings: Settings) -> str:
    return index_path(settings).name


def connect(settings: Settings) -> tuple[QdrantClient, str]:
    """The client for the configured server or local folder, one per process (a local
    folder can be opened only once), and where it points, for messages."""
    if settings.qdrant_url and settings.qdrant_path:
        raise ValueError("set RAG_QDRANT_URL or RAG_QDRANT_PATH, not both")
    where = settings.qdrant_url or str(settings.qdrant_path or settings.index_dir / "qdrant")
    with _clients_lock:
        if where not in _clients:
            try:
                if settings.qdrant_url:
                    _clients[where] = QdrantClient(url=settings.qdrant_url)
                elif where == ":memory:":
                    _clients[where] = QdrantClient(location=":memory:")
                else:
                    _clients[where] = QdrantClient(path=where)
            except RuntimeError as exc:  # the folder is locked by another process
                raise IndexNotReady(
                    "unreachable",
                    f"local Qdrant folder {where} is in use ({exc}); share a collection "
                    "between processes through a Qdrant server (RAG_QDRANT_URL)",
                ) from None
    return _clients[where], where


def _is_missing(exc: Exception) -> bool:
    if isinstance(exc, UnexpectedResponse):
        return exc.status_code == 404
    return isinstance(exc, ValueError) and "not found" in str(exc)  # local mode


def _match(key: str, values: Iterable[str]) -> models.FieldCondition:
    return models.FieldCondition(key=key, match=models.MatchAny(any=sorted(values)))


def _kind(kind: str) -> models.FieldCondition:
    return models.FieldCondition(key="kind", match=models.MatchValue(value=kind))


def _day(date: str | None) -> int | None:
    """An ISO date as a number (``20240102``), which Qdrant can range-filter."""
    return int(date.replace("-", "")) if date and re.fullmatch(r"\d{4}-\d\d-\d\d", date) else None


def _filter(where: PassageFilter | None) -> models.Filter | None:
    if where is None:
        return None
    must: list[models.Condition] = []
    if where.doc_ids is not None:
        must.append(_match("doc_id", where.doc_ids))
    if where.outlets is not None:
        must.append(_match("outlet", where.outlets))
    if where.date_from is not None or where.date_to is not None:
        bounds = models.Range(gte=_day(where.date_from), lte=_day(where.date_to))
        must.append(models.FieldCondition(key="day", range=bounds))
    return models.Filter(must=must) if must else None


def _matches_nothing(where: PassageFilter | None) -> bool:
    return where is not None and (where.doc_ids == frozenset() or where.outlets == frozenset())


def _passage(payload: dict[str, Any]) -> Passage:
    values = {f.name: payload[f.name] for f in fields(Passage) if f.name in payload}
    return Passage(**values | {"sentences": tuple(tuple(s) for s in payload["sentences"])})


def _document(payload: dict[str, Any]) -> DocumentInfo:
    values = {f.name: payload[f.name] for f in fields(DocumentInfo) if f.name in payload}
    evidence = {k: tuple(v) for k, v in payload["evidence"].items()}
    same_as = tuple(payload.get("same_as", ()))
    return DocumentInfo(**values | {"evidence": evidence, "same_as": same_as})


def _scroll(
    client: QdrantClient, collection: str, kind: str, payload: bool | list[str] = True
) -> Iterator[dict[str, Any]]:
    """The payloads of every point of one kind, a batch per request."""
    offset = None
    while True:
        points, offset = client.scroll(
            collection,
            scroll_filter=models.Filter(must=[_kind(kind)]),
            limit=BATCH,
            offset=offset,
            with_payload=payload,
        )
        yield from (p.payload or {} for p in points)
        if offset is None:
            return


class _Documents(Mapping[str, DocumentInfo]):
    """The document points, read on demand: a corpus of millions need not fit in memory."""

    def __init__(self, client: QdrantClient, collection: str) -> None:
        self._client = client
        self._collection = collection
        self._cache: dict[str, DocumentInfo] = {}

    def __getitem__(self, doc_id: str) -> DocumentInfo:
        if doc_id not in self._cache:
            found = self._client.retrieve(self._collection, [point_id("document", doc_id)])
            if not found:
                raise KeyError(doc_id)
            if len(self._cache) >= _DOCUMENT_CACHE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[doc_id] = _document(found[0].payload or {})
        return self._cache[doc_id]

    def _scroll(self, payload: bool | list[str]) -> Iterator[dict[str, Any]]:
        return _scroll(self._client, self._collection, "document", payload)

    def __iter__(self) -> Iterator[str]:
        return (p["doc_id"] for p in self._scroll(["doc_id"]))

    def __len__(self) -> int:
        count = self._client.count(self._collection, models.Filter(must=[_kind("document")]))
        return count.count

    def items(self) -> Iterator[tuple[str, DocumentInfo]]:  # type: ignore[override]
        """All documents in one scroll, not one request each."""
        return ((p["doc_id"], _document(p)) for p in self._scroll(True))

    def values(self) -> Iterator[DocumentInfo]:  # type: ignore[override]
        return (info for _, info in self.items())


class QdrantStore:
    """A corpus's collection behind the ``PassageStore`` interface."""

    kind = "qdrant"

    def __init__(
        self, client: QdrantClient, where: str, collection: str, manifest: dict[str, Any]
    ) -> None:
        self.client = client
        self.where = where
        self.collection = collection
        self._manifest = manifest
        self._documents = _Documents(client, collection)

    # -- opening and creating ------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings) -> "QdrantStore":
        """The corpus's collection; ``IndexNotReady`` says why not (missing, unreachable,
        corrupt, built with other settings) and how to fix it."""
        client, where = connect(settings)
        name = collection_name(settings)
        fix = f"run `rag index --store qdrant --rebuild` (Qdrant {where}, collection {name})"
        try:
            client.get_collection(name)
            found = client.retrieve(name, [MANIFEST_ID])
        except (UnexpectedResponse, ValueError) as exc:
            if _is_missing(exc):
                raise IndexNotReady(
                    "missing", f"no collection {name} in Qdrant {where}: run `rag index`"
                ) from None
            raise IndexNotReady("unreachable", f"Qdrant {where} failed: {exc}") from None
        except (ResponseHandlingException, OSError) as exc:
            raise IndexNotReady(
                "unreachable", f"cannot reach Qdrant at {where} ({exc}): is it running?"
            ) from None
        if not found:
            raise IndexNotReady("corrupt", f"collection {name} has no manifest: {fix}")
        manifest = found[0].payload or {}
        if not set(manifest) >= _REQUIRED:
            raise IndexNotReady("corrupt", f"collection {name} has an incomplete manifest: {fix}")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexNotReady(
                "mismatch",
                f"collection format {manifest.get('format_version')} is not {FORMAT_VERSION}: "
                f"{fix}",
            )
        if manifest.get("settings") != settings.index_signature():
            raise IndexNotReady(
                "mismatch",
                f"collection {name} was built with other settings ({manifest.get('settings')}): "
                f"{fix}",
            )
        return cls(client, where, name, manifest)

    @classmethod
    def create(cls, settings: Settings, docs: Sequence[IndexedDocument]) -> "QdrantStore":
        """A new collection holding ``docs``, made live when complete."""
        dims = {d.vectors.shape[1] for d in docs if d.passages}
        lengths = [len(t) for d in docs for t in d.terms]
        if not lengths:
            raise ValueError("the corpus has no text to index")
        if len(dims) != 1:
            raise ValueError(f"passage vectors of several dimensions: {sorted(dims)}")
        dim = dims.pop()
        client, where = connect(settings)
        alias = collection_name(settings)
        version = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{time.monotonic_ns() % 10**6}"
        name = f"{alias}-{version}"
        int8 = models.ScalarQuantization(
            scalar=models.ScalarQuantizationConfig(
                type=models.ScalarType.INT8, quantile=0.99, always_ram=True
            )
        )
        client.create_collection(
            name,
            vectors_config={
                DENSE: models.VectorParams(
                    size=dim, distance=models.Distance.COSINE, on_disk=settings.qdrant_int8
                )
            },
            sparse_vectors_config={
                LEXICAL: models.SparseVectorParams(modifier=models.Modifier.IDF)
            },
            shard_number=settings.qdrant_shards,
            replication_factor=settings.qdrant_replicas,
            on_disk_payload=True,  # memory holds vectors and payload indexes, not passages
            quantization_config=int8 if settings.qdrant_int8 else None,
        )
        if settings.qdrant_url:  # local mode scans payloads and only warns about indexes
            for field, schema in _PAYLOAD_INDEXES.items():
                client.create_payload_index(name, field, field_schema=schema)
        manifest = {
            "format_version": FORMAT_VERSION,
            "store": "qdrant",
            "model": settings.model,
            "dim": dim,
            "settings": settings.index_signature(),
            "corpus_dir": str(settings.corpus_dir),
            "lexical": {"hash": HASH, "k1": K1, "b": B, "avg_length": float(np.mean(lengths))},
        }
        store = cls(client, where, name, manifest).write(docs, ())
        _switch_alias(client, alias, name)
        return cls(client, where, alias, store.manifest)

    @classmethod
    def from_index(cls, index: CorpusIndex, settings: Settings) -> "QdrantStore":
        """The embedded index copied into a new collection: its vectors and terms as they
        are, nothing re-embedded."""
        rows: dict[str, list[int]] = {}
        for i, p in enumerate(index.passages):
            rows.setdefault(p.doc_id, []).append(i)
        docs = [
            IndexedDocument(
                info,
                [index.passages[r] for r in rows.get(doc_id, [])],
                [index.terms[r] for r in rows.get(doc_id, [])],
                index.embeddings[rows.get(doc_id, [])],
            )
            for doc_id, info in index.documents.items()
        ]
        return cls.create(settings, docs)

    # -- reading -------------------------------------------------------------------------

    @property
    def location(self) -> str:
        return f"Qdrant {self.where}, collection {self.collection}"

    @property
    def version(self) -> str:
        return self._manifest["version"]

    @property
    def manifest(self) -> dict[str, Any]:
        return self._manifest

    @property
    def documents(self) -> Mapping[str, DocumentInfo]:
        return self._documents

    @property
    def passage_count(self) -> int:
        return self._manifest["passage_count"]

    def _query(self, queries: list[Any], using: str, k: int, where: PassageFilter | None):
        if not queries or _matches_nothing(where):
            return [[] for _ in queries]
        requests = [
            models.QueryRequest(
                query=q, using=using, limit=k, filter=_filter(where), with_payload=["passage_id"]
            )
            for q in queries
        ]
        return [r.points for r in self.client.query_batch_points(self.collection, requests)]

    def dense_search(
        self, vectors: np.ndarray, k: int, where: PassageFilter | None = None
    ) -> list[Candidates]:
        found = self._query([v.tolist() for v in vectors], DENSE, k, where)
        return [{p.payload["passage_id"]: p.score for p in points} for points in found]

    def lexical_search(
        self, queries: Sequence[Sequence[str]], k: int, where: PassageFilter | None = None
    ) -> list[Candidates]:
        asked = [i for i, terms in enumerate(queries) if terms]
        vectors = []
        for i in asked:
            dims, values = query_vector(queries[i])
            vectors.append(models.SparseVector(indices=dims, values=values))
        found = dict(zip(asked, self._query(vectors, LEXICAL, k, where), strict=True))
        return [
            {p.payload["passage_id"]: p.score for p in found.get(i, []) if p.score > 0}
            for i in range(len(queries))
        ]

    def _payloads(self, passage_ids: Iterable[str], keys: list[str] | bool) -> list[dict]:
        ids = [point_id("passage", i) for i in dict.fromkeys(passage_ids)]
        if not ids:
            return []
        found = self.client.retrieve(self.collection, ids, with_payload=keys)
        return [p.payload or {} for p in found]

    def passages(self, passage_ids: Iterable[str]) -> dict[str, Passage]:
        return {p["passage_id"]: _passage(p) for p in self._payloads(passage_ids, True)}

    def passage_terms(self, passage_ids: Iterable[str]) -> dict[str, list[str]]:
        payloads = self._payloads(passage_ids, ["passage_id", "terms"])
        return {p["passage_id"]: p["terms"] for p in payloads}

    def term_document_counts(self, groups: Sequence[Sequence[str]]) -> list[int]:
        return [
            self.client.count(
                self.collection,
                models.Filter(must=[_kind("passage"), _match("terms", group)]),
                exact=True,
            ).count
            if group
            else 0
            for group in groups
        ]

    def iter_passages(self) -> Iterator[Passage]:
        return (_passage(p) for p in _scroll(self.client, self.collection, "passage"))

    # -- writing -------------------------------------------------------------------------

    def write(self, put: Sequence[IndexedDocument], remove: Collection[str]) -> "QdrantStore":
        """Replace documents by id. Their document points go first and come back last, so
        a crash in between leaves them missing, and the next update writes them again.
        Near-duplicate groups are recomputed when the write can change them."""
        gone = {d.info.doc_id for d in put} | set(remove)
        regroup = any(d.info.signature for d in put) or self._in_groups(gone)
        if gone:
            self.client.delete(
                self.collection, [point_id("document", d) for d in sorted(gone)], wait=True
            )
            self.client.delete(
                self.collection,
                models.Filter(must=[_kind("passage"), _match("doc_id", gone)]),
                wait=True,
            )
        average = self._manifest["lexical"]["avg_length"]
        for batch in _batches(self._passage_points(d, average) for d in put):
            self.client.upsert(self.collection, batch, wait=True)
        for batch in _batches([_document_point(d.info)] for d in put):
            self.client.upsert(self.collection, batch, wait=True)
        if regroup:
            self._regroup()
        count = self.client.count(self.collection, models.Filter(must=[_kind("passage")]))
        manifest = self._manifest | {
            "passage_count": count.count,
            "version": f"v-{time.strftime('%Y%m%dT%H%M%S')}-{time.monotonic_ns() % 10**6}",
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        point = models.PointStruct(
            id=MANIFEST_ID, vector={}, payload={"kind": "manifest"} | manifest
        )
        self.client.upsert(self.collection, [point], wait=True)
        return QdrantStore(self.client, self.where, self.collection, manifest)

    def _in_groups(self, doc_ids: Collection[str]) -> bool:
        """Whether any of these documents has near-duplicates (one request)."""
        if not doc_ids:
            return False
        grouped = models.Filter(
            must=[_kind("document"), _match("doc_id", doc_ids)],
            must_not=[models.IsEmptyCondition(is_empty=models.PayloadField(key="same_as"))],
        )
        return self.client.count(self.collection, grouped).count > 0

    def _regroup(self) -> None:
        """Recompute the near-duplicate groups over all documents (from the signatures
        their points keep) and rewrite ``same_as`` where it changed."""
        kept = list(self._documents._scroll(["doc_id", "signature", "same_as"]))
        groups = duplicate_groups({p["doc_id"]: p.get("signature") for p in kept})
        for p in kept:
            group = groups[p["doc_id"]]
            if tuple(p.get("same_as", ())) != group:
                self.client.set_payload(
                    self.collection,
                    {"same_as": list(group)},
                    [point_id("document", p["doc_id"])],
                    wait=True,
                )

    @staticmethod
    def _passage_points(doc: IndexedDocument, average: float) -> list[models.PointStruct]:
        info = doc.info
        points = []
        for passage, terms, vector in zip(doc.passages, doc.terms, doc.vectors, strict=True):
            dims, values = passage_vector(terms, average)
            payload = asdict(passage) | {
                "kind": "passage",
                "terms": terms,
                "outlet": info.outlet,
                "day": _day(info.date),
            }
            points.append(
                models.PointStruct(
                    id=point_id("passage", passage.passage_id),
                    vector={
                        DENSE: vector.tolist(),
                        LEXICAL: models.SparseVector(indices=dims, values=values),
                    },
                    payload=payload,
                )
            )
        return points


def _document_point(info: DocumentInfo) -> models.PointStruct:
    payload = asdict(info) | {"kind": "document"}
    return models.PointStruct(id=point_id("document", info.doc_id), vector={}, payload=payload)


def _batches(groups: Iterable[list[models.PointStruct]]) -> Iterator[list[models.PointStruct]]:
    points = (p for group in groups for p in group)
    while batch := list(islice(points, BATCH)):
        yield batch


def _switch_alias(client: QdrantClient, alias: str, collection: str) -> None:
    """Point ``alias`` at ``collection`` in one step; drop the collection it left and any
    left over from builds that crashed before switching."""
    old = next(
        (a.collection_name for a in client.get_aliases().aliases if a.alias_name == alias), None
    )
    operations: list[models.AliasOperations] = []
    if old is not None:
        operations.append(
            models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
        )
    operations.append(
        models.CreateAliasOperation(
            create_alias=models.CreateAlias(collection_name=collection, alias_name=alias)
        )
    )
    client.update_collection_aliases(operations)
    for c in client.get_collections().collections:
        if c.name.startswith(f"{alias}-v-") and c.name != collection:
            client.delete_collection(c.name)
    log.info("collection %s is live as %s", collection, alias)
