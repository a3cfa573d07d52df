"""HWPX documents (Hancom Office's zipped XML format), read with the standard library.

Text sits in ``Contents/section*.xml``: paragraphs ``<hp:p>`` whose runs hold ``<hp:t>``
text. Each paragraph becomes a line of the document's text; paragraphs inside a table
cell or text box follow their enclosing paragraph. The zip is untrusted input, so the
bytes it may unpack to are capped (a zip bomb is skipped, not unpacked). HWP 5 (.hwp, a
binary format) is not read: no maintained, permissively licensed pure-Python reader.
"""

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from xml.etree import ElementTree

from rag.ingest.loaders import Loaded, Metadata, UnreadableFile, one_line

#: Most XML a document may unpack to; real press releases need well under 1 MB.
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
_SECTION = re.compile(r"Contents/section(\d+)\.xml")
#: Inline elements inside ``<hp:t>`` that stand for characters.
_INLINE = {"tab": "\t", "lineBreak": "\n", "nbSpace": "\u00a0", "fwSpace": "\u3000"}


def _local(tag: str) -> str:
    """An element's name without its namespace (HWPML has had several)."""
    return tag.rsplit("}", 1)[-1]


def _run_text(t: ElementTree.Element) -> str:
    parts = [t.text or ""]
    for child in t:
        parts += [_INLINE.get(_local(child.tag), ""), child.tail or ""]
    return "".join(parts)


def _own_text(element: ElementTree.Element, nested: list[ElementTree.Element]) -> Iterator[str]:
    """The text of a paragraph's own runs; paragraphs nested in it go to ``nested``."""
    for child in element:
        name = _local(child.tag)
        if name == "p":
            nested.append(child)
        elif name == "t":
            yield _run_text(child)
        else:
            yield from _own_text(child, nested)


def _paragraph(p: ElementTree.Element) -> Iterator[str]:
    """A paragraph's text, then the texts of the paragraphs in its tables or text boxes."""
    nested: list[ElementTree.Element] = []
    yield "".join(_own_text(p, nested))
    for inner in nested:
        yield from _paragraph(inner)


def _paragraphs(element: ElementTree.Element) -> Iterator[str]:
    """Paragraph texts in document order."""
    for child in element:
        if _local(child.tag) == "p":
            yield from _paragraph(child)
        else:
            yield from _paragraphs(child)


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    if info.file_size > budget:
        raise UnreadableFile(f"unpacks to more than {MAX_UNPACKED_BYTES:,} bytes (a zip bomb?)")
    with archive.open(info) as f:
        return f.read(budget + 1)  # the size a zip declares is not trusted either


def load_hwpx(data: bytes) -> Loaded:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            numbered = [
                (int(m.group(1)), info)
                for info in archive.infolist()
                if (m := _SECTION.fullmatch(info.filename))
            ]
            sections = [info for _, info in sorted(numbered, key=lambda pair: pair[0])]
            if not sections:
                raise UnreadableFile("no Contents/section*.xml: not an HWPX document")
            budget, lines = MAX_UNPACKED_BYTES, []
            for info in sections:
                xml = _read(archive, info, budget)
                budget -= len(xml)
                if budget < 0:
                    raise UnreadableFile(f"unpacks to more than {MAX_UNPACKED_BYTES:,} bytes")
                lines += _paragraphs(ElementTree.fromstring(xml))
            title = _title(archive, budget)
    except UnreadableFile:
        raise
    # Encrypted or oddly compressed entries raise RuntimeError or NotImplementedError,
    # and so does XML nested deeper than the recursion limit.
    except (
        zipfile.BadZipFile,
        zlib.error,
        ElementTree.ParseError,
        EOFError,
        OSError,
        ValueError,
        RuntimeError,
        NotImplementedError,
    ) as exc:
        raise UnreadableFile(f"not a readable HWPX file ({one_line(exc)})") from None
    return Loaded(text="\n".join(lines), encoding="hwpx", meta=Metadata(title=title))


def _title(archive: zipfile.ZipFile, budget: int) -> str | None:
    """The title in the package's metadata (``Contents/content.hpf``), if one was set."""
    try:
        info = archive.getinfo("Contents/content.hpf")
    except KeyError:
        return None
    root = ElementTree.fromstring(_read(archive, info, budget))
    found = next((e for e in root.iter() if _local(e.tag) == "title"), None)
    title = " ".join("".join(found.itertext()).split()) if found is not None else ""
    return title or None
