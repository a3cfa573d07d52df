"""The chat page: Korean questions in, answers quoted from the articles out.

The page knows nothing about the pipeline: it is given an ``ask(question, history,
filters)`` function that returns the ``POST /api/ask`` JSON (and optionally the
``GET /api/documents`` rows), so it can be served by the API process or pointed at
anything else that speaks the contract. Everything taken from an article
or a user is escaped before it goes into HTML.
"""

import html
import logging
from collections.abc import Callable
from functools import partial, wraps
from typing import Any, ParamSpec, Protocol, TypeVar

import gradio as gr

log = logging.getLogger(__name__)

NOT_FOUND = "문서에서 답을 찾을 수 없습니다"
INTERNAL_ERROR = "답변 중 오류가 발생했습니다. 다시 시도해 주세요 (internal error)"
PAGE_ERROR = "오류가 발생했습니다. 페이지를 새로 고쳐 주세요 (internal error; reload the page)"
TITLE = "기사 문답 · 한국어 뉴스 기사에서 답 찾기"
EXAMPLES = [
    "인천시는 일자리대상에서 무슨 상을 받았어?",
    "부산시가 확보한 사업비는 얼마야?",
    "그럼 의정부시는?",
    "강원도는 몇 년 연속 수상했어?",
    "화성에 사는 사람은 몇 명이야?",
]

#: Styles for the cards; passed to the page by whoever mounts it (Gradio 6 takes CSS there).
CSS = """
.rag-answer { display: flex; flex-direction: column; gap: 8px; }
.rag-reply { font-size: 1.15rem; font-weight: 600; }
.rag-abstain { color: #9a3412; }
.rag-resolved, .rag-meta, .rag-label { font-size: 0.85rem; color: #6b7280; }
.rag-card {
  padding: 10px 14px; border-left: 4px solid #3b82f6; border-radius: 6px;
  background: rgba(59, 130, 246, 0.07);
}
.rag-card.rag-related { border-left-color: #9ca3af; background: rgba(156, 163, 175, 0.1); }
.rag-quote { margin-bottom: 6px; line-height: 1.6; }
.rag-quote mark { background: #fde68a; color: #111827; padding: 0 2px; border-radius: 3px; }
.rag-cite { font-size: 0.85rem; color: #4b5563; }
.rag-cite code { font-size: 0.8rem; }
.rag-same { font-size: 0.8rem; color: #6b7280; margin-top: 2px; }
.rag-error { color: #b91c1c; font-weight: 600; }
.rag-ok { color: #166534; font-weight: 600; }
"""


def _text(value: Any) -> str:
    """Escaped text on one line: newlines would end the HTML block inside Markdown."""
    return html.escape(" ".join(str(value).split()))


def _quote_html(source: dict[str, Any]) -> str:
    """The quote with the answer span inside ``<mark>``, every piece escaped on its own."""
    quote = source["quote"]
    a, b = source.get("answer_start"), source.get("answer_end")
    if a is None or b is None:
        return _text(quote)
    a, b = a - source["start"], b - source["start"]
    if not 0 <= a < b <= len(quote):
        return _text(quote)
    pieces = [quote[:a], quote[a:b], quote[b:]]
    # Keep the spaces around the span that whitespace-collapsing each piece would drop.
    head = _text(pieces[0]) + (" " if pieces[0][-1:].isspace() else "")
    tail = (" " if pieces[2][:1].isspace() else "") + _text(pieces[2])
    return f"{head}<mark>{_text(pieces[1])}</mark>{tail}"


def _card_html(source: dict[str, Any], related: bool) -> str:
    meta = [_text(x) for x in (source.get("outlet"), source.get("date")) if x]
    cite = " · ".join(
        [
            f"<strong>{_text(source['title'])}</strong>",
            *meta,
            f"<code>{_text(source['doc_id'])}</code>",
        ]
    )
    also_in = source.get("also_in") or []
    if also_in:
        names = dict.fromkeys(_text(d.get("outlet") or d["doc_id"]) for d in also_in)
        cite += f'<div class="rag-same">같은 내용: {", ".join(names)}</div>'
    kind = "rag-card rag-related" if related else "rag-card"
    return (
        f'<div class="{kind}"><div class="rag-quote">“{_quote_html(source)}”</div>'
        f'<div class="rag-cite">— {cite}</div></div>'
    )


