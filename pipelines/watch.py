"""``newsbeam watch``: poll folders and feeds every interval and ingest what is new.

Each poll is one incremental batch run of the same graph as ``ingest``:
files that did not change since the last poll are not read again, articles
already in the output are dropped before any NLP, and the run's files appear
all at once when it commits. A SIGTERM or Ctrl-C lets the poll under way
finish and commit, then stops; a second one stops at once, leaving nothing
visible of the interrupted poll.
"""

import logging
import re
import signal
import threading
import time

from transforms import store

_log = logging.getLogger("newsbeam.watch")
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}


def parse_interval(value: str) -> float:
    """Seconds in ``90``, ``30s``, ``5m``, ``1h`` or ``500ms``; rejects zero and junk."""
    match = _INTERVAL.match(value)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{value!r} is not an interval like 30s, 5m or 1h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def changed_files(
    listing: dict[str, tuple[int, float]], known: dict[str, tuple[int, float]]
) -> list[str]:
    """Paths that are new or whose size or modification time changed, in order."""
    return sorted(path for path, stamp in listing.items() if known.get(path) != tuple(stamp))


def list_files(patterns: list[str]) -> dict[str, tuple[int, float]]:
    """Every file matching the patterns, with its size and modification time."""
    from apache_beam.io.filesystems import FileSystems

    listing = {}
    for result in FileSystems.match(list(patterns)):
        for metadata in result.metadata_list:
            listing[metadata.path] = (metadata.size_in_bytes, metadata.last_updated_in_seconds)
    return listing


class StopSignal:
    """SIGTERM/SIGINT: the first asks for a clean stop after the poll under way, the second
    stops at once."""

    def __init__(self):
        self._event = threading.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._handle)

    def _handle(self, number, _frame):
        if self._event.is_set():
            raise KeyboardInterrupt
        _log.warning("received %s: stopping after the poll under way", signal.Signals(number).name)
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> None:
        self._event.wait(max(0.0, seconds))


def poll_line(poll: int, record: dict | None, *, seconds: float) -> str:
    """The one progress line a poll logs."""
    if record is None:
        return f"poll {poll}: nothing new ({seconds:.1f} s)"
    stages, totals = record["stages"], record["balance"]
    return (
        f"poll {poll}: {totals['read']} items, {totals['written']} new, "
        f"{totals['duplicates']} duplicates, {totals['errors']} errors, "
        f"{stages['write']['files']} files written ({seconds:.1f} s)"
    )


def watch(session, *, interval: float, max_polls: int | None = None) -> int:
    """Polls until stopped (or ``max_polls``); each poll with new files, or any poll when
    there are feeds, is one committed run."""
    args = session.args
    stop = StopSignal()
    known = store.load_file_state(args.output)
    poll = 0
    while not stop.requested:
        poll += 1
        started = time.monotonic()
        listing = list_files(args.inputs) if args.inputs else {}
        new_files = changed_files(listing, known)
        record = None
        if new_files or session.feeds:  # feeds are polled every time, with conditional GET
            record = session.run(session.config(new_files), started=started)
            known.update({path: listing[path] for path in new_files})
            store.save_file_state(args.output, known)
        _log.warning(poll_line(poll, record, seconds=time.monotonic() - started))
        if max_polls is not None and poll >= max_polls:
            break
        stop.wait(interval - (time.monotonic() - started))
    _log.warning("stopped after %d poll(s)", poll)
    return 0
