"""The pipeline benchmark runs from the README's command and prints its final line.

The figures themselves are measured by hand (README, "Performance"); this only
keeps the benchmark from rotting, on a corpus small enough for CI.
"""

import math
import re
import subprocess
import sys

import pytest

from tests.helpers import SEEDS

pytestmark = pytest.mark.slow

# On six articles a run minus the model load can come out below zero, so a
# ratio may be negative; it must still be a finite number, and throughput and
# memory must be positive.
RATIO = r"-?\d+\.\d\d"
FINAL_LINE = re.compile(
    rf"P1/L1={RATIO} P2/L2={RATIO} P2/P1={RATIO} P3=\d+/s "
    rf"P4_growth={RATIO} P4_peak=\d+MB P5={RATIO} P6=\d+/s P6/feedparser={RATIO} "
    rf"P7={RATIO}s P8={RATIO} "
    rf"C1_files_before=\d+ C1_files_after=\d+ C1_speedup={RATIO} "
    rf"Rerun=\d+\.\d{{3}} D1/P1={RATIO} D2/D1={RATIO}"
)


def test_bench_pipeline_prints_every_figure_and_the_final_line(tmp_path):
    seed = (SEEDS / "000_9ad307750ad99124.txt").read_text()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(6):
        (corpus / f"a{i}.txt").write_text(f"Report {i}.\n\n{seed}")

    result = subprocess.run(
        [
            sys.executable,
            "benchmarks/bench_pipeline.py",
            "--corpus",
            str(corpus),
            "--memory-limit",
            "3",
            "--repeat",
            "1",
            "--feed-files",
            "3",
            "--entries-per-feed",
            "2",
            "--p3-articles",
            "9",
            "--poll-base",
            "8",
            "--poll-new",
            "2",
            "--polls",
            "3",
            "--rerun-files",
            "8",
        ],
        cwd=SEEDS.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert "corpus: 6 articles" in result.stdout
    shown = ("L1 ", "L2 ", "P1 ", "P2 ", "P2 ceiling", "P3 ", "P4 ", "P5 ", "P6 ", "P7 ", "P8 ")
    for figure in (*shown, "C1 ", "Rerun ", "D1 ", "D2 "):
        assert any(line.startswith(figure) for line in lines), (figure, result.stdout)
    assert FINAL_LINE.fullmatch(lines[-1]), lines[-1]
    figures = dict(pair.split("=") for pair in lines[-1].split())
    values = {name: float(re.sub(r"(/s|MB|s)$", "", value)) for name, value in figures.items()}
    # On 3 tiny feeds, newsbeam's fixed cost makes the share round to 0.00 under load.
    assert values["P6"] > 0 and values["P6/feedparser"] >= 0, values
    assert all(math.isfinite(value) for value in values.values()), values
    assert values["P3"] > 0 and values["P4_peak"] > 0 and values["P4_growth"] > 0, values
    assert values["C1_files_before"] == 3 and values["C1_files_after"] == 1, values
    assert values["P7"] > 0 and values["P8"] > 0, values
    assert "(9 articles in" in result.stdout  # P3 on the corpus topped up with copies
    assert "output of 8 articles" in result.stdout
    assert 0 < values["Rerun"] < 1, values  # a rerun over unchanged files reads none of them
