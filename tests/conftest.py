"""Shared fixtures: the real model and a real index of the seed articles, built once."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

#: Fuzz tests are reproducible in CI: the same examples every run, no example database
#: written into the repository, no per-example deadline (a first question embeds its
#: passages). Each test sets its own budget (``max_examples``), sized for 2 cores.
settings.register_profile(
    "repo",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("repo")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
for _name in [n for n in os.environ if n.startswith("RAG_")]:
    del os.environ[_name]  # the suite tests defaults, not the developer's environment

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"


@pytest.fixture(scope="session", autouse=True)
def testclient_host() -> Iterator[None]:
    """FastAPI's TestClient sends ``Host: testserver``: the apps the tests build answer it
    too (a real server answers loopback names, the address it binds and RAG_ALLOWED_HOSTS)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAG_ALLOWED_HOSTS", "testserver")
        yield


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory):
    from rag.settings import Settings

    return Settings(corpus_dir=SEEDS, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def seed_pipeline(seed_settings):
    from rag.pipeline import Pipeline

    return Pipeline.load(seed_settings, show_progress=False)


@pytest.fixture(scope="session")
def embedder(seed_pipeline):
    return seed_pipeline.embedder


@pytest.fixture()
def counting_embed(embedder):
    """The real embedding function, and the number of passages each of its calls embedded."""
    calls: list[int] = []

    def embed(texts: list[str]):
        calls.append(len(texts))
        return embedder.encode_passages(texts)

    return embed, calls


#: The keys of an answer source and of a search hit: the ``--json`` and ``/api`` contract.
SOURCE_KEYS = frozenset(
    ("doc_id", "title", "outlet", "date", "passage_id", "quote", "start", "end")
    + ("answer_start", "answer_end", "score", "page", "also_in")
)
HIT_KEYS = frozenset(
    ("doc_id", "passage_id", "title", "text", "start", "end", "score", "page", "also_in")
)


@pytest.fixture(scope="session")
def source_keys() -> frozenset[str]:
    return SOURCE_KEYS


@pytest.fixture(scope="session")
def hit_keys() -> frozenset[str]:
    return HIT_KEYS


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session", params=["neural", "rules"])
def reader_pipeline(seed_pipeline, request):
    """The seed pipeline answering with each reader: the trained one and the rules."""
    return seed_pipeline.with_settings(reader=request.param)


# --- documents of other formats, made in the tests (no binary fixtures) -------------------


def _pdf_bytes(pages: list[list[str]], title: str | None = None) -> bytes:
    """A PDF whose pages hold these lines as a real text layer: a Type0 font with a
    ToUnicode map, as Korean PDFs store text. No glyphs are embedded; extraction needs none."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    def stream(data: str) -> DecodedStreamObject:
        s = DecodedStreamObject()
        s.set_data(data.encode())
        return s

    chars = sorted({c for page in pages for line in page for c in line})
    code = {c: i + 1 for i, c in enumerate(chars)}
    cmap = "\n".join(
        [
            "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
            "1 begincodespacerange <0000> <FFFF> endcodespacerange",
            *(
                f"1 beginbfchar <{code[c]:04X}> <{ord(c):04X}> endbfchar"
                for c in chars
                if ord(c) <= 0xFFFF
            ),
            "endcmap CMapName currentdict /CMap defineresource pop end end",
        ]
    )
    writer = PdfWriter()
    name = NameObject
    cid_font = DictionaryObject(
        {
            name("/Type"): name("/Font"),
            name("/Subtype"): name("/CIDFontType2"),
            name("/BaseFont"): name("/Test"),
            name("/CIDSystemInfo"): DictionaryObject(
                {
                    name("/Registry"): TextStringObject("Adobe"),
                    name("/Ordering"): TextStringObject("Identity"),
                    name("/Supplement"): NumberObject(0),
                }
            ),
        }
    )
    font = writer._add_object(
        DictionaryObject(
            {
                name("/Type"): name("/Font"),
                name("/Subtype"): name("/Type0"),
                name("/BaseFont"): name("/Test"),
                name("/Encoding"): name("/Identity-H"),
                name("/DescendantFonts"): ArrayObject([writer._add_object(cid_font)]),
                name("/ToUnicode"): writer._add_object(stream(cmap)),
            }
        )
    )
    for lines in pages:
        page = writer.add_blank_page(595, 842)
        shown = " ".join("<" + "".join(f"{code[c]:04X}" for c in ln) + "> Tj T*" for ln in lines)
        page[name("/Contents")] = writer._add_object(
            stream(f"BT /F1 10 Tf 14 TL 40 800 Td {shown} ET")
        )
        page[name("/Resources")] = DictionaryObject(
            {name("/Font"): DictionaryObject({name("/F1"): font})}
        )
    if title:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def hwpx_paragraph(text: str) -> str:
    """One ``<hp:p>`` holding one run of ``text``."""
    from xml.sax.saxutils import escape

    return (
        f'<hp:p paraPrIDRef="0"><hp:run charPrIDRef="0"><hp:t>{escape(text)}</hp:t></hp:run></hp:p>'
    )


def _hwpx_bytes(sections: list[list[str]], title: str | None = None) -> bytes:
    """An HWPX package with one ``Contents/section<i>.xml`` per item of ``sections``: a
    list of paragraph texts, or raw XML where an item starts with "<" (tables)."""
    import io
    import zipfile

    ns = (
        'xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" '
        'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph"'
    )
    hpf = (
        '<?xml version="1.0" encoding="UTF-8"?><opf:package '
        'xmlns:opf="http://www.idpf.org/2007/opf/"><opf:metadata>'
        f"<opf:title>{title or ''}</opf:title></opf:metadata></opf:package>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/hwp+zip", zipfile.ZIP_STORED)
        z.writestr("Contents/content.hpf", hpf)
        for i, items in enumerate(sections):
            body = "".join(x if x.startswith("<") else hwpx_paragraph(x) for x in items)
            xml = f'<?xml version="1.0" encoding="UTF-8"?><hs:sec {ns}>{body}</hs:sec>'
            z.writestr(f"Contents/section{i}.xml", xml)
    return out.getvalue()


@pytest.fixture(scope="session")
def make_pdf():
    return _pdf_bytes


@pytest.fixture(scope="session")
def make_hwpx():
    return _hwpx_bytes
