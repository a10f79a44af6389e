"""newsbeam on a real portable Beam runner: the same command, the same rows as the local run.

Beam's Python job service and an external worker pool run as separate
processes on this machine, the way a Flink or Spark job server and its SDK
workers do on a cluster. The worker pool runs in another folder than the
client, so a path that only makes sense in the client's folder shows up here.
See docs/RUNNERS.md for the contract these tests prove; test_dask.py proves it
on a Dask cluster.
"""

import contextlib
import os
import socket
import subprocess
import sys
import time

import pytest

from tests.helpers import (
    comparable_rows,
    copy_seeds,
    free_port,
    newsbeam,
    stop_process_groups,
)

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 60


def _log_tail(log_path, limit=3000) -> str:
    return log_path.read_text(errors="replace")[-limit:] if log_path.exists() else ""


def _wait_for_port(port: int, process: subprocess.Popen, log_path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited early:\n{_log_tail(log_path)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.2)
    raise AssertionError(f"{process.args} did not listen on {port}:\n{_log_tail(log_path)}")


@contextlib.contextmanager
def _beam_service(module: str, port_flag: str, *, folder, name: str):
    """Runs ``python -m module port_flag=PORT`` in ``folder``; yields its port; always stops it.

    The service leads its own process group, so stopping the group also stops
    the SDK worker processes a worker pool starts.
    """
    port = free_port()
    log_path = folder / f"{name}.log"
    # A worker pool starts its SDK workers as plain `python`: make that this interpreter.
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, f"{port_flag}={port}"],
            cwd=folder,
            env={**os.environ, "PATH": path},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        _wait_for_port(port, process, log_path)
        yield port
    finally:
        stop_process_groups([process])


@pytest.fixture(scope="module")
def portable_endpoints(tmp_path_factory):
    """``(job_endpoint, worker_pool)`` addresses of a local job service and worker pool."""
    folder = tmp_path_factory.mktemp("portable")
    with (
        _beam_service(
            "apache_beam.runners.portability.local_job_service_main",
            "--port",
            folder=folder,
            name="job_service",
        ) as job_port,
        _beam_service(
            "apache_beam.runners.worker.worker_pool_main",
            "--service_port",
            folder=folder,
            name="worker_pool",
        ) as pool_port,
    ):
        yield f"localhost:{job_port}", f"localhost:{pool_port}"


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """A copy of ``seeds/0*``, so files others add to seeds/ mid-run change no comparison."""
    folder = tmp_path_factory.mktemp("client") / "seeds"
    folder.mkdir()
    copy_seeds(folder)
    return folder


@pytest.fixture(scope="module")
def direct_run(seeds, tmp_path_factory):
    """The seeds through the default local runner: the rows every runner must reproduce."""
    output = tmp_path_factory.mktemp("direct") / "out"
    result = newsbeam("ingest", "--input", seeds / "0*", "--output", output)
    return output, result


def _portable_ingest(input_glob, output, endpoints):
    job_endpoint, worker_pool = endpoints
    return newsbeam(
        "ingest",
        "--input",
        input_glob,
        "--output",
        output,
        "--runner",
        "PortableRunner",
        "--job_endpoint",
        job_endpoint,
        "--environment_type",
        "EXTERNAL",
        "--environment_config",
        worker_pool,
    )


def _counts(summary: str) -> list[str]:
    """The summary's count lines: indented, and not the one naming the output folder."""
    lines = [line.strip() for line in summary.splitlines() if line.startswith("  ")]
    return [line for line in lines if not line.startswith("output ")]


def _count(summary: str, label: str) -> int:
    """The number on the summary line that starts with ``label``."""
    (line,) = [line for line in _counts(summary) if line.startswith(label)]
    return int(line[len(label) :].split()[0])


def test_portable_runner_writes_the_same_rows_and_counts(
    seeds, direct_run, portable_endpoints, tmp_path
):
    direct_output, direct_result = direct_run
    output = tmp_path / "out"
    result = _portable_ingest(seeds / "0*", output, portable_endpoints)
    rows = comparable_rows(output)
    assert rows == comparable_rows(direct_output)
    # The job service reports the newsbeam counters, so the summary is the local one.
    assert _count(result.stdout, "articles written") == len(rows["articles"]) > 0
    assert _count(result.stdout, "entities") == len(rows["entities"]) > 0
    assert _counts(result.stdout) == _counts(direct_result.stdout)
    assert not (output / "_tmp").exists()


@pytest.mark.slow
def test_portable_runner_reads_a_glob_relative_to_the_client(
    seeds, direct_run, portable_endpoints, tmp_path, monkeypatch
):
    monkeypatch.chdir(seeds.parent)
    output = tmp_path / "out"
    _portable_ingest("seeds/0*", output, portable_endpoints)
    assert comparable_rows(output) == comparable_rows(direct_run[0])
