"""``newsbeam watch``: poll folders and feeds every interval and ingest what is new.

Each poll is one incremental batch run of the same graph as ``ingest``:
files the output's input manifest holds unchanged are not read again, articles
already in the output are dropped before any NLP, and the run's files appear
all at once when it commits. A SIGTERM or Ctrl-C lets the poll under way
finish and commit, then stops; a second one stops at once, leaving nothing
visible of the interrupted poll.
"""

import gc
import logging
import os
import re
import signal
import threading
import time

from pipelines import report
from transforms.lib import manifest

_log = logging.getLogger("newsbeam.watch")
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}


def parse_interval(value: str) -> float:
    """Seconds in ``90``, ``30s``, ``5m``, ``1h`` or ``500ms``; rejects zero and junk."""
    match = _INTERVAL.match(value)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{value!r} is not an interval like 30s, 5m or 1h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def check_pattern(pattern: str) -> None:
    """Raises ``ValueError`` for an ``--input`` glob that cannot match now or later.

    Like ``ingest``, a glob Beam cannot list is refused; unlike ``ingest``, a
    glob that matches nothing yet is fine when its folder exists (a drop
    folder starts empty) and only logged, while a folder that does not exist
    (a typo) is refused.
    """
    from apache_beam.io.filesystems import FileSystems

    try:
        matched = FileSystems.match([pattern])[0].metadata_list
    except Exception as exc:  # Beam raises BeamIOError, ValueError, ... per filesystem
        raise ValueError(f"{pattern!r}: {exc}") from None
    if matched:
        return
    folder = _fixed_folder(pattern)
    if folder is not None and not os.path.isdir(folder):
        raise ValueError(f"{pattern!r} matches no file, and there is no folder {folder!r}")
    _log.warning("--input %r matches no file yet; watching for files to appear", pattern)


def _fixed_folder(pattern: str) -> str | None:
    """The local folder a glob lists (its part before the first wildcard), or None if remote."""
    if re.match(r"^[a-zA-Z][-a-zA-Z0-9+.]*://", pattern):
        return None
    head = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    return os.path.dirname(head) or "."


def settled_files(
    listing: dict[str, tuple[int, float]], *, now: float, settle: float
) -> dict[str, tuple[int, float]]:
    """The files of ``listing`` last modified at least ``settle`` seconds before ``now``.

    A file modified more recently may still be being written (a half-written
    ``.jsonl`` would become a ``malformed_json`` row for good); it is left for
    a later poll.
    """
    return {path: stamp for path, stamp in listing.items() if now - stamp[1] >= settle}


def list_files(
    patterns: list[str], *, exclude: str | None = None
) -> tuple[dict[str, tuple[int, float]], dict[str, int]]:
    """Every file matching the patterns, with its size and modification time, and how many
    files each pattern matched under ``exclude`` (the output folder), which are left out."""
    from transforms.read import match_inputs

    listing, left_out = {}, {}
    for pattern in patterns:
        kept, excluded = match_inputs(pattern, exclude=exclude)
        for metadata in kept:
            listing[metadata.path] = (metadata.size_in_bytes, metadata.last_updated_in_seconds)
        if excluded:
            left_out[pattern] = len(excluded)
    return listing, left_out


def output_files_line(pattern: str, count: int, output_dir: str) -> str:
    """The one warning line for input files left out because they lie in the output folder."""
    files = "file" if count == 1 else "files"
    return (
        f"--input {pattern!r} matches {count} {files} under the output folder {output_dir}: "
        "not read (a run never reads its own output)"
    )


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
    status = report.run_status(stages)
    return (
        f"poll {poll}: {totals['read']} items, {totals['written']} new, "
        f"{totals['duplicates']} duplicates, {totals['errors']} errors, "
        f"{stages['write']['files']} files written ({seconds:.1f} s)"
        + ("" if status == report.Status.OK else f": {status.replace('_', ' ')}")
    )


