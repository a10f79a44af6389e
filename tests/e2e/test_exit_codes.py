"""Exit codes a scheduler can alert on, the run records behind them, and ``newsbeam runs``.

0 ok (some inputs failed is 0 too, unless --fail-on-errors: then 3), 4 nothing could be
ingested (every file bad, every feed failing), 2 usage, 1 a failed run.
"""

import json
import subprocess
import sys

import pytest

import newsbeam
from tests.helpers import SEEDS
from tests.helpers import newsbeam as run_newsbeam
from tests.httpserver import LoopbackServer, Route

BRIDGE = SEEDS / "001_harbour_bridge.txt"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A folder of bad files only, and two of a good file beside a bad one."""
    root = tmp_path_factory.mktemp("exit_codes")
    bad, mixed, other = root / "bad", root / "mixed", root / "other"
    for folder in (bad, mixed, other):
        folder.mkdir()
    (bad / "empty.txt").write_text("")
    (bad / "binary.txt").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 8)
    (mixed / "good.txt").write_text(BRIDGE.read_text())
    (mixed / "empty.txt").write_text("")
    (other / "good.txt").write_text((SEEDS / "000_9ad307750ad99124.txt").read_text())
    (other / "empty.txt").write_text("")
    return bad, mixed, other


@pytest.fixture(scope="module")
def history(inputs, tmp_path_factory):
    """One output and four runs into it, oldest first: their results and run records."""
    bad, mixed, other = inputs
    output = tmp_path_factory.mktemp("history") / "out"
    runs = [
        ["--input", bad],  # every file bad
        ["--input", mixed],  # one bad file, without --fail-on-errors
        ["--input", other, "--fail-on-errors"],  # one bad file, with it
        ["--input", BRIDGE, "--fail-on-errors"],  # an article already there: nothing failed
    ]
    results = [
        run_newsbeam("ingest", *args, "--output", output, "--no-nlp", check=False) for args in runs
    ]
    return output, results, _records(output)


def _records(output):
    return [json.loads(p.read_text()) for p in sorted((output / "_runs").glob("*.json"))]


def test_every_file_bad_exits_4_and_says_nothing_was_ingested(history):
    _, results, records = history
    assert results[0].returncode == 4, results[0].stderr
    assert "nothing could be ingested: every input failed" in results[0].stdout
    assert (records[0]["status"], records[0]["exit_code"]) == ("nothing_ingested", 4)
    assert records[0]["balance"]["errors"] == 2


def test_some_inputs_failing_exits_0_or_3_with_fail_on_errors(history):
    _, results, records = history
    assert [r.returncode for r in results[1:3]] == [0, 3], results[1].stderr + results[2].stderr
    assert [(r["status"], r["exit_code"]) for r in records[1:3]] == [("partial", 0), ("partial", 3)]
    assert not any("nothing could be ingested" in r.stdout for r in results[1:3])


def test_an_article_already_in_the_output_is_no_failure(history):
    """Read fine, and dropped as already there: exit 0 even with --fail-on-errors."""
    _, results, records = history
    assert results[3].returncode == 0, results[3].stderr
    assert (records[3]["status"], records[3]["exit_code"]) == ("ok", 0)


def test_every_feed_failing_exits_4(tmp_path):
    down = Route(body=b"down", status=500, content_type="text/plain")  # retried, then an error
    gone = Route(body=b"gone", status=404, content_type="text/plain")
    with LoopbackServer({"/a.xml": down, "/b.xml": gone}) as server:
        output = tmp_path / "out"
        result = run_newsbeam(
            "ingest",
            "--feeds", server.url("/a.xml"),
            "--feeds", server.url("/b.xml"),
            "--output", output,
            "--allow-private-hosts",
            "--no-nlp",
            check=False,
        )  # fmt: skip
    assert result.returncode == 4, result.stderr
    [record] = _records(output)
    assert record["status"] == "nothing_ingested"
    assert record["stages"]["feeds"]["errors"] == 2


def test_watch_exits_with_its_last_polls_code(inputs, tmp_path):
    bad, _, _ = inputs
    result = run_newsbeam(
        "watch", "--input", bad, "--output", tmp_path / "out", "--no-nlp",
        "--interval", "100ms", "--max-polls", "2", "--settle", "0",
        check=False,
    )  # fmt: skip
    # Poll 1 reads the bad files; poll 2 finds nothing new, which says nothing about them.
    assert result.returncode == 4, result.stderr
    assert "poll 1: 2 items, 0 new, 0 duplicates, 2 errors" in result.stderr
    assert "nothing ingested" in result.stderr


def test_the_python_api_exposes_status_and_exit_code(inputs, tmp_path):
    bad, mixed, _ = inputs
    run = newsbeam.ingest(str(bad / "*"), output=str(tmp_path / "a"), nlp=False)
    assert (run.status, run.exit_code, run.articles) == ("nothing_ingested", 4, 0)
    run = newsbeam.ingest(
        str(mixed / "*"), output=str(tmp_path / "b"), nlp=False, fail_on_errors=True
    )
    assert (run.status, run.exit_code, run.articles) == ("partial", 3, 1)


def test_runs_lists_every_run_newest_first(history):
    output, _, records = history
    header, rule, *lines, footer = run_newsbeam("runs", output).stdout.splitlines()
    assert header.split() == [
        "started", "run_id", "seconds", "read", "written", "duplicates", "errors", "status"
    ]  # fmt: skip
    assert footer == "(4 rows)" and set(rule) <= {"-", " "}
    assert [line.split()[3:] for line in lines] == [
        ["1", "0", "1", "0", "ok"],
        ["2", "1", "0", "1", "partial"],
        ["2", "1", "0", "1", "partial"],
        ["2", "0", "0", "2", "nothing_ingested"],
    ]
    run_ids = [line.split()[1] for line in lines]
    assert run_ids == [r["run_id"] for r in reversed(records)]
    assert all(
        line.split()[0] == r["ingested_at"][:19] + "Z"
        for line, r in zip(lines, reversed(records), strict=True)
    )
    as_json = run_newsbeam("runs", output, "--format", "json", "--limit", "1").stdout
    [newest] = map(json.loads, as_json.splitlines())
    assert newest["run_id"] == run_ids[0] and newest["status"] == "ok"
    assert newest["duplicates"] == 1 and isinstance(newest["seconds"], float)
    as_csv = run_newsbeam("runs", output, "--format", "csv").stdout.splitlines()
    assert as_csv[0] == "started,run_id,seconds,read,written,duplicates,errors,status"
    assert len(as_csv) == 5 and as_csv[4].endswith(",2,0,0,2,nothing_ingested")


@pytest.mark.parametrize("where", ["missing", "not_output", "file"])
def test_runs_refuses_a_folder_that_is_not_an_output(tmp_path, where):
    (tmp_path / "not_output").mkdir()
    (tmp_path / "not_output" / "notes.txt").write_text("mine")
    (tmp_path / "file").write_text("a file")
    result = run_newsbeam("runs", tmp_path / where, check=False)
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("newsbeam: error: ")


def test_runs_of_an_empty_output_is_an_empty_list(tmp_path):
    result = run_newsbeam("runs", tmp_path)
    assert result.stdout.splitlines()[-1] == "(0 rows)"


def test_a_failed_run_exits_1_and_its_record_says_failed(tmp_path):
    """A bug in the pipeline (here: the commit raises) fails the run as a whole."""
    output = tmp_path / "out"
    script = (
        "import sys\n"
        "from transforms import store\n"
        "def broken(*args, **kwargs):\n"
        "    raise OSError('[Errno 28] No space left on device')\n"
        "store.commit_files = broken\n"
        "from pipelines.cli import main\n"
        f"sys.exit(main(['ingest', '--input', {str(BRIDGE)!r}, '--output', {str(output)!r},"
        " '--no-nlp', '--quiet']))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    [record] = _records(output)
    assert (record["status"], record["exit_code"]) == ("failed", 1)
    assert "No space left on device" in record["error"]
    [line] = run_newsbeam("runs", output).stdout.splitlines()[2:3]
    assert line.split()[3:] == ["-", "-", "-", "-", "failed"]
