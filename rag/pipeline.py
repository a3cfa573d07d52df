"""The loaded system: settings, model, index (whichever store holds it) and retriever,
shared by the CLI, API and UI."""

import logging
import threading
import time
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from weakref import WeakKeyDictionary

from rag.answer.answerer import Answer, ExtractiveAnswerer
from rag.answer.questions import InvalidQuestion, reading_form, validate_question
from rag.answer.reader import ExtractiveReader
from rag.answer.retrieval import Hit, HybridRetriever
from rag.answer.selection import DocumentTexts, ReaderAnswerer, document_texts
from rag.index.embedder import Embedder
from rag.index.model_store import ensure_e5_model
from rag.index.passage_store import PassageFilter, PassageStore
from rag.index.store import IndexNotReady, UpdateReport
from rag.index.stores import open_store, refresh_store
from rag.ingest.loaders import require_corpus_dir
from rag.settings import Precision, RetrievalMode, Settings, in_bf16

__all__ = ["InvalidQuestion", "Pipeline", "validate_question"]

log = logging.getLogger(__name__)


@cache
def _own_reader(model_cache_dir: str, precision: Precision) -> ExtractiveReader:
    model_path = ensure_e5_model(Path(model_cache_dir), show_progress=False)
    return ExtractiveReader.load(str(model_path), bf16=in_bf16(precision))


#: Readers that borrow an embedder's layers, kept as long as that embedder lives.
_borrowing: WeakKeyDictionary[Embedder, dict[tuple[str, Precision], ExtractiveReader]] = (
    WeakKeyDictionary()
)
_borrowing_lock = threading.Lock()


def shared_reader(
    model_cache_dir: str, precision: Precision = "auto", embedder: Embedder | None = None
) -> ExtractiveReader:
    """One loaded reader per process and precision, whatever the retrieval settings. It
    reads with the bundled e5 encoder it was trained on, even when another model retrieves;
    when ``embedder`` runs that encoder, the reader shares its frozen layers and tokenizer
    instead (one reader per such embedder: about 400 MB and a second or two less to load)."""
    if embedder is None:
        return _own_reader(model_cache_dir, precision)
    with _borrowing_lock:  # a server's first questions arrive together
        readers = _borrowing.setdefault(embedder, {})
        key = (model_cache_dir, precision)
        if key not in readers:
            model_path = str(ensure_e5_model(Path(model_cache_dir), show_progress=False))
            base = embedder.loaded(model_path)
            readers[key] = (
                _own_reader(model_cache_dir, precision)
                if base is None
                else ExtractiveReader.load(model_path, bf16=in_bf16(precision), base=base)
            )
        return readers[key]


def make_answerer(
    settings: Settings,
    index: PassageStore,
    embedder: Embedder,
    documents: DocumentTexts,
    rules: ExtractiveAnswerer | None = None,
) -> ExtractiveAnswerer | ReaderAnswerer:
    """The answerer ``settings.reader`` names; ``rules``, when given, is reused (the
    trained reader still answers byline questions with it)."""
    rules = rules or ExtractiveAnswerer(index, embedder)
    if settings.reader == "rules":
        return rules
    load_reader = partial(
        shared_reader, str(settings.model_cache_dir), settings.reader_precision, embedder
    )
    fall_back = settings.reader == "combined"
    return ReaderAnswerer(
        index,
        load_reader,
        rules,
        documents,
        fall_back=fall_back,
        answer_early=settings.answer_early,
    )


