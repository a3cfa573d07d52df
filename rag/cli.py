"""The ``rag`` command line. Its ``--json`` outputs are contracts: add keys, never rename."""

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer

from rag.settings import (
    BUNDLED_MODEL,
    FusionMethod,
    ReaderKind,
    RetrievalMode,
    Settings,
    StoreKind,
    in_bf16,
)

if TYPE_CHECKING:
    from rag.index.passage_store import PassageFilter

app = typer.Typer(
    help="Offline Korean document Q&A: index news articles, search them, ask questions "
    "and get answers quoted verbatim from the sources.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)

CorpusOpt = Annotated[
    Path | None,
    typer.Option("--corpus", help="Folder of articles (default: seeds/, or RAG_CORPUS_DIR)."),
]
IndexDirOpt = Annotated[
    Path | None, typer.Option("--index-dir", help="Where indexes live (default: index/).")
]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", help="sentence-transformers model name or path (default: bundled E5)."),
]
ModeOpt = Annotated[
    RetrievalMode | None, typer.Option("--mode", help="hybrid (default), dense or bm25.")
]
FusionOpt = Annotated[FusionMethod | None, typer.Option("--fusion", help="rrf or score.")]
StoreOpt = Annotated[
    StoreKind | None,
    typer.Option(
        "--store",
        help="Where the index lives: embedded (default, files in --index-dir) or qdrant "
        "(RAG_QDRANT_URL or RAG_QDRANT_PATH); `rag index --store qdrant` copies an "
        "embedded index into Qdrant without re-embedding.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
BatchOpt = Annotated[
    Path | None,
    typer.Option(
        "--batch",
        help="File of questions: one per line, or JSONL rows with a 'question' field.",
    ),
]

OutletOpt = Annotated[
    list[str] | None,
    typer.Option("--outlet", help="Only articles of this outlet (repeat for several)."),
]
SinceOpt = Annotated[
    str | None, typer.Option("--since", help="Only articles dated on or after YYYY-MM-DD.")
]
UntilOpt = Annotated[
    str | None, typer.Option("--until", help="Only articles dated on or before YYYY-MM-DD.")
]
DocOpt = Annotated[
    list[str] | None,
    typer.Option("--doc", help="Only this document id (repeat for several)."),
]
QuestionArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="QUESTION",
        help="A question in Korean; quotes are optional (rag ask 인천시 일자리는 몇 개야?).",
        show_default=False,
    ),
]
ReaderOpt = Annotated[
    ReaderKind | None,
    typer.Option(
        "--reader",
        help="Who marks the answer: neural (default, the trained reader), rules (several "
        "times faster, fewer answers right) or combined (the reader, falling back on the "
        "rules where it would refuse); or RAG_READER.",
    ),
]


def make_settings(**overrides: Any) -> Settings:
    """Defaults ← RAG_* environment ← command-line options that were given."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn expected failures into one clear line on stderr and exit status 1."""
    from rag.answer.questions import InvalidQuestion
    from rag.index.store import IndexNotReady

    try:
        yield
    except (InvalidQuestion, IndexNotReady, FileNotFoundError, ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More log output.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="rag: %(message)s",
        stream=sys.stderr,
    )
    # pypdf and trafilatura warn about every odd file: `rag index` lists skipped ones itself.
    for noisy in (
        "sentence_transformers",
        "transformers",
        "httpx",
        "bm25s",
        "pypdf",
        "trafilatura",
        "htmldate",
    ):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def make_where(
    outlets: list[str] | None, since: str | None, until: str | None, docs: list[str] | None
) -> "PassageFilter | None":
    """The filter of ``--outlet/--since/--until/--doc``; a bad date is a usage error
    (exit status 2), reported before anything is loaded."""
    from rag.index.passage_store import make_filter

    try:
        return make_filter(outlets, since, until, docs)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def read_questions(path: Path) -> list[str]:
    """One question a line, or JSONL rows with a ``question`` field; blank lines skipped."""
    if not path.is_file():
        raise FileNotFoundError(f"questions file not found: {path}")
    questions = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
            if not isinstance(row.get("question"), str):
                raise ValueError(f"{path}:{n}: JSON row has no 'question' string")
            questions.append(row["question"])
        else:
            questions.append(line)
    return questions


