"""Time limits: a call that runs too long is stopped with its worker process, not abandoned."""

import gc
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

from tests import slow_work
from tests.helpers import REPO, wait_for
from transforms.lib import html, nlp
from transforms.lib.limits import (
    RemoteError,
    WorkerCrashed,
    WorkerProcess,
    call_with_time_limit,
    scaled_limit,
    start_ahead,
    take_ahead,
)
from transforms.lib.records import Rejected


def running(pid: int | None) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for its parent counts as gone)."""
    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not running(pid)


@pytest.fixture
def worker():
    process = WorkerProcess(name="newsbeam-test")
    yield process
    process.close()


def test_calls_run_one_after_another_in_one_child_process(worker):
    child = worker.call(os.getpid, seconds=30, what="pid")
    assert child != os.getpid() and child == worker.pid
    assert worker.call(divmod, 7, 2, seconds=30, what="dividing") == (3, 1)
    assert worker.call(os.getpid, seconds=30, what="pid") == child


def test_exceptions_of_the_call_come_back_as_their_own_types(worker):
    with pytest.raises(ZeroDivisionError) as caught:
        worker.call(divmod, 1, 0, seconds=30, what="dividing")
    assert "in the worker process" in caught.value.__notes__[0]
    # Rejected takes other arguments than its message: it comes back whole.
    with pytest.raises(Rejected) as caught:
        worker.call(html.extract_article, "<html><body></body></html>", seconds=30, what="HTML")
    assert caught.value.error_type == "no_main_text" and caught.value.message
    with pytest.raises(RemoteError, match=r"ValueError: <unlocked _thread\.lock"):
        worker.call(slow_work.raise_unpicklable, seconds=30, what="raising")
    # None of these cost the process.
    first = worker.pid
    assert worker.call(os.getpid, seconds=30, what="pid") == first


def test_a_call_over_the_limit_is_stopped_with_its_process_and_the_next_call_works(worker):
    first = worker.call(os.getpid, seconds=30, what="pid")
    started = time.monotonic()
    with pytest.raises(Rejected) as caught:
        worker.call(time.sleep, 30, seconds=0.3, what="sleeping")
    assert time.monotonic() - started < 10
    assert caught.value.error_type == "time_limit"
    assert caught.value.message == "sleeping took longer than 0.3 s and was stopped"
    assert not running(first)  # killed and reaped, not left sleeping
    assert worker.pid is None
    second = worker.call(os.getpid, seconds=30, what="pid")  # a new process, started lazily
    assert second != first and running(second)


def test_importing_the_function_in_a_new_process_is_not_counted_in_the_limit(
    tmp_path, monkeypatch, worker
):
    (tmp_path / "slow_to_import.py").write_text(
        "import time\ntime.sleep(1.5)\n\ndef answer():\n    return 42\n"
    )
    monkeypatch.syspath_prepend(tmp_path)  # before the worker starts: it gets this path
    import slow_to_import

    assert worker.call(slow_to_import.answer, seconds=0.5, what="answering") == 42


def test_a_crashed_or_killed_process_is_replaced(worker):
    with pytest.raises(WorkerCrashed, match=r"exit code 3\) during exiting"):
        worker.call(os._exit, 3, seconds=30, what="exiting")
    pid = worker.call(os.getpid, seconds=30, what="pid")
    os.kill(pid, signal.SIGKILL)  # from outside, while idle
    # Dead once its last thread is (its first can wait as a zombie before that).
    task = pathlib.Path(f"/proc/{pid}/task")
    assert wait_for(lambda: not running(pid) and len(list(task.glob("*"))) <= 1, 10)
    assert worker.call(os.getpid, seconds=30, what="pid") not in (pid, None)


def test_setup_runs_once_per_process_and_its_result_is_the_first_argument(tmp_path):
    model = slow_work.slow_model(tmp_path / "model")
    sys.path.insert(0, slow_work.plugin_path(tmp_path / "plugin"))
    try:
        worker = WorkerProcess(setup=nlp.load_model, setup_args=(model,))
        annotate = {"labels": frozenset(), "cues": ("said",), "seconds": 10, "what": "NLP"}
        [fine] = worker.call(nlp.annotate, ["It rained. Then it stopped."], **annotate)
        assert fine == {"entities": [], "quotes": []}
        first = worker.pid
        with pytest.raises(Rejected):
            worker.call(nlp.annotate, [f"A {slow_work.MARKER} text."], **{**annotate, "seconds": 1})
        assert not running(first)
        assert worker.call(nlp.annotate, ["Fine again."], **annotate) == [fine]
        worker.close()
    finally:
        sys.path.remove(str(tmp_path / "plugin"))


def test_a_setup_that_fails_raises_at_start_and_leaves_nothing_running():
    worker = WorkerProcess(setup=nlp.load_model, setup_args=("no_such_model",))
    with pytest.raises(nlp.ModelError, match="no_such_model"):
        worker.start()
    assert worker.pid is None


def test_close_and_garbage_collection_end_the_process():
    closed = WorkerProcess()
    pid = closed.call(os.getpid, seconds=30, what="pid")
    closed.close()
    assert not running(pid)
    dropped = WorkerProcess()
    pid = dropped.call(os.getpid, seconds=30, what="pid")
    del dropped
    gc.collect()
    assert not running(pid)


def test_close_when_idle_ends_the_process_only_if_no_call_comes_first(worker):
    # A Dask worker tears the NLP stage down after each partition: the model must wait.
    first = worker.call(os.getpid, seconds=30, what="pid")
    worker.close_when_idle(1.0)
    time.sleep(0.3)
    assert worker.call(os.getpid, seconds=30, what="pid") == first  # a call in time keeps it
    assert running(first)
    worker.close_when_idle(0.2)
    assert wait_for(lambda: worker.pid is None, 10) and gone_within(first, 10)


def test_a_worker_process_does_not_outlive_its_parent(tmp_path):
    script = (
        "import os, time\n"
        "from transforms.lib.limits import WorkerProcess\n"
        "worker = WorkerProcess()\n"
        "print(worker.call(os.getpid, seconds=30, what='pid'), flush=True)\n"
        "worker.call(time.sleep, 60, seconds=None, what='sleeping')\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        child = int(parent.stdout.readline())
        assert running(child)
    finally:
        parent.kill()  # no atexit, no finalizer: only the child's own watch can end it
        parent.wait()
    assert gone_within(child, 10)


def _calls_in_one_thread() -> list[int]:
    assert call_with_time_limit(os.getpid, seconds=None, what="pid") == os.getpid()
    first = call_with_time_limit(os.getpid, seconds=30, what="pid")
    assert first != os.getpid()
    assert call_with_time_limit(os.getpid, seconds=30, what="pid") == first
    with pytest.raises(Rejected):
        call_with_time_limit(time.sleep, 30, seconds=0.2, what="sleeping")
    assert not running(first)
    after = call_with_time_limit(os.getpid, seconds=30, what="pid")
    assert after not in (first, os.getpid())
    return [first, after]


def test_call_with_time_limit_keeps_one_process_per_thread_and_ends_it_with_the_thread():
    pids, failures = [], []

    def in_a_thread():
        try:
            pids.extend(_calls_in_one_thread())
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=in_a_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    assert len(set(pids)) == 4  # each thread its own process
    del threads
    gc.collect()
    assert not any(running(pid) for pid in pids)  # the threads are gone, so are their processes


def test_a_worker_started_ahead_is_handed_out_once():
    start_ahead(os.getpid, name="newsbeam-test")
    worker = take_ahead(os.getpid)
    assert take_ahead(os.getpid) is None
    try:
        # The setup's value (the child's pid) is the first argument of every call.
        assert worker.call(abs, seconds=30, what="pid") == worker.pid
    finally:
        worker.close()
    with pytest.raises(nlp.ModelError):
        start_ahead(nlp.load_model, ("no_such_model",))
    assert take_ahead(nlp.load_model, ("no_such_model",)) is None


def test_the_limit_of_an_article_scales_with_its_length():
    assert scaled_limit(120, 0) == 120
    assert scaled_limit(120, 50_000) == 120  # never less than the limit
    assert scaled_limit(120, 150_000) == 180
    assert scaled_limit(120, 2_000_000) == 2400  # a 2 MB article gets 20 times as long
