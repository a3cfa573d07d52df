"""Property-based fuzzing of everything that reads a question or a document's text.

Random and adversarial questions (lone surrogates, control characters, emoji, very long
strings, bare particles, syllable soup, dates and numbers, mixed scripts), glued to
sentences of the seed articles and of the shared benchmarks, go through the whole
answering path with each reader, and random documents go through cleaning and passage
splitting. The product's promise is checked on every example: no exception but
``InvalidQuestion`` for an invalid question, every answer and quote a verbatim slice of
its file, a confidence in [0, 1]. Budgets are fixed and derandomized, so a CI run tests
the same examples every time.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rag.answer.answerer import Answer
from rag.answer.extract import QuestionType, classify_question, extract_span
from rag.answer.questions import InvalidQuestion, validate_question
from rag.answer.retrieval import Hit
from rag.answer.selection import Selection, read_candidates
from rag.index.passage_store import PassageFilter, PassageStore
from rag.ingest.cleaning import CleanDocument, clean
from rag.ingest.loaders import Metadata, SourceFile, decode_bytes
from rag.ingest.passages import Passage, split_passages
from rag.pipeline import Pipeline

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
KORQUAD = BENCHMARKS / "korquad-v1" / "KorQuAD_v1.0_dev.json"
NEWSQA = BENCHMARKS / "newsqa-ko" / "articles"


QUESTION_TYPES: tuple[QuestionType, ...] = (
    "amount",
    "date",
    "person",
    "place",
    "thing",
    "reason",
    "other",
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?다])\s+")


# --- material: sentences and documents, sampled deterministically --------------------------


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if len(s.strip()) >= 5]


@cache
def seed_texts() -> dict[str, str]:
    """doc_id → the seed file's text, as the index read it."""
    return {p.name: decode_bytes(p.read_bytes())[0] for p in sorted(SEEDS.glob("*.txt"))}


@cache
def korquad_contexts() -> tuple[str, ...]:
    """The first paragraph of every 35th KorQuAD dev article (4 contexts); none without
    the shared benchmarks."""
    if not KORQUAD.is_file():
        return ()
    data = json.loads(KORQUAD.read_text(encoding="utf-8"))["data"]
    return tuple(article["paragraphs"][0]["context"] for article in data[::35])


@cache
def newsqa_articles() -> tuple[str, ...]:
    """Every 125th NewsQA-ko article in name order (8 articles); none without the shared
    benchmarks."""
    if not NEWSQA.is_dir():
        return ()
    return tuple(p.read_text(encoding="utf-8") for p in sorted(NEWSQA.glob("*.txt"))[::125])


@cache
def sentence_pool() -> tuple[str, ...]:
    """Seed sentences, then benchmark sentences where ../shared is present."""
    texts = [*seed_texts().values(), *korquad_contexts(), *newsqa_articles()]
    return tuple(dict.fromkeys(s for text in texts for s in _sentences(text)))


# --- question strategies -------------------------------------------------------------------

_SURROGATES = st.characters(categories=["Cs"])
_CONTROLS = st.characters(categories=["Cc"])
_SYLLABLES = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
_JAMO = st.characters(min_codepoint=0x1100, max_codepoint=0x11FF) | st.characters(
    min_codepoint=0x3131, max_codepoint=0x318E
)
_EMOJI = st.sampled_from(
    ["😀", "👍🏽", "🇰🇷", "👨‍👩‍👧", "🤔", "\u200d", "\ufe0f", "\ufeff", "\u200b", "\u0301", "\u202e"]
)
_PARTICLES = st.sampled_from(
    [
        "은",
        "는",
        "이",
        "가",
        "을",
        "를",
        "의",
        "에",
        "에서",
        "으로",
        "로",
        "와",
        "과",
        "도",
        "만",
        "까지",
        "부터",
        "께서",
        "이다",
        "요",
        "?",
        "!",
        ".",
        "…",
        "·",
        ",",
        "~",
        "?",
        "。",
        "「",
        "」",
        "(",
        ")",
        "[",
        "]",
        "“",
        "”",
        "‘",
        "’",
        "%",
        "▲",
        "※",
    ]
)
_WH = st.sampled_from(
    [
        "몇 년도에",
        "언제",
        "몇 월",
        "며칠",
        "몇 시",
        "몇 년간",
        "얼마",
        "얼마나",
        "몇 명",
        "몇 개",
        "몇 %",
        "누가",
        "누구",
        "어디서",
        "어디",
        "무엇",
        "뭐",
        "무슨 상",
        "어떤",
        "왜",
        "어떻게",
        "기자는 누구",
        "어느 언론사",
        "몇 세기",
        "규모는",
        "비율은",
        "이름은",
    ]
)
_NUMBERISH = st.sampled_from(
    [
        "2017.02.13",
        "2023-11-30",
        "2019/1/1",
        "3월",
        "3월 5일",
        "몇 년도에",
        "’19년",
        "'21년",
        "2019~2020년",
        "1,234억 원",
        "8500만원",
        "15%",
        "4.4%p",
        "오후 3시 30분",
        "12:30",
        "736명",
        "2,263개",
        "３월",
        "２０１７년",
        "٢٠١٧",
        "Ⅻ",
        "½",
        "1e9",
        "-0",
        "10000000000000000000000",
    ]
)
_SCRIPTS = st.sampled_from(
    ["Seoul", "서울Seoul", "漢字", "東京", "Москва", "مرحبا", "שלום", "ไทย", "ＡＢＣ", "ｶﾀｶﾅ"]
)


