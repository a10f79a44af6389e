"""The output folder: its layout, its JSON files, and the all-at-once commit.

::

    DIR/
      articles/date=YYYY-MM-DD/part-<run_id>-<name>.parquet   the four tables,
      entities/date=.../  quotes/date=.../  errors/date=.../  Hive-partitioned
      _tmp/<run_id>/<table>/<date>-<name>.parquet             a run's staged files
      _tmp/<run_id>/_COMMIT.json                              its commit journal
      _state/feeds.json                                       feed validators, entries seen
      _state/files.json                                       input files seen by ``watch``
      _commits/<run_id>.json                                  a commit's files, written last
      _runs/<run_id>.json                                     each run's record
      _lock                                                   the writer's pid and host

Readers of the tables ignore names starting with ``_``. A file is in a
finished commit once its run has a ``_commits/`` record; ``committed_files``
lists only those, so ``query`` and ``stats`` never see half a commit. One
writer at a time: every command that writes holds ``writer_lock``.

Every path is built here, joined as ``DIR``'s Beam filesystem joins it,
and every file is written through Beam's ``FileSystems``, so ``DIR`` may be
any Beam filesystem (``gs://...`` is never a local folder named ``gs:``).
JSON files are written whole under a temporary name and renamed, so a reader
sees the old file or the new one. Beam is imported only by the functions
that read or write: ``query`` and ``stats`` need the layout, not Beam.
"""

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import pathlib
import re
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping

from schemas import PARTITION_COLUMN
from transforms.lib import globs
from transforms.lib.feeds import merge_feed_state
from transforms.lib.settings import DEFAULT_LIMITS

__all__ = [
    "COMMIT_ORDER",
    "OutputLockedError",
    "UnreadableFileError",
    "abort",
    "check_writable",
    "commit_counts",
    "commit_files",
    "commit_record_path",
    "committed_files",
    "feed_state_path",
    "file_state_path",
    "final_path",
    "has_table_files",
    "join",
    "load_feed_state",
    "load_file_state",
    "local_table_files",
    "read_json",
    "recover",
    "run_of_file",
    "run_record_path",
    "save_feed_state",
    "save_file_state",
    "staged_path",
    "staging_dir",
    "table_dir",
    "table_files",
    "write_json",
    "write_run_record",
    "writer_lock",
]

STAGING = "_tmp"
STATE = "_state"
RUNS = "_runs"
COMMITS = "_commits"
LOCK = "_lock"
JOURNAL = "_COMMIT.json"
FEED_STATE = "feeds.json"
FILE_STATE = "files.json"
FEED_STATE_VERSION = 1
# Articles last: their presence promises that their entities and quotes are there.
COMMIT_ORDER = ("errors", "entities", "quotes", "entity_resolution", "articles")

# A table's committed files, under its folder.
_TABLE_FILES = (f"{PARTITION_COLUMN}=*", "*.parquet")
# A path with a scheme, as FileSystems.get_scheme reads it.
_SCHEME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9+.]*://")
_log = logging.getLogger("newsbeam.store")


class UnreadableFileError(ValueError):
    """A file of the output folder that exists but cannot be read."""


class OutputLockedError(RuntimeError):
    """Another process is writing to the output folder."""


# ---------------------------------------------------------------- layout


def join(base: str, *parts: str) -> str:
    """``parts`` under ``base``, joined as ``base``'s Beam filesystem joins them.

    A local path joins with ``os.path.join`` (as Beam's local filesystem
    does); a path with a scheme through ``FileSystems.join``, or with ``/``
    (as every Beam object store joins) when that scheme's filesystem is not
    installed, so the path is still right in messages and writing it fails
    with Beam's own explanation.
    """
    if not _SCHEME.match(base):
        return os.path.join(base, *parts)
    from apache_beam.io.filesystems import FileSystems

    try:
        return FileSystems.join(base, *parts)
    except (ValueError, OSError):  # no filesystem installed for the scheme
        path = base
        for part in parts:
            path = path.rstrip("/") + "/" + part.lstrip("/")
        return path


def table_dir(output_dir: str, table: str) -> str:
    return join(output_dir, table)


def table_files(output_dir: str, table: str) -> str:
    """The glob of every committed file of ``table``: ``DIR/table/date=*/*.parquet``.

    ``DIR`` is escaped: a folder named ``out[1]`` or ``out*`` matches only itself.
    """
    return join(globs.escape(table_dir(output_dir, table)), *_TABLE_FILES)