def printable(text: str | None) -> str:
    """Article text for a terminal: control characters (escape codes) shown as "�"."""
    from rag.answer.questions import CONTROL_CHARACTERS

    return CONTROL_CHARACTERS.sub("\ufffd", text or "")


def same_content_line(also_in: list[dict[str, Any]]) -> str:
    """ "같은 내용: 뉴스스텝, 이로운넷": the outlets (or ids) carrying the same article."""
    names = dict.fromkeys(printable(d["outlet"] or d["doc_id"]) for d in also_in)
    return f"같은 내용: {', '.join(names)}"


def _print_results(question: str, results: list[dict[str, Any]]) -> None:
    typer.echo(f"Q: {question}")
    if not results:
        typer.echo("  (no matching passages)")
    for rank, r in enumerate(results, start=1):
        snippet = " ".join(printable(r["text"]).split())
        snippet = snippet if len(snippet) <= 160 else snippet[:159] + "…"
        typer.echo(
            f"{rank:>2}. {r['score']:.4f}  {r['doc_id']} [{r['start']}:{r['end']}]  "
            f"{printable(r['title'])}"
            f"\n    {snippet}"
        )
        if r["also_in"]:
            typer.echo(f"    {same_content_line(r['also_in'])}")


def run_questions(
    question: str | None,
    batch: Path | None,
    answer_one: Callable[[list[str]], list[dict[str, Any]]],
) -> list[tuple[str, dict[str, Any]]]:
    """Shared by search and ask: a single question or a batch file, answered in order.
    An invalid question in a batch yields an ``error`` entry instead of stopping the run."""
    from rag.answer.questions import InvalidQuestion

    if (question is None) == (batch is None):
        raise ValueError("give either a question or --batch FILE")
    questions = [question] if question is not None else read_questions(batch)  # type: ignore[arg-type]
    if batch is None:
        return [(questions[0], answer_one(questions)[0])]
    out = []
    for q in questions:
        try:
            out.append((q, answer_one([q])[0]))
        except InvalidQuestion as exc:
            out.append((q, {"error": str(exc)}))
    return out


@app.command()
def index(
    corpus: CorpusOpt = None,
    index_dir: IndexDirOpt = None,
    model: ModelOpt = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-embed everything.")] = False,
    json_out: JsonOpt = False,
    store: StoreOpt = None,
) -> None:
    """Build or update the index of a corpus folder (only changed articles are re-embedded)
    and list the files that could not be read."""
    from rag.index.embedder import Embedder
    from rag.index.stores import update_store
    from rag.ingest.loaders import require_corpus_dir

    with user_errors():
        settings = make_settings(corpus_dir=corpus, index_dir=index_dir, model=model, store=store)
        require_corpus_dir(settings.corpus_dir)
        embedder = Embedder(settings)
        built, report = update_store(
            settings,
            lambda texts: embedder.encode_passages(texts, show_progress=not json_out),
            rebuild,
        )
        what = "rebuilt" if report.rebuilt else ("updated" if report.wrote else "up to date")
        if json_out:
            summary = {
                "status": what,
                "rebuilt": report.rebuilt,
                "added": report.added,
                "changed": report.changed,
                "removed": report.removed,
                "unchanged": report.unchanged,
                "seconds": round(report.seconds, 3),
                "index_dir": built.location,
                "index_version": built.version,
                "passage_count": built.passage_count,
                "store": built.kind,
                "migrated": report.migrated,
                "document_count": len(built.documents),
                "skipped": [asdict(s) for s in report.skipped],
            }
            typer.echo(json.dumps(summary, ensure_ascii=False))
            return
        typer.echo(
            f"index {'copied from the embedded index, ' if report.migrated else ''}{what}: "
            f"{len(built.documents)} documents, {built.passage_count} passages "
            f"({len(report.added)} added, {len(report.changed)} changed, "
            f"{len(report.removed)} removed) in {report.seconds:.1f}s -> {built.location}"
        )
        if report.skipped:
            typer.echo(f"skipped {len(report.skipped)} unreadable files or rows:")
            for item in report.skipped:
                typer.echo(f"  {printable(str(item))}")


