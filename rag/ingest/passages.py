"""Split cleaned articles into passages on Korean sentence boundaries.

Sentences are packed up to ``chunk_chars`` with a sentence or two of overlap, and never
across furniture that was cut out, so a passage is always one verbatim span of the file:
``doc.text[passage.start:passage.end] == passage.text``.
"""

from bisect import bisect_right
from dataclasses import dataclass

from rag.ingest.cleaning import CleanDocument
from rag.ingest.korean import get_kiwi

Span = tuple[int, int]


@dataclass(frozen=True)
class Passage:
    passage_id: str
    doc_id: str
    start: int
    end: int
    text: str
    title: str
    #: Absolute (start, end) offsets of the sentences the passage is made of.
    sentences: tuple[Span, ...]
    #: 1-based page where the passage starts, for formats with pages (PDF); indexes
    #: written before pages were recorded load with None.
    page: int | None = None

    def embedding_text(self) -> str:
        """The title travels with the passage: paragraphs often name neither city nor prize."""
        return f"{self.title}\n{self.text}" if self.title else self.text


def _hard_split(start: int, end: int, text: str, limit: int) -> list[Span]:
    """Cut a run-on 'sentence' (a table, a list without full stops) at spaces."""
    pieces, pos = [], start
    while end - pos > limit:
        cut = text.rfind(" ", pos + limit // 2, pos + limit)
        cut = cut if cut > pos else pos + limit
        pieces.append((pos, cut))
        pos = cut
        while pos < end and text[pos].isspace():
            pos += 1
    if pos < end:
        pieces.append((pos, end))
    return pieces


def sentence_spans(doc: CleanDocument, max_chars: int) -> list[list[Span]]:
    """Sentence offsets per block of the body, each sentence at most ``max_chars``."""
    paragraphs = [span for block in doc.blocks for span in block]
    split = get_kiwi().split_into_sents([doc.text[s:e] for s, e in paragraphs])
    by_paragraph = {
        span: [
            piece
            for sent in sents
            for piece in _hard_split(span[0] + sent.start, span[0] + sent.end, doc.text, max_chars)
        ]
        for span, sents in zip(paragraphs, split, strict=True)
    }
    return [[sent for span in block for sent in by_paragraph[span]] for block in doc.blocks]


def _pack(sentences: list[Span], chunk_chars: int, overlap: int) -> list[list[Span]]:
    groups, i = [], 0
    while i < len(sentences):
        j = i + 1
        while j < len(sentences) and sentences[j][1] - sentences[i][0] <= chunk_chars:
            j += 1
        groups.append(sentences[i:j])
        if j == len(sentences):
            break
        i = max(i + 1, j - overlap)
    return groups


def _page(doc: CleanDocument, offset: int) -> int | None:
    return bisect_right(doc.page_starts, offset) if doc.page_starts else None


def _by_page(doc: CleanDocument, sentences: list[Span]) -> list[list[Span]]:
    """Runs of sentences on one page: a passage cites a single page."""
    runs: list[list[Span]] = []
    for sentence in sentences:
        if runs and _page(doc, sentence[0]) == _page(doc, runs[-1][0][0]):
            runs[-1].append(sentence)
        else:
            runs.append([sentence])
    return runs


def split_passages(doc: CleanDocument, chunk_chars: int, overlap_sentences: int) -> list[Passage]:
    passages: list[Passage] = []
    runs = [run for block in sentence_spans(doc, chunk_chars) for run in _by_page(doc, block)]
    for run in runs:
        for group in _pack(run, chunk_chars, overlap_sentences):
            start, end = group[0][0], group[-1][1]
            passages.append(
                Passage(
                    passage_id=f"{doc.doc_id}#{len(passages)}",
                    doc_id=doc.doc_id,
                    start=start,
                    end=end,
                    text=doc.text[start:end],
                    title=doc.title,
                    sentences=tuple(group),
                    page=_page(doc, start),
                )
            )
    return passages