def local_table_files(output_dir: str, table: str) -> list[str]:
    """The committed files of ``table`` in the local folder ``output_dir``, sorted.

    For DuckDB, which reads local folders only; needs no Beam.
    """
    folder = pathlib.Path(table_dir(output_dir, table))
    return sorted(str(path) for path in folder.glob("/".join(_TABLE_FILES)) if path.is_file())


def has_table_files(output_dir: str, table: str) -> bool:
    """True when ``table`` has a committed file in the local folder ``output_dir``.

    For DuckDB, which reads local folders only; needs no Beam.
    """
    return any(pathlib.Path(table_dir(output_dir, table)).glob("/".join(_TABLE_FILES)))


def final_path(output_dir: str, table: str, date: str, run_id: str, name: str) -> str:
    """Where a staged file lands: ``DIR/table/date=YYYY-MM-DD/part-<run>-<name>.parquet``.

    Rejects a ``name`` with a ``-``: ``run_of_file`` reads the run id back
    from everything before the last one.
    """
    if "-" in name:
        raise ValueError(f"a file name part may not contain '-': {name!r}")
    return join(output_dir, table, f"{PARTITION_COLUMN}={date}", f"part-{run_id}-{name}.parquet")


def run_of_file(path: str) -> str | None:
    """The run id in a committed file's name (``part-<run>-<name>.parquet``); None for others."""
    name = path.rsplit("/", 1)[-1]
    if not (name.startswith("part-") and name.endswith(".parquet")):
        return None
    run_id, dash, _name = name[len("part-") : -len(".parquet")].rpartition("-")
    return run_id if dash and run_id else None


def staging_dir(output_dir: str, run_id: str) -> str:
    return join(output_dir, STAGING, run_id)


def staged_path(output_dir: str, run_id: str, table: str, date: str, name: str) -> str:
    """A staged file, invisible to readers: ``DIR/_tmp/<run>/table/<date>-<name>.parquet``."""
    return join(staging_dir(output_dir, run_id), table, f"{date}-{name}.parquet")


def journal_path(output_dir: str, run_id: str) -> str:
    return join(staging_dir(output_dir, run_id), JOURNAL)


def feed_state_path(output_dir: str) -> str:
    return join(output_dir, STATE, FEED_STATE)


def file_state_path(output_dir: str) -> str:
    return join(output_dir, STATE, FILE_STATE)


def run_record_path(output_dir: str, run_id: str) -> str:
    return join(output_dir, RUNS, f"{run_id}.json")


def commit_record_path(output_dir: str, run_id: str) -> str:
    """``DIR/_commits/<run_id>.json``: written when every file of the run is in place."""
    return join(output_dir, COMMITS, f"{run_id}.json")


def _is_local(path: str) -> bool:
    return not _SCHEME.match(path)


# ---------------------------------------------------------------- files


def write_json(path: str, document: object, *, indent: int | None = None) -> str:
    """Writes ``document`` to ``path`` atomically; returns ``path``.

    The JSON goes to a temporary file next to ``path`` (a name of its own,
    so two writers never share one), which is then renamed over ``path``:
    a reader sees the old file or the new one, never part of either. A
    document that cannot be serialised raises before anything is written;
    a failed write removes its temporary file. On a local disk the file is
    fsynced before the rename and its folder after, so a power cut leaves
    the old document or the new one, never an empty file.
    """
    from apache_beam.io.filesystems import FileSystems

    data = json.dumps(document, indent=indent, ensure_ascii=False, default=str).encode("utf-8")
    temporary = f"{path}.{uuid.uuid4().hex[:8]}.part"
    try:
        with FileSystems.create(temporary) as handle:  # creates missing parent folders
            handle.write(data)
        _fsync(temporary)  # the rename must never publish a file whose bytes are not on disk
        FileSystems.rename([temporary], [path])
        _fsync_folder(path)
    except BaseException:
        with contextlib.suppress(Exception):
            _delete(temporary)
        raise
    return path