def watch(
    session,
    *,
    interval: float,
    max_polls: int | None = None,
    settle: float = 0.0,
    compact_every: int | None = None,
    target_bytes: int | None = None,
) -> int:
    """Polls until stopped (or ``max_polls``); each poll with new files, or any poll when
    there are feeds, is one committed run. Files modified in the last ``settle`` seconds
    wait for a later poll. With ``compact_every``, the output is compacted after every
    that many polls (``pipelines.compact``, files of up to ``target_bytes``).

    Returns the exit code of the last poll that ran (``report.ExitCode``), 0 when
    none did: a poll with nothing new says nothing about the inputs. A poll that
    fails as a whole raises ``RunFailed`` and ends the watch.
    Which files are new is the output's input manifest's to say, as for ``ingest``: each
    run records the files it read after its commit.
    """
    from pipelines import inputs
    from pipelines.cli import _absolute, load_input_manifest

    args = session.args
    stop = StopSignal()
    given = {_absolute(pattern): pattern for pattern in args.inputs}  # listed absolute
    known = load_input_manifest(args.output)
    if getattr(args, "rescan", False):
        known = manifest.InputManifest(base=-1)  # the first poll reads every file; -1: no base
    warned = set()
    poll = 0
    exit_code = report.ExitCode.OK
    _freeze_long_lived()
    warmed = False  # the first run imports most of Beam: its modules are long-lived too
    while not stop.requested:
        poll += 1
        started = time.monotonic()
        listing, left_out = list_files(list(given), exclude=_absolute(args.output))
        for pattern in left_out.keys() - warned:  # once per pattern, not every poll
            _log.warning(output_files_line(given[pattern], left_out[pattern], args.output))
            warned.add(pattern)
        listing = settled_files(listing, now=time.time(), settle=settle)
        selection = inputs.select(listing, known)
        record = None
        if selection.read or session.feeds:  # feeds are polled every time, with conditional GET
            record = session.run(
                session.config(selection.inputs), started=started, unchanged=selection.unchanged
            )
            exit_code = report.ExitCode(record["exit_code"])
        if selection.touched:
            inputs.record_touched(args.output, record["run_id"] if record else "touched", selection)
        if record is not None or selection.touched or known.base < 0:
            known = load_input_manifest(args.output, known)  # what the run recorded
        _log.warning(poll_line(poll, record, seconds=time.monotonic() - started))
        if record is not None and not warmed:
            _freeze_long_lived()
            warmed = True
        if compact_every and poll % compact_every == 0:
            _compact(args.output, target_bytes)
        if max_polls is not None and poll >= max_polls:
            break
        stop.wait(interval - (time.monotonic() - started))
    _log.warning("stopped after %d poll(s)", poll)
    return exit_code


def _freeze_long_lived() -> None:
    """Leaves the objects alive now (modules, the session, caches) out of every later garbage
    collection (``gc.freeze``).

    A watch holds some 200,000 of them, and each poll's own objects set off collections
    that would scan them all again: 0.1 to 0.7 s of every poll on the P8 output.
    """
    gc.collect()
    gc.freeze()


def _compact(output_dir: str, target_bytes: int | None) -> None:
    """One compaction between polls (the session holds the writer lock), in one log line."""
    from pipelines import compact

    options = {"target_bytes": target_bytes} if target_bytes else {}
    try:
        result = compact.compact(output_dir, **options)
    except Exception as exc:  # upkeep: the polls go on, the next compaction tries again
        _log.warning("compaction failed (%s); it is tried again after the next polls", exc)
        return
    if result.run_id is None:
        _log.warning("compaction: nothing to compact")
        return
    before, after = sum(result.files_before.values()), sum(result.files_after.values())
    _log.warning(
        "compaction %s: %d files -> %d, %d commit records -> %d (%.1f s)",
        result.run_id,
        before,
        after,
        result.records_before,
        result.records_after,
        result.seconds,
    )
