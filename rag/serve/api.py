"""One process serves the chat page at ``/`` and the JSON API under ``/api``.

The pipeline is loaded once and shared. Its model (torch) and Kiwi are not guaranteed
thread-safe, so every call into it holds one lock; endpoints are plain ``def`` functions,
which FastAPI runs in its threadpool, so waiting for the lock never blocks the event loop.
"""

import logging
import os
import secrets
import sys
import threading
from typing import Annotated, Any

# No telemetry from an offline product (must be set before Gradio is imported).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import uvicorn
from fastapi import FastAPI, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.answer.followup import resolve_followup
from rag.answer.retrieval import HybridRetriever
from rag.index.passage_store import PassageFilter, make_filter
from rag.index.stores import update_store
from rag.pipeline import InvalidQuestion, Pipeline, validate_question
from rag.settings import Settings
from ui.app import CSS, build_ui

log = logging.getLogger(__name__)

#: Earlier questions looked at for a follow-up; older turns cannot change its meaning.
MAX_HISTORY = 50
MAX_K = 50
#: Corpora up to this many passages get all sentence vectors computed at start-up.
WARM_PASSAGES = 2000
#: Largest request body accepted: a question with its history is a few kilobytes.
MAX_BODY_BYTES = 256 * 1024
#: On every response. The CSP only forbids framing: Gradio's page needs inline scripts.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
API_KEY_ENV = "RAG_API_KEY"


class AskRequest(BaseModel):
    question: str = Field(
        description="한국어 질문 (a question in Korean).",
        examples=["부산시가 확보한 사업비는 얼마야?"],
    )
    history: list[str] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description="Earlier user questions of the conversation, oldest first: lets a "
        "follow-up such as '그럼 부산은?' be understood.",
        examples=[["인천시는 얼마를 받았어?"]],
    )
    # examples=[None]: the docs page's sample body must not filter to an outlet "string".
    outlets: list[str] | None = Field(
        default=None, description="Only articles of these outlets (언론사).", examples=[None]
    )
    since: str | None = Field(
        default=None, description="Only articles dated on or after this day (YYYY-MM-DD)."
    )
    until: str | None = Field(
        default=None, description="Only articles dated on or before this day (YYYY-MM-DD)."
    )
    doc_ids: list[str] | None = Field(
        default=None, description="Only these documents (ids of /api/documents).", examples=[None]
    )


class SameContentOut(BaseModel):
    doc_id: str
    outlet: str | None
    title: str


def _also_in() -> Any:
    return Field(
        default_factory=list,
        description="The same article (a near-duplicate: one press release rewritten) in "
        "other outlets, collapsed into this one.",
    )


def _page() -> Any:
    return Field(
        default=None, description="1-based page where the passage starts (PDF); null otherwise."
    )


class SourceOut(BaseModel):
    doc_id: str
    title: str
    outlet: str | None
    date: str | None
    passage_id: str
    quote: str = Field(
        description="Verbatim text: document_text[start:end], where the document text is "
        "the file as decoded (.txt, .md) or the text extracted from it (HTML, PDF, HWPX, "
        "JSONL/CSV rows), stored beside the index in texts.jsonl."
    )
    start: int
    end: int
    answer_start: int | None = Field(description="Answer span in the same document text.")
    answer_end: int | None
    score: float
    page: int | None = _page()
    also_in: list[SameContentOut] = _also_in()


class AnswerOut(BaseModel):
    question: str = Field(description="The question as sent (stripped).")
    answer: str | None = Field(description="Verbatim span of a source; null if abstained.")
    abstained: bool
    confidence: float
    sources: list[SourceOut]
    timings_ms: dict[str, float]
    resolved_question: str = Field(
        description="The question actually answered: differs from 'question' for a follow-up."
    )


class HitOut(BaseModel):
    doc_id: str
    passage_id: str
    title: str
    text: str
    start: int
    end: int
    score: float
    page: int | None = _page()
    also_in: list[SameContentOut] = _also_in()


class SearchOut(BaseModel):
    question: str
    results: list[HitOut]


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    outlet: str | None
    date: str | None
    reporter: str | None
    passages: int
    same_as: list[str] = Field(
        default_factory=list, description="Ids of near-duplicates: the same article elsewhere."
    )


class HealthOut(BaseModel):
    status: str
    model: str
    index_version: str
    format_version: int
    passage_count: int
    document_count: int
    store: str = Field(description="Where the index lives: embedded or qdrant.")


class ReindexOut(BaseModel):
    status: str
    rebuilt: bool
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: int
    seconds: float
    index_version: str
    passage_count: int
    document_count: int


