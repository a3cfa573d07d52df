"""Article exports (.jsonl, .csv): one article per row, each row its own document.

A row's document text is its body field; its doc_id is ``<path>#<id>`` (the row number
when there is no id). Its checksum covers what was read from the row, so editing one row
re-indexes only that row. A bad row is rejected with its reason; the others still load.
"""

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Mapping

from rag.ingest.loaders import Loaded, Metadata, Rejected, UnreadableFile, decode_bytes, one_line

Fields = Mapping[str, tuple[str, ...]]


def _field(row: Mapping[str, object], names: tuple[str, ...]) -> str | None:
    """The first of ``names`` present in ``row`` with a value, as text."""
    for name in names:
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return None


def _documents(
    rows: Iterable[tuple[str, str, object]], fields: Fields, encoding: str
) -> list[Loaded | Rejected]:
    """Documents from (row label, row number, parsed row or why it is unreadable)."""
    out: list[Loaded | Rejected] = []
    keys: set[str] = set()
    for label, number, row in rows:
        if isinstance(row, str):
            out.append(Rejected(label, row))
            continue
        if not isinstance(row, dict):
            out.append(Rejected(label, "not an object of fields"))
            continue
        named = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        body = _field(named, fields["body"])
        if body is None or not body.strip():
            out.append(
                Rejected(label, f"no article text (looked for: {', '.join(fields['body'])})")
            )
            continue
        key = (_field(named, fields["id"]) or number).strip()
        if key in keys:
            out.append(Rejected(label, f"a second row with id {key!r}"))
            continue
        keys.add(key)
        meta = Metadata(
            **{
                name: _field(named, fields[name])
                for name in ("title", "outlet", "date", "reporter")
            },
            url=_field(named, fields["url"]),
        )
        content = json.dumps([body, meta.title, meta.outlet, meta.date, meta.reporter, meta.url])
        checksum = hashlib.sha256(content.encode()).hexdigest()
        out.append(Loaded(body, encoding, meta, body_only=True, key=key, checksum=checksum))
    return out


def load_jsonl(data: bytes, fields: Fields) -> list[Loaded | Rejected]:
    """One JSON object per line; blank lines are ignored."""
    text, encoding = decode_bytes(data)

    def rows() -> Iterable[tuple[str, str, object]]:
        # Split on "\n" alone: JSON strings may hold U+2028, which splitlines() would cut.
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                try:
                    row: object = json.loads(line)
                except (json.JSONDecodeError, RecursionError) as exc:
                    row = f"not valid JSON ({one_line(exc)})"
                yield f"line {number}", str(number), row

    return _documents(rows(), fields, encoding)


def load_csv(data: bytes, fields: Fields) -> list[Loaded | Rejected]:
    """A header row naming the columns, then one article per row."""
    text, encoding = decode_bytes(data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = {(name or "").strip().lower() for name in reader.fieldnames or ()}
    except csv.Error as exc:
        raise UnreadableFile(f"not a valid CSV file ({one_line(exc)})") from None
    if not columns & set(fields["body"]):
        raise UnreadableFile(f"no article text column (looked for: {', '.join(fields['body'])})")

    def rows() -> Iterable[tuple[str, str, object]]:
        number = 0
        while True:
            number += 1
            try:
                row: object = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                row = f"not a valid CSV row ({one_line(exc)})"
            yield f"row {number}", str(number), row

    return _documents(rows(), fields, encoding)