@st.composite
def dates_and_numbers(draw: st.DrawFn) -> str:
    """A generated date, time or amount in one of the spellings articles use."""
    y = draw(st.integers(1900, 2099))
    m = draw(st.integers(0, 13))
    d = draw(st.integers(0, 32))
    n = draw(st.integers(0, 10**9))
    return draw(
        st.sampled_from(
            [
                f"{y}.{m:02d}.{d:02d}",
                f"{y}-{m}-{d}",
                f"{y}년 {m}월 {d}일",
                f"{m}월",
                f"{y}년도",
                f"{n:,}원",
                f"{n}명",
                f"{n % 100}.{d}%",
                f"{m}시 {d}분",
                f"’{y % 100:02d}년",
                f"{y}~{y + 1}년",
            ]
        )
    )


@st.composite
def fragments(draw: st.DrawFn) -> str:
    """A slice of a sentence from the articles (seeds and benchmarks)."""
    sentence = draw(st.sampled_from(sentence_pool()))
    start = draw(st.integers(0, len(sentence) - 1))
    end = draw(st.integers(start + 1, min(len(sentence), start + 80)))
    return sentence[start:end]


_PART = st.one_of(
    fragments(),
    _WH,
    _NUMBERISH,
    dates_and_numbers(),
    st.text(_SYLLABLES, min_size=1, max_size=12),
    st.text(_JAMO, min_size=1, max_size=4),
    st.lists(_PARTICLES, min_size=1, max_size=6).map("".join),
    _EMOJI,
    _SCRIPTS,
    st.text(max_size=8),  # any unicode but surrogates
    st.text(_CONTROLS, min_size=1, max_size=3),
    st.text(_SURROGATES, min_size=1, max_size=2),
)


@st.composite
def questions(draw: st.DrawFn) -> str:
    """Parts glued with spaces or nothing, sometimes ending like a question."""
    parts = draw(st.lists(_PART, min_size=1, max_size=6))
    text = draw(st.sampled_from(["", " ", "\n", "\t"])).join(parts)
    return text + draw(st.sampled_from(["", "?", "？", " ?", "요?", "는?"]))


#: Questions that are invalid however they are read: empty, blank, control characters
#: only, a lone surrogate, one character over the limit.
_INVALID = st.sampled_from(["", " ", "\x00\x1b", "\ud800", "질문\udcff", "가" * 1001])
_LONG = st.sampled_from(["가" * 1000, "몇 년도에 " * 199, "2017.02.13" * 100])
ANY_QUESTION = st.one_of(questions(), _INVALID, _LONG, st.text(max_size=40))


def _valid_text(text: str) -> str:
    """``text`` without lone surrogates, which no file nor validated question holds."""
    return text.encode("utf-8", "replace").decode("utf-8")


# --- the checks ----------------------------------------------------------------------------


def check_answer(
    answer: Answer, question: str, where: PassageFilter | None, index: PassageStore
) -> None:
    """The answer contract: verbatim quotes and spans, a probability, JSON-safe text."""
    assert answer.question == question
    assert isinstance(answer.confidence, float)
    assert math.isfinite(answer.confidence) and 0.0 <= answer.confidence <= 1.0
    assert (answer.answer is None) == answer.abstained
    texts = seed_texts()
    for s in answer.sources:
        original = texts[s.doc_id]
        assert original[s.start : s.end] == s.quote
        if where is not None:
            assert where.accepts(index.documents[s.doc_id])
        if s.answer_start is None:
            assert s.answer_end is None
        else:
            assert s.start <= s.answer_start < s.answer_end <= s.end
        assert math.isfinite(s.score) and 0.0 <= s.score <= 1.0
    if not answer.abstained:
        assert answer.answer
        best = answer.sources[0]
        original = texts[best.doc_id]
        if best.answer_start is None:
            assert answer.answer == best.quote
        else:
            assert original[best.answer_start : best.answer_end] == answer.answer
    json.dumps(answer.to_json(), ensure_ascii=False).encode("utf-8")  # no surrogates


