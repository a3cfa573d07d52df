"""Answer selection over the reader's spans: a document must name what the question names,
and the spans are exact slices of the documents."""

import math

import pytest

from rag.answer.reader import SpanCandidate
from rag.answer.retrieval import Hit
from rag.answer.selection import (
    FEATURES,
    document_texts,
    named_in_question,
    names_other_year,
    read_candidates,
    span_candidates,
)
from rag.ingest.passages import Passage

MISSING = FEATURES.index("entity_missing_in_document")


def test_document_texts_hold_the_title_byline_and_every_passage(seed_pipeline) -> None:
    store = seed_pipeline.index
    doc = next(d for d, info in store.documents.items() if info.passages > 1 and info.reporter)
    text = document_texts(store, [doc])[doc]
    passages = store.passages([f"{doc}#{i}" for i in range(store.documents[doc].passages)])
    info = store.documents[doc]
    assert text.startswith(info.title)
    assert info.outlet in text and info.reporter in text
    assert len(passages) > 1 and all(p.text in text for p in passages.values())


def test_a_year_the_document_never_names_is_flagged(seed_pipeline) -> None:
    from rag.pipeline import shared_reader

    reader = shared_reader(str(seed_pipeline.settings.model_cache_dir))
    hits = seed_pipeline.search("인천시가 2023년 일자리대상에서 받은 상은?", k=3)
    flags = {}
    for year in ("2023", "2031"):
        question = f"인천시가 {year}년 일자리대상에서 받은 상은?"
        for c in read_candidates(reader, question, hits, seed_pipeline.documents):
            flags[year, c.hit.passage.doc_id] = c.features[MISSING]
            assert c.text == c.hit.passage.text[c.start - c.hit.passage.start :][: len(c.text)]
    assert all(v == 1.0 for (year, _), v in flags.items() if year == "2031")
    assert any(v == 0.0 for (year, _), v in flags.items() if year == "2023")


def test_a_sentence_that_says_the_question_s_words_of_another_year_is_flagged() -> None:
    sentence = (
        "의정부시가 정부세종컨벤션센터에서 열린 ‘2023년 전국 지방자치단체 일자리대상’ 시상식에서"
    )
    asked = "{}년 전국 지방자치단체 일자리대상 시상식은 어디서 열렸나?"
    assert names_other_year(sentence, asked.format(2025))
    assert not names_other_year(sentence, asked.format(2023))  # the year asked
    assert not names_other_year(sentence, "전국 지방자치단체 일자리대상 시상식은 어디서?")
    # Another year, of something else: the 2023 results the 2024 award judged.
    assert not names_other_year(
        "‘우수사업 부문’은 ‘2023년 지역 일자리 사업 실적’을 평가한 부문",
        "2024년 우수사업 부문 사업은?",
    )
    assert not names_other_year("2012년부터 개최되었으며 올해로 열두 번째", "2023년 전국 행사는?")


def test_a_stray_bracket_the_reader_marks_leaves_the_answer_not_the_features() -> None:
    text = "강원도 고용보험 피보험자수(3만3800명→3만4600명)가 늘었다."
    passage = Passage(
        "a.txt#0", "a.txt", 100, 100 + len(text), text, "강원", ((100, 100 + len(text)),)
    )
    marked = text.index("(3만3800명")
    spans = [SpanCandidate(0, marked, marked + len("(3만3800명"), 5.0, 2.0)]
    question = "강원도 고용보험 피보험자수는 얼마에서 늘었나?"
    (candidate,) = span_candidates(
        question, [Hit(passage, 1.0)], spans, lambda ids: {d: text for d in ids}
    )
    assert candidate.text == "3만3800명"
    assert text[candidate.start - 100 : candidate.end - 100] == candidate.text
    # the selection weighs the span as marked (as it was fitted): its length holds the bracket
    length = candidate.features[FEATURES.index("log_length")]
    assert length == pytest.approx(math.log1p(len("(3만3800명")))


@pytest.mark.parametrize(
    ("span", "question", "named"),
    [
        ("김영삼 후보", "야권에서 김영삼후보와 같이 출마한 후보의 이름은?", True),
        ("환경영웅", "이명박을 환경영웅으로 선정한 매체는?", True),
        ("10위", "최고의 오프닝 10위 중 바이오쇼크는 몇 위를 차지했나?", True),
        ("김대중", "야권에서 김영삼후보와 같이 출마한 후보의 이름은?", False),
        # inside a word of the question, not said by it
        ("TBC", "JTBC 전 종합편성채널에 신청하려 했던 이름은?", False),
        # a choice: the answer is one of the things the question names
        ("인천시", "인천시와 부산시 중 어느 곳이 1위를 했나?", False),
    ],
)
def test_a_span_the_question_says_is_no_answer(span, question, named) -> None:
    assert named_in_question(span, question) is named


def test_the_reader_span_the_question_names_is_no_candidate() -> None:
    text = "1987년 대선에는 야권에서 김영삼 후보와 김대중 후보가 함께 출마했다."
    passage = Passage("a.txt#0", "a.txt", 0, len(text), text, "대선", ((0, len(text)),))
    question = "1987년 대선에서 야권의 김영삼 후보와 같이 출마한 후보는?"
    spans = {
        core: SpanCandidate(0, text.index(core), text.index(core) + len(core), 5.0, 2.0)
        for core in ("김영삼 후보", "김대중 후보")
    }
    documents = lambda ids: {d: text for d in ids}  # noqa: E731
    hit = Hit(passage, 1.0)
    assert span_candidates(question, [hit], [spans["김영삼 후보"]], documents) == []
    (candidate,) = span_candidates(question, [hit], [spans["김대중 후보"]], documents)
    assert candidate.text == "김대중 후보"


