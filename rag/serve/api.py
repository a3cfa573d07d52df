"""One process serves the chat page at ``/`` and the JSON API under ``/api``.

The pipeline is loaded once and shared. Answering holds one lock (the reader and the
answerers' caches are not made for threads); endpoints that answer are plain ``def``
functions, which FastAPI runs in its threadpool, so waiting for the lock never blocks the
event loop, and ``/api/health``, which only reads, runs on the loop and never queues. An
index update runs beside answering and swaps its pipeline in when done.
"""

import logging
import os
import secrets
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, BinaryIO

# No telemetry from an offline product (must be set before Gradio is imported).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import uvicorn
from fastapi import FastAPI, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.answer.followup import resolve_followup
from rag.index.passage_store import PassageFilter, make_filter
from rag.index.store import DocumentInfo
from rag.index.stores import update_store
from rag.ingest.loaders import LOADERS, Loaded, one_line, size_limit
from rag.pipeline import InvalidQuestion, Pipeline, validate_question
from rag.serve import security
from rag.serve.docs import add_offline_docs
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
#: Uploads (``POST /api/documents``, and the page's file control while an admin key is
#: set) may be as large as the largest file the loaders read, plus the multipart framing;
#: each suffix's own limit is checked on the file itself.
MAX_UPLOAD_BODY_BYTES = max(size_limit(s) for s in LOADERS) + 64 * 1024
UPLOAD_PATHS = ("/api/documents", *security.GRADIO_UPLOAD_PATHS)
#: The admin routes' refusal, as their docs list it.
ADMIN_REFUSED = {403: {"description": "No admin key configured, or a wrong one"}}
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
    confidence: float = Field(
        description="How often an answer this sure is right (the trained reader's probability, "
        "calibrated on held-out questions the articles answer); for a refusal, that of the "
        "best span it refused. The rules reader gives its own, uncalibrated score."
    )
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


class DocumentChangeOut(BaseModel):
    status: str
    documents: list[DocumentOut] = Field(
        description="The added file's documents (one, or one per row of a JSONL/CSV export); "
        "the deleted ones for a delete."
    )
    update: ReindexOut = Field(description="What the index update did.")