@app.command()
def search(
    words: QuestionArg = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Passages to return.")] = 5,
    batch: BatchOpt = None,
    json_out: JsonOpt = False,
    mode: ModeOpt = None,
    fusion: FusionOpt = None,
    corpus: CorpusOpt = None,
    index_dir: IndexDirOpt = None,
    model: ModelOpt = None,
    store: StoreOpt = None,
    outlet: OutletOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    doc: DocOpt = None,
) -> None:
    """Rank passages for a question (or a --batch file of questions), optionally among
    the articles of some outlets, dates or documents only."""
    from rag.pipeline import Pipeline

    question = " ".join(words) if words else None
    where = make_where(outlet, since, until, doc)
    with user_errors():
        settings = make_settings(
            corpus_dir=corpus,
            index_dir=index_dir,
            model=model,
            mode=mode,
            fusion=fusion,
            store=store,
        )
        if question is not None and batch is None:
            from rag.answer.questions import validate_question

            validate_question(question, settings.max_question_chars)  # fail before loading
        pipeline = Pipeline.load(settings, show_progress=not json_out)

        def answer(qs: list[str]) -> list[dict[str, Any]]:
            return [
                {"results": [h.to_json() for h in hits]}
                for hits in pipeline.search_batch(qs, k, where=where)
            ]

        for q, result in run_questions(question, batch, answer):
            if json_out:
                typer.echo(json.dumps({"question": q} | result, ensure_ascii=False))
            elif "error" in result:
                typer.echo(f"Q: {q}\n  error: {result['error']}")
            else:
                _print_results(q, result["results"])


def _print_answer(result: dict[str, Any]) -> None:
    from rag.answer.answerer import NOT_FOUND

    if result["abstained"]:
        typer.echo(f"A: {NOT_FOUND} (confidence {result['confidence']:.2f})")
        if result["sources"]:
            typer.echo("Related passages:")
    else:
        typer.echo(f"A: {printable(result['answer'])}  (confidence {result['confidence']:.2f})")
        typer.echo("Sources:" if len(result["sources"]) > 1 else "Source:")
    for s in result["sources"]:
        quote = s["quote"]
        if s["answer_start"] is not None:
            a, b = s["answer_start"] - s["start"], s["answer_end"] - s["start"]
            quote = f"{quote[:a]}【{quote[a:b]}】{quote[b:]}"
        meta = ", ".join(x for x in (s["outlet"], s["date"]) if x)
        typer.echo(f"  “{' '.join(printable(quote).split())}”")
        typer.echo(
            f"    — {printable(s['title'])}{f' ({printable(meta)})' if meta else ''} · "
            f"{s['doc_id']} [{s['start']}:{s['end']}]"
        )
        if s["also_in"]:
            typer.echo(f"    {same_content_line(s['also_in'])}")


@app.command()
def ask(
    words: QuestionArg = None,
    batch: BatchOpt = None,
    json_out: JsonOpt = False,
    mode: ModeOpt = None,
    corpus: CorpusOpt = None,
    index_dir: IndexDirOpt = None,
    model: ModelOpt = None,
    store: StoreOpt = None,
    outlet: OutletOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    doc: DocOpt = None,
    reader: ReaderOpt = None,
) -> None:
    """Answer a question with a span quoted verbatim from the articles, or say that the
    articles do not contain the answer; the filters limit which articles are read."""
    from rag.answer.questions import validate_question
    from rag.pipeline import Pipeline

    question = " ".join(words) if words else None
    where = make_where(outlet, since, until, doc)
    with user_errors():
        settings = make_settings(
            corpus_dir=corpus,
            index_dir=index_dir,
            model=model,
            mode=mode,
            store=store,
            reader=reader,
        )
        if question is not None and batch is None:
            validate_question(question, settings.max_question_chars)  # fail before loading
        pipeline = Pipeline.load(settings, show_progress=not json_out)

        def answer(qs: list[str]) -> list[dict[str, Any]]:
            return [a.to_json() for a in pipeline.ask_batch(qs, where=where)]

        for q, result in run_questions(question, batch, answer):
            if json_out:
                typer.echo(
                    json.dumps(
                        result if "error" not in result else {"question": q} | result,
                        ensure_ascii=False,
                    )
                )
            elif "error" in result:
                typer.echo(f"Q: {q}\n  error: {result['error']}")
            else:
                typer.echo(f"Q: {q}")
                _print_answer(result)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 7860,
    corpus: CorpusOpt = None,
    index_dir: IndexDirOpt = None,
    model: ModelOpt = None,
    store: StoreOpt = None,
    reader: ReaderOpt = None,
) -> None:
    """Serve the chat page at / and the JSON API under /api from one process."""
    from rag.serve.api import serve as run_server

    with user_errors():
        settings = make_settings(
            corpus_dir=corpus, index_dir=index_dir, model=model, store=store, reader=reader
        )
        run_server(settings, host=host, port=port)