def read_json(path: str) -> object | None:
    """The JSON document at ``path``; None when there is no such file.

    Raises ``UnreadableFileError``, naming the file, when it exists but
    cannot be read, is not JSON, or is JSON ``null`` (no file here holds it).
    """
    from apache_beam.io.filesystems import FileSystems

    if not FileSystems.exists(path):
        return None
    try:
        with FileSystems.open(path) as handle:
            document = json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise UnreadableFileError(f"{path} cannot be read: {exc}") from None
    if document is None:
        raise UnreadableFileError(f"{path} cannot be read: it holds null")
    return document


def _fsync(path: str) -> None:
    """Flushes a local file's bytes to disk; paths with a scheme are the object store's job."""
    if _is_local(path):
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _fsync_folder(path: str) -> None:
    """Flushes the local folder holding ``path``, so a rename into it survives a power cut."""
    if _is_local(path):
        _fsync(os.path.dirname(path) or ".")


def check_writable(output_dir: str) -> None:
    """Writes and deletes a probe file in ``output_dir``; raises whatever the filesystem raises."""
    from apache_beam.io.filesystems import FileSystems

    probe = join(output_dir, f"_probe-{uuid.uuid4().hex}")
    with FileSystems.create(probe) as handle:
        handle.write(b"newsbeam")
    _delete(probe)


def write_run_record(output_dir: str, run_id: str, record: dict) -> str:
    """Writes ``DIR/_runs/<run_id>.json`` atomically; returns its path."""
    return write_json(run_record_path(output_dir, run_id), record, indent=2)


# ---------------------------------------------------------------- state


def load_feed_state(output_dir: str) -> dict[str, dict]:
    """Each feed's saved state, by feed URL or path: ``etag``, ``last_modified``,
    ``seen_ids`` (oldest first) and ``checked_at``. Empty when nothing is saved.

    Raises ``UnreadableFileError`` when the state file cannot be read; its
    message says how to start afresh.
    """
    path = feed_state_path(output_dir)
    hint = "move it aside to read every feed entry again (articles already written are dropped)"
    document = _read_state(path, hint)
    if document is None:
        return {}
    feeds = document.get("feeds") if isinstance(document, dict) else None
    if not isinstance(feeds, dict):
        raise UnreadableFileError(f"{path} cannot be read: 'feeds' is not an object; {hint}")
    return feeds


def save_feed_state(
    output_dir: str, updates: list[dict], *, max_seen_ids: int = DEFAULT_LIMITS.max_seen_ids
) -> None:
    """Merges ``updates`` (``transforms.lib.feeds.state_update`` dicts) into the feed state.

    Call it only after the run's output is committed, so a crash before
    then leaves the entries to be read again.
    """
    if not updates:
        return
    merged = merge_feed_state(load_feed_state(output_dir), updates, max_seen_ids=max_seen_ids)
    write_json(feed_state_path(output_dir), {"version": FEED_STATE_VERSION, "feeds": merged})


def load_file_state(output_dir: str) -> dict[str, tuple[int, float]]:
    """The input files ``watch`` has ingested: path -> (size, modification time).

    Empty when nothing is saved; raises ``UnreadableFileError`` when the
    state file cannot be read, with a message that says how to start afresh.
    """
    path = file_state_path(output_dir)
    hint = "move it aside to read every input file again (articles already written are dropped)"
    document = _read_state(path, hint)
    if document is None:
        return {}
    if not isinstance(document, dict) or not all(map(_is_stamp, document.values())):
        raise UnreadableFileError(
            f"{path} cannot be read: not an object of [size, mtime] pairs; {hint}"
        )
    return {file: tuple(stamp) for file, stamp in document.items()}


def _read_state(path: str, hint: str):
    """``read_json(path)``, its error naming ``hint``: how to start afresh."""
    try:
        return read_json(path)
    except UnreadableFileError as exc:
        raise UnreadableFileError(f"{exc}; {hint}") from None


def _is_stamp(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(
            v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in value
        )
    )


def save_file_state(output_dir: str, known: Mapping[str, tuple[int, float]]) -> None:
    """Writes the file state atomically: a reader sees the old state or the new one."""
    write_json(file_state_path(output_dir), {file: list(stamp) for file, stamp in known.items()})


# ---------------------------------------------------------------- one writer