def render_answer_html(result: dict[str, Any]) -> str:
    """One assistant message: the answer (or the abstention), then each source as a quote
    card with the answer span highlighted. A single line, so Markdown leaves it alone."""
    parts = ['<div class="rag-answer">']
    resolved = result.get("resolved_question")
    if resolved and resolved != result.get("question"):
        parts.append(f'<div class="rag-resolved">이해한 질문: {_text(resolved)}</div>')
    abstained = bool(result.get("abstained"))
    if abstained:
        parts.append(f'<div class="rag-reply rag-abstain">{NOT_FOUND}</div>')
    else:
        parts.append(f'<div class="rag-reply">{_text(result.get("answer") or "")}</div>')
    timing = result.get("timings_ms", {}).get("total")
    meta = f"신뢰도 {float(result.get('confidence', 0.0)):.2f}"
    if timing is not None:
        meta += f" · {float(timing) / 1000:.1f}초"
    parts.append(f'<div class="rag-meta">{meta}</div>')
    sources = result.get("sources") or []
    if sources:
        label = "관련 문단 (답은 아님)" if abstained else "출처"
        parts.append(f'<div class="rag-label">{label}</div>')
        parts.extend(_card_html(s, related=abstained) for s in sources)
    parts.append("</div>")
    return "".join(parts)


def render_error_html(message: str) -> str:
    return f'<div class="rag-error">⚠️ {_text(message)}</div>'


Messages = list[dict[str, str]]
#: ``ask(question, earlier_questions, filters)``: ``filters`` holds the ``POST /api/ask``
#: filter fields (``outlets``, ``since``, ``until``), ``None`` where not set.
Ask = Callable[[str, list[str], dict[str, Any]], dict[str, Any]]
#: The ``GET /api/documents`` rows: doc_id, title, outlet, date…
Documents = Callable[[], list[dict[str, Any]]]
DOCUMENT_COLUMNS = ["제목", "언론사", "날짜", "문서 ID"]


class Admin(Protocol):
    """The documents tab's add and delete calls (``POST``/``DELETE /api/documents``).
    They raise ``ValueError`` with a user-facing message when refused."""

    def enabled(self) -> bool:
        """Whether the server has an admin key: the controls show only then."""
        ...

    def upload(self, key: str, path: str, replace: bool) -> dict[str, Any]: ...

    def delete(self, key: str, doc_id: str) -> dict[str, Any]: ...


def page_filters(outlets: list[str] | None, since: str | None, until: str | None) -> dict[str, Any]:
    """The filter fields of the page's controls; blank ones are ``None`` (not filtered)."""
    return {
        "outlets": list(outlets) if outlets else None,
        "since": (since or "").strip() or None,
        "until": (until or "").strip() or None,
    }


def respond(
    ask: Ask, question: str, messages: Messages, asked: list[str], filters: dict[str, Any]
) -> tuple[str, Messages, list[str]]:
    """One chat turn: the question, then the answer card or a readable error message."""
    question = (question or "").strip()
    shown = html.escape(question) if question else "(빈 질문)"
    messages = [*messages, {"role": "user", "content": shown}]
    try:
        if not question:
            raise ValueError("질문을 입력해 주세요 (please type a question)")
        reply = render_answer_html(ask(question, asked, filters))
        asked = [*asked, question]
    except ValueError as exc:  # refused question or filter: the message is meant for the user
        reply = render_error_html(str(exc))
    except Exception:  # never show a stack trace in the chat
        log.exception("answering %r failed", question)
        reply = render_error_html(INTERNAL_ERROR)
    return "", [*messages, {"role": "assistant", "content": reply}], asked