_REPO = Path(__file__).resolve().parents[1]
#: Committed splits live here; the shared benchmarks sit beside the checkout.
EVAL_DIR = _REPO / "eval"
_SHARED = _REPO.parent / "shared" / "benchmarks"


@app.command("train-reader")
def train_reader_cmd(
    korquad: Annotated[
        Path, typer.Option(help="KorQuAD 1.0 dev JSON (split by article; test never read).")
    ] = _SHARED / "korquad-v1" / "KorQuAD_v1.0_dev.json",
    newsqa: Annotated[
        Path | None, typer.Option(help="newsqa-ko folder (its train half is used too).")
    ] = _SHARED / "newsqa-ko",
    out: Annotated[
        Path | None,
        typer.Option(help="Weights file (default: the shipped one, with its model card)."),
    ] = None,
    trained_layers: Annotated[int, typer.Option(help="Top encoder layers trained.")] = 7,
    epochs: Annotated[int, typer.Option(help="Passes over the training windows.")] = 3,
    bf16: Annotated[
        bool,
        typer.Option(
            help="Train under bf16 autocast (fp32 master weights): 1.9x faster a step on CPUs "
            "with native bf16, as the shipped weights were trained."
        ),
    ] = True,
    learning_rate: Annotated[float, typer.Option(help="Peak AdamW learning rate.")] = 1e-4,
    news_weight: Annotated[
        int, typer.Option(min=1, help="Times each newsqa-ko train question is seen per epoch.")
    ] = 1,
    synthetic: Annotated[
        int,
        typer.Option(
            min=0,
            help="Questions made from newsqa-ko articles outside its val/test splits "
            "(a question word in place of an amount or date of a sentence).",
        ),
    ] = 0,
    written_questions: Annotated[
        Path | None,
        typer.Option(
            help="Written questions over newsqa-ko articles outside its splits, trained on "
            "beside its train half (eval/questions-written-train.jsonl; never the val or test "
            "part)."
        ),
    ] = None,
    near_misses: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of train questions also asked as a near miss (a year or name swapped "
            "for one the article never mentions) over the same passage, with no span to mark.",
        ),
    ] = 0.0,
    vague_questions: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of answerable train questions also asked without one common noun "
            "their passage uses (everyday questions repeat fewer of the article's words).",
        ),
    ] = 0.0,
    average_with: Annotated[
        Path | None,
        typer.Option(
            help="Another reader's weights file (as `--out` writes it), averaged in after "
            "training: a model soup. The shipped reader is one (see its model card)."
        ),
    ] = None,
    average_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="The averaged-in reader's share.")
    ] = 0.5,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 13,
    limit: Annotated[
        int | None, typer.Option(help="Train on the first N examples only (smoke runs).")
    ] = None,
    selection_only: Annotated[
        bool, typer.Option(help="Keep the weights; refit only answer selection and threshold.")
    ] = False,
    calibration_only: Annotated[
        bool,
        typer.Option(
            help="Keep the weights and the selection; refit only the calibration of the "
            "confidence answers are shown with."
        ),
    ] = False,
) -> None:
    """Rebuild the reader from the KorQuAD / newsqa-ko train articles (about 66 minutes on
    2 cores), fit answer selection and abstention on the first 400 KorQuAD val questions and
    the newsqa-ko val articles (as the shipped selection was fitted), and write the splits
    (eval/*-split.json), the weights and the model card. Test articles are never read."""
    from rag.answer.reader import (
        WEIGHTS_DIR,
        WEIGHTS_FILE,
        ExtractiveReader,
        reader_metadata,
    )
    from rag.index.embedder import resolve_model_path
    from rag.training.reader import train_reader, write_card
    from rag.training.selection import calibrate_selection, fit_selection

    with user_errors():
        if not korquad.is_file():
            raise FileNotFoundError(f"KorQuAD file not found: {korquad}")
        if newsqa is not None and not (newsqa / "questions-dev.jsonl").is_file():
            raise FileNotFoundError(f"newsqa-ko folder not found: {newsqa}")
        if written_questions is not None and not written_questions.is_file():
            raise FileNotFoundError(f"written questions not found: {written_questions}")
        if average_with is not None:
            partner_layers = reader_metadata(average_with).get("trained_layers", "")
            if not partner_layers.isdigit() or int(partner_layers) > trained_layers:
                raise ValueError(  # before an hour of training, not after
                    f"{average_with} is no reader of at most {trained_layers} trained layers"
                )
        settings = make_settings()
        model_path = resolve_model_path(settings.model_copy(update={"model": BUNDLED_MODEL}))
        weights = out or WEIGHTS_FILE
        card = weights.with_name("MODEL_CARD.md")
        if selection_only or calibration_only:
            facts = json.loads(reader_metadata(weights)["config"])  # what training recorded
        else:
            facts = train_reader(
                model_path,
                korquad,
                newsqa,
                EVAL_DIR,
                out=weights,
                trained_layers=trained_layers,
                epochs=epochs,
                learning_rate=learning_rate,
                news_weight=news_weight,
                synthetic=synthetic,
                written=written_questions,
                near_misses=near_misses,
                vague=vague_questions,
                seed=seed,
                limit=limit,
                bf16=bf16,
                average_with=average_with,
                average_share=average_share,
            )
        answer_bf16 = in_bf16(settings.reader_precision)  # fit as it will answer
        reader = ExtractiveReader.load(model_path, weights=weights, bf16=answer_bf16)
        fit = calibrate_selection if calibration_only else fit_selection
        facts["selection"] = fit(
            settings,
            korquad,
            reader,
            WEIGHTS_DIR / "selection.json" if out is None else weights.with_suffix(".json"),
            limit=limit,
            newsqa=newsqa,
        )
        write_card(weights, facts, card)
        typer.echo(json.dumps(facts, ensure_ascii=False, indent=2))


