"""newsbeam on a real Dask cluster: the same rows and summary as the local run, one commit,
and a lost worker never leaves half a run visible.

``dask scheduler`` and two ``dask worker`` processes (one thread each) run as
separate processes talking TCP on 127.0.0.1, started in another folder than
the client, the way a cluster's machines run them. The corpus is the seeds
(every input format, a duplicate) plus three dozen more articles and two bad
inputs, so every table, the errors included, is compared row for row.
"""

import json
import subprocess
import sys

import psutil
import pytest

from tests.helpers import (
    SEED_ARTICLE,
    comparable_rows,
    copy_seeds,
    dask_cluster,
    newsbeam,
    wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("client") / "corpus"
    folder.mkdir()
    copy_seeds(folder)
    story = SEED_ARTICLE.read_text(encoding="utf-8")
    for number in range(36):
        (folder / f"report{number:02d}.txt").write_text(
            f"Report {number} from the city desk.\n\n{story}", encoding="utf-8"
        )
    (folder / "notes.md").write_text("# not an article\n", encoding="utf-8")
    (folder / "lines.jsonl").write_text('{"text": "A short wire item."}\n{broken\n')
    return folder


@pytest.fixture(scope="module")
def direct_run(corpus, tmp_path_factory):
    """The corpus through the default local runner: the rows Dask must reproduce."""
    output = tmp_path_factory.mktemp("direct") / "out"
    return output, newsbeam("ingest", "--input", corpus / "*", "--output", output)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with dask_cluster(2, folder=tmp_path_factory.mktemp("dask")) as running:
        yield running


def _dask_ingest(corpus, output, address, runner="DaskRunner") -> list[str]:
    """The arguments of ``newsbeam`` for an ingest of ``corpus`` on the cluster at ``address``."""
    return [
        "ingest",
        "--input",
        str(corpus / "*"),
        "--output",
        str(output),
        "--runner",
        runner,
        "--dask_client_address",
        address,
    ]


def _counts(summary: str) -> list[str]:
    """The summary's count lines: indented, and not the one naming the output folder."""
    lines = [line.strip() for line in summary.splitlines() if line.startswith("  ")]
    return [line for line in lines if not line.startswith("output ")]


def _commits(output) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((output / "_commits").glob("*.json"))]


def test_dask_writes_the_local_runs_rows_commits_once_and_prints_its_summary(
    corpus, direct_run, cluster, tmp_path
):
    direct_output, direct_result = direct_run
    output = tmp_path / "out"
    result = newsbeam(*_dask_ingest(corpus, output, cluster.address, runner="dask"))
    rows = comparable_rows(output)
    assert rows == comparable_rows(direct_output)
    assert len(rows["articles"]) > 40 and rows["entities"] and rows["errors"]
    # The counts travelled with the data: the summary is the local run's, line for line.
    assert _counts(result.stdout) == _counts(direct_result.stdout)
    [record] = [json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")]
    assert record["balance"]["ok"] and record["balance"]["written"] == len(rows["articles"])
    [commit] = _commits(output)
    assert commit["run_id"] == record["run_id"]
    assert sum(f["rows"] for f in commit["files"] if f["table"] == "articles") == len(
        rows["articles"]
    )
    assert not (output / "_tmp").exists()


def _nlp_started(worker) -> bool:
    """True once the worker process tree runs a model process (the run is past its middle)."""
    try:
        tree = psutil.Process(worker.pid).children(recursive=True)
        return any("transforms.lib.limits" in " ".join(p.cmdline()) for p in tree)
    except psutil.Error:
        return False


def test_a_worker_killed_mid_run_leaves_the_run_whole_or_absent_and_a_rerun_completes(
    corpus, direct_run, cluster, tmp_path
):
    output = tmp_path / "out"
    run = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", *_dask_ingest(corpus, output, cluster.address)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: any(map(_nlp_started, cluster.workers)), timeout=300), (
            "no worker started the NLP stage"
        )
        cluster.kill_worker(next(i for i, w in enumerate(cluster.workers) if _nlp_started(w)))
        stdout, stderr = run.communicate(timeout=600)
    finally:
        run.kill()
    expected = comparable_rows(direct_run[0])
    if run.returncode == 0:  # Dask ran the lost worker's tasks again on the other
        assert comparable_rows(output) == expected, stdout
        assert len(_commits(output)) == 1
    else:  # the run failed as a whole: nothing of it is visible
        assert "nothing of it was committed" in stderr, stderr[-2000:]
        assert _commits(output) == [] and not list(output.glob("*/date=*/*.parquet"))
    newsbeam(*_dask_ingest(corpus, output, cluster.address))
    rows = comparable_rows(output)
    # A rerun adds no article, but it meets the bad inputs again: their errors rows
    # are the same rows, once per run that read them.
    assert {table: rows[table] for table in ("articles", "entities", "quotes")} == {
        table: expected[table] for table in ("articles", "entities", "quotes")
    }
    assert set(rows["errors"]) == set(expected["errors"])


def test_reprocess_on_dask_enriches_a_no_nlp_output_as_the_local_ingest_did(
    corpus, direct_run, cluster, tmp_path
):
    output = tmp_path / "out"
    newsbeam("ingest", "--input", corpus / "*", "--output", output, "--no-nlp", "--quiet")
    result = newsbeam(
        "reprocess",
        output,
        "--quiet",
        "--runner",
        "DaskRunner",
        "--dask_client_address",
        cluster.address,
    )
    assert "articles reprocessed" in result.stdout
    assert comparable_rows(output) == comparable_rows(direct_run[0])
    replacing = list((output / "_commits").glob("*.replace.json"))
    assert len(replacing) == 1 and json.loads(replacing[0].read_text())["removed"]
