"""Live counts for the progress line, from every worker process, while a run goes on.

No Beam here. Beam's counters are read only when a run ends; these tallies
are kept per process beside them and, in a worker process, written to
``$NEWSBEAM_PROGRESS_DIR/<pid>.json`` twice a second by a daemon thread,
where the launcher adds them up. Without that variable a process only keeps its own.
"""

import json
import os
import threading
import time

ENV = "NEWSBEAM_PROGRESS_DIR"
_FLUSH_SECONDS = 0.5

_lock = threading.Lock()
_tallies: dict[str, int] = {}
_flusher: threading.Thread | None = None


def tally(name: str, amount: int = 1) -> None:
    """Adds ``amount`` to this process's count ``name`` (a name of ``counters``)."""
    global _flusher
    with _lock:
        _tallies[name] = _tallies.get(name, 0) + amount
        folder = os.environ.get(ENV)
        if folder and _flusher is None:
            _flusher = threading.Thread(target=_flush_every, daemon=True)
            _flusher.start()


def _flush_every() -> None:
    """Writes this process's counts whenever they changed, twice a second, for good."""
    written = None
    while True:
        snapshot, folder = local(), os.environ.get(ENV)
        if folder and (snapshot, folder) != written:
            _write(folder, snapshot)
            written = (snapshot, folder)
        time.sleep(_FLUSH_SECONDS)


def _write(folder: str, snapshot: dict[str, int]) -> None:
    path = os.path.join(folder, f"{os.getpid()}.json")
    partial = f"{path}.partial"
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(snapshot, handle)
        os.replace(partial, path)
    except OSError:
        pass  # progress is a courtesy: a run never fails for it


def local() -> dict[str, int]:
    """This process's counts."""
    with _lock:
        return dict(_tallies)


def reset() -> None:
    """Forgets this process's counts (the launcher, before each run)."""
    with _lock:
        _tallies.clear()


def collect(folder: str | None) -> dict[str, int]:
    """This process's counts plus those the worker processes wrote to ``folder``."""
    totals = local()
    if not folder or not os.path.isdir(folder):
        return totals
    own = f"{os.getpid()}.json"
    for name in os.listdir(folder):
        if not name.endswith(".json") or name == own:
            continue
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                counts = json.load(handle)
        except (OSError, ValueError):
            continue  # being replaced, or gone
        for key, value in counts.items():
            if isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    return totals
