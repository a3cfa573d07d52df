"""The evaluation harness: KorQuAD scoring, metric summaries, reports, `rag eval`."""

import json

import pytest

from rag.answer.answerer import Answer, Source
from rag.answer.questions import reading_form
from rag.evaluation import harness
from rag.evaluation.harness import (
    EvalQuestion,
    QuestionResult,
    char_f1,
    contains_answer,
    copies_of_gold,
    exact_match,
    korquad_documents,
    normalize_answer,
    ranked_docs,
    reader_scores,
    summarize,
)
from rag.evaluation.report import comparison_table, write_report


def test_korquad_normalisation_and_scores():
    assert (
        normalize_answer("‘스마트제조 성장 사다리 프로젝트’") == "스마트제조 성장 사다리 프로젝트"
    )
    assert exact_match("《토지》", "토지") == 1.0
    assert exact_match("8500만원", "8500만 원") == 0.0
    assert char_f1("8500만원", "8500만 원") == 1.0  # white space is ignored for the F1
    assert char_f1("사업비 8500만원", "8500만원") == pytest.approx(2 * (6 / 9) / (6 / 9 + 1))
    assert char_f1("국무총리상", "8500만원") == 0.0
    assert contains_answer("국비 1억3500만원", "1억 3500만원")


def _answer(text, doc, abstained=False, ms=10.0, confidence=0.5):
    source = Source(doc, "t", None, None, f"{doc}#0", "q", 0, 1, None, None, 0.5)
    return Answer(
        "q", None if abstained else text, abstained, confidence, [source], "amount", {"total": ms}
    )


def test_reliability_bins_given_answers_by_confidence():
    def result(answers, text, confidence, abstained=False):
        q = EvalQuestion("x", "q", answers, ["a"] if answers else [], "t")
        return QuestionResult(q, _answer(text, "a", abstained, confidence=confidence), ["a"], 1.0)

    m = summarize(
        [
            result(["71개"], "71개", 0.95),
            result(["71개"], "2일", 0.9),
            result([], "2일", 0.85),  # answered an unanswerable question: wrong
            result(["71개"], "71개", 0.1),
            result(["71개"], None, 0.05, abstained=True),  # refused: not an answer given
        ]
    )
    bins = {b["bin"]: b for b in m["reliability"]}
    assert bins["0.8–1.0"]["answers"] == 3
    assert bins["0.8–1.0"]["accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert bins["0.0–0.2"] == {
        "bin": "0.0–0.2",
        "answers": 1,
        "mean_confidence": 0.1,
        "accuracy": 1.0,
    }
    assert bins["0.4–0.6"]["answers"] == 0 and bins["0.4–0.6"]["accuracy"] is None
    # ECE: three answers at 0.9 right a third of the time, one at 0.1 right
    gap = (3 * abs(1 / 3 - 0.9) + 1 * abs(1.0 - 0.1)) / 4
    assert m["answers"]["calibration_error"] == pytest.approx(gap, abs=1e-3)


