"""Which store holds a corpus's index (``RAG_STORE``), and keeping it in line with the
corpus folder.

The embedded store keeps its own update path (``rag.index.store``: a new version folder
per update). Qdrant is updated in place through ``PassageStore.write``, document by
document, after the same checksum comparison; when its collection is missing, an embedded
index of the corpus built with the same settings is copied in instead of re-embedding. The
new documents are embedded first; ``writing`` (the server's answering lock) is held only
while the collection changes, so questions wait for the writes, not for the embedding.
"""

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import numpy as np

from rag.index.embedded import EmbeddedStore
from rag.index.passage_store import PassageStore, index_documents
from rag.index.store import (
    IndexNotReady,
    UpdateReport,
    diff_corpus,
    index_path,
    load_index,
    refresh_index,
    update_index,
)
from rag.ingest.cleaning import clean
from rag.ingest.loaders import Skipped, load_corpus
from rag.settings import Settings

log = logging.getLogger(__name__)

Embed = Callable[[list[str]], np.ndarray]
#: No lock: a store written with nothing else reading it (``rag index``, first load).
_UNGUARDED: AbstractContextManager[object] = nullcontext()


def open_store(settings: Settings) -> PassageStore:
    """The corpus's index as built; ``IndexNotReady`` when it cannot be used."""
    if settings.store == "qdrant":
        from rag.index.qdrant_store import QdrantStore  # its client loads only when used

        return QdrantStore.open(settings)
    return EmbeddedStore(load_index(index_path(settings), settings), settings)


def refresh_store(
    settings: Settings, embed: Embed, previous: PassageStore | None
) -> tuple[PassageStore, UpdateReport]:
    """Bring ``previous`` (or nothing) in line with the corpus folder, embedding only the
    documents that are new or changed."""
    if settings.store == "qdrant":
        return _refresh_qdrant(settings, embed, previous, migrate=True)
    embedded = previous.index if isinstance(previous, EmbeddedStore) else None
    index, report = refresh_index(settings, embed, embedded)
    return EmbeddedStore(index, settings), report


def update_store(
    settings: Settings,
    embed: Embed,
    rebuild: bool = False,
    writing: AbstractContextManager[object] = _UNGUARDED,
) -> tuple[PassageStore, UpdateReport]:
    """What ``rag index`` does: update in place, or rebuild when asked, or when the index
    is corrupt or was built with other settings. ``writing`` is held while a store that
    changes in place (Qdrant) is written; an embedded index is built beside the live one."""
    if settings.store != "qdrant":
        index, report = update_index(settings, embed, rebuild)
        return EmbeddedStore(index, settings), report
    previous = None
    if not rebuild:
        try:
            previous = open_store(settings)
        except IndexNotReady as exc:
            if exc.reason == "unreachable":
                raise
            if exc.reason != "missing":
                log.warning("%s; rebuilding it", exc)
    return _refresh_qdrant(settings, embed, previous, migrate=not rebuild, writing=writing)


def _refresh_qdrant(
    settings: Settings,
    embed: Embed,
    previous: PassageStore | None,
    migrate: bool,
    writing: AbstractContextManager[object] = _UNGUARDED,
) -> tuple[PassageStore, UpdateReport]:
    from rag.index.qdrant_store import QdrantStore

    started = time.perf_counter()
    skipped: list[Skipped] = []
    sources = load_corpus(settings.corpus_dir, settings, skipped)
    if not sources:
        raise ValueError(f"no readable articles in {settings.corpus_dir}")
    migrated = False
    if previous is None and migrate:
        try:
            embedded = load_index(index_path(settings), settings)
        except IndexNotReady:
            pass
        else:
            log.warning("copying the embedded index %s into Qdrant", embedded.path)
            with writing:
                previous, migrated = QdrantStore.from_index(embedded, settings), True
    checksums = {k: v.checksum for k, v in previous.documents.items()} if previous else {}
    report = diff_corpus(checksums, sources)
    report.rebuilt, report.migrated, report.skipped = previous is None, migrated, skipped
    store = previous
    if store is None or report.wrote:
        fresh = {*report.added, *report.changed}
        put = index_documents([clean(s) for s in sources if s.doc_id in fresh], settings, embed)
        with writing:
            store = (
                QdrantStore.create(settings, put)
                if store is None
                else store.write(put, report.removed)
            )
    report.seconds = time.perf_counter() - started
    return store, report
