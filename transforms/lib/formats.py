"""Input files to raw article records: format detection, decoding and parsing.

Pure functions, no Beam. A raw record is a dict with the keys of
``RAW_FIELDS``; values not known yet are ``None``. Exactly one of ``text`` and
``html`` is set. Anything that cannot become a record raises ``Rejected``
(or, for files holding many records, is yielded as a ``Rejected`` so the good
records of the same file still come through).
"""

import codecs
import json
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterator

from schemas.rows import RawRecord
from transforms.lib.records import ErrorType, Rejected
from transforms.lib.text import replace_lone_surrogates

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
# A path with a scheme (gs://, s3://, http://) is left to its Beam filesystem.
_SCHEME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9+.]*://")
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def input_format(path: str) -> str | None:
    """``text``, ``html``, ``json``, ``jsonl`` or ``feed`` from the file name, else None."""
    name = posixpath.basename(path.replace("\\", "/")).lower()
    for suffix in COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return FORMATS.get(posixpath.splitext(name)[1])


def path_origin(path: str) -> str:
    """``path`` as an ``origin`` that can be written as UTF-8.

    A local file name that is not valid UTF-8 reaches Python with its bad
    bytes as lone surrogates (``surrogateescape``); they are written
    ``\\xNN``, so the origin still names the file, and any other lone
    surrogate ``\\uNNNN``.
    """
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        pass
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return path.encode("utf-8", "backslashreplace").decode("utf-8")


def check_regular_file(path: str) -> None:
    """Rejects a local path that is not a regular file (``not_a_regular_file``), unopened.

    A FIFO would block the read forever and a device (a link to ``/dev/zero``)
    never ends, so only regular files are read. Links are followed: the
    kind of their target counts. A path with a scheme is not checked; a
    path that cannot be examined raises its ``OSError``.
    """
    if _SCHEME.match(path):
        return
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return
    kind = next((name for is_kind, name in _FILE_KINDS if is_kind(mode)), "not a regular file")
    raise Rejected(
        ErrorType.NOT_A_REGULAR_FILE, f"the path is {kind}, not a regular file; not read"
    )


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
            ErrorType.BINARY_FILE, "the file holds binary data, not text", excerpt=sample[:64].hex()
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


def raw_record(origin: str, **fields) -> RawRecord:
    """A raw record with every field of ``RAW_FIELDS``, unknown ones None."""
    record = dict.fromkeys(RAW_FIELDS)
    record["origin"] = origin
    record.update(fields)
    return record


def parse_text_file(text: str, origin: str) -> RawRecord:
    """A plain-text article: a first line followed by a blank line is the title."""
    lines = text.lstrip("\ufeff").split("\n", 2)
    if len(lines) == 3 and lines[0].strip() and not lines[1].strip():
        return raw_record(origin, title=lines[0].strip(), text=lines[2], text_source="file")
    return raw_record(origin, text=text, text_source="file")


def parse_html_file(html: str, origin: str) -> RawRecord:
    """An HTML page; its main text and metadata are extracted when normalising."""
    return raw_record(origin, html=html, text_source="file")


Repaired = Callable[[int], object]


def parse_json_object(obj: object, origin: str, *, on_repair: Repaired | None = None) -> RawRecord:
    """A raw record from one JSON object in our field names or news-please's.

    Rejects a non-object (``malformed_json``) and fields of the wrong type
    (``invalid_field``): text, title, url, source and language must be
    strings, authors a string or a list of strings, published a string or a
    number (Unix seconds).

    Every string in the record can be written as UTF-8: a lone surrogate
    (``"\\ud83d"``, half an emoji cut by JavaScript) becomes U+FFFD, so the
    article and the rest of the field are kept. ``on_repair``, if given, is
    called with the number of characters replaced, when there were any.
    """
    if not isinstance(obj, dict):
        raise Rejected(
            ErrorType.MALFORMED_JSON,
            f"expected a JSON object per article, got {type(obj).__name__}",
            excerpt=_json_excerpt(obj),
        )
    fields = {}
    for field, names in _JSON_FIELDS.items():
        value = next((obj[name] for name in names if obj.get(name) is not None), None)
        fields[field] = _checked_field(field, value, obj)
    if fields["text"] is None and isinstance(obj.get("html"), str):
        fields.update(text=None, html=obj["html"])
    replaced = 0
    for field, value in fields.items():
        if isinstance(value, str):
            fields[field] = repaired = replace_lone_surrogates(value)
            replaced += _replacements(value, repaired)
        elif isinstance(value, list):
            fields[field] = [replace_lone_surrogates(v) for v in value]
            replaced += sum(map(_replacements, value, fields[field]))
    if replaced and on_repair is not None:
        on_repair(replaced)
    return raw_record(origin, **fields, text_source="file")


def _replacements(before: str, after: str) -> int:
    return after.count("\ufffd") - before.count("\ufffd") if before is not after else 0


def _json_excerpt(obj: object) -> str:
    """The start of ``obj`` as JSON, for an errors row; never raises (deep nesting)."""
    try:
        return json.dumps(obj, default=str)[:200]
    except (ValueError, RecursionError):
        return f"<{type(obj).__name__}>"


