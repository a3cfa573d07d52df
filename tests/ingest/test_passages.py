"""Unit tests for ``rag.ingest.passages``: sentence spans and packing (Kiwi only, no embedder)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from rag.ingest.cleaning import CleanDocument, clean
from rag.ingest.loaders import load_file
from rag.ingest.passages import Passage, sentence_spans, split_passages

SEEDS = Path(__file__).parents[2] / "seeds"
SEED_IDS = ["000", "001", "002", "003", "004"]
CHUNK = 400
SENTENCE_ENDS = ".?!…”\"'’"


@cache
def seed(prefix: str) -> CleanDocument:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return clean(load_file(path, SEEDS))


@cache
def seed_passages(prefix: str, overlap: int = 1) -> tuple[Passage, ...]:
    return tuple(split_passages(seed(prefix), chunk_chars=CHUNK, overlap_sentences=overlap))


def block_of(doc: CleanDocument, passage: Passage) -> int:
    (index,) = [
        i
        for i, block in enumerate(doc.blocks)
        if block[0][0] <= passage.start and passage.end <= block[-1][1]
    ]
    return index


def synthetic_doc(
    text: str, paragraphs: list[tuple[int, int]], title: str = "제목"
) -> CleanDocument:
    return CleanDocument(
        doc_id="synthetic.txt", text=text, checksum="0" * 64, title=title, blocks=[paragraphs]
    )


# --- seeds --------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", SEED_IDS)
def test_passage_text_is_a_verbatim_span(prefix):
    doc = seed(prefix)
    passages = seed_passages(prefix)
    assert passages
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        assert p.doc_id == doc.doc_id
        assert p.title == doc.title
        assert p.text == p.text.strip()


@pytest.mark.parametrize("prefix", SEED_IDS)
def test_sentences_lie_inside_their_passage(prefix):
    doc = seed(prefix)
    for p in seed_passages(prefix):
        assert p.sentences
        assert p.sentences[0][0] == p.start and p.sentences[-1][1] == p.end
        for s, e in p.sentences:
            assert p.start <= s < e <= p.end
            assert doc.text[s:e].strip(), (s, e)
            assert doc.text[s:e] == doc.text[s:e].strip()
        for (_, e1), (s2, _) in zip(p.sentences, p.sentences[1:], strict=False):
            assert e1 <= s2


@pytest.mark.parametrize("prefix", SEED_IDS)
@pytest.mark.parametrize("overlap", [0, 1])
def test_passages_exceed_chunk_only_when_a_single_sentence(prefix, overlap):
    for p in seed_passages(prefix, overlap):
        if p.end - p.start > CHUNK:
            assert len(p.sentences) == 1, p.passage_id
        for s, e in p.sentences:
            assert e - s <= CHUNK


@pytest.mark.parametrize("prefix", SEED_IDS)
def test_consecutive_passages_share_exactly_one_sentence_with_overlap_one(prefix):
    doc = seed(prefix)
    passages = seed_passages(prefix, 1)
    pairs = 0
    for a, b in zip(passages, passages[1:], strict=False):
        if block_of(doc, a) != block_of(doc, b):
            assert not set(a.sentences) & set(b.sentences)
            continue
        pairs += 1
        if len(a.sentences) == 1:  # nothing can be repeated without repeating all of ``a``
            assert b.sentences[0][0] >= a.end
        else:
            assert set(a.sentences) & set(b.sentences) == {a.sentences[-1]}
            assert b.sentences[0] == a.sentences[-1]
            assert b.start < a.end
    assert pairs >= 3


@pytest.mark.parametrize("prefix", SEED_IDS)
def test_consecutive_passages_share_nothing_without_overlap(prefix):
    passages = seed_passages(prefix, 0)
    for a, b in zip(passages, passages[1:], strict=False):
        assert not set(a.sentences) & set(b.sentences)
        assert a.end <= b.start
    # Without overlap the passages cover every sentence exactly once.
    all_sentences = [s for block in sentence_spans(seed(prefix), CHUNK) for s in block]
    assert [s for p in passages for s in p.sentences] == all_sentences


@pytest.mark.parametrize("prefix", SEED_IDS)
def test_passages_cover_every_sentence_in_order(prefix):
    blocks = sentence_spans(seed(prefix), CHUNK)
    seen = []
    for p in seed_passages(prefix, 1):
        for s in p.sentences:
            if not seen or s > seen[-1]:
                seen.append(s)
    assert seen == [s for block in blocks for s in block]


@pytest.mark.parametrize("prefix", SEED_IDS)
def test_passages_never_span_two_blocks(prefix):
    doc = seed(prefix)
    for p in seed_passages(prefix):
        block_of(doc, p)  # raises unless exactly one block contains the passage


def test_passage_ids_are_unique_across_the_corpus():
    ids = [p.passage_id for prefix in SEED_IDS for p in seed_passages(prefix)]
    assert len(ids) == len(set(ids))
    for prefix in SEED_IDS:
        doc_id = seed(prefix).doc_id
        assert [p.passage_id for p in seed_passages(prefix)] == [
            f"{doc_id}#{i}" for i in range(len(seed_passages(prefix)))
        ]


@pytest.mark.parametrize("prefix", SEED_IDS)
def test_embedding_text_starts_with_the_title(prefix):
    doc = seed(prefix)
    assert doc.title
    for p in seed_passages(prefix):
        assert p.embedding_text().startswith(doc.title)
        assert p.embedding_text() == f"{doc.title}\n{p.text}"


def test_embedding_text_without_title_is_the_text():
    p = Passage("d#0", "d", 0, 3, "본문.", "", ((0, 3),))
    assert p.embedding_text() == "본문."


def test_004_sentence_is_whole_inside_one_sentence_span():
    doc = seed("004")
    sentence = (
        "부산시는 이번 일자리 대상 수상으로 고용노동부로부터 사업비 8500만원을 확보, "
        "지역 일자리 사업 등에 활용할 계획이다."
    )
    hits = [
        (p.passage_id, s, e)
        for p in seed_passages("004")
        for s, e in p.sentences
        if sentence in doc.text[s:e]
    ]
    assert hits
    assert all(doc.text[s:e] == sentence for _, s, e in hits)


@pytest.mark.parametrize("prefix", SEED_IDS)
def test_sentence_boundaries_fall_on_sentence_ends(prefix):
    doc = seed(prefix)
    paragraph_ends = {e for block in doc.blocks for _, e in block}
    paragraph_starts = {s for block in doc.blocks for s, _ in block}
    for block in sentence_spans(doc, CHUNK):
        for s, e in block:
            assert e in paragraph_ends or doc.text[e - 1] in SENTENCE_ENDS, doc.text[s:e]
            assert s in paragraph_starts or doc.text[s - 1].isspace(), doc.text[s:e]


@pytest.mark.parametrize("prefix", SEED_IDS)
def test_sentences_cover_every_paragraph_character(prefix):
    doc = seed(prefix)
    for block, sentences in zip(doc.blocks, sentence_spans(doc, CHUNK), strict=True):
        covered = set()
        for s, e in sentences:
            covered.update(range(s, e))
        for s, e in block:
            missing = [i for i in range(s, e) if not doc.text[i].isspace() and i not in covered]
            assert not missing, "".join(doc.text[i] for i in missing)
        lo, hi = block[0][0], block[-1][1]
        assert all(lo <= s < e <= hi for s, e in sentences)


# --- synthetic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        ("일자리 지원 사업 " * 1200)[:10_000],  # words, no sentence punctuation
        "가" * 3_000,  # no spaces at all
        ("2023 12345 6789 " * 200)[:3_000],  # a table of numbers
    ],
    ids=["words", "no-spaces", "numbers"],
)
def test_run_on_line_is_hard_split(line):
    lead = "이것은 첫 문단이다."
    text = f"{lead}\n{line}\n끝 문단입니다."
    start = len(lead) + 1
    stripped = line.rstrip()
    doc = synthetic_doc(text, [(0, len(lead)), (start, start + len(stripped))])
    passages = split_passages(doc, chunk_chars=CHUNK, overlap_sentences=1)
    sentences = [s for p in passages for s in p.sentences]
    assert len(passages) >= len(stripped) // CHUNK
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert p.end - p.start <= CHUNK
    for s, e in sentences:
        assert 0 < e - s <= CHUNK
        assert text[s:e].strip()
    # Nothing of the long line is lost.
    covered = set()
    for s, e in sentences:
        covered.update(range(s, e))
    wanted = [i for i in range(start, start + len(stripped)) if not text[i].isspace()]
    assert all(i in covered for i in wanted)


def test_hard_split_prefers_spaces():
    line = ("일자리지원사업 " * 300).rstrip()
    doc = synthetic_doc(line, [(0, len(line))])
    for block in sentence_spans(doc, CHUNK):
        for s, e in block:
            assert e - s <= CHUNK
            assert line[s:e] == line[s:e].strip()
            assert e == len(line) or line[e] == " "  # cut at a space, never mid-word


def test_short_document_is_one_passage():
    text = "첫 문장이다. 둘째 문장이다. 셋째 문장이다."
    doc = synthetic_doc(text, [(0, len(text))])
    (only,) = split_passages(doc, chunk_chars=CHUNK, overlap_sentences=1)
    assert (only.start, only.end, only.text) == (0, len(text), text)
    assert [text[s:e] for s, e in only.sentences] == [
        "첫 문장이다.",
        "둘째 문장이다.",
        "셋째 문장이다.",
    ]
    assert only.passage_id == "synthetic.txt#0"


def test_small_chunks_overlap_by_the_requested_sentences():
    sentences = [f"{n}번째 문장은 여기에서 끝난다." for n in range(1, 9)]
    text = " ".join(sentences)
    doc = synthetic_doc(text, [(0, len(text))])
    size = len(sentences[0]) * 3 + 2  # three sentences fit
    for overlap in (0, 1, 2):
        passages = split_passages(doc, chunk_chars=size, overlap_sentences=overlap)
        for a, b in zip(passages, passages[1:], strict=False):
            assert len(set(a.sentences) & set(b.sentences)) == overlap
            assert a.sentences[len(a.sentences) - overlap :] == b.sentences[:overlap]
        assert passages[-1].end == len(text)


def test_document_without_body_has_no_passages():
    doc = CleanDocument(doc_id="e.txt", text="제목만", checksum="0" * 64, title="제목만")
    assert split_passages(doc, chunk_chars=CHUNK, overlap_sentences=1) == []


def test_offsets_survive_crlf_and_non_bmp_characters():
    p1 = "첫 문장에는 이모지 😀 가 있다. 둘째 문장은 𠮷 한자를 쓴다."
    text = f"제목\r\n\r\n{p1}\r\n\r\n셋째 문단이다.\r\n"
    s1 = text.index(p1)
    s2 = text.index("셋째 문단이다.")
    doc = synthetic_doc(text, [(s1, s1 + len(p1)), (s2, s2 + len("셋째 문단이다."))])
    (passage,) = split_passages(doc, chunk_chars=CHUNK, overlap_sentences=1)
    assert text[passage.start : passage.end] == passage.text
    assert [text[s:e] for s, e in passage.sentences] == [
        "첫 문장에는 이모지 😀 가 있다.",
        "둘째 문장은 𠮷 한자를 쓴다.",
        "셋째 문단이다.",
    ]
