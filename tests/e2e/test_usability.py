"""The command from a terminal or a scheduler: one-line usage errors, folders as inputs,
case-insensitive labels, watch's settle time and --max-polls, Ctrl-C, --version."""

import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import REPO, SEEDS, newsbeam, table

BRIDGE = SEEDS / "001_harbour_bridge.txt"


def _one_error_line(result, *words):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newsbeam: error: "), result.stderr
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["ingest", "--inptu", "SEEDS", "--output", "OUT"], ["--inptu", "did you mean --input?"]),
        (["ingest", "--inp", "SEEDS", "--output", "OUT"], ["--inp "]),  # no abbreviations
        (["query", "OUT", "select 1", "--fromat", "csv"], ["--fromat"]),
        (["query", "nosuchdir", "select count(*) from articles"], ["no output folder"]),
        (["query", "NOTOUT", "select 1"], ["is not a newsbeam output"]),
        (["stats", "nosuchdir"], ["no output folder"]),
        (["stats", "OUT", "--limit", "0"], ["--limit", "at least 1"]),
        (["watch", "--input", "SEEDS", "--output", "OUT", "--max-polls", "0"], ["--max-polls"]),
        (["watch", "--input", "nosuchdir/*.txt", "--output", "OUT"], ["no folder"]),
        (["watch", "--input", "SEEDS", "--output", "OUT", "--settle", "-1"], ["--settle"]),
        (["ingest", "--output", "OUT"], ["--input"]),
        (["nosuchcommand"], ["nosuchcommand"]),
    ],
)
def test_every_usage_error_is_one_line_naming_the_mistake(tmp_path, args, words):
    (tmp_path / "out").mkdir()
    (tmp_path / "notout").mkdir()
    (tmp_path / "notout" / "notes.txt").write_text("not an output")
    where = {"SEEDS": str(SEEDS), "OUT": str(tmp_path / "out"), "NOTOUT": str(tmp_path / "notout")}
    args = [where.get(arg, arg).replace("nosuchdir", str(tmp_path / "nosuchdir")) for arg in args]
    _one_error_line(newsbeam(*args, check=False), *words)


def test_help_still_shows_usage_and_version_comes_from_the_distribution():
    from importlib.metadata import version

    assert "usage:" in newsbeam("ingest", "--help").stdout
    assert "at most N files" in " ".join(newsbeam("ingest", "--help").stdout.split())
    assert newsbeam("--version").stdout.strip() == f"newsbeam {version('newsbeam')}"


def test_a_folder_input_reads_the_files_inside_it(tmp_path):
    inputs = tmp_path / "in"
    (inputs / "nested").mkdir(parents=True)
    shutil.copy(BRIDGE, inputs / "a.txt")
    shutil.copy(SEEDS / "000_9ad307750ad99124.txt", inputs / "nested" / "b.txt")
    output = tmp_path / "out"
    newsbeam("ingest", "--input", f"{inputs}/", "--output", output, "--no-nlp")
    origins = table(output, "articles").column("origin").to_pylist()
    assert [origin.rsplit("/", 1)[-1] for origin in origins] == ["a.txt"]
    assert not (output / "errors").exists() or table(output, "errors").num_rows == 0


def test_labels_are_case_insensitive_and_unknown_ones_an_error(tmp_path):
    output = tmp_path / "out"
    newsbeam("ingest", "--input", BRIDGE, "--output", output, "--labels", "person,gpe")
    labels = set(table(output, "entities").column("label").to_pylist())
    assert labels and labels <= {"PERSON", "GPE"}
    wrong = newsbeam(
        "ingest", "--input", BRIDGE, "--output", output, "--labels", "person,planet", check=False
    )
    _one_error_line(wrong, "PLANET")


def test_watch_leaves_a_fresh_file_for_a_later_poll_and_stops_after_max_polls(tmp_path):
    inputs, output = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    shutil.copy(BRIDGE, inputs / "a.txt")  # modified just now
    common = ["watch", "--input", inputs / "*", "--output", output, "--no-nlp"]
    waited = newsbeam(*common, "--interval", "100ms", "--max-polls", "2", "--settle", "600")
    assert "poll 2: nothing new" in waited.stderr and "poll 3" not in waited.stderr
    assert not (output / "articles").exists()
    taken = newsbeam(*common, "--interval", "100ms", "--max-polls", "1", "--settle", "0")
    assert "poll 1: 1 items" in taken.stderr, taken.stderr
    assert table(output, "articles").num_rows == 1


def _interrupted(tmp_path, signals):
    command = [sys.executable, "-m", "pipelines.cli", "ingest", "--input", str(SEEDS / "0*")]
    process = subprocess.Popen(
        [*command, "--output", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        time.sleep(4)  # Beam imported, the model loading or the pipeline running
        for _ in range(signals):
            process.send_signal(signal.SIGINT)
            time.sleep(0.05)
        _out, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, stderr


@pytest.mark.slow
@pytest.mark.parametrize("signals", [1, 2])
def test_ctrl_c_exits_130_with_one_line_and_no_traceback(tmp_path, signals):
    returncode, stderr = _interrupted(tmp_path, signals)
    assert returncode == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("newsbeam: interrupted"), stderr
    assert len(stderr.strip().splitlines()) <= 3, stderr
