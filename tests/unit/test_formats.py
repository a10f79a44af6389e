"""Reading files: format detection, decoding and parsing (no Beam)."""

import codecs
import io
import json
import os
import time

import pytest

from transforms.lib import formats
from transforms.lib.records import Rejected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a/b.txt", "text"),
        ("gs://bucket/x.HTML", "html"),
        ("x.htm", "html"),
        ("x.json", "json"),
        ("x.jsonl.gz", "jsonl"),
        ("x.ndjson", "jsonl"),
        ("x.txt.bz2", "text"),
        ("README.md", None),
        ("noext", None),
    ],
)
def test_input_format_by_extension(path, expected):
    assert formats.input_format(path) == expected


def test_decode_utf8_and_boms():
    assert formats.decode_bytes("café “x”".encode()) == "café “x”"
    assert formats.decode_bytes(codecs.BOM_UTF8 + b"abc") == "abc"
    assert formats.decode_bytes("héllo wörld".encode("utf-16")) == "héllo wörld"


def test_decode_latin1_without_declaration():
    assert formats.decode_bytes("Zürich – café".encode("cp1252")) == "Zürich – café"
    assert formats.decode_bytes(b"caf\xe9 \x81") == "caf\xe9 \x81"  # undefined in cp1252


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(100),
        b"%PDF-1.7 ...",
        bytes(range(256)) * 4,
        b"\x1f\x8b\x08\x00",
    ],
)
def test_decode_rejects_binary(data):
    with pytest.raises(Rejected) as caught:
        formats.decode_bytes(data)
    assert caught.value.error_type == "binary_file"


def test_a_few_nul_bytes_do_not_make_text_binary():
    text = "word " * 500 + "\x00" + "word " * 500
    assert "word" in formats.decode_bytes(text.encode())


def test_text_title_only_when_followed_by_blank_line():
    titled = formats.parse_text_file("Title here\n\nBody one.\nBody two.", "f.txt")
    assert titled["title"] == "Title here"
    assert titled["text"] == "Body one.\nBody two."
    untitled = formats.parse_text_file("First line.\nSecond line.", "f.txt")
    assert untitled["title"] is None
    assert untitled["text"] == "First line.\nSecond line."
    assert untitled["text_source"] == "file"


def test_json_object_in_news_please_names():
    record = formats.parse_json_object(
        {
            "maintext": "Body",
            "date_publish": "2020-01-01 10:00:00",
            "source_domain": "x.org",
            "authors": ["A", "B"],
            "title": "T",
            "url": "https://x.org/a",
            "language": "en",
        },
        "f.json",
    )
    assert record["text"] == "Body"
    assert record["published"] == "2020-01-01 10:00:00"
    assert record["source"] == "x.org"
    assert record["authors"] == ["A", "B"]


def test_our_names_win_over_news_please_names():
    record = formats.parse_json_object({"text": "ours", "maintext": "theirs"}, "f.json")
    assert record["text"] == "ours"


def test_json_wrong_types_are_rejected_with_the_field_named():
    with pytest.raises(Rejected) as caught:
        formats.parse_json_object({"text": 42}, "f.json")
    assert caught.value.error_type == "invalid_field"
    assert "'text'" in caught.value.message
    with pytest.raises(Rejected):
        formats.parse_json_object({"text": "x", "authors": [1, 2]}, "f.json")
    with pytest.raises(Rejected):
        formats.parse_json_object({"text": "x", "published": True}, "f.json")
    assert formats.parse_json_object({"text": "x", "authors": "One"}, "f")["authors"] == ["One"]


def test_json_array_keeps_good_elements_and_rejects_bad_ones():
    text = json.dumps([{"text": "a"}, "not an object", {"text": "c"}])
    outcomes = list(formats.parse_json_file(text, "f.json"))
    assert [o["text"] for o in outcomes if isinstance(o, dict)] == ["a", "c"]
    [reject] = [o for o in outcomes if isinstance(o, Rejected)]
    assert reject.origin == "f.json#1"
    assert outcomes[0]["origin"] == "f.json#0"


def test_malformed_json_file_and_line():
    with pytest.raises(Rejected) as caught:
        list(formats.parse_json_file("{not json", "f.json"))
    assert caught.value.error_type == "malformed_json"
    with pytest.raises(Rejected):
        formats.parse_json_line('{"text": "unterminated', "f.jsonl#3")
    assert formats.parse_json_line("   ", "f.jsonl#4") is None


def test_split_lines_bounds_memory_and_keeps_line_numbers():
    data = b'{"a": 1}\n' + b"x" * 5000 + b'\n\n{"b": 2}\n \r\n{"c": 3}'
    lines = list(formats.split_lines(io.BytesIO(data).read, max_line_bytes=100, chunk_bytes=64))
    assert lines == [(1, b'{"a": 1}'), (2, None), (4, b'{"b": 2}'), (6, b'{"c": 3}')]