def ask_checked(pipeline: Pipeline, question: str, where: PassageFilter | None = None) -> None:
    """Ask; only a question ``validate_question`` refuses may raise, and only
    ``InvalidQuestion``."""
    try:
        expected = validate_question(question, pipeline.settings.max_question_chars)
    except InvalidQuestion:
        with pytest.raises(InvalidQuestion):
            pipeline.ask(question, where=where)
        return
    check_answer(pipeline.ask(question, where=where), expected, where, pipeline.index)


# --- the whole answering path --------------------------------------------------------------


class Pipelines(dict[str, Pipeline]):
    """Pipelines by reader, with a short repr for Hypothesis's falsifying examples."""

    def __repr__(self) -> str:
        return f"<seed pipelines {sorted(self)}>"


@pytest.fixture(scope="module")
def pipelines(seed_pipeline: Pipeline) -> Pipelines:
    """The seed pipeline with each reader; the trained one is loaded once per process.
    Sentence vectors are computed up front in large batches (as ``rag serve`` does), so
    the fuzz budgets pay for questions, not for the first question's warm-up."""
    seed_pipeline.rules.warm(seed_pipeline.index.iter_passages())
    return Pipelines(
        rules=seed_pipeline.with_settings(reader="rules"),
        neural=seed_pipeline.with_settings(reader="neural"),
        combined=seed_pipeline.with_settings(reader="combined"),
    )


_FILTERS = st.one_of(
    st.none(),
    st.builds(
        PassageFilter,
        outlets=st.none() | st.frozensets(st.sampled_from(["뉴스스텝", "뉴스1", "없는 신문"])),
        date_from=st.none() | st.sampled_from(["2000-01-01", "2023-01-01", "2099-12-31"]),
        date_to=st.none() | st.sampled_from(["2000-01-01", "2024-12-31"]),
        doc_ids=st.none()
        | st.frozensets(st.sampled_from([*sorted(p.name for p in SEEDS.glob("*.txt")), "x"])),
    ),
)


@settings(max_examples=16)
@given(question=ANY_QUESTION, where=_FILTERS)
@example(question="\ud800", where=None)
@example(question="가" * 1000, where=None)
@example(question="2017.02.13 몇 년도에?", where=None)
@example(question="은는이가?!", where=None)
def test_rules_reader_answers_verbatim_or_refuses(
    pipelines: Pipelines, question: str, where: PassageFilter | None
) -> None:
    ask_checked(pipelines["rules"], question, where)


@pytest.mark.parametrize("reader", ["neural", "combined"])
@settings(max_examples=8)
@given(question=ANY_QUESTION, where=_FILTERS)
@example(question="3월 몇 년도에 🇰🇷 Seoul 漢字", where=None)
@example(question="\x00\x1b[31m 부산시 예산은 얼마?", where=None)
# Found by fuzzing: a filter that matches no article left the reader no passages, and
# the tokenizer raised IndexError on an empty batch (fixed in reader.windows_for).
@example(question="부산시 예산은 얼마?", where=PassageFilter(doc_ids=frozenset({"x"})))
def test_trained_readers_answer_verbatim_or_refuse(
    pipelines: Pipelines, reader: str, question: str, where: PassageFilter | None
) -> None:
    ask_checked(pipelines[reader], question, where)