def _with_readers(
    configs: list[tuple[str, dict[str, Any]]], readers: str | None
) -> list[tuple[str, dict[str, Any]]]:
    """Each configuration once per named reader (``hybrid+rules``, ``hybrid+neural``)."""
    if readers is None:
        return configs
    kinds = [r.strip() for r in readers.split(",") if r.strip()]
    unknown = [k for k in kinds if k not in get_args(ReaderKind)]
    if unknown or not kinds:
        raise ValueError(
            f"unknown reader {unknown or readers!r}: use {', '.join(get_args(ReaderKind))}"
        )
    return [
        (f"{name}+{k}", {**overrides, "reader": k}) for name, overrides in configs for k in kinds
    ]


def _split_questions(items: list[Any], split: str, korquad: bool) -> list[Any]:
    """The questions of one part of a committed article split: eval/korquad-split.json
    (by article title) for KorQuAD, eval/newsqa-split.json (by file) for other sets."""
    name = "korquad-split.json" if korquad else "newsqa-split.json"
    path = EVAL_DIR / name
    if split not in ("train", "val", "test"):
        raise ValueError(f"unknown split {split!r}: use train, val or test")
    if not path.is_file():
        raise FileNotFoundError(f"split file missing: {path} (made by `rag train-reader`)")
    keys = set(json.loads(path.read_text(encoding="utf-8"))[split])
    chosen = [
        q
        for q in items
        if q.docs and (q.docs[0].rsplit("#", 1)[0] if korquad else q.docs[0]) in keys
    ]
    if not chosen:
        raise ValueError(f"no question of this set belongs to the {split} part of {name}")
    return chosen


def _compare_configs(compare: str | None, config: Path | None) -> list[tuple[str, dict[str, Any]]]:
    """Named settings overrides: bm25 / dense / hybrid, or JSON files of settings."""
    items = [c.strip() for c in compare.split(",") if c.strip()] if compare else []
    if config is not None:
        items.append(str(config))
    configs = []
    for item in items or ["hybrid"]:
        if item in ("bm25", "dense", "hybrid"):
            configs.append((item, {"mode": item}))
        else:
            path = Path(item)
            if not path.is_file():
                raise FileNotFoundError(
                    f"config not found: {item} (use bm25, dense, hybrid or a JSON settings file)"
                )
            configs.append((path.stem, json.loads(path.read_text(encoding="utf-8"))))
    return configs


