"""The documents' texts, kept beside an index version (``texts.jsonl``).

Every offset the index hands out (passages, quotes, answer spans) is into a document's
text. For an HTML page, a PDF, an HWPX file or an export row that text was extracted and
is not the file itself, so the index keeps it: ``text[start:end]`` stays verifiable. It
is read lazily, one document at a time, never loaded whole.
"""

import json
import os
from collections.abc import Iterable
from pathlib import Path

from rag.ingest.cleaning import CleanDocument

TEXTS_FILE = "texts.jsonl"


def write_texts(version: Path, docs: Iterable[CleanDocument]) -> None:
    """Write the texts of ``docs`` into the version folder, whole or not at all."""
    tmp = version / f".{TEXTS_FILE}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps({"doc_id": doc.doc_id, "text": doc.text}, ensure_ascii=False))
            f.write("\n")
    os.replace(tmp, version / TEXTS_FILE)


def read_text(version: Path, doc_id: str) -> str | None:
    """The stored text of ``doc_id``; None if the version keeps no texts (built before
    they were kept) or not this document's."""
    # Rows start with the doc_id exactly as written, so only the matching row is parsed.
    prefix = json.dumps({"doc_id": doc_id}, ensure_ascii=False)[:-1] + ","
    try:
        with open(version / TEXTS_FILE, encoding="utf-8") as f:
            for line in f:
                if line.startswith(prefix):
                    return json.loads(line)["text"]
    except FileNotFoundError:
        return None
    return None
