"""The answer cards escape article text and highlight the answer span."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ui.app import (  # noqa: E402
    NOT_FOUND,
    build_ui,
    delete_document,
    render_answer_html,
    upload_document,
)

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


class FakeAdmin:
    """The documents tab's admin calls, recording what the page sent."""

    def __init__(self, refuse: str | None = None) -> None:
        self.calls: list[tuple] = []
        self.refuse = refuse

    def enabled(self) -> bool:
        return True

    def _change(self, doc_id: str) -> dict:
        if self.refuse:
            raise ValueError(self.refuse)
        docs = [{"doc_id": doc_id, "title": "<b>해남</b> 축제"}]
        return {"status": "ok", "documents": docs, "update": {"document_count": 3, "seconds": 1}}

    def upload(self, key: str, path: str, replace: bool) -> dict:
        self.calls.append(("upload", key, path, replace))
        return self._change("a.md")

    def delete(self, key: str, doc_id: str) -> dict:
        self.calls.append(("delete", key, doc_id))
        return self._change(doc_id)


def test_document_controls_call_the_admin_and_show_the_outcome() -> None:
    admin = FakeAdmin()
    page = upload_document(admin, " key ", "/tmp/up/a.md", True)
    assert "rag-ok" in page and "&lt;b&gt;해남&lt;/b&gt; 축제 (a.md)" in page
    assert "문서 3개" in page
    page = delete_document(admin, "key", " a.md ")
    assert "삭제함" in page and "a.md" in page
    assert admin.calls == [("upload", "key", "/tmp/up/a.md", True), ("delete", "key", "a.md")]


def test_document_controls_show_refusals_and_missing_input() -> None:
    admin = FakeAdmin(refuse="API 키가 없거나 틀렸습니다 <x>")
    assert "API 키가 없거나 틀렸습니다 &lt;x&gt;" in upload_document(admin, "", "/a.md", False)
    assert "rag-error" in delete_document(admin, "", "a.md")
    assert "choose a file" in upload_document(admin, "k", None, False)
    assert "type a document id" in delete_document(admin, "k", " ")
    assert len(admin.calls) == 2


def test_page_builds_with_and_without_document_controls() -> None:
    def ask(question: str, history: list[str], filters: dict) -> dict:
        return {}

    assert build_ui(ask, documents=list, admin=FakeAdmin()) is not None
    assert build_ui(ask) is not None
