"""The answer cards escape article text and highlight the answer span."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ui.app import NOT_FOUND, render_answer_html  # noqa: E402

QUOTE = "부산시는 <script>alert(1)</script> 사업비 8500만원을 확보했다."


def _source(**overrides: object) -> dict:
    start = 100
    a = QUOTE.index("8500만원")
    source = {
        "doc_id": "004_<b>.txt",
        "title": "부산시 <img src=x onerror=alert(1)> 수상",
        "outlet": "스마트에프엔",
        "date": "2023-08-02",
        "passage_id": "004#8",
        "quote": QUOTE,
        "start": start,
        "end": start + len(QUOTE),
        "answer_start": start + a,
        "answer_end": start + a + len("8500만원"),
        "score": 0.9,
    }
    return source | overrides


def _result(**overrides: object) -> dict:
    result = {
        "question": "부산시가 확보한 사업비는 얼마야?",
        "answer": "8500만원",
        "abstained": False,
        "confidence": 0.98,
        "sources": [_source()],
        "timings_ms": {"retrieve": 10.0, "answer": 20.0, "total": 30.0},
    }
    return result | overrides


def test_article_text_is_escaped() -> None:
    page = render_answer_html(_result(answer="<script>x</script>"))
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "004_&lt;b&gt;.txt" in page


def test_answer_span_is_marked_with_card_metadata() -> None:
    page = render_answer_html(_result())
    assert "<mark>8500만원</mark>" in page
    assert "사업비 <mark>8500만원</mark>을 확보했다." in page  # spaces around the span kept
    assert "스마트에프엔" in page and "2023-08-02" in page
    assert "\n" not in page  # one line: Markdown must not touch the HTML block


def test_abstention_shows_message_and_related_passages_unmarked() -> None:
    related = _source(answer_start=None, answer_end=None)
    page = render_answer_html(_result(answer=None, abstained=True, sources=[related]))
    assert NOT_FOUND in page
    assert "관련 문단" in page
    assert "<mark>" not in page
    assert "&lt;script&gt;" in page


def test_resolved_follow_up_is_shown() -> None:
    page = render_answer_html(
        _result(question="그럼 <부산>은?", resolved_question="<부산>은 얼마를 받았어?")
    )
    assert "이해한 질문: &lt;부산&gt;은 얼마를 받았어?" in page


def test_span_outside_quote_is_ignored() -> None:
    page = render_answer_html(_result(sources=[_source(answer_start=0, answer_end=5)]))
    assert "<mark>" not in page


def test_same_article_elsewhere_is_listed_escaped() -> None:
    also_in = [
        {"doc_id": "005.txt", "outlet": "뉴스스텝", "title": "t"},
        {"doc_id": "006.txt", "outlet": "<b>이로운넷</b>", "title": "t"},
        {"doc_id": "007.txt", "outlet": None, "title": "t"},
    ]
    page = render_answer_html(_result(sources=[_source(also_in=also_in)]))
    assert "같은 내용: 뉴스스텝, &lt;b&gt;이로운넷&lt;/b&gt;, 007.txt" in page
    assert "같은 내용" not in render_answer_html(_result())