def test_split_lines_oversized_last_line():
    lines = list(formats.split_lines(io.BytesIO(b"ok\n" + b"y" * 500).read, max_line_bytes=10))
    assert lines == [(1, b"ok"), (2, None)]


def test_split_lines_checks_lines_inside_one_chunk_against_the_cap():
    # Once only lines spanning chunks were measured: a 20-byte line in a 1 MiB chunk passed.
    lines = list(
        formats.split_lines(io.BytesIO(b"a\n" + b"y" * 20 + b"\nb\n").read, max_line_bytes=5)
    )
    assert lines == [(1, b"a"), (2, None), (3, b"b")]


def test_split_lines_stops_at_the_file_cap_keeping_the_lines_before():
    data = b"one\ntwo\nthree\nfour\n"
    lines = []
    with pytest.raises(Rejected) as caught:
        for line in formats.split_lines(
            io.BytesIO(data).read, max_line_bytes=100, max_total_bytes=10, chunk_bytes=4
        ):
            lines.append(line)
    assert caught.value.error_type == "too_large"
    assert lines == [(1, b"one"), (2, b"two")]  # "thr" was cut by the cap
    assert list(formats.split_lines(io.BytesIO(data).read, max_line_bytes=9, max_total_bytes=19))


def test_split_lines_skips_a_hundred_megabytes_of_blank_lines_quickly():
    started = time.monotonic()
    data = b"\n" * 50_000_000 + b'{"a": 1}\n' + b" \r\n" * 10_000_000
    assert list(formats.split_lines(io.BytesIO(data).read, max_line_bytes=100)) == [
        (50_000_001, b'{"a": 1}')
    ]
    assert time.monotonic() - started < 10  # a Python step per line took minutes


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "too deeply"),  # RecursionError in json.loads
        ('{"text": 1' + "0" * 5000 + "}", "4300 digits"),  # ValueError in int()
    ],
    ids=["deep", "long-integer"],
)
def test_json_that_python_cannot_load_is_malformed_json_not_a_crash(line, reason):
    with pytest.raises(Rejected) as caught:
        formats.parse_json_line(line, "f.jsonl#2")
    assert caught.value.error_type == "malformed_json"
    assert reason in caught.value.message
    with pytest.raises(Rejected) as caught:
        list(formats.parse_json_file(line, "f.json"))
    assert caught.value.error_type == "malformed_json"


def test_lone_surrogates_in_json_strings_become_replacement_characters():
    repairs = []
    record = formats.parse_json_line(
        '{"text": "cut \\ud83d here", "title": "\\udc80", "authors": ["A\\ud83d"], '
        '"url": "https://x.example/\\ud83d\\ude00"}',
        "f.jsonl#1",
        on_repair=repairs.append,
    )
    assert record["text"] == "cut \ufffd here"
    assert record["title"] == "\ufffd"
    assert record["authors"] == ["A\ufffd"]
    assert record["url"] == "https://x.example/\U0001f600"  # a whole pair is a character
    assert repairs == [3]
    html = formats.parse_json_object({"html": "<p>x\ud83d</p>"}, "f", on_repair=repairs.append)
    assert html["html"] == "<p>x\ufffd</p>" and repairs == [3, 1]
    formats.parse_json_object({"text": "clean \ufffd"}, "f", on_repair=repairs.append)
    assert repairs == [3, 1]  # an existing U+FFFD is no repair


def test_path_origin_names_a_file_whose_name_is_not_utf8():
    assert formats.path_origin("/in/caf\udce9.txt") == "/in/caf\\xe9.txt"
    assert formats.path_origin("/in/a\ud83d.txt") == "/in/a\\ud83d.txt"
    assert formats.path_origin("gs://b/café.txt") == "gs://b/café.txt"


def test_only_regular_files_are_read(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "link.txt").symlink_to(tmp_path / "a.txt")
    formats.check_regular_file(str(tmp_path / "a.txt"))
    formats.check_regular_file(str(tmp_path / "link.txt"))  # a link to a regular file
    formats.check_regular_file("gs://bucket/not/checked.txt")
    os.mkfifo(tmp_path / "fifo.txt")
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    (tmp_path / "dir.txt").mkdir()
    for name, kind in [("fifo.txt", "FIFO"), ("zero.txt", "character device"), ("dir.txt", "dir")]:
        with pytest.raises(Rejected) as caught:
            formats.check_regular_file(str(tmp_path / name))
        assert caught.value.error_type == "not_a_regular_file"
        assert kind in caught.value.message