def _loads(text: str, what: str) -> object:
    """``json.loads``, every failure of it a ``Rejected`` (``malformed_json``)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise Rejected(
            ErrorType.MALFORMED_JSON,
            f"{what} nests arrays or objects too deeply to read",
            excerpt=text,
        ) from None
    except ValueError as exc:  # JSONDecodeError, and integers past Python's 4,300 digits
        raise Rejected(ErrorType.MALFORMED_JSON, f"{what}: {exc}", excerpt=text) from None


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
        ErrorType.INVALID_FIELD,
        f"field {field!r} has the wrong type ({type(value).__name__})",
        excerpt=_json_excerpt(obj),
    )


def parse_json_file(
    text: str, origin: str, *, on_repair: Repaired | None = None
) -> Iterator[RawRecord | Rejected]:
    """Records from a ``.json`` file: one object, or an array of objects.

    Each array element gets ``#N`` (0-based) after the origin; a bad element
    is yielded as a ``Rejected`` and the others still come through. A file
    that is not readable JSON (too deep, a number too long) raises one
    ``Rejected`` (``malformed_json``). See ``parse_json_object`` for
    ``on_repair``.
    """
    document = _loads(text, "invalid JSON")
    if not isinstance(document, list):
        yield parse_json_object(document, origin, on_repair=on_repair)
        return
    for index, obj in enumerate(document):
        try:
            yield parse_json_object(obj, f"{origin}#{index}", on_repair=on_repair)
        except Rejected as reject:
            reject.origin = f"{origin}#{index}"
            yield reject


def parse_json_line(
    line: str, origin: str, *, on_repair: Repaired | None = None
) -> RawRecord | None:
    """A record from one JSON Lines line; None for a blank line.

    Every way the line can fail is a ``Rejected``, so the caller can go on
    with the next line. See ``parse_json_object`` for ``on_repair``.
    """
    if not line.strip():
        return None
    return parse_json_object(_loads(line, "invalid JSON line"), origin, on_repair=on_repair)


_LINE_ENDING = re.compile(r"\r\n?")
# A byte that is not ASCII whitespace: what makes a JSON line more than blank.
_NOT_BLANK = re.compile(rb"\S")


def normalise_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` become ``\\n``."""
    return _LINE_ENDING.sub("\n", text)


def split_lines(
    read,
    *,
    max_line_bytes: int,
    max_total_bytes: int | None = None,
    chunk_bytes: int = 1 << 20,
) -> Iterator[tuple[int, bytes | None]]:
    """``(number, line)`` for each line of ``read(n)`` that is not blank, numbered from 1.

    Lines come without their newline; at most one line and one chunk are
    held in memory. A line longer than ``max_line_bytes`` is not kept and is
    yielded as ``(number, None)``, so the caller can report it. Lines of
    ASCII whitespace only, of any length, are skipped without a Python step
    per line (a gzip bomb of newlines costs seconds, not minutes).

    Raises ``Rejected`` (``too_large``) on reading more than
    ``max_total_bytes``, after yielding every line that ended within them.
    """
    number = 0  # lines ended before the current one
    parts: list[bytes] = []  # the current line so far; dropped once it is oversized
    held = 0
    oversized = filled = False  # filled: the current line has a byte that is not blank
    total = 0
    while block := read(chunk_bytes):
        total += len(block)
        cut = max_total_bytes is not None and total > max_total_bytes
        if cut:
            block = block[: len(block) - (total - max_total_bytes)]
        first = block.find(b"\n")
        head = block if first < 0 else block[:first]
        filled = filled or _NOT_BLANK.search(head) is not None
        if not oversized:
            parts.append(head)
            held += len(head)
            oversized = held > max_line_bytes
            if oversized:
                parts, held = [], 0
        if first >= 0:
            number += 1
            if filled:
                yield number, None if oversized else b"".join(parts)
            last = block.rfind(b"\n")
            if last > first:
                middle = block[first + 1 : last]
                yield from _whole_lines(middle, number, max_line_bytes)
                number += middle.count(b"\n") + 1
            rest = block[last + 1 :]
            filled = _NOT_BLANK.search(rest) is not None
            oversized = len(rest) > max_line_bytes
            parts, held = ([], 0) if oversized else ([rest], len(rest))
        if cut:
            raise Rejected(
                ErrorType.TOO_LARGE,
                f"the file holds more than {max_total_bytes} bytes (after decompression); "
                "the lines that ended before the limit were read",
            )
    if filled:
        yield number + 1, None if oversized else b"".join(parts)


def _whole_lines(lines: bytes, number: int, max_line_bytes: int):
    """The lines of ``lines`` (newline-separated) that are not blank, numbered after ``number``.

    Only the lines that hold something cost a Python step: runs of blank
    lines are skipped in C (``strip``, then the search for a byte that is
    not blank).
    """
    if not lines.strip():
        return
    position = 0  # the start of a line
    while (found := _NOT_BLANK.search(lines, position)) is not None:
        line_start = lines.rfind(b"\n", position, found.start()) + 1 or position
        line_end = lines.find(b"\n", found.start())
        line_end = len(lines) if line_end < 0 else line_end
        number += lines.count(b"\n", position, line_start) + 1
        too_long = line_end - line_start > max_line_bytes
        yield number, None if too_long else lines[line_start:line_end]
        position = line_end + 1