@settings(max_examples=20)
@given(
    question=questions(),
    contexts=st.lists(
        st.one_of(fragments(), questions().map(_valid_text), st.text(max_size=60)), max_size=3
    ),
)
# Found by fuzzing: no passages at all crashed the tokenizer (IndexError).
@example(question="몇 년도에", contexts=[])
def test_reader_candidates_slice_their_passage(
    pipelines: Pipelines, question: str, contexts: list[str]
) -> None:
    """The trained reader's spans, mapped back through token offsets and trimmed of
    particles, are slices of the passage (random contexts: odd tokens, empty ones)."""
    question = _valid_text(question)
    reader = pipelines["neural"].answerer.reader
    hits, offset = [], 7
    for i, text in enumerate(contexts):
        passage = Passage(f"f#{i}", f"f{i}", offset, offset + len(text), text, "t", ())
        hits.append(Hit(passage, 0.5))
        offset += len(text) + 3
    documents = {f"f{i}": text for i, text in enumerate(contexts)}
    candidates = read_candidates(reader, question, hits, lambda ids: documents)
    selection = Selection.load()
    for c in candidates:
        p = c.hit.passage
        assert c.text and p.text[c.start - p.start : c.end - p.start] == c.text
        assert all(math.isfinite(x) for x in c.features)
        assert 0.0 <= selection.probability(c.features) <= 1.0


# --- the rule extractor --------------------------------------------------------------------

_DATE_QUESTIONS = st.sampled_from(
    [
        "{} 몇 년도에 열렸나?",
        "{}은 언제야?",
        "{} 몇 월 며칠?",
        "{} 시상식 날짜는?",
        "몇 시에 {}?",
        "{} 기간은 언제부터 언제까지?",
        "{}가 받은 금액은 얼마?",
        "{} 몇 명이야?",
        "{} 비율은 몇 %?",
        "몇 년간 {}?",
        "{} 몇 개를 만들었어?",
    ]
)


@st.composite
def sentences_with_numbers(draw: st.DrawFn) -> str:
    """An article sentence with dates and amounts spliced in at random places."""
    sentence = draw(st.sampled_from(sentence_pool()))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(sentence)))
        piece = draw(st.one_of(dates_and_numbers(), _NUMBERISH, _EMOJI, _SCRIPTS, _JAMO))
        glue = draw(st.sampled_from(["", " ", "에 ", "부터 ", "까지 ", "(", ")"]))
        sentence = sentence[:at] + glue + piece + sentence[at:]
    return sentence


def check_span(question: str, sentence: str, qtype: QuestionType | None) -> None:
    span = extract_span(question, sentence, qtype)
    if span is not None:
        assert 0 <= span.start < span.end <= len(sentence)
        assert sentence[span.start : span.end] == span.text
        assert span.text.strip()
        assert 0.0 <= span.score <= 1.0


@settings(max_examples=400)
@given(
    template=_DATE_QUESTIONS,
    topic=st.one_of(fragments(), _NUMBERISH, st.text(_SYLLABLES, max_size=6)),
    sentence=sentences_with_numbers(),
    qtype=st.none() | st.sampled_from(["date", "amount"]),
)
@example(template="{} 몇 년도에?", topic="", sentence="2017.02.13 회의가 열렸다.", qtype=None)
def test_rule_extractor_spans_are_verbatim_on_dates_and_numbers(
    template: str, topic: str, sentence: str, qtype: QuestionType | None
) -> None:
    check_span(template.format(topic), sentence, qtype)


@settings(max_examples=400)
@given(
    question=questions().map(_valid_text),
    sentence=st.one_of(
        fragments(), sentences_with_numbers(), questions(), st.text(max_size=80)
    ).map(_valid_text),
    qtype=st.none() | st.sampled_from(QUESTION_TYPES),
)
# Found by fuzzing: a question without any Kiwi token crashed _predicates (ValueError
# from zip(strict=True)) once a question type was given.
@example(question=" ", sentence="인", qtype="amount")
@example(question="\u2800", sentence="2017.02.13 회의", qtype="date")
def test_rule_extractor_survives_any_question_and_sentence(
    question: str, sentence: str, qtype: QuestionType | None
) -> None:
    """Every question type's candidate builder on random text; the question type of any
    text is one of the known ones."""
    assert classify_question(question) in QUESTION_TYPES
    check_span(question, sentence, qtype)


# --- cleaning and passages -----------------------------------------------------------------

