"""Input files to raw article records: format detection, decoding and parsing.

Pure functions, no Beam. A raw record is a dict with the keys of
``RAW_FIELDS``; values not known yet are ``None``. Exactly one of ``text`` and
``html`` is set. Anything that cannot become a record raises ``Rejected``
(or, for files holding many records, is yielded as a ``Rejected`` so the good
records of the same file still come through).
"""

import codecs
import json
import posixpath
import re
from collections.abc import Iterator

from transforms.lib.records import Rejected

RAW_FIELDS = (
    "origin",
    "text",
    "html",
    "url",
    "title",
    "authors",
    "published",
    "source",
    "language",
    "text_source",
    "modified",
    "description",
    "image_url",
    "site_name",
    "identity_key",
)

FORMATS = {
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".rdf": "feed",
}
# Beam's file readers decompress these transparently (CompressionTypes.AUTO).
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".zst", ".deflate")

# Field names, ours first, then news-please's.
_JSON_FIELDS = {
    "url": ("url",),
    "title": ("title",),
    "text": ("text", "maintext"),
    "published": ("published", "date_publish", "published_at"),
    "authors": ("authors", "author"),
    "source": ("source", "source_domain"),
    "language": ("language",),
}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_BINARY_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BZh",
    b"\x7fELF",
    b"\x00asm",
    b"RIFF",
    b"OggS",
    b"ID3",
    b"\xfd7zXZ",
    b"\x28\xb5\x2f\xfd",
    b"SQLite format 3",
)
# C0 controls other than tab, newline, form feed and carriage return.
_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 12, 13})
_SAMPLE = 8192
# Random bytes are ~10% C0 controls; text with a few stray NULs is far below this.
_MAX_CONTROL_SHARE = 0.05
DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024


def input_format(path: str) -> str | None:
    """``text``, ``html``, ``json``, ``jsonl`` or ``feed`` from the file name, else None."""
    name = posixpath.basename(path.replace("\\", "/")).lower()
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return FORMATS.get(posixpath.splitext(name)[1])


def decode_bytes(data: bytes) -> str:
    """Text from bytes: BOM first, then strict UTF-8, then Windows-1252/Latin-1.

    Rejects binary data (known file signatures, or more than 5% control
    bytes in the first 8 KiB) with ``binary_file``. Stray NUL bytes in
    otherwise textual data are left for the normaliser to strip.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    sample = data[:_SAMPLE]
    if sample.startswith(_BINARY_MAGIC) or (
        sample and sum(sample.count(b) for b in _CONTROL_BYTES) / len(sample) > _MAX_CONTROL_SHARE
    ):
        raise Rejected(
            "binary_file", "the file holds binary data, not text", excerpt=sample[:64].hex()
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; Latin-1 maps every byte.
        return data.decode("latin-1")


def raw_record(origin: str, **fields) -> dict:
    """A raw record with every field of ``RAW_FIELDS``, unknown ones None."""
    record = dict.fromkeys(RAW_FIELDS)
    record["origin"] = origin
    record.update(fields)
    return record


def parse_text_file(text: str, origin: str) -> dict:
    """A plain-text article: a first line followed by a blank line is the title."""
    lines = text.lstrip("\ufeff").split("\n", 2)
    if len(lines) == 3 and lines[0].strip() and not lines[1].strip():
        return raw_record(origin, title=lines[0].strip(), text=lines[2], text_source="file")
    return raw_record(origin, text=text, text_source="file")


def parse_html_file(html: str, origin: str) -> dict:
    """An HTML page; its main text and metadata are extracted when normalising."""
    return raw_record(origin, html=html, text_source="file")


def parse_json_object(obj: object, origin: str) -> dict:
    """A raw record from one JSON object in our field names or news-please's.

    Rejects a non-object (``malformed_json``) and fields of the wrong type
    (``invalid_field``): text, title, url, source and language must be
    strings, authors a string or a list of strings, published a string or a
    number (Unix seconds).
    """
    if not isinstance(obj, dict):
        raise Rejected(
            "malformed_json",
            f"expected a JSON object per article, got {type(obj).__name__}",
            excerpt=json.dumps(obj)[:200],
        )
    fields = {}
    for field, names in _JSON_FIELDS.items():
        value = next((obj[name] for name in names if obj.get(name) is not None), None)
        fields[field] = _checked_field(field, value, obj)
    if fields["text"] is None and isinstance(obj.get("html"), str):
        return raw_record(
            origin, **{**fields, "text": None, "html": obj["html"]}, text_source="file"
        )
    return raw_record(origin, **fields, text_source="file")


def _checked_field(field: str, value: object, obj: dict) -> object:
    if value is None:
        return None
    if field == "authors":
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(a, str) for a in value):
            return value
    elif field == "published":
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return value
    elif isinstance(value, str):
        return value
    raise Rejected(
        "invalid_field",
        f"field {field!r} has the wrong type ({type(value).__name__})",
        excerpt=json.dumps(obj, default=str)[:200],
    )


def parse_json_file(text: str, origin: str) -> Iterator[dict | Rejected]:
    """Records from a ``.json`` file: one object, or an array of objects.

    Each array element gets ``#N`` (0-based) after the origin; a bad element
    is yielded as a ``Rejected`` and the others still come through.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Rejected("malformed_json", f"invalid JSON: {exc}", excerpt=text) from None
    if not isinstance(document, list):
        yield parse_json_object(document, origin)
        return
    for index, obj in enumerate(document):
        try:
            yield parse_json_object(obj, f"{origin}#{index}")
        except Rejected as reject:
            reject.origin = f"{origin}#{index}"
            yield reject


def parse_json_line(line: str, origin: str) -> dict | None:
    """A record from one JSON Lines line; None for a blank line."""
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise Rejected("malformed_json", f"invalid JSON line: {exc}", excerpt=line) from None
    return parse_json_object(obj, origin)


_LINE_ENDING = re.compile(r"\r\n?")


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``."""
    return _LINE_ENDING.sub("\n", text)


def split_lines(read, *, max_line_bytes: int, chunk_bytes: int = 1 << 20) -> Iterator[bytes | None]:
    """Lines without their newline from ``read(n)``, holding at most one line in memory.

    A line longer than ``max_line_bytes`` is skipped unread and yielded as
    ``None``, so the caller can report it and line numbers stay right.
    """
    pending = b""
    oversized = False
    while block := read(chunk_bytes):
        *lines, rest = (pending + block).split(b"\n")
        for line in lines:
            yield None if oversized else line
            oversized = False
        pending = rest
        if len(pending) > max_line_bytes:
            oversized, pending = True, b""
    if oversized:
        yield None
    elif pending:
        yield pending
