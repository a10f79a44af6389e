"""End to end: inputs that once dropped records, failed or hung a whole run.

Every input record must end as an article, a declared duplicate or an errors
row, and the run must go on (exit status 0) whatever one input holds.
"""

import gzip
import json
import os
import time

import pytest

from tests.helpers import newsbeam, table


def _good(number):
    return json.dumps({"text": f"Good article number {number} about the harbour council."})


def _balance(output):
    [run_file] = (output / "_runs").glob("*.json")
    return json.loads(run_file.read_text())["balance"]


def _errors(output):
    return {
        (os.path.basename(e["origin"]), e["error_type"])
        for e in table(output, "errors").to_pylist()
    }


def _origins(output):
    return {os.path.basename(a["origin"]) for a in table(output, "articles").to_pylist()}


def test_lone_surrogates_and_unloadable_lines_do_not_cost_other_lines(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    lines = [
        _good(1),
        '{"text": "Cut emoji \\ud83d in a story about the bridge.", "title": "Half \\udc80"}',
        _good(3),
        "[" * 100_000 + "]" * 100_000,  # RecursionError ended the file here
        _good(5),
        '{"text": 1' + "0" * 5000 + "}",  # and a 5,000-digit integer's ValueError here
        _good(7),
    ]
    (inputs / "export.jsonl").write_text("\n".join(lines) + "\n")
    # A file name that is not UTF-8 reaches Python as surrogates too.
    (inputs / "caf\udce9.txt").write_text("The council voted on the budget on Monday night.")
    output = tmp_path / "out"
    result = newsbeam("ingest", "--input", inputs / "*", "--output", output, "--no-nlp")
    assert result.returncode == 0
    assert _origins(output) == {
        "export.jsonl#1",
        "export.jsonl#2",
        "export.jsonl#3",
        "export.jsonl#5",
        "export.jsonl#7",
        "caf\\xe9.txt",
    }
    [cut] = [a for a in table(output, "articles").to_pylist() if a["origin"].endswith("#2")]
    assert cut["text"].startswith("Cut emoji \ufffd in") and cut["title"] == "Half \ufffd"
    assert {("export.jsonl#4", "malformed_json"), ("export.jsonl#6", "malformed_json")} <= (
        _errors(output)
    )
    assert _balance(output) == {"read": 8, "written": 6, "duplicates": 0, "errors": 2, "ok": True}


@pytest.mark.timeout(300)  # a FIFO once blocked the run for ever: fail, do not hang
def test_a_fifo_or_a_folder_among_the_inputs_is_an_error_row_not_a_hang(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    os.mkfifo(inputs / "x.txt")
    (inputs / "folder.txt").mkdir()
    (inputs / "ok.jsonl").write_text(_good(1) + "\n")
    output = tmp_path / "out"
    # A folder named as --input itself means the files inside it
    # (tests/e2e/test_usability.py); the one here sits among the glob's matches.
    newsbeam("ingest", "--input", inputs / "*", "--output", output, "--no-nlp")
    assert _origins(output) == {"ok.jsonl#1"}
    # Beam lists no folder for a glob; the FIFO it lists is refused without being opened.
    assert ("x.txt", "not_a_regular_file") in _errors(output)
    assert _balance(output)["ok"]


@pytest.mark.timeout(300)
def test_a_gzip_bomb_of_blank_lines_and_a_link_to_dev_zero_end_quickly(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    with gzip.open(inputs / "bomb.jsonl.gz", "wb", compresslevel=9) as handle:
        handle.write((_good(1) + "\n").encode())
        for _ in range(100):
            handle.write(b"\n" * 1_000_000)  # 100 MB of newlines, about 100 KB packed
        handle.write((_good(2) + "\n").encode())
    assert (inputs / "bomb.jsonl.gz").stat().st_size < 200_000
    (inputs / "zero.jsonl").symlink_to("/dev/zero")
    (inputs / "zero.txt").symlink_to("/dev/zero")
    output = tmp_path / "out"
    started = time.monotonic()
    newsbeam(
        "ingest",
        "--input",
        inputs / "*",
        "--output",
        output,
        "--no-nlp",
        "--max-jsonl-bytes",
        50_000_000,
    )
    assert time.monotonic() - started < 120  # minutes, before
    assert _origins(output) == {"bomb.jsonl.gz#1"}  # the record before the cap is kept
    assert {
        ("bomb.jsonl.gz", "too_large"),
        ("zero.jsonl", "not_a_regular_file"),
        ("zero.txt", "not_a_regular_file"),
    } <= _errors(output)
    assert _balance(output)["ok"]