class QAService:
    """The shared pipeline, the lock that serialises answering, and the one that
    serialises index updates (which do not stop answering)."""

    def __init__(self, pipeline: Pipeline, settings: Settings) -> None:
        self.settings = settings
        self._pipeline = pipeline
        self._lock = threading.Lock()
        #: Serialises admin writes (file change plus index update) within this process;
        #: the index folder's own lock serialises them across processes.
        self._admin = threading.Lock()

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
        return [_document_out(d).model_dump() for d in self._pipeline.index.documents.values()]

    def search(self, question: str, k: int, where: PassageFilter | None = None) -> dict[str, Any]:
        text = validate_question(question, self.settings.max_question_chars)
        with self._lock:
            hits = self._pipeline.search(text, k, where=where)
        return {"question": text, "results": [h.to_json() for h in hits]}

    def reindex(self, rebuild: bool) -> ReindexOut:
        """Bring the index in line with the corpus folder with the loaded model, then
        swap in a pipeline over it."""
        with self._admin:
            return self._update(rebuild)

    def add_document(self, name: str, stream: BinaryIO, replace: bool) -> DocumentChangeOut:
        """Save an uploaded file into the corpus folder and index it (only its documents
        are embedded). Refusals are ``HTTPException``s with a message for the user; a file
        the index update fails on is taken back out."""
        suffix = _upload_suffix(name)
        limit = size_limit(suffix)
        data = stream.read(limit + 1)  # one byte over the limit is enough to refuse
        if len(data) > limit:
            raise HTTPException(
                413, f"파일이 너무 큽니다 (file too large: {len(data):,} bytes; limit {limit:,})"
            )
        items = _read(suffix, data, self.settings)
        if not any(isinstance(item, Loaded) and item.text.strip() for item in items):
            raise HTTPException(422, f"읽을 수 있는 기사가 없습니다 (no readable article): {name}")
        corpus = self.settings.corpus_dir
        target = corpus / name
        with self._admin:
            if target.exists() and not replace:
                raise HTTPException(
                    409,
                    f"같은 이름의 파일이 이미 있습니다 (file exists; send replace=true): {name}",
                )
            if target.exists() and not target.is_file():
                raise HTTPException(409, f"파일이 아닌 항목입니다 (not a file): {name}")
            previous = target.read_bytes() if target.exists() else None
            update = self._change_file(target, data, previous)
            mine = _documents_of(self._pipeline.index.documents, name)
        return DocumentChangeOut(status="ok", documents=mine, update=update)

    def delete_document(self, doc_id: str) -> DocumentChangeOut:
        """Remove a document's file from the corpus folder and the index. A row of a
        JSONL/CSV export is refused: its file holds other documents too."""
        if "#" in doc_id:
            file = doc_id.split("#", 1)[0]
            raise HTTPException(
                400,
                f"내보내기 파일의 한 행만 지울 수는 없습니다. 파일 전체를 지우려면 {file}을(를) "
                f"지우세요 (a JSONL/CSV row cannot be deleted alone; delete the file {file}, "
                "which removes all its rows)",
            )
        with self._admin:
            mine = _documents_of(self._pipeline.index.documents, doc_id)
            target = self.settings.corpus_dir / doc_id
            if not mine or not _inside(target, self.settings.corpus_dir) or not target.is_file():
                raise HTTPException(404, f"없는 문서입니다 (no such document): {doc_id}")
            update = self._change_file(target, None, target.read_bytes())
        return DocumentChangeOut(status="ok", documents=mine, update=update)

    def _change_file(self, target: Path, data: bytes | None, previous: bytes | None) -> ReindexOut:
        """Write ``data`` to ``target`` (``None``: delete it) and update the index; when the
        update fails, ``previous`` (``None``: no file) is put back so folder and index agree.
        The caller holds ``_admin``."""
        _put(target, data)
        try:
            return self._update(rebuild=False)
        except Exception:
            _put(target, previous)
            raise

    def _update(self, rebuild: bool) -> ReindexOut:
        """Update the index and swap in a pipeline over it; the caller holds ``_admin``.
        Questions go on being answered from the old index meanwhile (the model is held
        one batch at a time, Kiwi is safe to share once built) and from the new one once
        it is swapped in. A Qdrant collection changes in place, so there questions wait
        while it is written (not while the new documents are embedded) instead of seeing
        half of it."""
        old = self._pipeline
        try:
            index, report = update_store(
                self.settings,
                lambda texts: old.embedder.encode_passages(texts),
                rebuild,
                writing=self._lock,
            )
        except (FileNotFoundError, ValueError) as exc:  # no corpus folder, no articles
            raise HTTPException(
                409,
                f"색인을 갱신할 수 없습니다. 지금의 색인으로 계속 답합니다 (index not "
                f"updated; answers go on from the current index): {one_line(exc)}",
            ) from None
        # One assignment: an answer under way finishes on the pipeline it started with.
        self._pipeline = old.over(index, report)
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


def _document_out(d: DocumentInfo) -> DocumentOut:
    return DocumentOut(
        doc_id=d.doc_id,
        title=d.title,
        outlet=d.outlet,
        date=d.date,
        reporter=d.reporter,
        passages=d.passages,
        same_as=list(d.same_as),
    )


def _documents_of(documents: Mapping[str, DocumentInfo], name: str) -> list[DocumentOut]:
    """The documents of one corpus file: itself, or its rows (``name#row``)."""
    return [_document_out(d) for k, d in documents.items() if k.split("#", 1)[0] == name]


def _put(target: Path, data: bytes | None) -> None:
    if data is None:
        target.unlink(missing_ok=True)
    else:
        _write_atomically(target, data)


def _admin_enabled() -> bool:
    return bool(os.environ.get(API_KEY_ENV))


