"""PDF files with a text layer (press releases, reports), read with pypdf.

The document's text is the pages' extracted text, a blank line between pages, and the
offset where each page begins is kept so that every passage knows its page. A scanned PDF
(images only) has no text layer: it is skipped, not OCR'd.
"""

import io
import re

from pypdf import PdfReader

from rag.ingest.loaders import Loaded, Metadata, UnreadableFile, one_line

# A title that is only the name of the file the PDF was made from ("보도자료.hwp").
_FILE_NAME = re.compile(r"(^Microsoft \w+ - )|\.(hwpx?|docx?|pptx?|xlsx?|pdf|txt)$", re.I)


def load_pdf(data: bytes) -> Loaded:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile("encrypted PDF (a password is needed)")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except UnreadableFile:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file; all mean "skip it"
        raise UnreadableFile(f"not a readable PDF ({one_line(exc)})") from None
    if not any(page.strip() for page in pages):
        raise UnreadableFile("PDF without a text layer (scanned pages are not read)")
    starts, pos = [], 0
    for page in pages:
        starts.append(pos)
        pos += len(page) + 2
    return Loaded(
        text="\n\n".join(pages),
        encoding="pdf",
        meta=Metadata(title=None if _FILE_NAME.search(title) else title or None),
        page_starts=tuple(starts),
    )
