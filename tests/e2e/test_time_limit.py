"""End to end: an article that runs out of time in NLP never aborts the run nor outlives it.

The CLI loads a real saved spaCy pipeline whose one component is slow on a
marker (``tests.slow_spacy``, found by spaCy through an entry point on
PYTHONPATH, as an installed plugin would be), so the slow work really runs
in the run's own model process and must really be stopped.
"""

import os
import shutil
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from tests import slow_work
from tests.helpers import REPO, table

# The process environment of one test's runs carries this tag, so that any
# process they leave behind can be found (and no one else's is).
TAG = "NEWSBEAM_TEST_TIME_LIMIT_RUN"


def _tagged_processes(tag: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(TAG) == tag and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


@pytest.mark.slow
def test_a_timed_out_article_becomes_an_errors_row_and_the_run_exits_cleanly(tmp_path):
    model = slow_work.slow_model(tmp_path / "model")
    plugin = slow_work.plugin_path(tmp_path / "plugin")
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "council.txt").write_text("The council met on Monday. The mayor said it went well.")
    (inputs / "slow.txt").write_text(f"This {slow_work.MARKER} article never ends. It said so.")
    (inputs / "weather.txt").write_text("It rained all week in the valley. Then it stopped.")
    tag = uuid.uuid4().hex
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([plugin, str(REPO), os.environ.get("PYTHONPATH", "")]),
        TAG: tag,
    }
    command = (
        [shutil.which("newsbeam")]
        if shutil.which("newsbeam")
        else [sys.executable, "-m", "pipelines.cli"]
    )
    options = ["--input", str(inputs / "*.txt"), "--model", model, "--time-limit", "1"]
    # Abandoned NLP used to abort the interpreter at exit in 5 runs of 6: try several.
    for attempt in range(3):
        output = tmp_path / f"out{attempt}"
        started = time.monotonic()
        result = subprocess.run(
            [*command, "ingest", *options, "--output", str(output)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert "Aborting" not in result.stderr
        assert time.monotonic() - started < slow_work.SLOW_SECONDS / 2  # stopped, not awaited
        errors = table(output, "errors").to_pylist()
        assert [(e["origin"], e["stage"], e["error_type"]) for e in errors] == [
            (str(inputs / "slow.txt"), "enrich", "time_limit")
        ]
        assert "NLP took longer than 1 s and was stopped" in errors[0]["message"]
        kept = sorted(a["origin"] for a in table(output, "articles").to_pylist())
        assert kept == [str(inputs / "council.txt"), str(inputs / "weather.txt")]
        assert not _tagged_processes(tag)  # no model process outlives its run
