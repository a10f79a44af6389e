"""The progress of a run: one live line on a terminal, a plain line now and then elsewhere.

Counts come from ``transforms.lib.progress``: this process's tallies (the
in-process runner) and those the worker processes write to a folder in the
run's staging (the multi-processing runner). A remote runner shows none.
"""

import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
from typing import TextIO

from transforms.lib import counters, progress

_TERMINAL_SECONDS = 0.25
_LOG_SECONDS = 30.0


def progress_line(totals: dict[str, int], *, elapsed: float, files: int | None) -> str:
    """``read 120 · enriched 80 · written 60 · 12.3 articles/s · 0:10 · ~0:20 left``.

    The estimate is shown when the number of input files is known and some
    have been read; it assumes the rest take as long per file.
    """
    read = totals.get(counters.READ_RECORDS, 0) + totals.get(counters.FEEDS_RECORDS, 0)
    enriched = totals.get(counters.ENRICH_ARTICLES, 0)
    written = totals.get(counters.write_rows("articles"), 0)
    rate = (enriched or read) / elapsed if elapsed > 0 else 0.0
    parts = [f"read {read}", f"enriched {enriched}", f"written {written}"]
    parts += [f"{rate:.1f} articles/s", _clock(elapsed)]
    files_read = totals.get(counters.READ_FILES, 0)
    if files and 0 < files_read < files:
        parts.append(f"~{_clock(elapsed * (files - files_read) / files_read)} left")
    return " · ".join(parts)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@contextlib.contextmanager
def shown(name: str, *, files: int | None, quiet: bool = False, stream: TextIO | None = None):
    """Shows the progress of the run under way until the block ends.

    On a terminal the line is redrawn a few times a second and erased at the
    end; elsewhere (a log file, a scheduler) a plain line is written every
    30 seconds. Worker processes leave their counts in a temporary folder
    named after ``name``, created and removed here. Nothing is shown when
    ``quiet``.
    """
    stream = stream or sys.stderr
    if quiet:
        yield
        return
    progress.reset()
    folder = tempfile.mkdtemp(prefix=f"newsbeam-progress-{name}-")
    previous = os.environ.get(progress.ENV)
    os.environ[progress.ENV] = folder  # inherited by the worker processes started from here
    terminal = stream.isatty()
    stop = threading.Event()
    started = time.monotonic()

    def draw(final: bool = False) -> None:
        line = progress_line(
            progress.collect(folder), elapsed=time.monotonic() - started, files=files
        )
        if terminal:
            width = shutil.get_terminal_size().columns - 1
            stream.write("\r\x1b[K" + ("" if final else line[:width]))
        else:
            stream.write(f"newsbeam: {line}\n")
        stream.flush()

    def loop() -> None:
        while not stop.wait(_TERMINAL_SECONDS if terminal else _LOG_SECONDS):
            draw()

    thread = threading.Thread(target=loop, name="newsbeam-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        if terminal:
            draw(final=True)  # the summary follows on a clean line
        if previous is None:
            os.environ.pop(progress.ENV, None)
        else:
            os.environ[progress.ENV] = previous
        shutil.rmtree(folder, ignore_errors=True)