def test_combined_answers_with_the_reader_and_falls_back_on_the_rules(seed_pipeline) -> None:
    neural = seed_pipeline.with_settings(reader="neural")
    rules = seed_pipeline.with_settings(reader="rules")
    combined = seed_pipeline.with_settings(reader="combined")
    questions = [
        "부산시가 확보한 인센티브 사업비는 얼마야?",
        "강원도 고용보험 피보험자수는 얼마에서 얼마로 늘었나?",
        "인천 뿌리산업 일자리센터에선 구체적으로 뭐뭐 해줘?",
        "뿌리산업 일자리센터의 연간 운영 예산은 얼마인가?",  # no article says
    ]
    fell_back = 0
    for question in questions:
        by_reader, by_rules = neural.ask(question), rules.ask(question)
        expected = by_rules if by_reader.abstained else by_reader
        fell_back += by_reader.abstained and not by_rules.abstained
        got = combined.ask(question)
        assert (got.answer, got.abstained) == (expected.answer, expected.abstained)
    assert fell_back >= 1  # the fallback path was taken
    assert neural.ask(questions[-1]).abstained and combined.ask(questions[-1]).abstained


def test_the_top_passage_is_read_first_and_the_rest_only_when_it_is_not_enough(
    seed_pipeline, monkeypatch
) -> None:
    early = seed_pipeline.with_settings(reader="neural", answer_early=True)
    everything = seed_pipeline.with_settings(reader="neural", answer_early=False)
    reader, selection = early.answerer.reader, early.answerer.selection
    assert selection.early is not None and selection.early >= selection.threshold
    read: list[int] = []
    run = reader.run
    monkeypatch.setattr(reader, "run", lambda q, texts: read.append(len(texts)) or run(q, texts))
    depth = seed_pipeline.settings.answer_passages
    kinds = set()
    for question in [
        "부산시가 확보한 인센티브 사업비는 얼마야?",
        "인천시의 2022년 일자리 창출 목표는 몇 개였어?",
        "강원도 고용보험 피보험자수는 얼마에서 얼마로 늘었나?",
        "화성에 사는 사람은 몇 명이야?",
    ]:
        read.clear()
        got = early.ask(question)
        calls = list(read)
        read.clear()
        expected = everything.ask(question)
        assert read == [depth]  # reading everything: one pass over all passages
        if calls == [1]:  # answered from the top passage alone, confidently
            kinds.add("early")
            assert not got.abstained and got.confidence >= selection.confidence(selection.early)
            assert len({s.doc_id for s in got.sources}) == 1
        else:  # not enough: the other passages read too, and the answer is reading all's
            kinds.add("all")
            assert calls == [1, depth - 1]
            assert (got.answer, got.abstained) == (expected.answer, expected.abstained)
            # bf16: a passage read alone or padded in a batch differs in the last bits
            assert got.confidence == pytest.approx(expected.confidence, abs=1e-3)
    assert kinds == {"early", "all"}


def test_the_reader_span_that_counts_otherwise_is_no_candidate() -> None:
    text = "노키아는 450개 이상의 고객에게 특화망을 제공했다. 한효찬 CTO는 1975년생이다."
    passage = Passage("a.txt#0", "a.txt", 0, len(text), text, "노키아", ((0, len(text)),))
    marked = text.index("450개 이상")
    spans = [SpanCandidate(0, marked, marked + len("450개 이상"), 5.0, 2.0)]
    read = lambda question: span_candidates(  # noqa: E731
        question, [Hit(passage, 1.0)], spans, lambda ids: {d: text for d in ids}
    )
    assert read("한효찬 CTO는 몇 살이야?") == []
    assert [c.text for c in read("노키아는 몇 곳에 특화망을 제공했나?")] == ["450개 이상"]


def test_answers_show_the_calibrated_confidence_in_the_order_decisions_use(seed_pipeline) -> None:
    neural = seed_pipeline.with_settings(reader="neural")
    selection = neural.answerer.selection
    bound = selection.confidence(selection.threshold)  # refusals show less, answers as much
    for question in [
        "부산시가 확보한 인센티브 사업비는 얼마야?",
        "강원도는 2023년 일자리대상에서 무슨 상을 받았나?",
        "화성에 사는 사람은 몇 명이야?",
    ]:
        got = neural.ask(question)
        assert (got.confidence >= bound) is (not got.abstained)
        if not got.abstained:
            assert got.sources[0].score == pytest.approx(got.confidence)


def test_the_reader_is_loaded_only_when_a_question_needs_it(seed_pipeline) -> None:
    from rag.answer.selection import ReaderAnswerer
    from rag.pipeline import shared_reader

    loads: list[str] = []

    def load_reader():
        loads.append("reader")
        return shared_reader(str(seed_pipeline.settings.model_cache_dir))

    neural = seed_pipeline.answerer
    assert isinstance(neural, ReaderAnswerer)
    answerer = ReaderAnswerer(seed_pipeline.index, load_reader, neural.rules, neural.documents)
    for question in [
        "강원도 기사를 쓴 기자는 누구야?",
        "인천시가 뿌리산업 일자리센터를 설립한 이유는?",
    ]:
        answerer.run(question, seed_pipeline.search(question))  # the rules answer these
    assert loads == []
    question = "부산시가 확보한 인센티브 사업비는 얼마야?"
    got = answerer.run(question, seed_pipeline.search(question))
    assert loads and got.answer == seed_pipeline.ask(question).answer
