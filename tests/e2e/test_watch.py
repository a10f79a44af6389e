"""newsbeam watch: polls, freshness, no duplicates, and a clean stop on SIGTERM."""

import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from pipelines import watch
from tests.helpers import SEEDS, table, wait_for


@pytest.mark.parametrize(
    ("value", "seconds"), [("90", 90), ("30s", 30), ("5m", 300), ("1h", 3600), ("500ms", 0.5)]
)
def test_parse_interval(value, seconds):
    assert watch.parse_interval(value) == seconds


@pytest.mark.parametrize("value", ["0s", "-5m", "five minutes", "5d", ""])
def test_parse_interval_rejects(value):
    with pytest.raises(ValueError, match="interval"):
        watch.parse_interval(value)


def _articles(output):
    if not (output / "articles").exists():
        return []
    return table(output, "articles").column("origin").to_pylist()


@pytest.mark.slow
def test_watch_picks_up_new_files_fast_without_duplicates_and_stops_cleanly(tmp_path):
    inputs, output = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    interval = 2.0
    command = [sys.executable, "-m", "pipelines.cli", "watch", "--input", str(inputs / "*")]
    process = subprocess.Popen(
        [*command, "--output", str(output), "--interval", f"{interval}s", "--settle", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)  # the first polls find nothing
        shutil.copy(SEEDS / "001_harbour_bridge.txt", inputs / "a.txt")
        added = time.monotonic()
        seen = wait_for(lambda: len(_articles(output)) == 1, interval + 60)
        assert seen is not None, "the new file never reached Parquet"
        freshness = seen - added
        assert freshness <= interval + 60
        # The same article again under another name, and a new one: one new row.
        shutil.copy(SEEDS / "001_harbour_bridge.txt", inputs / "b.txt")
        shutil.copy(SEEDS / "000_9ad307750ad99124.txt", inputs / "c.txt")
        assert wait_for(lambda: len(_articles(output)) == 2, interval + 60)
        time.sleep(interval * 1.5)
        assert len(_articles(output)) == 2
        # SIGTERM while a poll is under way: that poll still commits.
        shutil.copy(SEEDS / "003_newsplease.json", inputs / "d.json")
        time.sleep(interval + 0.3)
        process.send_signal(signal.SIGTERM)
        _out, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "stopping after the poll under way" in stderr
    assert sorted(o.rsplit("/", 1)[-1] for o in _articles(output)) == ["a.txt", "c.txt", "d.json"]
    assert not list(output.glob("_tmp/*"))
    polls = [line for line in stderr.splitlines() if "poll " in line]
    assert any("1 duplicates" in line for line in polls), polls
    print(f"freshness: {freshness:.1f} s with --interval {interval}s")


def test_ingest_while_watch_runs_is_refused_naming_the_watch(tmp_path):
    output = tmp_path / "out"
    command = [sys.executable, "-m", "pipelines.cli", "watch", "--input", str(SEEDS / "0*")]
    process = subprocess.Popen(
        [*command, "--output", str(output), "--interval", "1h", "--no-nlp"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: len(_articles(output)) == 12, 120), "the first poll never committed"
        ingest = [sys.executable, "-m", "pipelines.cli", "ingest", "--input", str(SEEDS / "0*")]
        refused = subprocess.run(
            [*ingest, "--output", str(output), "--no-nlp"], capture_output=True, text=True
        )
        process.send_signal(signal.SIGTERM)
        _out, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("newsbeam: error: ")
    assert f"is being written by pid {process.pid} on {socket.gethostname()} (watch" in line
    assert len(_articles(output)) == 12