def _upload_suffix(name: str) -> str:
    """The suffix of an upload's name, which must be a plain, visible file name."""
    if (
        not name
        or name != name.strip()
        or "/" in name
        or "\\" in name
        or "\0" in name
        or name.startswith(".")
    ):
        raise HTTPException(
            400, f"파일 이름은 경로 없는 보통 이름이어야 합니다 (plain file name only): {name!r}"
        )
    suffix = Path(name).suffix.lower()
    if suffix not in LOADERS:
        supported = ", ".join(sorted(LOADERS))
        raise HTTPException(
            415, f"지원하지 않는 형식입니다 (unsupported file type {suffix!r}; use {supported})"
        )
    return suffix


def _read(suffix: str, data: bytes, settings: Settings) -> list[Any]:
    """What the loader makes of an upload; a file it cannot read is a 422."""
    try:
        return LOADERS[suffix](data, settings)
    except Exception as exc:  # any parser error: the file, not the server, is at fault
        raise HTTPException(
            422, f"파일을 읽을 수 없습니다 (unreadable file): {one_line(exc)}"
        ) from None


def _inside(path: Path, root: Path) -> bool:
    return ".." not in path.parts and path.resolve().is_relative_to(root.resolve())


def _write_atomically(target: Path, data: bytes) -> None:
    """Write beside the target under a hidden name (the corpus walk skips it), then rename:
    a reader of the folder never sees half a file."""
    fd, temporary = tempfile.mkstemp(prefix=".upload-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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


class PageAdmin:
    """The chat page's document controls: the API's admin calls, with the key typed in
    the page, whose refusals become ``ValueError``s the page shows as they are."""

    def __init__(self, service: QAService) -> None:
        self._service = service

    def enabled(self) -> bool:
        return _admin_enabled()

    def upload(self, key: str, path: str, replace: bool) -> dict[str, Any]:
        file = Path(path)
        with _as_value_error():
            _check_api_key(key)
            with file.open("rb") as stream:
                return self._service.add_document(file.name, stream, replace).model_dump()

    def delete(self, key: str, doc_id: str) -> dict[str, Any]:
        with _as_value_error():
            _check_api_key(key)
            return self._service.delete_document(doc_id).model_dump()


@contextmanager
def _as_value_error() -> Iterator[None]:
    try:
        yield
    except HTTPException as exc:
        raise ValueError(exc.detail) from None


def _validation_message(exc: RequestValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'] if p not in ('body', 'query'))}: {e['msg']}"
        for e in exc.errors()
    )
    return f"요청이 올바르지 않습니다 (invalid request): {problems}"


def create_api(service: QAService) -> FastAPI:
    """The JSON API, a sub-application so that its docs and 404s live under ``/api``. Its
    docs page is served with local files (the product runs offline)."""
    api = FastAPI(
        title="기사 문답 API (Korean news Q&A)",
        description="Extractive answers quoted verbatim from Korean news articles.",
        version="1",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    add_offline_docs(api, "/docs")

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
    def documents(
        response: Response,
        offset: Annotated[int, Query(ge=0, description="Rows to skip.")] = 0,
        limit: Annotated[
            int | None, Query(ge=1, description="Rows to return; all when absent.")
        ] = None,
    ) -> list[dict[str, Any]]:
        """Every indexed document in index order, or one page of them; the
        ``X-Total-Count`` header holds the number of all of them (the body stays a list)."""
        rows = service.documents()
        response.headers["X-Total-Count"] = str(len(rows))
        return rows[offset : None if limit is None else offset + limit]

    @api.post(
        "/documents",
        response_model=DocumentChangeOut,
        summary="Add a document file (admin)",
        responses={
            400: {"description": "Not a plain file name"},
            **ADMIN_REFUSED,
            409: {"description": "A file of that name exists and replace is not set"},
            413: {"description": "Over the size limit of its format"},
            415: {"description": "Unsupported format"},
            422: {"description": "Unreadable file"},
        },
    )
    def add_document(
        file: Annotated[UploadFile, File(description="One file of a supported format.")],
        replace: Annotated[bool, Form(description="Overwrite a file of that name.")] = False,
        x_api_key: Annotated[str | None, Header()] = None,
    ) -> DocumentChangeOut:
        """Save the file into the corpus folder and index it; answers use it at once."""
        _check_api_key(x_api_key)
        return service.add_document(file.filename or "", file.file, replace)

    @api.delete(
        "/documents/{doc_id:path}",
        response_model=DocumentChangeOut,
        summary="Delete a document file (admin)",
        responses={
            400: {"description": "A row of a JSONL/CSV export: delete its file instead"},
            **ADMIN_REFUSED,
            404: {"description": "No such document"},
        },
    )
    def delete_document(
        doc_id: str, x_api_key: Annotated[str | None, Header()] = None
    ) -> DocumentChangeOut:
        """Remove the document's file from the corpus folder and the index."""
        _check_api_key(x_api_key)
        return service.delete_document(doc_id)

    @api.get("/health", response_model=HealthOut, summary="Liveness and index facts")
    async def health() -> HealthOut:  # on the event loop: never behind queued questions
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
        responses={
            **ADMIN_REFUSED,
            409: {"description": "The corpus folder is missing or holds no readable article"},
        },
    )
    def reindex(
        x_api_key: Annotated[str | None, Header()] = None,
        rebuild: Annotated[bool, Query(description="Re-embed every article.")] = False,
    ) -> ReindexOut:
        """Pick up added, changed and removed articles without restarting the server."""
        _check_api_key(x_api_key)
        return service.reindex(rebuild)

    return api


def create_app(pipeline: Pipeline, settings: Settings, hosts: tuple[str, ...] = ()) -> FastAPI:
    """The whole site: the API mounted at ``/api`` and the chat page at ``/``. It answers
    requests for loopback names, ``hosts`` (``serve`` passes the address it listens on)
    and ``settings.allowed_hosts``."""
    service = QAService(pipeline, settings)
    allowed = security.allowed_hosts(settings.allowed_hosts, hosts)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/api", create_api(service))

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        """Refuse, before reading the body: a foreign Host header (400: DNS rebinding),
        uploads to the page while no admin key is set (403: nothing there takes a file
        then), and large bodies (413, on the API and the page alike; uploads get the
        loaders' limit). Send the security headers with every response."""
        path, post = request.url.path, request.method == "POST"
        admin = _admin_enabled()
        length = request.headers.get("content-length", "")
        upload = post and path in UPLOAD_PATHS and admin
        most = MAX_UPLOAD_BODY_BYTES if upload else MAX_BODY_BYTES
        if not security.host_allowed(request.headers.get("host"), allowed):
            response: Response = JSONResponse({"detail": security.BAD_HOST}, status_code=400)
        elif post and path in security.GRADIO_UPLOAD_PATHS and not admin:
            response = JSONResponse({"detail": security.UPLOAD_REFUSED}, status_code=403)
        elif length.isdigit() and int(length) > most:
            response = JSONResponse(
                {"detail": f"요청이 너무 큽니다 (request body over {most:,} bytes)"},
                status_code=413,
            )
        else:
            response = await call_next(request)
        response.headers.update(security.HEADERS)
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
        build_ui(
            service.page_ask,
            api_docs_url="/api/docs",
            documents=service.documents,
            admin=PageAdmin(service),
        ),
        path="/",
        css=CSS,
        theme=theme,
        footer_links=["gradio"],
        run_history=False,
        ssr_mode=False,
        # An exception's text can hold internals (object reprs, paths): the page shows
        # only gr.Error messages, meant for users (ui.app.shown_to_users), never that text.
        show_error=False,
        # Also without a Content-Length (chunked), which the guard cannot check up front.
        max_file_size=MAX_UPLOAD_BODY_BYTES,
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
    app = create_app(pipeline, settings, hosts=(host,))
    print(
        f"chat page: http://{host}:{port}/  API docs: http://{host}:{port}/api/docs",
        file=sys.stderr,
    )
    if host in ("0.0.0.0", "::") and not settings.allowed_hosts:
        print(
            "listening on every interface: set RAG_ALLOWED_HOSTS to the names or addresses "
            "other machines use to reach this one (other Host headers are refused)",
            file=sys.stderr,
        )
    uvicorn.run(app, host=host, port=port, log_level="info")