P = ParamSpec("P")
R = TypeVar("R")


def shown_to_users(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` as an event handler whose errors reach the page's toast as ``gr.Error``s,
    the only ones Gradio shows (the page is mounted with ``show_error=False``): a
    ``ValueError``'s message, meant for the user, as it is; for anything else a generic
    message, the details going to the server log only."""

    @wraps(fn)
    def handler(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except ValueError as exc:
            # A gr.Error's message is rendered as HTML.
            raise gr.Error(html.escape(str(exc)), print_exception=False) from None
        except Exception:
            log.exception("page handler %s failed", getattr(fn, "__name__", fn))
            raise gr.Error(PAGE_ERROR, print_exception=False) from None

    return handler


def document_rows(documents: list[dict[str, Any]]) -> list[list[str]]:
    """The documents tab's table, newest first (undated last)."""
    ordered = sorted(documents, key=lambda d: (d.get("date") or "", d["doc_id"]), reverse=True)
    return [[d["title"], d.get("outlet") or "", d.get("date") or "", d["doc_id"]] for d in ordered]


def _change_html(verb: str, change: dict[str, Any]) -> str:
    """A done add or delete: the documents and what the index update did."""
    docs = ", ".join(f"{d['title']} ({d['doc_id']})" for d in change["documents"]) or "-"
    update = change["update"]
    facts = f"문서 {update['document_count']}개 · {float(update['seconds']):.1f}초"
    return f'<div class="rag-ok">✅ {_text(f"{verb}: {docs} · {facts}")}</div>'


def _admin_call(call: Callable[[], dict[str, Any]], verb: str) -> str:
    """Run an admin call; its refusal or failure is shown as a message, never raised."""
    try:
        return _change_html(verb, call())
    except ValueError as exc:
        return render_error_html(str(exc))
    except Exception:
        log.exception("%s failed", verb)
        return render_error_html(INTERNAL_ERROR)


def upload_document(admin: Admin, key: str, path: str | None, replace: bool) -> str:
    """The upload button: the chosen file into the corpus, or why not."""
    if not path:
        return render_error_html("파일을 고르세요 (choose a file)")
    return _admin_call(lambda: admin.upload((key or "").strip(), path, bool(replace)), "추가함")


def delete_document(admin: Admin, key: str, doc_id: str) -> str:
    """The delete button: the document's file out of the corpus, or why not."""
    doc_id = (doc_id or "").strip()
    if not doc_id:
        return render_error_html("지울 문서 ID를 입력하세요 (type a document id)")
    return _admin_call(lambda: admin.delete((key or "").strip(), doc_id), "삭제함")


def outlet_choices(documents: list[dict[str, Any]]) -> list[str]:
    return sorted({d["outlet"] for d in documents if d.get("outlet")})


def build_ui(
    ask: Ask,
    api_docs_url: str | None = None,
    documents: Documents | None = None,
    admin: Admin | None = None,
) -> gr.Blocks:
    """The chat page. ``ask`` returns the API's answer JSON and raises ``ValueError``
    with a user-facing message for a refused question or filter; ``documents``, when
    given, fills the outlet choice and the documents tab on every page load (so a
    re-index shows without a restart); ``admin``, when given and enabled, adds the
    documents tab's add and delete controls, which need the key typed in the page."""

    @shown_to_users
    def turn(
        question: str,
        messages: Messages,
        asked: list[str],
        outlets: list[str] | None,
        since: str,
        until: str,
    ) -> tuple[str, Messages, list[str]]:
        return respond(ask, question, messages, asked, page_filters(outlets, since, until))

    def clear() -> tuple[str, Messages, list[str]]:
        return "", [], []

    with gr.Blocks(title="기사 문답", analytics_enabled=False) as demo:
        intro = (
            "뉴스 기사에 대해 한국어로 물어보세요. 답은 기사 문장을 그대로 인용하고, "
            "기사에 없는 내용이면 **“문서에서 답을 찾을 수 없습니다”** 라고 답합니다. "
            "앞 질문에 이어서 “그럼 부산은?” 처럼 물어도 됩니다."
        )
        if api_docs_url:
            intro += f"\n\n개발자용: [JSON API 문서]({api_docs_url})"
        gr.Markdown(f"# {TITLE}\n{intro}")
        with gr.Tab("대화"):
            chatbot = gr.Chatbot(
                label="대화",
                show_label=False,
                height=680,
                placeholder="아래에 질문을 입력하거나 예시 질문을 눌러 보세요.",
                latex_delimiters=[],
                buttons=["copy"],
                feedback_options=None,
            )
            asked = gr.State([])
            with gr.Row():
                box = gr.Textbox(
                    placeholder="예: 부산시가 확보한 사업비는 얼마야?",
                    show_label=False,
                    scale=8,
                    max_lines=3,
                    elem_id="question",
                )
                send = gr.Button("질문하기", variant="primary", scale=1, elem_id="send")
            with (
                gr.Accordion("검색 범위: 언론사 · 기간 (비워 두면 전체)", open=False),
                gr.Row(),
            ):
                outlets = gr.Dropdown(
                    choices=[],
                    multiselect=True,
                    label="언론사",
                    elem_id="outlets",
                    scale=2,
                )
                since = gr.Textbox(label="시작일", placeholder="YYYY-MM-DD", elem_id="since")
                until = gr.Textbox(label="종료일", placeholder="YYYY-MM-DD", elem_id="until")
            gr.Examples(
                examples=[[q] for q in EXAMPLES],
                inputs=[box],
                label="예시 질문 (누르면 입력됩니다)",
            )
            reset = gr.Button("대화 지우기", variant="secondary", size="sm", elem_id="clear")
        with gr.Tab("문서"):
            table = gr.Dataframe(
                headers=DOCUMENT_COLUMNS,
                datatype=["str"] * len(DOCUMENT_COLUMNS),
                interactive=False,
                wrap=True,
                elem_id="documents",
            )
            with gr.Group(visible=False) as manage:
                key = gr.Textbox(label="관리 키 (RAG_API_KEY)", type="password", elem_id="key")
                with gr.Row():
                    upload = gr.File(label="문서 추가", type="filepath", elem_id="upload")
                    with gr.Column():
                        replace = gr.Checkbox(label="같은 이름이면 바꾸기", elem_id="replace")
                        add = gr.Button("추가하기", elem_id="add")
                with gr.Row():
                    doc_id = gr.Textbox(label="지울 문서 ID", elem_id="delete-id", scale=3)
                    remove = gr.Button("삭제하기", variant="stop", elem_id="delete", scale=1)
                # Markdown shows the outcome's one-line HTML; gr.HTML would need the page's
                # CSP to allow eval ('unsafe-eval'), which renders its template with it.
                status = gr.Markdown(elem_id="manage-status")

        inputs = [box, chatbot, asked, outlets, since, until]
        box.submit(turn, inputs, [box, chatbot, asked])
        send.click(turn, inputs, [box, chatbot, asked])
        reset.click(clear, None, [box, chatbot, asked])
        if documents is not None:

            @shown_to_users
            def load() -> tuple[Any, list[list[str]]]:
                listed = documents()
                return gr.update(choices=outlet_choices(listed)), document_rows(listed)

            demo.load(load, None, [outlets, table])
        if admin is not None:

            @shown_to_users
            def show_controls() -> Any:
                return gr.update(visible=admin.enabled())

            demo.load(show_controls, None, [manage])
            added = add.click(partial(upload_document, admin), [key, upload, replace], [status])
            removed = remove.click(partial(delete_document, admin), [key, doc_id], [status])
            if documents is not None:
                added.then(load, None, [outlets, table])
                removed.then(load, None, [outlets, table])
    return demo