_FURNITURE_LINES = st.sampled_from(
    [
        "댓글",
        "최신 뉴스",
        "관련 기사",
        "ⓒ 뉴스1 무단전재 및 재배포 금지",
        "저작권자 © 스마트에프엔 무단전재 및 재배포 금지",
        "Copyright © 2024 All rights reserved",
        "홍길동 기자 | 입력 2024.03.05 10:00",
        "홍길동 기자 hong@example.com",
        "[뉴스1=홍길동 기자] ",
        "[뉴스스텝] ",
        "▲ 사진",
        "사진=서울시",
        " /사진=서울시",
        "[사진=연합뉴스]",
        "인쇄",
        "공유",
        "1 / 3",
        "(12)",
        "페이스북",
        "서울경제",
    ]
)
_LINE = st.one_of(
    st.sampled_from(sentence_pool()),
    fragments(),
    _FURNITURE_LINES,
    st.lists(_FURNITURE_LINES | fragments(), min_size=1, max_size=3).map("".join),
    sentences_with_numbers(),
    questions().map(_valid_text),
    st.text(max_size=50),
    st.just(""),
)
_BREAKS = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\u2028", "\x0b", "\x1c", "\x85"])


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Lines of article text, page furniture and noise, with any kind of line break."""
    lines = draw(st.lists(_LINE, min_size=0, max_size=14))
    out = ""
    for line in lines:
        pad = draw(st.sampled_from(["", " ", "\t", "  ", "\u3000"]))
        out += pad + line + draw(st.sampled_from(["", " ", "\t"])) + draw(_BREAKS)
    return out


def check_document(doc: CleanDocument, text: str) -> None:
    """Body spans and metadata evidence point into the original text."""
    assert doc.text == text
    flat = [span for block in doc.blocks for span in block]
    assert all(block for block in doc.blocks)
    for s, e in flat:
        assert 0 <= s < e <= len(text)
        assert text[s:e].strip()
    for (_, e1), (s2, _) in zip(flat, flat[1:], strict=False):
        assert e1 <= s2, "spans overlap or are out of order"
    for name, (line_start, line_end, start, end) in doc.evidence.items():
        assert 0 <= line_start <= start < end <= line_end <= len(text), name
    if doc.outlet is not None and "outlet" in doc.evidence:
        assert text[doc.evidence["outlet"][2] : doc.evidence["outlet"][3]] == doc.outlet
    if doc.reporter is not None and "reporter" in doc.evidence:
        evidence = doc.evidence["reporter"]
        assert re.sub(r"\s+", "", text[evidence[2] : evidence[3]]) == doc.reporter


def check_passages(doc: CleanDocument, chunk: int, overlap: int) -> None:
    spans = [span for block in doc.blocks for span in block]
    for p in split_passages(doc, chunk, overlap):
        assert doc.text[p.start : p.end] == p.text
        assert p.text.strip()
        assert p.sentences and p.sentences[0][0] == p.start and p.sentences[-1][1] == p.end
        for s, e in p.sentences:
            assert p.start <= s < e <= p.end
            assert doc.text[s:e].strip()
            assert any(a <= s and e <= b for a, b in spans), "a sentence crosses a paragraph"


@settings(max_examples=300)
@given(
    text=documents(),
    body_only=st.booleans(),
    title=st.none() | st.sampled_from(["", "제목", "  부산시 일자리 ", "ⓒ"]),
    chunk=st.sampled_from([50, 120, 400]),
    overlap=st.integers(0, 2),
)
@example(
    text="제목\r\n\r\n본문이다.\u2028둘째 줄이다.\x85",
    body_only=False,
    title=None,
    chunk=50,
    overlap=1,
)
def test_cleaning_and_passages_keep_offsets_into_the_original(
    text: str, body_only: bool, title: str | None, chunk: int, overlap: int
) -> None:
    meta = Metadata(title=title)
    doc = clean(SourceFile("fuzz.txt", Path("fuzz.txt"), text, "utf-8", "0" * 64, meta, body_only))
    check_document(doc, text)
    check_passages(doc, chunk, overlap)


def _benchmark_documents() -> list[str]:
    return [*korquad_contexts(), *newsqa_articles()]


@pytest.mark.skipif(not BENCHMARKS.is_dir(), reason="../shared/benchmarks is not present")
@settings(max_examples=60)
@given(
    data=st.data(),
    chunk=st.sampled_from([50, 120, 400]),
    overlap=st.integers(0, 2),
    breaks=_BREAKS,
)
def test_benchmark_articles_clean_and_split_verbatim(
    data: st.DataObject, chunk: int, overlap: int, breaks: str
) -> None:
    """Real articles of the benchmarks, with their line breaks swapped for other ones and
    noise lines spliced in."""
    text = data.draw(st.sampled_from(_benchmark_documents())).replace("\n", breaks)
    lines = text.split(breaks)
    at = data.draw(st.integers(0, len(lines)))
    lines[at:at] = data.draw(st.lists(_LINE, max_size=3))
    text = breaks.join(lines)
    doc = clean(SourceFile("b.txt", Path("b.txt"), text, "utf-8", "0" * 64))
    check_document(doc, text)
    check_passages(doc, chunk, overlap)