class QAService:
    """The shared pipeline and the lock that serialises every use of it."""

    def __init__(self, pipeline: Pipeline, settings: Settings) -> None:
        self.settings = settings
        self._pipeline = pipeline
        self._lock = threading.Lock()

    @property
    def pipeline(self) -> Pipeline:
        return self._pipeline

    def ask(
        self, question: str, history: list[str], where: PassageFilter | None = None
    ) -> dict[str, Any]:
        """Answer ``question``, resolving it against earlier questions first, from the
        articles ``where`` accepts; raises ``InvalidQuestion`` (a ``ValueError``) with a
        user-facing message."""
        limit = self.settings.max_question_chars
        text = validate_question(question, limit)
        earlier = [h for h in history[-MAX_HISTORY:] if len(h) <= limit]
        with self._lock:  # Kiwi is used by the resolver too
            resolved = resolve_followup(text, earlier)
            answer = self._pipeline.ask(resolved, where=where)
        return answer.to_json() | {"question": text, "resolved_question": resolved}

    def page_ask(
        self, question: str, history: list[str], filters: dict[str, Any]
    ) -> dict[str, Any]:
        """``ask`` for the chat page, whose filters arrive as the request's fields; a bad
        date is a ``ValueError`` the page shows as it is."""
        where = make_filter(filters.get("outlets"), filters.get("since"), filters.get("until"))
        return self.ask(question, history, where)

    def documents(self) -> list[dict[str, Any]]:
        """The ``GET /api/documents`` rows."""
        return [
            DocumentOut(
                doc_id=d.doc_id,
                title=d.title,
                outlet=d.outlet,
                date=d.date,
                reporter=d.reporter,
                passages=d.passages,
                same_as=list(d.same_as),
            ).model_dump()
            for d in self._pipeline.index.documents.values()
        ]

    def search(self, question: str, k: int, where: PassageFilter | None = None) -> dict[str, Any]:
        text = validate_question(question, self.settings.max_question_chars)
        with self._lock:
            hits = self._pipeline.search(text, k, where=where)
        return {"question": text, "results": [h.to_json() for h in hits]}

    def reindex(self, rebuild: bool) -> ReindexOut:
        """Bring the index in line with the corpus folder with the loaded model, then
        swap in a pipeline over it; requests wait meanwhile instead of seeing half of it."""
        with self._lock:
            old = self._pipeline
            embedder = old.embedder
            index, report = update_store(
                self.settings, lambda texts: embedder.encode_passages(texts), rebuild
            )
            self._pipeline = Pipeline(
                self.settings,
                embedder,
                index,
                HybridRetriever(index, embedder, self.settings),
                report,
            )
        return ReindexOut(
            status="ok",
            rebuilt=report.rebuilt,
            added=report.added,
            changed=report.changed,
            removed=report.removed,
            unchanged=report.unchanged,
            seconds=round(report.seconds, 3),
            index_version=index.version,
            passage_count=index.passage_count,
            document_count=len(index.documents),
        )


def _where(
    outlets: list[str] | None, since: str | None, until: str | None, doc_ids: list[str] | None
) -> PassageFilter | None:
    """The request's filter; a bad date is a 422 that says which field and why."""
    try:
        return make_filter(outlets, since, until, doc_ids)
    except ValueError as exc:
        raise HTTPException(422, f"요청이 올바르지 않습니다 (invalid request): {exc}") from None


def _check_api_key(given: str | None) -> None:
    """Admin calls need ``X-API-Key`` equal to ``RAG_API_KEY``; with no key configured
    they are off. Read per request so a key can be set without code changes."""
    configured = os.environ.get(API_KEY_ENV)
    if not configured:
        raise HTTPException(
            403,
            f"관리 기능이 꺼져 있습니다: {API_KEY_ENV}가 설정되지 않았습니다 "
            f"(admin API disabled: {API_KEY_ENV} is not set)",
        )
    if not given or not secrets.compare_digest(given.encode(), configured.encode()):
        raise HTTPException(403, "API 키가 없거나 틀렸습니다 (missing or wrong X-API-Key)")


def _validation_message(exc: RequestValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'] if p not in ('body', 'query'))}: {e['msg']}"
        for e in exc.errors()
    )
    return f"요청이 올바르지 않습니다 (invalid request): {problems}"


