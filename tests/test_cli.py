"""The `rag` command line: JSON contracts, batch files, clear one-line errors."""

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app, read_questions

runner = CliRunner()


@pytest.fixture()
def env(seed_settings, seed_pipeline):
    """Point the CLI at the session's already-built seed index."""
    return {
        "RAG_CORPUS_DIR": str(seed_settings.corpus_dir),
        "RAG_INDEX_DIR": str(seed_settings.index_dir),
    }


def test_search_json_contract(env, hit_keys):
    result = runner.invoke(
        app, ["search", "부산시가 확보한 사업비는?", "--k", "2", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout.strip().splitlines()[-1])
    assert row["question"] == "부산시가 확보한 사업비는?"
    assert len(row["results"]) == 2
    assert set(row["results"][0]) == hit_keys


def test_search_batch_keeps_order_and_reports_bad_lines(env, tmp_path):
    batch = tmp_path / "q.jsonl"
    batch.write_text(
        '{"question": "강원도 최우수상"}\n\n{"question": "' + "가" * 2000 + '"}\n의정부 청년센터\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["search", "--batch", str(batch), "--json", "--k", "1"], env=env)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [r["question"][:4] for r in rows] == ["강원도 ", "가가가가", "의정부 "]
    assert "error" in rows[1] and len(rows[0]["results"]) == 1


def test_ask_json_and_human_output(env):
    result = runner.invoke(
        app, ["ask", "부산시가 고용노동부로부터 확보한 사업비는 얼마야?", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["answer"] == "8500만원" and payload["abstained"] is False
    # Unquoted, the words are one question.
    human = runner.invoke(
        app, ["ask", "부산시가", "고용노동부로부터", "확보한", "사업비는", "얼마야?"], env=env
    )
    assert human.stdout.startswith("Q: 부산시가 고용노동부로부터 확보한 사업비는 얼마야?\n")
    assert "【8500만원】" in human.stdout and "004_d142976b477de943.txt" in human.stdout


def test_ask_reader_option_chooses_who_answers(env, seed_pipeline):
    question = "부산은 돈 얼마 받았대?"
    result = runner.invoke(app, ["ask", question, "--json", "--reader", "rules"], env=env)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    chosen = seed_pipeline.with_settings(reader="rules").ask(question)
    default = seed_pipeline.ask(question)
    assert (payload["answer"], payload["confidence"]) == (
        chosen.answer,
        round(chosen.confidence, 4),
    )
    assert (chosen.answer, chosen.confidence) != (default.answer, default.confidence)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "   "], "비어"),
        (["ask", ""], "empty"),
        (["ask", "가" * 10_000], "10,000"),
        # Invalid UTF-8 on the command line arrives as lone surrogates (surrogateescape).
        (["ask", b"\xff\xfe \xeb\xb6\x80".decode("utf-8", "surrogateescape")], "UTF-8"),
        (["search", "질문", "--corpus", "/nonexistent/folder"], "not found"),
        (["index", "--corpus", "/nonexistent/folder"], "not found"),
        (["search", "--batch", "/nonexistent.txt"], "not found"),
        (["search"], "either a question or --batch"),
    ],
)
def test_bad_input_gives_one_clear_line_not_a_traceback(env, args, message):
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_index_on_an_empty_corpus_is_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("\n", encoding="utf-8")
    result = runner.invoke(
        app, ["index", "--corpus", str(empty), "--index-dir", str(tmp_path / "idx")]
    )
    assert result.exit_code == 1 and "no readable" in result.output


def test_read_questions_accepts_lines_and_jsonl(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text('첫 질문\n{"question": "둘째 질문", "id": 3}\n\n', encoding="utf-8")
    assert read_questions(path) == ["첫 질문", "둘째 질문"]
    path.write_text('{"id": 3}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="no 'question'"):
        read_questions(path)


def test_escape_codes_inside_an_article_are_not_printed_raw(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "부산시 예산 기사\n\n부산시는 올해 관광 예산으로 \x1b[2J\x1b[31m1,234억 원\x1b[0m을 확보했다.\n",
        encoding="utf-8",
    )
    args = ["--corpus", str(corpus), "--index-dir", str(tmp_path / "idx")]
    for command in (["search", "부산시 관광 예산"], ["ask", "부산시가 확보한 관광 예산은?"]):
        result = runner.invoke(app, [*command, *args])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "부산시" in result.output


def test_index_lists_skipped_files_and_rows_in_text_and_json(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "부산시 일자리\n\n부산시는 일자리 대상에서 우수상을 받아 사업비 8500만원을 확보했다.\n",
        encoding="utf-8",
    )
    (corpus / "b.jsonl").write_text(
        '{"id": 1, "body": "인천시는 국무총리상을 받았다."}\n{broken\n', encoding="utf-8"
    )
    (corpus / "c.pdf").write_bytes(b"%PDF-1.4 damaged")
    args = ["index", "--corpus", str(corpus), "--index-dir", str(tmp_path / "idx")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "skipped 2 unreadable files or rows:" in result.stdout
    assert "  b.jsonl (line 2): not valid JSON" in result.stdout
    assert "  c.pdf: not a readable PDF" in result.stdout

    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["status"] == "up to date" and summary["document_count"] == 2
    assert [(s["path"], s["row"]) for s in summary["skipped"]] == [
        ("b.jsonl", "line 2"),
        ("c.pdf", None),
    ]
    assert all(s["reason"] for s in summary["skipped"])


def test_help_lists_each_command_in_whole_sentences() -> None:
    """A command's summary wraps to the terminal, not at the line breaks of its docstring."""
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "240", "TERMINAL_WIDTH": "240"})
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("│ index "))
    assert "(only changed articles are re-embedded) and list the files" in line