@dataclass
class Pipeline:
    settings: Settings
    embedder: Embedder
    index: PassageStore
    retriever: HybridRetriever
    update: UpdateReport | None = None
    #: Built from the settings unless given (pipelines over one index share it).
    answerer: ExtractiveAnswerer | ReaderAnswerer | None = None
    #: Whole documents for the reader's checks; default: as the store holds them (KorQuAD's
    #: evaluation indexes paragraphs as documents and passes their articles here).
    documents: DocumentTexts | None = None

    def __post_init__(self) -> None:
        if self.documents is None:
            self.documents = partial(document_texts, self.index)
        if self.answerer is None:
            self.answerer = make_answerer(self.settings, self.index, self.embedder, self.documents)

    @classmethod
    def load(cls, settings: Settings, show_progress: bool = True) -> "Pipeline":
        """Load the index, building it on first use and refreshing it when articles were
        added, changed or removed; an index built with other settings is an error."""
        require_corpus_dir(settings.corpus_dir)
        embedder = Embedder(settings, show_progress=show_progress)
        try:
            previous: PassageStore | None = open_store(settings)
        except IndexNotReady as exc:
            if exc.reason != "missing":
                raise
            log.warning("no index for %s yet: building it (first use)", settings.corpus_dir)
            previous = None
        index, report = refresh_store(
            settings, lambda texts: embedder.encode_passages(texts, show_progress), previous
        )
        if report.wrote and not report.rebuilt:
            log.warning(
                "corpus changed: %d added, %d changed, %d removed; index updated",
                len(report.added),
                len(report.changed),
                len(report.removed),
            )
        return cls(settings, embedder, index, HybridRetriever(index, embedder, settings), report)

    def search(
        self,
        question: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        where: PassageFilter | None = None,
    ) -> list[Hit]:
        return self.search_batch([question], k, mode, where)[0]

    def search_batch(
        self,
        questions: list[str],
        k: int | None = None,
        mode: RetrievalMode | None = None,
        where: PassageFilter | None = None,
    ) -> list[list[Hit]]:
        _, texts = self._read(questions)
        return self.retriever.run_batch(texts, k, mode, where=where)

    def _read(self, questions: list[str]) -> tuple[list[str], list[str]]:
        """The questions as typed (checked, trimmed) and in the form they are searched and
        read in (spacing restored where it was left out)."""
        typed = [validate_question(q, self.settings.max_question_chars) for q in questions]
        return typed, [reading_form(t) for t in typed]

    def ask(
        self, question: str, mode: RetrievalMode | None = None, where: PassageFilter | None = None
    ) -> Answer:
        return self.ask_batch([question], mode, where)[0]

    def ask_batch(
        self,
        questions: list[str],
        mode: RetrievalMode | None = None,
        where: PassageFilter | None = None,
    ) -> list[Answer]:
        """Answer questions in order, embedding them in one call; ``where`` limits the
        passages read (an outlet, a date range, some documents)."""
        started = time.perf_counter()
        typed, texts = self._read(questions)
        vectors = self.embedder.encode_queries(texts)
        hits = self.retriever.run_batch(
            texts, self.settings.answer_passages, mode, vectors, where=where
        )
        retrieve_ms = (time.perf_counter() - started) * 1000 / max(1, len(texts))
        answers = []
        for question, text, passage_hits, vector in zip(typed, texts, hits, vectors, strict=True):
            answer = self.answerer.run(text, passage_hits, vector)
            answer.question = question  # as typed; it was read in its reading form
            also_in = {h.passage.doc_id: list(h.also_in) for h in passage_hits}
            for source in answer.sources:  # retrieval found the copies of each hit's article
                source.also_in = also_in.get(source.doc_id, [])
            answer.timings_ms = {
                "retrieve": retrieve_ms,
                "answer": answer.timings_ms["answer"],
                "total": retrieve_ms + answer.timings_ms["answer"],
            }
            answers.append(answer)
        return answers

    @property
    def rules(self) -> ExtractiveAnswerer:
        """The rule extractor, which every reader keeps (for bylines, or to fall back)."""
        return self.answerer.rules if isinstance(self.answerer, ReaderAnswerer) else self.answerer

    def over(self, index: PassageStore, update: UpdateReport) -> "Pipeline":
        """The same model and settings over an updated ``index``: what a server swaps in
        after an update. Sentences of documents the update did not add or change keep
        their vectors (taken from ``update``: a Qdrant store is updated in place, so its
        old and new documents cannot be compared)."""
        rules = ExtractiveAnswerer(index, self.embedder)
        rules.carry_over(self.rules, set(index.documents) - {*update.added, *update.changed})
        documents = partial(document_texts, index)
        return Pipeline(
            self.settings,
            self.embedder,
            index,
            HybridRetriever(index, self.embedder, self.settings),
            update,
            make_answerer(self.settings, index, self.embedder, documents, rules),
            documents,
        )

    def with_settings(self, **overrides: object) -> "Pipeline":
        """The same model and index under other query-time settings (mode, fusion
        weights, depth); settings that change the index need their own index instead."""
        settings = self.settings.model_copy(update=overrides)
        if settings.index_signature() != self.settings.index_signature():
            raise ValueError(
                f"settings {sorted(overrides)} change the index; evaluate them with "
                "--index-dir pointing at an index built with them"
            )
        same_reader = all(
            getattr(settings, name) == getattr(self.settings, name)
            for name in ("reader", "answer_early")
        )
        answerer = (
            self.answerer  # shares its cache of sentence vectors
            if same_reader
            else make_answerer(settings, self.index, self.embedder, self.documents, self.rules)
        )
        return Pipeline(
            settings,
            self.embedder,
            self.index,
            HybridRetriever(self.index, self.embedder, settings),
            self.update,
            answerer,
            self.documents,
        )