def create_api(service: QAService) -> FastAPI:
    """The JSON API, a sub-application so that its docs and 404s live under ``/api``."""
    api = FastAPI(
        title="기사 문답 API (Korean news Q&A)",
        description="Extractive answers quoted verbatim from Korean news articles.",
        version="1",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )

    @api.exception_handler(InvalidQuestion)
    def invalid_question(_: Request, exc: InvalidQuestion) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @api.exception_handler(RequestValidationError)
    def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        # The offending input is never echoed back (it may be megabytes).
        errors = [{k: e[k] for k in ("loc", "msg", "type") if k in e} for e in exc.errors()]
        return JSONResponse(
            {"detail": _validation_message(exc), "errors": jsonable_encoder(errors)},
            status_code=422,
        )

    @api.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"없는 API 경로입니다 (no such API route): {request.url.path}"
        return JSONResponse(
            {"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @api.post("/ask", response_model=AnswerOut, summary="Answer a question")
    def ask(body: AskRequest) -> dict[str, Any]:
        """The answer span quoted from a source, or an abstention with related passages."""
        where = _where(body.outlets, body.since, body.until, body.doc_ids)
        return service.ask(body.question, body.history, where)

    @api.get("/search", response_model=SearchOut, summary="Rank passages for a question")
    def search(
        q: Annotated[str, Query(description="한국어 질문 (a question in Korean).")],
        k: Annotated[int, Query(ge=1, le=MAX_K, description="Passages to return.")] = 5,
        outlet: Annotated[
            list[str] | None, Query(description="Only articles of this outlet (repeatable).")
        ] = None,
        since: Annotated[
            str | None, Query(description="Only articles dated on or after YYYY-MM-DD.")
        ] = None,
        until: Annotated[
            str | None, Query(description="Only articles dated on or before YYYY-MM-DD.")
        ] = None,
        doc_id: Annotated[
            list[str] | None, Query(description="Only this document (repeatable).")
        ] = None,
    ) -> dict[str, Any]:
        return service.search(q, k, _where(outlet, since, until, doc_id))

    @api.get("/documents", response_model=list[DocumentOut], summary="Indexed articles")
    def documents() -> list[dict[str, Any]]:
        return service.documents()

    @api.get("/health", response_model=HealthOut, summary="Liveness and index facts")
    def health() -> HealthOut:
        index = service.pipeline.index
        return HealthOut(
            status="ok",
            model=index.manifest["model"],
            index_version=index.version,
            format_version=index.manifest["format_version"],
            passage_count=index.manifest["passage_count"],
            document_count=len(index.documents),
            store=index.kind,
        )

    @api.post(
        "/reindex",
        response_model=ReindexOut,
        summary="Re-index the corpus (admin)",
        responses={403: {"description": "No admin key configured, or a wrong one"}},
    )
    def reindex(
        x_api_key: Annotated[str | None, Header()] = None,
        rebuild: Annotated[bool, Query(description="Re-embed every article.")] = False,
    ) -> ReindexOut:
        """Pick up added, changed and removed articles without restarting the server."""
        _check_api_key(x_api_key)
        return service.reindex(rebuild)

    return api


def create_app(pipeline: Pipeline, settings: Settings) -> FastAPI:
    """The whole site: the API mounted at ``/api`` and the chat page at ``/``."""
    service = QAService(pipeline, settings)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/api", create_api(service))

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        """Refuse large bodies before reading them (413), on the API and the page alike,
        and send the security headers with every response."""
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            response = JSONResponse(
                {"detail": f"요청이 너무 큽니다 (request body over {MAX_BODY_BYTES:,} bytes)"},
                status_code=413,
            )
        else:
            response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.get("/api", include_in_schema=False)
    def api_root() -> RedirectResponse:
        return RedirectResponse("/api/docs")

    theme = gr.themes.Soft(
        font=[
            "Noto Sans KR",
            "Noto Sans CJK KR",
            "Apple SD Gothic Neo",
            "Malgun Gothic",
            "system-ui",
            "sans-serif",
        ],  # local fonts only: the page must work offline
        font_mono=["ui-monospace", "monospace"],
    )
    return gr.mount_gradio_app(
        app,
        build_ui(service.page_ask, api_docs_url="/api/docs", documents=service.documents),
        path="/",
        css=CSS,
        theme=theme,
        footer_links=["gradio"],
        run_history=False,
        ssr_mode=False,
    )


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the pipeline once (building the index on first use, with progress on
    stderr), then serve until interrupted."""
    print(f"loading the index of {settings.corpus_dir} ...", file=sys.stderr)
    pipeline = Pipeline.load(settings, show_progress=True)
    if pipeline.index.passage_count <= WARM_PASSAGES:
        print("preparing sentence vectors ...", file=sys.stderr)
        pipeline.answerer.warm(pipeline.index.iter_passages())  # no slow first questions
    pipeline.ask("일자리는 몇 개야?")  # warm the models up: the first question is seconds slower
    app = create_app(pipeline, settings)
    print(
        f"chat page: http://{host}:{port}/  API docs: http://{host}:{port}/api/docs",
        file=sys.stderr,
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
