"""Paths through the real command: odd file and folder names, inputs in the output, bad files.

Description: Beam reads ``[``, ``*`` and ``?`` in every path as a pattern, and its
``*`` never matches a backslash; a committed file can be corrupt; an input
pattern can reach into the output folder.
Expect: every input file is read once under its own name, an output folder
named ``out[1]`` or ``out*x`` is that folder alone, the output is never read
as input, and a corrupt committed file is a warning and an errors row.
"""

import json
import shutil

import pytest

from tests.helpers import SEEDS, newsbeam, table
from transforms import store

NAMES = ("a[1].txt", "a1.txt", "b?.txt", "bx.txt", "c*.txt", "czz.txt", "d\\e.txt")


def _story_files(folder):
    folder.mkdir(parents=True)
    for n, name in enumerate(NAMES):
        (folder / name).write_text(
            f"Story {n}: the harbour master said the north pier would close for {n + 2} weeks "
            "of repairs, and the ferries would use the south quay until the work is done.\n"
        )
    return folder


def _origins(output):
    return sorted(table(output, "articles").column("origin").to_pylist())


def _run_files(output):
    return [json.loads(p.read_text()) for p in sorted((output / "_runs").glob("*.json"))]


def test_odd_file_names_are_each_read_once_by_ingest_and_by_watch(tmp_path):
    inputs = _story_files(tmp_path / "in")
    expected = sorted(str(inputs / name) for name in NAMES)
    ingested = tmp_path / "ingested"
    newsbeam("ingest", "--input", inputs / "*", "--output", ingested, "--no-nlp")
    assert _origins(ingested) == expected
    watched = tmp_path / "watched"
    # --settle 0: the files are seconds old, and a fast ingest leaves them younger than
    # the default settle time, which would keep them for a poll that never comes.
    newsbeam("watch", "--input", inputs / "*", "--output", watched, "--no-nlp",
             "--max-polls", "1", "--interval", "1s", "--settle", "0")  # fmt: skip
    assert _origins(watched) == expected
    [record] = _run_files(watched)
    assert record["stages"]["files"] == len(NAMES)  # nothing matched twice
    assert record["balance"] == {
        "read": len(NAMES), "written": len(NAMES), "duplicates": 0, "errors": 0, "ok": True
    }  # fmt: skip
    assert sorted(store.load_input_manifest(str(watched)).files) == expected


@pytest.mark.parametrize(("name", "decoy"), [("out[1]", "out1"), ("out*x", "outAx")])
def test_an_output_folder_with_glob_characters_is_that_folder_alone(tmp_path, name, decoy):
    one, two = SEEDS / "000_9ad307750ad99124.txt", SEEDS / "001_harbour_bridge.txt"
    # A neighbour the unescaped name would match, holding one of the two articles.
    newsbeam("ingest", "--input", one, "--output", tmp_path / decoy, "--no-nlp")
    output = tmp_path / name
    first = newsbeam("ingest", "--input", one, "--input", two, "--output", output, "--no-nlp")
    assert "articles written      2" in first.stdout
    rerun = newsbeam("ingest", "--input", one, "--input", two, "--output", output, "--no-nlp")
    assert "input files skipped   2 unchanged" in rerun.stdout  # its manifest is found
    rescan = [*("--input", one, "--input", two), "--rescan"]
    rerun = newsbeam("ingest", *rescan, "--output", output, "--no-nlp")
    assert "articles written      0" in rerun.stdout
    assert "(2 already in the output)" in rerun.stdout
    counted = newsbeam("query", output, "select count(*) as n from articles", "--format", "csv")
    assert counted.stdout == "n\n2\n"
    assert "articles: 2" in newsbeam("stats", output).stdout
    watched = newsbeam("watch", "--input", one, "--output", output, "--no-nlp",
                       "--max-polls", "1", "--interval", "1s", "--rescan",
                       "--settle", "0")  # fmt: skip
    assert "0 new, 1 duplicates" in watched.stderr
    assert _origins(output) == sorted([str(one), str(two)])
    assert _origins(tmp_path / decoy) == [str(one)]
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.startswith(("_probe", "_tmp"))]
    assert leftovers == []


def test_inputs_under_the_output_folder_are_never_read(tmp_path):
    data = _story_files(tmp_path / "data")
    output = data / "out"
    for _run in range(2):
        result = newsbeam("ingest", "--input", data / "**", "--output", output, "--no-nlp")
    assert "under the output folder" in result.stderr
    assert "not read" in result.stderr
    assert len(_origins(output)) == len(NAMES)
    watched = newsbeam("watch", "--input", data / "**", "--output", output, "--no-nlp",
                       "--max-polls", "2", "--interval", "0.1s")  # fmt: skip
    # One warning line for the pattern, not one per poll.
    assert watched.stderr.count("under the output folder") == 1
    assert table(output, "errors").num_rows == 0
    assert all(run["balance"]["errors"] == 0 for run in _run_files(output))


def test_a_corrupt_committed_file_is_a_warning_and_an_errors_row(tmp_path):
    output = tmp_path / "out"
    newsbeam("ingest", "--input", SEEDS / "000_9ad307750ad99124.txt", "--output", output,
             "--no-nlp")  # fmt: skip
    [good] = list((output / "articles").glob("date=*/part-*.parquet"))
    bad = good.with_name("part-corrupt.parquet")
    shutil.copy(good, bad)
    bad.write_bytes(bad.read_bytes()[: len(bad.read_bytes()) // 2])  # cut short, as by a crash
    result = newsbeam("ingest", "--input", SEEDS / "001_harbour_bridge.txt", "--output", output,
                      "--no-nlp")  # fmt: skip
    assert "articles written      1" in result.stdout
    [warning] = [line for line in result.stderr.splitlines() if "part-corrupt" in line]
    assert "may be ingested again" in warning
    [error] = table_without(output, "errors", bad)
    assert (error["stage"], error["error_type"], error["origin"]) == (
        "dedupe",
        "corrupt_output_file",
        str(bad),
    )
    query = newsbeam("query", output, "select count(*) as n from articles", "--format", "csv")
    assert query.stdout == "n\n2\n"
    assert "part-corrupt.parquet" in query.stderr
    stats = newsbeam("stats", output)
    assert "articles: 2" in stats.stdout and "part-corrupt.parquet" in stats.stderr


def table_without(output, name, bad):
    """A table's rows, read file by file, leaving out the corrupt file ``bad``."""
    import pyarrow.parquet as pq

    files = [p for p in (output / name).glob("date=*/*.parquet") if p != bad]
    return [row for path in files for row in pq.read_table(path).to_pylist()]
