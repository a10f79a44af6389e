"""Progress: a live line on a terminal, a few plain lines elsewhere, nothing with --quiet."""

import os
import pty
import re
import subprocess
import sys

import pytest

from tests.helpers import REPO, SEEDS


def _ingest_on_a_terminal(output, *extra):
    """Runs ``newsbeam ingest`` with stderr on a pseudo-terminal; returns what it drew there."""
    leader, follower = pty.openpty()
    command = [sys.executable, "-m", "pipelines.cli", "ingest", "--input", str(SEEDS / "0*")]
    process = subprocess.Popen(
        [*command, "--output", str(output), *extra],
        stdout=subprocess.PIPE,
        stderr=follower,
        cwd=REPO,
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    process.communicate(timeout=600)
    os.close(leader)
    assert process.returncode == 0, drawn.decode(errors="replace")
    return drawn.decode(errors="replace")


@pytest.mark.slow
def test_a_terminal_shows_one_live_progress_line(tmp_path):
    drawn = _ingest_on_a_terminal(
        tmp_path / "out", "--direct_num_workers", "2", "--direct_running_mode", "multi_processing"
    )
    frames = [frame for frame in drawn.split("\r\x1b[K") if frame.strip()]
    assert any("read " in f and "enriched " in f and "articles/s" in f for f in frames), drawn
    # The workers' counts arrive while they work (the last ones may miss the last frame).
    assert any(re.search(r"enriched [1-9]", f) for f in frames), frames[-3:]
    assert not any("Traceback" in f for f in frames)


def test_a_run_off_a_terminal_stays_within_a_few_lines(tmp_path):
    command = [sys.executable, "-m", "pipelines.cli", "ingest", "--input", str(SEEDS / "0*")]
    result = subprocess.run(
        [*command, "--output", str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stderr.splitlines()) <= 3, result.stderr
    assert len(result.stdout.splitlines()) <= 12, result.stdout
    quiet = subprocess.run(
        [*command, "--output", str(tmp_path / "quiet"), "--quiet"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    assert "articles written      12" in quiet.stdout