def test_summary_counts_answers_abstentions_and_types():
    results = [
        QuestionResult(
            EvalQuestion("1", "q", ["71개"], ["a"], "number"),
            _answer("71개", "a"),
            ["a", "b"],
            10.0,
        ),
        QuestionResult(
            EvalQuestion("2", "q", ["우수상"], ["b"], "fact"),
            _answer("최우수상", "a"),
            ["a", "b"],
            20.0,
        ),
        QuestionResult(
            EvalQuestion("3", "q", [], [], "unanswerable"),
            _answer(None, "a", abstained=True),
            ["a"],
            30.0,
        ),
        QuestionResult(
            EvalQuestion("4", "q", [], [], "unanswerable"), _answer("2일", "b"), ["b"], 40.0
        ),
        QuestionResult(
            EvalQuestion("5", "q", ["6년 연속"], ["c"], "number"),
            _answer(None, "c", abstained=True),
            ["c"],
            50.0,
        ),
    ]
    m = summarize(results)
    assert m["questions"] == 5
    assert m["retrieval"]["hit@1"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["retrieval"]["mrr@10"] == pytest.approx((1 + 0.5 + 1) / 3, abs=1e-4)
    assert m["answers"]["accuracy"] == pytest.approx(
        2 / 3, abs=1e-4
    )  # "최우수상" contains "우수상"
    assert m["answers"]["exact_match"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["answers"]["citation_accuracy"] == pytest.approx(1 / 2, abs=1e-4)
    assert m["abstention"] == {
        "unanswerable": 2,
        "abstained": 2,
        "precision": 0.5,
        "recall": 0.5,
        "wrongly_refused": 1,
    }
    assert m["latency_ms"]["p50"] == 30.0
    assert m["by_type"]["number"]["questions"] == 2
    assert {f["id"] for f in m["failures"]} == {"4", "5"}


def test_another_outlets_copy_of_the_gold_article_counts_as_it():
    from dataclasses import replace

    from rag.answer.retrieval import Hit
    from rag.index.store import DocumentInfo
    from rag.ingest.passages import Passage

    info = DocumentInfo("gold.txt", "t", None, None, None, "0" * 64, 1)
    documents = {"gold.txt": replace(info, same_as=("copy.txt",)), "other.txt": info}
    copies = copies_of_gold(documents, ["gold.txt"])
    assert copies == {"copy.txt": "gold.txt"}
    hits = [
        Hit(Passage(f"{d}#0", d, 0, 1, "x", "t", ((0, 1),)), 1.0) for d in ("other.txt", "copy.txt")
    ]
    assert ranked_docs(hits) == ["other.txt", "copy.txt"]
    assert ranked_docs(hits, copies) == ["other.txt", "gold.txt"]
    question = EvalQuestion("1", "q", ["x"], ["gold.txt"], "news")
    result = QuestionResult(
        question, _answer("x", "copy.txt"), ranked_docs(hits, copies), 1.0, same_content=copies
    )
    assert result.record()["hit@5"] == 1.0 and result.record()["cited"] == 1.0


def test_report_writes_tables_and_charts(tmp_path):
    q = EvalQuestion("1", "q", ["71개"], ["a"], "number")
    metrics = summarize([QuestionResult(q, _answer("71개", "a"), ["a"], 5.0)])
    result = {
        "dataset": "test",
        "command": "rag eval",
        "reader": None,
        "configs": {"bm25": metrics, "hybrid": metrics},
    }
    path = write_report(result, tmp_path / "report")
    text = path.read_text(encoding="utf-8")
    assert "| Retrieval hit@1 (R@1) | 1.000 | 1.000 |" in text
    assert "## Reliability: hybrid" in text
    for png in ("metrics.png", "accuracy_by_type.png", "latency.png", "reliability.png"):
        data = (tmp_path / "report" / png).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000
    assert comparison_table({"x": metrics}).count("\n") >= 5


def test_korquad_loader_keeps_paragraphs_and_gold_answers(tmp_path):
    data = {
        "data": [
            {
                "title": "제목",
                "paragraphs": [
                    {
                        "context": " 문단 하나. ",
                        "qas": [
                            {
                                "id": "k1",
                                "question": "질문?",
                                "answers": [{"text": "하나", "answer_start": 4}],
                            }
                        ],
                    },
                    {"context": "문단 둘.", "qas": []},
                ],
            }
        ]
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    docs, questions = korquad_documents(path)
    assert [d.doc_id for d in docs] == ["제목#0", "제목#1"]
    s, e = docs[0].blocks[0][0]
    assert docs[0].text[s:e] == "문단 하나."
    assert questions == [EvalQuestion("k1", "질문?", ["하나"], ["제목#0"], "korquad")]


def _eval_json(seed_settings, qfile, *options):
    """``rag eval --json`` over the seed index; the parsed result."""
    from typer.testing import CliRunner

    from rag.cli import app

    env = {
        "RAG_CORPUS_DIR": str(seed_settings.corpus_dir),
        "RAG_INDEX_DIR": str(seed_settings.index_dir),
    }
    result = CliRunner().invoke(
        app, ["eval", "--questions", str(qfile), *options, "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


BUSAN_BUDGET = {
    "id": "a",
    "question": "부산시가 고용노동부로부터 확보한 사업비는 얼마야?",
    "answers": ["8500만원"],
    "docs": ["004_d142976b477de943.txt"],
    "type": "number",
}


def test_eval_command_json_on_a_few_questions(seed_settings, seed_pipeline, tmp_path):

    qfile = tmp_path / "q.jsonl"
    rows = [
        BUSAN_BUDGET,
        {
            "id": "b",
            "question": "강원도 자비스(Jobis) 시스템 개발에 들어간 비용은?",
            "answers": [],
            "docs": [],
            "type": "unanswerable",
        },
    ]
    qfile.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    payload = _eval_json(seed_settings, qfile, "--compare", "bm25,hybrid")
    assert set(payload["configs"]) == {"bm25", "hybrid"}
    hybrid = payload["configs"]["hybrid"]
    assert hybrid["questions"] == 2
    assert hybrid["answers"]["accuracy"] == 1.0
    assert hybrid["abstention"]["recall"] == 1.0
    assert set(hybrid) >= {
        "retrieval",
        "answers",
        "abstention",
        "latency_ms",
        "by_type",
        "failures",
    }
    assert hybrid["retrieval"]["hit@1"] == 1.0 and hybrid["retrieval"]["answer_hit@1"] == 1.0


def test_answer_hit_counts_a_first_article_that_holds_the_answer_though_not_labelled(
    seed_settings, seed_pipeline, tmp_path
):
    """A news set labels one of the articles that report a fact: another article ranked
    first misses hit@1, yet holds the answer (answer_hit@1); one without it misses both."""
    qfile = tmp_path / "q.jsonl"
    elsewhere = {**BUSAN_BUDGET, "docs": ["000_1ff51a0f1b8abdfa.txt"]}
    rows = [
        {**elsewhere, "id": "mislabelled"},
        {**elsewhere, "id": "absent", "answers": ["9999조원"]},
    ]
    qfile.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    retrieval = _eval_json(seed_settings, qfile)["configs"]["hybrid"]["retrieval"]
    assert retrieval["hit@1"] == 0.0
    assert retrieval["answer_hit@1"] == 0.5


def test_unknown_compare_config_is_a_clear_error(seed_settings):
    from typer.testing import CliRunner

    from rag.cli import app

    result = CliRunner().invoke(
        app,
        ["eval", "--compare", "bm25,nonsense"],
        env={"RAG_INDEX_DIR": str(seed_settings.index_dir)},
    )
    assert result.exit_code == 1 and "config not found: nonsense" in result.output


def test_eval_compares_readers_side_by_side(seed_settings, seed_pipeline, tmp_path):
    from typer.testing import CliRunner

    from rag.cli import app

    qfile = tmp_path / "q.jsonl"
    qfile.write_text(
        json.dumps(
            {
                "id": "a",
                "question": "인천시가 받은 상은?",
                "answers": ["국무총리상"],
                "docs": ["000_1ff51a0f1b8abdfa.txt"],
                "type": "fact",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    payload = _eval_json(seed_settings, qfile, "--reader", "rules,neural")
    assert list(payload["configs"]) == ["hybrid+rules", "hybrid+neural"]
    bad = CliRunner().invoke(app, ["eval", "--questions", str(qfile), "--reader", "gpt"])
    assert bad.exit_code == 1 and "unknown reader" in bad.output


def test_a_question_that_raises_is_recorded_and_the_run_goes_on(
    seed_settings, seed_pipeline, tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    from rag.cli import app
    from rag.pipeline import Pipeline

    real_ask = Pipeline.ask

    def ask(self, question, mode=None):
        if "폭발" in question:
            raise RuntimeError("boom")
        return real_ask(self, question, mode)

    monkeypatch.setattr(Pipeline, "ask", ask)
    qfile = tmp_path / "q.jsonl"
    rows = [
        {"id": "bad", "question": "폭발하는 질문은?", "answers": ["x"], "docs": [], "type": "fact"},
        {
            "id": "ok",
            "question": "인천시가 받은 상은?",
            "answers": ["국무총리상"],
            "docs": ["000_1ff51a0f1b8abdfa.txt"],
            "type": "fact",
        },
    ]
    qfile.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    env = {
        "RAG_CORPUS_DIR": str(seed_settings.corpus_dir),
        "RAG_INDEX_DIR": str(seed_settings.index_dir),
    }
    report = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["eval", "--questions", str(qfile), "--report", str(report), "--json"], env=env
    )
    assert result.exit_code == 1 and "1 questions raised an error" in result.output
    metrics = json.loads(result.stdout.strip().splitlines()[-1])["configs"]["hybrid"]
    assert metrics["questions"] == 2 and metrics["errors"] == 1
    assert [f["error"] for f in metrics["failures"] if f["id"] == "bad"] == ["RuntimeError: boom"]
    assert (report / "report.md").is_file()


def test_gold_paragraph_scoring_reads_the_question_as_ask_does(seed_pipeline, monkeypatch):
    """KorQuAD's gold-paragraph EM / F1 read the question in its reading form (full-width
    digits as ASCII, spaces put back), as the open-domain run of the same question does."""
    read, asked = harness.read_candidates, []

    def spy(reader, question, *rest, **options):
        asked.append(question)
        return read(reader, question, *rest, **options)

    monkeypatch.setattr(harness, "read_candidates", spy)
    passage = next(seed_pipeline.index.iter_passages())
    typed = "２０２４년일자리대상에서최우수상받은곳은어디야?"
    question = EvalQuestion("u1", typed, ["인천시"], [passage.doc_id], "seeds")
    scores = reader_scores(seed_pipeline, [question])
    assert scores["errors"] == 0
    assert asked == [reading_form(typed)]
    assert asked[0] != typed


@pytest.mark.parametrize("answers", [True, False])
def test_each_timed_question_embeds_itself_as_a_request_does(seed_pipeline, monkeypatch, answers):
    """The ranking pass embeds every question in one batch; the timed pass must not reuse
    those vectors, or the latencies leave out the question's embedding."""
    embedder = seed_pipeline.embedder
    encoded: list[list[str]] = []
    real_encode = embedder._encode

    def encode(texts, prompt, show_progress):
        encoded.append(list(texts))
        return real_encode(texts, prompt, show_progress)

    monkeypatch.setattr(embedder, "_encode", encode)
    questions = [
        EvalQuestion("a", "인천시가 받은 상은 무엇인가? (시간 측정)", ["국무총리상"], [], "fact"),
        EvalQuestion("b", "의정부시의 세입 증대 기대액은? (시간 측정)", ["70억 원"], [], "fact"),
    ]
    harness.run_questions(seed_pipeline, questions, answers=answers)
    timed = [t for t in encoded[1:] if len(t) == 1]
    assert [t[0] for t in timed] == [q.question for q in questions]
    assert embedder.cache_queries  # the cache is back on for everyone else