@app.command("eval")
def evaluate_cmd(
    questions: Annotated[
        Path, typer.Option("--questions", help="JSONL question set with gold answers.")
    ] = Path("eval/questions.jsonl"),
    corpus: CorpusOpt = None,
    index_dir: IndexDirOpt = None,
    model: ModelOpt = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="JSON file of settings overrides.")
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option("--compare", help="Comma-separated configs, e.g. bm25,dense,hybrid."),
    ] = None,
    korquad: Annotated[
        Path | None,
        typer.Option("--korquad", help="KorQuAD 1.0 dev JSON: open-domain over its paragraphs."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the first N questions.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write report.md and PNG charts here.")
    ] = None,
    retrieval_only: Annotated[
        bool, typer.Option("--retrieval-only", help="Score retrieval only (much faster).")
    ] = False,
    reader: Annotated[
        str | None,
        typer.Option(
            "--reader",
            help="Answer readers to compare, comma-separated: neural (the trained reader, "
            "the default), rules (the rule extractor), combined (the reader, falling back on "
            "the rules where it would refuse).",
        ),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help="Score only the questions of the train, val or test articles of "
            "eval/korquad-split.json (--korquad) or eval/newsqa-split.json (newsqa-ko); "
            "retrieval still runs over the whole corpus.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Score retrieval, answers, abstention and latency on a question set (or KorQuAD),
    for one or several configurations side by side."""
    from rag.evaluation import harness as evaluation
    from rag.evaluation.report import write_report
    from rag.pipeline import Pipeline

    with user_errors():
        base = make_settings(corpus_dir=corpus, index_dir=index_dir, model=model)
        configs = _with_readers(_compare_configs(compare, config), reader)
        gold_paragraph = None
        if korquad is not None:
            if not korquad.is_file():
                raise FileNotFoundError(f"KorQuAD file not found: {korquad}")
            _, items = evaluation.korquad_documents(korquad)
            base_pipeline = evaluation.korquad_pipeline(base, korquad, not json_out)
            dataset = f"KorQuAD 1.0 dev ({korquad.name})"
        else:
            if not questions.is_file():
                raise FileNotFoundError(f"questions file not found: {questions}")
            items = evaluation.load_questions(questions)
            base_pipeline = Pipeline.load(base, show_progress=not json_out)
            dataset = f"{questions} over {base.corpus_dir}"
        if split is not None:
            items = _split_questions(items, split, korquad is not None)
        items = items[:limit] if limit else items
        results: dict[str, dict[str, Any]] = {}
        for name, overrides in configs:
            pipeline = base_pipeline.with_settings(**overrides)
            if not json_out:
                typer.echo(f"evaluating {name} on {len(items)} questions…", err=True)
            results[name] = evaluation.evaluate(pipeline, items, answers=not retrieval_only)
            if korquad is not None and not retrieval_only:
                results[name]["gold_paragraph"] = evaluation.reader_scores(pipeline, items)
                gold_paragraph = gold_paragraph or results[name]["gold_paragraph"]
        result = {
            "dataset": dataset,
            "command": "rag eval " + " ".join(sys.argv[2:]),
            "configs": results,
            "reader": gold_paragraph,
        }
        if report is not None:
            path = write_report(result, report)
            typer.echo(f"report written to {path}", err=True)
        errors = sum(
            m.get("errors", 0) + m.get("gold_paragraph", {}).get("errors", 0)
            for m in results.values()
        )
        if json_out:
            typer.echo(json.dumps(result, ensure_ascii=False))
        else:
            _print_evaluation(results)
        if errors:
            typer.echo(
                f"error: {errors} questions raised an error (listed in the failures)", err=True
            )
            raise typer.Exit(1)


def _print_evaluation(results: dict[str, dict[str, Any]]) -> None:
    from rag.evaluation.report import comparison_table, returned_text, type_table

    typer.echo(comparison_table(results))
    for name, metrics in results.items():
        if "gold_paragraph" in metrics:
            gold = metrics["gold_paragraph"]
            typer.echo(
                f"\nGold paragraph given ({name}): EM {gold['exact_match']:.3f}, "
                f"F1 {gold['f1']:.3f}, abstained {gold['abstained']}"
            )
    first = next(iter(results.values()))
    typer.echo("\n" + type_table(first))
    failures = first["failures"]
    typer.echo(f"\n{len(failures)} failed questions (first configuration):")
    for f in failures[:40]:
        typer.echo(
            f"  {f['id']} [{f['type']}] {f['question']}\n"
            f"      expected {f['expected'] or '(abstain)'} got {returned_text(f)!r}"
        )
