"""Property tests (Hypothesis) for the functions that take untrusted input first.

Whatever a file holds, the parsers and text normalisers may refuse it only
with ``Rejected``, and every string they hand on must be writable as UTF-8
(no lone surrogates): Beam's coder and pyarrow raise on one, and a single one
once failed whole runs. The number of examples comes from the profile loaded
in ``tests/conftest.py`` (``ci`` when the environment variable CI is set).
"""

import io
import json
import string
import unicodedata

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import example, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from transforms.lib import formats, text  # noqa: E402
from transforms.lib.records import Rejected  # noqa: E402

# Text as files and JSON escapes can deliver it: any code point, lone surrogates
# included, with more than their share of the characters the code treats specially.
_SPECIAL = "\r\n\t \x00\x0b\x0c\x1f\x7f\x85\xa0\u2028\u200b\ufeff\ufffd\ufffe’“”"
_CHARACTERS = st.one_of(
    st.characters(),
    st.characters(categories=["Cs"]),
    st.sampled_from(_SPECIAL),
)
_FRAGMENTS = st.sampled_from(
    ["â€™", "Ã©", "Â ", "\r\n", "\n\n", "Subscribe", "Share this", "Read more", "U.S.", "don't"]
)
ANY_TEXT = st.lists(st.one_of(st.text(_CHARACTERS, max_size=20), _FRAGMENTS), max_size=12).map(
    "".join
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(_CHARACTERS, max_size=20),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(_CHARACTERS, max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)
_FIELD_NAMES = ["text", "maintext", "title", "url", "published", "date_publish", "authors"]
_FIELD_NAMES += ["author", "source", "source_domain", "language", "html"]
ARTICLE_OBJECTS = st.dictionaries(
    st.sampled_from(_FIELD_NAMES),
    st.one_of(st.text(_CHARACTERS, max_size=30), st.lists(ANY_TEXT, max_size=2), JSON_VALUES),
    max_size=5,
)


def _writable(value) -> bool:
    """True when every string in ``value`` encodes as UTF-8."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, list | tuple):
        return all(_writable(v) for v in value)
    elif isinstance(value, dict):
        return all(_writable(k) and _writable(v) for k, v in value.items())
    return True


def _check_record(record: dict, origin: str) -> None:
    assert tuple(record) == formats.RAW_FIELDS
    assert record["origin"] == origin
    assert _writable(record)
    assert (record["text"] is None) or (record["html"] is None)
    authors = record["authors"]
    assert authors is None or all(isinstance(a, str) for a in authors)


# ---------------------------------------------------------------- JSON


@given(st.one_of(ARTICLE_OBJECTS, JSON_VALUES))
@example({"text": "cut \ud83d emoji", "authors": ["\udc80"]})
@example({"text": 10**4000})
def test_parse_json_object_yields_a_writable_record_or_rejects(obj):
    repairs = []
    try:
        record = formats.parse_json_object(obj, "f.json", on_repair=repairs.append)
    except Rejected as reject:
        assert reject.error_type in {"malformed_json", "invalid_field"}
        assert _writable(reject.message)
        return
    _check_record(record, "f.json")
    assert all(count > 0 for count in repairs) and len(repairs) <= 1


@given(st.one_of(ANY_TEXT, JSON_VALUES.map(json.dumps), ARTICLE_OBJECTS.map(json.dumps)))
@example("[" * 5_000 + "]" * 5_000)  # RecursionError once ended the whole file
@example('{"text": 1' + "0" * 5000 + "}")  # ValueError: more than 4,300 digits
@example('{"text": "\\ud83d"}')
def test_parse_json_line_never_raises_anything_but_rejected(line):
    try:
        record = formats.parse_json_line(line, "f.jsonl#1")
    except Rejected as reject:
        assert reject.error_type in {"malformed_json", "invalid_field"}
        return
    if record is None:
        assert not line.strip()
    else:
        _check_record(record, "f.jsonl#1")


@given(
    st.one_of(
        ANY_TEXT, JSON_VALUES.map(json.dumps), st.lists(ARTICLE_OBJECTS, max_size=3).map(json.dumps)
    )
)
@example("[" * 5_000 + "]" * 5_000)
def test_parse_json_file_yields_records_and_rejects_with_their_origins(document):
    try:
        outcomes = list(formats.parse_json_file(document, "f.json"))
    except Rejected as reject:
        assert reject.error_type in {"malformed_json", "invalid_field"}
        return
    loaded = json.loads(document)
    expected = (
        [f"f.json#{i}" for i in range(len(loaded))] if isinstance(loaded, list) else ["f.json"]
    )
    origins = []
    for outcome in outcomes:
        if isinstance(outcome, Rejected):
            origins.append(outcome.origin)
        else:
            _check_record(outcome, outcome["origin"])
            origins.append(outcome["origin"])
    assert origins == expected


# ---------------------------------------------------------------- bytes and lines


@given(st.binary(max_size=300))
@example(b"\xef\xbb\xbf\xed\xa0\xbd")  # a UTF-8 BOM, then a surrogate encoded in UTF-8
@example(b"\xff\xfe\x3d\xd8")  # UTF-16 with a lone high surrogate
@example(b"\x00\x00\xfe\xff\x00\x00\xd8\x3d")  # UTF-32 holding a surrogate code point
def test_decode_bytes_gives_writable_text_or_rejects_binary(data):
    try:
        decoded = formats.decode_bytes(data)
    except Rejected as reject:
        assert reject.error_type == "binary_file"
        return
    assert _writable(decoded)


@given(st.text(max_size=200))
def test_decode_bytes_reads_utf8_text_back_unchanged(value):
    data = value.encode("utf-8")
    try:
        decoded = formats.decode_bytes(data)
    except Rejected:
        return  # control characters or a file signature: refused as binary
    assert decoded == value.removeprefix("\ufeff") or decoded == value


def _expected_lines(data: bytes, max_line_bytes: int):
    return [
        (number, None if len(line) > max_line_bytes else line)
        for number, line in enumerate(data.split(b"\n"), start=1)
        if line.strip()
    ]


_LINE_BYTES = st.lists(st.sampled_from([b"a", b"{}", b" ", b"\t", b"\r", b"\n", b"\n\n", b"\xff"]))


@given(
    _LINE_BYTES.map(b"".join),
    st.integers(1, 8),
    st.integers(1, 12),
    st.none() | st.integers(0, 40),
)
@example(b"a\n" + b"y" * 20 + b"\nb\n", 5, 1 << 20, None)  # a long line inside one chunk
def test_split_lines_numbers_and_caps_lines(data, max_line_bytes, chunk_bytes, max_total_bytes):
    lines = []
    try:
        for line in formats.split_lines(
            io.BytesIO(data).read,
            max_line_bytes=max_line_bytes,
            max_total_bytes=max_total_bytes,
            chunk_bytes=chunk_bytes,
        ):
            lines.append(line)
    except Rejected as reject:
        assert reject.error_type == "too_large"
        assert max_total_bytes is not None and len(data) > max_total_bytes
        within = data[:max_total_bytes]
        assert lines == _expected_lines(within[: within.rfind(b"\n") + 1], max_line_bytes)
        return
    assert max_total_bytes is None or len(data) <= max_total_bytes
    assert lines == _expected_lines(data, max_line_bytes)


# ---------------------------------------------------------------- text and HTML files


@given(st.text(_CHARACTERS, max_size=200))
def test_parse_text_file_keeps_the_text_and_takes_a_title_only_before_a_blank_line(value):
    record = formats.parse_text_file(value, "f.txt")
    assert tuple(record) == formats.RAW_FIELDS and record["html"] is None
    if record["title"] is not None:
        assert record["title"] == record["title"].strip() and record["title"]
        assert "\n" not in record["title"]
        assert record["text"] in value
    else:
        assert record["text"] == value


@given(st.text(_CHARACTERS, max_size=200))
def test_parse_html_file_keeps_the_page_whole(value):
    record = formats.parse_html_file(value, "f.html")
    assert record["html"] == value and record["text"] is None


# ---------------------------------------------------------------- text clean-up


@given(ANY_TEXT)
@example("wasnâ€™t \ud83d over")
def test_repair_text_is_writable_nfc_and_free_of_control_characters(value):
    repaired = text.repair_text(value)
    assert _writable(repaired)
    assert unicodedata.is_normalized("NFC", repaired)
    assert not set(repaired) & set("\x00\x0b\x0c\x7f\r\u200b\ufeff")


@given(ANY_TEXT)
@example("\x80\xa0â€™")  # ftfy left it; with the no-break space collapsed, a rerun repaired it
@example("A\u0302\u20ac\u2122")  # NFC makes "Â€™" only after the check for mojibake
@example("x â€‹ y")  # repaired to a zero-width space, removed only by a rerun
def test_clean_text_is_writable_and_idempotent(value):
    cleaned = text.clean_text(value)
    assert _writable(cleaned)
    assert text.clean_text(cleaned) == cleaned
    assert cleaned == cleaned.strip() and "\n\n\n" not in cleaned


@given(ANY_TEXT)
def test_clean_line_is_one_stripped_writable_line_or_none(value):
    line = text.clean_line(value)
    if line is not None:
        assert _writable(line) and line == line.strip() and "\n" not in line


@given(ANY_TEXT)
def test_count_words_content_hash_and_language_never_raise(value):
    assert text.count_words(value) >= 0
    digest = text.content_hash(value)
    assert len(digest) == 32 and set(digest) <= set(string.hexdigits.lower())
    assert text.content_hash(" ".join(value.split())) == digest
    language = text.detect_language(value)
    assert language is None or (_writable(language) and language.isalpha())
