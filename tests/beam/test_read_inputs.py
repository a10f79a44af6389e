"""ReadArticles on inputs that once ended a file early, hung the run or failed it."""

import gzip
import os

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.helpers import NOW
from transforms import read
from transforms.read import ReadArticles


def _name(origin):
    return origin.rsplit("/", 1)[-1]


def _good(number):
    return f'{{"text": "Good article number {number}."}}'


def test_a_bad_line_of_any_kind_is_its_own_error_and_later_lines_are_read(tmp_path):
    lines = [
        _good(1),
        "[" * 100_000 + "]" * 100_000,  # RecursionError: once ended the file here
        _good(3),
        '{"text": 1' + "0" * 5000 + "}",  # ValueError: integer past 4,300 digits
        _good(5),
        '{"text": "Cut \\ud83d emoji.", "title": "\\udc80"}',  # failed the whole run
        _good(7),
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "big.json").write_text('{"text": 1' + "0" * 5000 + "}")
    with TestPipeline() as p:
        outputs = p | ReadArticles([str(tmp_path / "*")], ingested_at=NOW)
        assert_that(
            outputs.articles | beam.Map(lambda r: (_name(r["origin"]), r["text"], r["title"])),
            equal_to(
                [
                    ("a.jsonl#1", "Good article number 1.", None),
                    ("a.jsonl#3", "Good article number 3.", None),
                    ("a.jsonl#5", "Good article number 5.", None),
                    ("a.jsonl#6", "Cut \ufffd emoji.", "\ufffd"),
                    ("a.jsonl#7", "Good article number 7.", None),
                ]
            ),
            label="Articles",
        )
        assert_that(
            outputs[read.ERRORS] | beam.Map(lambda e: (_name(e["origin"]), e["error_type"])),
            equal_to(
                [
                    ("a.jsonl#2", "malformed_json"),
                    ("a.jsonl#4", "malformed_json"),
                    ("deep.json", "malformed_json"),
                    ("big.json", "malformed_json"),
                ]
            ),
            label="Errors",
        )


@pytest.mark.timeout(120)  # opening the FIFO once blocked for ever: fail, do not hang
def test_only_regular_files_are_opened_and_file_names_need_not_be_utf8(tmp_path):
    os.mkfifo(tmp_path / "fifo.txt")  # opening it would block for ever
    (tmp_path / "zero.txt").symlink_to("/dev/zero")  # reading it would never end
    (tmp_path / "dir.txt").mkdir()
    (tmp_path / "link.txt").symlink_to(tmp_path / "caf\udce9.txt")
    (tmp_path / "caf\udce9.txt").write_text("Text of a file whose name is Latin-1.")
    patterns = [str(tmp_path / "*.txt"), str(tmp_path / "dir.txt")]
    with TestPipeline() as p:
        outputs = p | ReadArticles(patterns, ingested_at=NOW)
        assert_that(
            outputs.articles | beam.Map(lambda r: _name(r["origin"])),
            equal_to(["caf\\xe9.txt", "link.txt"]),
            label="Articles",
        )
        assert_that(
            outputs[read.ERRORS] | beam.Map(lambda e: (_name(e["origin"]), e["error_type"])),
            equal_to(
                [
                    ("fifo.txt", "not_a_regular_file"),
                    ("zero.txt", "not_a_regular_file"),
                    ("dir.txt", "not_a_regular_file"),
                ]
            ),
            label="Errors",
        )


def test_a_jsonl_file_is_capped_in_decompressed_bytes(tmp_path):
    with gzip.open(tmp_path / "bomb.jsonl.gz", "wb") as handle:
        handle.write((_good(1) + "\n" + _good(2) + "\n").encode())
        handle.write(b"\n" * 5_000_000)
        handle.write((_good(3) + "\n").encode())
    with TestPipeline() as p:
        outputs = p | ReadArticles(
            [str(tmp_path / "*")], ingested_at=NOW, max_jsonl_bytes=1_000_000
        )
        assert_that(
            outputs.articles | beam.Map(lambda r: _name(r["origin"])),
            equal_to(["bomb.jsonl.gz#1", "bomb.jsonl.gz#2"]),
            label="Articles",
        )
        assert_that(
            outputs[read.ERRORS] | beam.Map(lambda e: (_name(e["origin"]), e["error_type"])),
            equal_to([("bomb.jsonl.gz", "too_large")]),
            label="Errors",
        )
