"""What tests share: the repo's paths, the evaluation data, the CLI, readers and small rows.

Tests import these from here, never from one another.
"""

import contextlib
import dataclasses
import datetime as dt
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time

import duckdb
import pyarrow.dataset as ds
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SEED_ARTICLE = SEEDS / "000_9ad307750ad99124.txt"
SHARED = REPO.parent / "shared"
EVALDATA = SHARED / "evaldata"
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def evaldata(*parts: str) -> pathlib.Path:
    """A path under ../shared/evaldata, or a clean skip when it is absent (a user's clone)."""
    path = EVALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"evaluation data {path} is absent")
    return path


TABLES = ("articles", "entities", "quotes", "errors")


def newsbeam(*args, check=True):
    """Runs the installed console script (or the module, if the script is not on PATH)."""
    command = (
        [shutil.which("newsbeam")]
        if shutil.which("newsbeam")
        else [sys.executable, "-m", "pipelines.cli"]
    )
    result = subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, timeout=600
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"newsbeam {args} failed ({result.returncode}):\n{result.stderr[-3000:]}"
        )
    return result


def table(output, name):
    return ds.dataset(
        output / name, format="parquet", partitioning="hive", exclude_invalid_files=False
    ).to_table()


def comparable_rows(output):
    """Every row of every table, without the columns that differ between runs by design."""
    rows = {}
    connection = duckdb.connect()
    for name in TABLES:
        if not (output / name).exists():
            rows[name] = []
            continue
        varying = "exclude (ingested_at, run_id)" if name in ("articles", "errors") else ""
        relation = connection.sql(
            f"select * {varying} from read_parquet('{output / name}/*/*.parquet', "
            "hive_partitioning = true)"
        )
        rows[name] = sorted(map(repr, relation.fetchall()))
    return rows


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.1)
    return None


def copy_seeds(folder: pathlib.Path) -> None:
    """Copies ``seeds/0*`` into ``folder``, so files others add to seeds/ mid-run change no
    comparison."""
    for seed in SEEDS.glob("0*"):
        shutil.copy2(seed, folder / seed.name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class DaskCluster:
    address: str  # tcp://127.0.0.1:PORT
    workers: list[subprocess.Popen]  # each leads its own process group

    def kill_worker(self, index: int) -> None:
        """Kills a worker at once (SIGKILL to its process group), as a lost machine would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait()


@contextlib.contextmanager
def dask_cluster(workers: int, *, folder: pathlib.Path, startup: float = 120.0):
    """A ``dask scheduler`` and ``workers`` ``dask worker`` processes of one thread each,
    talking TCP on 127.0.0.1, started in ``folder`` (not the client's), logging there.

    Yields a ``DaskCluster`` once every worker has joined; stops every process
    (SIGTERM, then SIGKILL) however the block ends. The workers find this
    checkout's code first on their path, as an installed newsbeam would be found.
    """
    from distributed import Client

    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    # `dask scheduler` and `dask worker`, run by this interpreter whatever PATH holds.
    scheduler = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker"]
    commands = [[*scheduler, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]]
    commands += [
        [
            *worker,
            address,
            "--host",
            "127.0.0.1",
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--local-directory",
            str(folder / f"worker{i}"),
        ]
        for i in range(workers)
    ]
    processes = []
    try:
        for number, command in enumerate(commands):
            with open(folder / f"dask{number}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(
                        command,
                        cwd=folder,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
            if number == 0:  # the workers need the scheduler
                with Client(address, timeout=startup):
                    pass
        with Client(address, timeout=startup) as client:
            client.wait_for_workers(workers, timeout=startup)
        yield DaskCluster(address, processes[1:])
    finally:
        stop_process_groups(processes)


def stop_process_groups(processes, *, patience: float = 10.0) -> None:
    """Ends each process's group (each started with ``start_new_session``): SIGTERM to all,
    newest first, then SIGKILL to any still running after ``patience`` seconds."""
    for process in reversed(processes):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in reversed(processes):
        try:
            process.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def error_row(i, date="2026-11-28"):
    return {
        "stage": "read",
        "origin": f"f{i}",
        "error_type": "x",
        "message": "m",
        "excerpt": None,
        "ingested_at": NOW,
        "run_id": None,  # the writer's
        "date": date,
    }


def parsed(text: str, tokens: list[tuple[str, int, str, str, str]]):
    """A spaCy Doc of ``(word, head, dep, pos, iob entity)`` tokens whose text is exactly
    ``text`` (spaces read from it), with English lexical attributes and no trained model."""
    from spacy.lang.en import English
    from spacy.tokens import Doc

    words, heads, deps, pos, ents = (list(column) for column in zip(*tokens, strict=True))
    spaces, at = [], 0
    for word in words:
        at = text.index(word, at) + len(word)
        spaces.append(text[at : at + 1] == " ")
    # English().vocab: a bare Vocab() leaves lower case and punctuation flags empty.
    doc = Doc(
        English().vocab, words=words, spaces=spaces, heads=heads, deps=deps, pos=pos, ents=ents
    )
    assert doc.text == text
    return doc