@contextlib.contextmanager
def writer_lock(
    output_dir: str, *, wait: bool = False, command: str = "newsbeam"
) -> Iterator[dict]:
    """Holds the output's writer lock for the ``with`` block; yields the holder record.

    The lock is ``fcntl.flock`` on ``DIR/_lock``, which holds the holder's
    pid, host, command and start time for the message others get. The
    kernel drops it when the holder exits, however it exits, so a lock left
    by a dead process never blocks. Raises ``OutputLockedError``, naming the
    holder, when another process holds it, or with ``wait`` blocks until it
    is free. An output with a scheme (``gs://...``) has no lock newsbeam can
    take: the lock is then a local file named after the URL, which keeps out
    writers on this machine only, and a warning says so.
    """
    if _is_local(output_dir):
        path = join(output_dir, LOCK)
    else:
        digest = hashlib.sha256(output_dir.rstrip("/").encode("utf-8")).hexdigest()[:32]
        path = os.path.join(tempfile.gettempdir(), "newsbeam-locks", f"{digest}.lock")
        _log.warning(
            "%s cannot be locked against writers on other machines; this machine's are kept out",
            output_dir,
        )
    os.makedirs(os.path.dirname(path), exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(descriptor)
            if not wait:
                raise OutputLockedError(
                    f"{output_dir} is being written by {holder}; run again when it ends, "
                    "or add --wait"
                ) from None
            _log.warning("waiting for %s to finish writing to %s", holder, output_dir)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command,
            "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(record).encode("utf-8"), 0)
        try:
            yield record
        finally:
            os.ftruncate(descriptor, 0)  # nobody holds it: nothing to name
    finally:
        os.close(descriptor)  # releases the lock


def _lock_holder(descriptor: int, *, patience: float = 1.0) -> str:
    """Who holds the lock, as the holder wrote it (it writes just after taking the lock)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            holder = json.loads(os.pread(descriptor, 4096, 0).decode("utf-8"))
            return (
                f"pid {holder['pid']} on {holder['host']} "
                f"({holder['command']}, since {holder['since']})"
            )
        except (ValueError, KeyError, TypeError):
            if time.monotonic() > deadline:
                return "another process (it has not written its pid yet)"
            time.sleep(0.05)


# ---------------------------------------------------------------- commit


def commit_files(
    output_dir: str, run_id: str, files: Iterable[dict], *, counts: Mapping | None = None
) -> list[dict]:
    """Moves staged files into place, articles last, then records the commit; returns the files.

    Each file is a dict with ``table``, ``staged`` and ``final`` paths (and
    ``rows``). Each step is on disk (fsynced, on a local disk) before the
    next begins: the staged files; the journal ``_tmp/<run>/_COMMIT.json``,
    from which ``recover`` finishes the moves if this process dies; the
    moves; and last ``_commits/<run>.json``, which makes the run's files
    visible to ``committed_files`` and holds ``counts`` (the run's counter
    totals, for ``commit_counts``) when given.

    A commit tried again (a runner retrying the step after a lost worker)
    finishes the first attempt's journal, or does nothing when the first
    attempt finished.
    """
    order = {table: i for i, table in enumerate(COMMIT_ORDER)}
    files = sorted(files, key=lambda f: (order[f["table"]], f["final"]))
    if _exists(commit_record_path(output_dir, run_id)):
        return files
    journaled = _read_journal(output_dir, run_id)
    if journaled is None:
        _record_earlier_commits(output_dir)
        for file in files:
            _fsync(file["staged"])
        write_json(journal_path(output_dir, run_id), files)
        journaled = files
    _apply_journal(output_dir, run_id, journaled, counts=counts)
    return files


def _exists(path: str) -> bool:
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.exists(path)


def commit_counts(output_dir: str, run_id: str) -> dict[str, int] | None:
    """The counter totals the run's commit recorded; None when the run has no commit record
    (it never committed) or its record holds no counts (a commit ``recover`` finished)."""
    record = read_json(commit_record_path(output_dir, run_id))
    counts = record.get("counts") if isinstance(record, dict) else None
    return dict(counts) if isinstance(counts, dict) else None


def _apply_journal(
    output_dir: str, run_id: str, files: list[dict], *, counts: Mapping | None = None
) -> None:
    """Moves the journal's files that are still staged, records the commit, drops the staging.

    Repeatable after a crash at any point, and by two processes at once: a
    file already moved is skipped.
    """
    from apache_beam.io.filesystem import BeamIOError
    from apache_beam.io.filesystems import FileSystems

    folders = set()
    for file in files:
        staged, final = file["staged"], file["final"]
        folder = final.rsplit("/", 1)[0]
        if FileSystems.exists(staged):
            _makedirs(folder)
            try:
                FileSystems.rename([staged], [final])
            except BeamIOError:
                if FileSystems.exists(staged) or not FileSystems.exists(final):
                    raise  # not moved by someone else: a real failure
            folders.update((folder, folder.rsplit("/", 1)[0]))  # and its table folder
        elif not FileSystems.exists(final):
            _log.warning("%s of run %s was neither staged nor committed", final, run_id)
    for folder in sorted(folders):  # the renames themselves, on a local disk
        _fsync(folder)
    record = {
        "run_id": run_id,
        "committed_at": dt.datetime.now(dt.UTC).isoformat(),
        "files": [{"table": f["table"], "final": f["final"], "rows": f.get("rows")} for f in files],
    }
    if counts is not None:
        record["counts"] = dict(counts)
    write_json(commit_record_path(output_dir, run_id), record)
    _drop_staging(output_dir, run_id)


def _read_journal(output_dir: str, run_id: str) -> list[dict] | None:
    """A run's journaled files; None when it has no journal.

    Raises ``UnreadableFileError`` for a journal that is empty, not JSON, or
    not a list of files.
    """
    path = journal_path(output_dir, run_id)
    files = read_json(path)
    if files is not None and not (
        isinstance(files, list)
        and all(isinstance(f, dict) and {"table", "staged", "final"} <= f.keys() for f in files)
    ):
        raise UnreadableFileError(f"{path} cannot be read: not a list of files")
    return files


def _roll_back(output_dir: str, run_id: str, problem: UnreadableFileError) -> None:
    """Drops a run whose journal is broken: its moves never began, so nothing of it is kept.

    The journal is on disk before any move, so a broken one means the
    commit never started. Files an older newsbeam (which did not fsync the
    journal) may have moved already are removed too, unless the run's
    commit record says it finished.
    """
    from apache_beam.io.filesystems import FileSystems

    _log.warning(
        "%s; run %s never began its commit, so its staged files are dropped", problem, run_id
    )
    if not FileSystems.exists(commit_record_path(output_dir, run_id)):
        patterns = [
            join(output_dir, t, f"{PARTITION_COLUMN}=*", f"part-{run_id}-*") for t in COMMIT_ORDER
        ]
        moved = [m.path for r in FileSystems.match(patterns) for m in r.metadata_list]
        if moved:
            FileSystems.delete(moved)
    _drop_staging(output_dir, run_id)


def _drop_staging(output_dir: str, run_id: str) -> None:
    """Deletes a run's staging folder, and ``_tmp`` when no other run is staging there."""
    _delete(staging_dir(output_dir, run_id))  # already gone: another process recovering it
    if _is_local(output_dir):  # object stores have no folders to tidy
        with contextlib.suppress(OSError):  # not empty: another run is staging there
            os.rmdir(join(output_dir, STAGING))


def _delete(path: str) -> None:
    """Deletes the file or folder at ``path``, read as a path, never as a pattern.

    Beam's local ``delete`` matches its argument as a glob: ``out[1]/x``
    would name ``out1/x``, and a folder whose path holds ``*`` is never found.
    A path already gone is no error: another process may have deleted it first.
    """
    if not _is_local(path):
        from apache_beam.io.filesystem import BeamIOError
        from apache_beam.io.filesystems import FileSystems

        try:
            FileSystems.delete([path])
        except BeamIOError:
            if FileSystems.exists(path):
                raise
    elif os.path.isdir(path) and not os.path.islink(path):
        try:
            shutil.rmtree(path)
        except FileNotFoundError:  # a race with another process deleting it
            if os.path.exists(path):
                raise
    elif os.path.lexists(path):
        os.remove(path)


def _makedirs(path: str) -> None:
    from apache_beam.io.filesystems import FileSystems

    # It may exist already; a real failure shows at the next create or rename.
    with contextlib.suppress(OSError):
        FileSystems.mkdirs(path)


def abort(output_dir: str, run_id: str) -> None:
    """After a failed run: finish its commit if the journal was written, else drop its staging.

    Either way readers see all of the run or none of it.
    """
    from apache_beam.io.filesystems import FileSystems

    if _finish_journaled(output_dir, run_id) is None and FileSystems.exists(
        staging_dir(output_dir, run_id)
    ):
        _drop_staging(output_dir, run_id)


def _finish_journaled(output_dir: str, run_id: str) -> bool | None:
    """Finishes the run's commit from its journal (True); a broken journal is a commit that
    never began, rolled back (False); None when the run wrote no journal."""
    try:
        files = _read_journal(output_dir, run_id)
    except UnreadableFileError as problem:
        _roll_back(output_dir, run_id, problem)
        return False
    if files is None:
        return None
    _apply_journal(output_dir, run_id, files)
    return True


def recover(output_dir: str) -> list[str]:
    """Finishes commits that a killed run left half done; returns their run ids.

    A journal that is empty or broken (what a power cut can leave of one
    written by an older newsbeam) is a commit that never began: its run is
    dropped with a warning. Staging folders without a journal belong to runs
    that never reached the commit: invisible to readers, they are removed
    once older than ``Limits.abandoned_staging_seconds`` (a younger one may be a run
    still going).
    """
    from apache_beam.io.filesystems import FileSystems

    finished = []
    root = join(output_dir, STAGING)
    if not FileSystems.exists(root):
        return finished
    runs = {}
    for metadata in FileSystems.match([join(globs.escape(root), "*", "**")])[0].metadata_list:
        run_id = metadata.path[len(root) :].strip("/").split("/", 1)[0]
        runs.setdefault(run_id, []).append(metadata)
    for run_id, entries in sorted(runs.items()):
        outcome = _finish_journaled(output_dir, run_id)
        if outcome:
            finished.append(run_id)
        elif outcome is None and all(
            time.time() - (m.last_updated_in_seconds or 0)
            > DEFAULT_LIMITS.abandoned_staging_seconds
            for m in entries
        ):
            _drop_staging(output_dir, run_id)
    return finished


# ---------------------------------------------------------------- readers


def committed_files(output_dir: str) -> dict[str, list[str]]:
    """Each table's files in finished commits, in the local folder ``output_dir``.

    The commit records are read before the files are listed, and a run's
    record is written only once its last file is in place, so each run's
    files are listed all or none; a file not named ``part-<run>-<name>.parquet``
    is nobody's commit and is listed as it is. An output without ``_commits/`` was
    written before newsbeam kept commit records: all its files are listed,
    unless a commit began meanwhile (then the listing is done again). For
    DuckDB, which reads local folders only; needs no Beam.
    """
    root = pathlib.Path(output_dir)
    records = root / COMMITS
    while True:
        recorded = records.is_dir()
        runs = {p.name[: -len(".json")] for p in records.glob("*.json")} if recorded else set()
        files = {
            table: sorted(str(p) for p in (root / table).glob("/".join(_TABLE_FILES)))
            for table in COMMIT_ORDER
        }
        if recorded:
            return {t: [f for f in found if _shown(f, runs)] for t, found in files.items()}
        if not records.is_dir():
            return files


def _shown(path: str, runs: set[str]) -> bool:
    run_id = run_of_file(path)
    return run_id is None or run_id in runs  # a file newsbeam did not name is no commit's


def _record_earlier_commits(output_dir: str) -> None:
    """Before the first commit with a record: records every run whose files are already there.

    An output written before commit records existed shows all its files to
    ``committed_files``; once ``_commits/`` exists it shows recorded runs
    only. So the folder appears whole, with a record for each earlier run,
    in one rename. Local folders only: only DuckDB reads the records.
    """
    records = join(output_dir, COMMITS)
    if not _is_local(output_dir) or os.path.isdir(records):
        return
    runs: dict[str, list[dict]] = {}
    for table in COMMIT_ORDER:
        for path in sorted(pathlib.Path(table_dir(output_dir, table)).glob("/".join(_TABLE_FILES))):
            run_id = run_of_file(str(path))
            if run_id:
                runs.setdefault(run_id, []).append({"table": table, "final": str(path)})
    building = join(output_dir, f"{COMMITS}.{uuid.uuid4().hex[:8]}.part")
    os.makedirs(building)
    for run_id, files in runs.items():
        write_json(join(building, f"{run_id}.json"), {"run_id": run_id, "files": files})
    try:
        os.rename(building, records)
    except OSError:
        if not os.path.isdir(records):
            raise
        shutil.rmtree(building)  # another writer recorded them first
    _fsync_folder(records)
