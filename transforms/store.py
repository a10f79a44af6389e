"""The output folder: its layout, its JSON files, and the all-at-once commit.

::

    DIR/
      articles/date=YYYY-MM-DD/part-<run_id>-<name>.parquet   the five tables,
      entities/date=.../  quotes/date=.../  errors/date=.../  Hive-partitioned
      entity_resolution/date=.../
      <table>/date=1970-01-01/empty.parquet                   no rows: the table's schema
      _tmp/<run_id>/<table>/<date>-<name>.parquet             a run's staged files
      _tmp/<run_id>/_COMMIT.json                              its commit journal
      _state/feeds.json                                       feed validators, entries seen
      _state/inputs/base-<n>.json, log-<n>-<run_id>.json      input files ingested (the manifest)
      _commits/<run_id>.json                                  a commit's files, written last
      _commits/<run_id>.replace.json                          ... and the files it took out
      _runs/<run_id>.json                                     each run's record
      _lock                                                   the writer's pid and host

Readers of the tables ignore names starting with ``_``. Every commit makes
sure each table holds its empty file (``write_empty_tables``), so a table
with no rows yet is still a folder every Hive reader opens. A file is in a
finished commit once its run has a ``_commits/`` record, and until a later
record takes it out; ``committed_files`` lists only those, so ``query`` and
``stats`` never see half a commit. A commit that replaces files (``reprocess``,
``compact``) deletes the files it took out once its record is written. One
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
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping

from schemas import PARTITION_COLUMN
from transforms.lib import globs, manifest
from transforms.lib.settings import DEFAULT_LIMITS

__all__ = [
    "COMMIT_ORDER",
    "EMPTY_DATE",
    "EMPTY_FILE",
    "OutputLockedError",
    "UnreadableFileError",
    "abort",
    "check_writable",
    "commit_begun",
    "commit_counts",
    "commit_files",
    "commit_record_path",
    "committed_files",
    "empty_file_path",
    "feed_state_path",
    "file_state_path",
    "final_path",
    "has_table_files",
    "input_manifest_dir",
    "is_committed",
    "join",
    "load_feed_state",
    "load_input_manifest",
    "local_table_files",
    "merge_input_manifest",
    "read_json",
    "read_run_records",
    "recover",
    "relative_path",
    "run_of_file",
    "run_record_path",
    "save_feed_state",
    "save_input_manifest",
    "staged_path",
    "staging_dir",
    "table_dir",
    "table_files",
    "write_empty_tables",
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
# The record of a commit that takes files out, or vouches for other runs' files (compaction).
REPLACE_RECORD = ".replace.json"
# A hook for crash tests: the commit stops at this named step (see ``_pause``).
PAUSE_VARIABLE = "NEWSBEAM_TEST_PAUSE"
FEED_STATE = "feeds.json"
FILE_STATE = "files.json"  # watch's file state before the input manifest: read once, merged
INPUTS = "inputs"
FEED_STATE_VERSION = 1
# Articles last: their presence promises that their entities and quotes are there.
COMMIT_ORDER = ("errors", "entities", "quotes", "entity_resolution", "articles")
# Each table's file of no rows, in a partition of its own. Its folder must be a date, as the
# others are: DuckDB, Polars and Spark type the partition column from the values they see (a
# date, or text if any one is not; Spark refuses ``date=``, pandas ``__HIVE_DEFAULT_PARTITION__``).
# It sorts first, so readers that take the schema from one file (Spark, pyarrow) take its own.
EMPTY_DATE = "1970-01-01"
EMPTY_FILE = "empty.parquet"

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


def empty_file_path(output_dir: str, table: str) -> str:
    """``DIR/table/date=1970-01-01/empty.parquet``: the table's schema and no rows."""
    return join(output_dir, table, f"{PARTITION_COLUMN}={EMPTY_DATE}", EMPTY_FILE)


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


def commit_record_path(output_dir: str, run_id: str, *, replaces: bool = False) -> str:
    """``DIR/_commits/<run_id>.json``: written when every file of the run is in place;
    ``<run_id>.replace.json`` for a commit that also takes files out (``replaces``)."""
    return join(output_dir, COMMITS, run_id + (REPLACE_RECORD if replaces else ".json"))


def relative_path(output_dir: str, path: str) -> str:
    """``path`` as ``table/date=.../name``, ``/``-separated, under ``output_dir``: how a
    commit record names a file it takes out, so the record still holds if the folder moves.

    Rejects a path outside ``output_dir``.
    """
    if _is_local(output_dir):
        relative = os.path.relpath(path, output_dir).replace(os.sep, "/")
    else:
        base = output_dir.rstrip("/") + "/"
        relative = path[len(base) :] if path.startswith(base) else "../"
    if relative.startswith("../") or relative in ("..", "."):
        raise ValueError(f"{path} is not in the output folder {output_dir}")
    return relative


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
    # Imported here: the feed parsers load HTML extractors (a second), which the commands
    # that only read an output (query, stats, report) never use.
    from transforms.lib.feeds import merge_feed_state

    merged = merge_feed_state(load_feed_state(output_dir), updates, max_seen_ids=max_seen_ids)
    write_json(feed_state_path(output_dir), {"version": FEED_STATE_VERSION, "feeds": merged})


def _read_state(path: str, hint: str):
    """``read_json(path)``, its error naming ``hint``: how to start afresh."""
    try:
        return read_json(path)
    except UnreadableFileError as exc:
        raise UnreadableFileError(f"{exc}; {hint}") from None


# ---------------------------------------------------------------- input manifest

_MANIFEST_HINT = (
    "move the _state/inputs folder aside to read every input file again "
    "(articles already written are dropped)"
)


def input_manifest_dir(output_dir: str) -> str:
    """``DIR/_state/inputs``: the input manifest's base and per-run logs."""
    return join(output_dir, STATE, INPUTS)


def load_input_manifest(
    output_dir: str, known: manifest.InputManifest | None = None
) -> manifest.InputManifest:
    """Every input file a committed run read from ``output_dir`` (``transforms.lib.manifest``).

    The newest base is read, then each log written after it in order. Given
    ``known`` (loaded before from the same output), only the logs written
    since are read, unless a merge wrote a new base meanwhile. An output
    with no manifest yet starts from ``watch``'s old state, ``_state/files.json``,
    if it has one. Raises ``UnreadableFileError``, naming the file and how to
    start afresh, when one cannot be read.
    """
    found = _manifest_files(output_dir)
    bases = [(sequence, path) for kind, sequence, path in found if kind == "base"]
    base, base_path = max(bases) if bases else (0, None)
    if known is not None and known.base == base:
        loaded = manifest.InputManifest(dict(known.files), base, known.sequence)
    elif base_path is not None:
        files, _through = _decoded(base_path, manifest.decode_base)
        loaded = manifest.InputManifest(files, base, base)
    else:
        legacy = file_state_path(output_dir)
        hint = "move it aside to read every input file again (articles already written are dropped)"
        document = _read_state(legacy, hint)
        try:
            files = {} if document is None else manifest.decode_legacy(document, cwd=os.getcwd())
        except ValueError as exc:
            raise UnreadableFileError(f"{legacy} cannot be read: {exc}; {hint}") from None
        loaded = manifest.InputManifest(files)
    for kind, sequence, path in found:
        if kind == "log" and sequence > loaded.sequence:
            loaded.files.update(_decoded(path, manifest.decode_log))
            loaded.sequence = sequence
    return loaded


def save_input_manifest(
    output_dir: str,
    run_id: str,
    entries: Mapping[str, manifest.FileEntry],
    *,
    merge_at: int = DEFAULT_LIMITS.manifest_logs,
) -> None:
    """Adds the files run ``run_id`` read to the input manifest, as one new log.

    Call it only after the run's commit: a run that fails or is killed
    before then marks nothing, so its files are read again. The log is
    written atomically; once ``merge_at`` logs have gathered since the base
    (or the base is still ``watch``'s old state), every entry is merged into
    a new base and the older files removed.
    """
    if not entries:
        return
    found = _manifest_files(output_dir)
    sequence = max((number for _kind, number, _path in found), default=0) + 1
    log = join(input_manifest_dir(output_dir), manifest.log_name(sequence, run_id))
    write_json(log, manifest.encode_log(entries, run_id=run_id))
    base = max((number for kind, number, _path in found if kind == "base"), default=0)
    logs = 1 + sum(kind == "log" and number > base for kind, number, _path in found)
    if logs >= merge_at or (not base and _exists(file_state_path(output_dir))):
        merge_input_manifest(output_dir)


def merge_input_manifest(output_dir: str) -> manifest.InputManifest:
    """Writes every entry into one new base, then removes the files it replaces; returns it.

    The base is written atomically before anything is removed, and a reader
    ignores logs older than the newest base, so a kill at any point leaves
    the same entries.
    """
    merged = load_input_manifest(output_dir)
    folder = input_manifest_dir(output_dir)
    write_json(
        join(folder, manifest.base_name(merged.sequence)),
        manifest.encode_base(merged.files, through=merged.sequence),
    )
    merged.base = merged.sequence
    for kind, sequence, path in _manifest_files(output_dir):
        if sequence < merged.base or (kind == "log" and sequence == merged.base):
            _delete(path)
    if _exists(file_state_path(output_dir)):
        _delete(file_state_path(output_dir))  # watch's old state: in the base now
    return merged


def _manifest_files(output_dir: str) -> list[tuple[str, int, str]]:
    """(``base`` or ``log``, sequence, path) of each manifest file, in sequence order."""
    from apache_beam.io.filesystems import FileSystems

    pattern = join(globs.escape(input_manifest_dir(output_dir)), "*.json")
    found = []
    for metadata in FileSystems.match([pattern])[0].metadata_list:
        parsed = manifest.parse_name(metadata.path.rsplit("/", 1)[-1])
        if parsed is not None:
            found.append((*parsed, metadata.path))
    return sorted(found, key=lambda file: (file[1], file[0] == "log"))


def _decoded(path: str, decode):
    """``decode`` of the JSON document at ``path``; ``UnreadableFileError`` saying how to start
    afresh when it cannot be read or decoded."""
    document = _read_state(path, _MANIFEST_HINT)
    try:
        return decode(document)
    except ValueError as exc:
        raise UnreadableFileError(f"{path} cannot be read: {exc}; {_MANIFEST_HINT}") from None


def _exists(path: str) -> bool:
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.exists(path)


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
    output_dir: str,
    run_id: str,
    files: Iterable[dict],
    *,
    removed=(),
    absorb: bool = False,
    counts: Mapping | None = None,
) -> list[dict]:
    """Moves staged files into place, articles last, then records the commit; returns the files.

    Each file is a dict with ``table``, ``staged`` and ``final`` paths (and
    ``rows``). Each step is on disk (fsynced, on a local disk) before the
    next begins: the staged files; the journal ``_tmp/<run>/_COMMIT.json``,
    from which ``recover`` finishes the commit if this process dies; the
    moves; and last ``_commits/<run>.json``, which makes the run's files
    visible to ``committed_files`` and holds ``counts`` (the run's counter
    totals, for ``commit_counts``) when given.

    ``removed`` names committed files this commit replaces (``reprocess``,
    ``compact``): its record (``<run>.replace.json``) lists them, so readers
    switch from them to the new files in the one rename that writes the
    record, and they are deleted after it. ``absorb`` (a local output only)
    also folds every other commit record into this one, which then names
    the runs whose files remain, and deletes them: ``_commits/`` shrinks to
    one record.

    Before all that, every table gets its empty file (``write_empty_tables``),
    so a run that writes no rows to a table still leaves it readable.

    A commit tried again (a runner retrying the step after a lost worker)
    finishes the first attempt's journal, or does nothing when the first
    attempt finished.
    """
    order = {table: i for i, table in enumerate(COMMIT_ORDER)}
    files = sorted(files, key=lambda f: (order[f["table"]], f["final"]))
    if is_committed(output_dir, run_id):  # a retried commit step: the first attempt finished
        return files
    journal = _read_journal(output_dir, run_id)
    if journal is None:
        _record_earlier_commits(output_dir)
        write_empty_tables(output_dir, run_id)  # before the journal: a failure commits nothing
        for file in files:
            _fsync(file["staged"])
        _pause("staged")
        journal = {"files": files, "removed": [], "runs": None, "absorbed": []}
        if removed or absorb:
            journal = _replacing(output_dir, run_id, files, removed, absorb=absorb)
            write_json(journal_path(output_dir, run_id), journal)
        else:
            write_json(journal_path(output_dir, run_id), files)  # a plain commit's journal
        _pause("journaled")
    _apply_journal(output_dir, run_id, journal, counts=counts)
    return files


def is_committed(output_dir: str, run_id: str) -> bool:
    """True when the run's commit record, plain or replacing, is written."""
    from apache_beam.io.filesystems import FileSystems

    return any(
        FileSystems.exists(commit_record_path(output_dir, run_id, replaces=replaces))
        for replaces in (False, True)
    )


def commit_begun(output_dir: str, run_id: str) -> bool:
    """True once the run's commit wrote its journal: a retried commit step finishes that
    attempt (``commit_files``) and checks nothing again."""
    from apache_beam.io.filesystems import FileSystems

    return is_committed(output_dir, run_id) or FileSystems.exists(journal_path(output_dir, run_id))


def commit_counts(output_dir: str, run_id: str) -> dict[str, int] | None:
    """The counter totals the run's commit recorded; None when the run has no commit record
    (it never committed) or its record holds no counts (a commit ``recover`` finished)."""
    for replaces in (False, True):
        record = read_json(commit_record_path(output_dir, run_id, replaces=replaces))
        if isinstance(record, dict):
            counts = record.get("counts")
            return dict(counts) if isinstance(counts, dict) else None
    return None


def write_empty_tables(output_dir: str, run_id: str) -> list[str]:
    """Gives each table of ``schemas.TABLES`` its empty file with its current schema;
    returns the paths written.

    A file already there with the same schema is left alone; one with another
    schema (written by an older newsbeam) is replaced, so readers that take the
    schema from it see every column. Each is written under ``_tmp/<run_id>/``
    and renamed into place: a reader sees a whole file or the previous one.
    """
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import FileSystems

    from schemas import TABLES

    written = []
    for table, schema in TABLES.items():
        path = empty_file_path(output_dir, table)
        if FileSystems.exists(path):
            try:
                with FileSystems.open(path) as handle:
                    if pq.read_schema(handle).equals(schema):
                        continue
            except Exception:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
                pass  # not a readable empty file: written again below
        staged = join(staging_dir(output_dir, run_id), "_empty", f"{table}.parquet")
        with FileSystems.create(staged) as handle:  # creates missing parent folders
            pq.write_table(schema.empty_table(), handle)
        _fsync(staged)
        _makedirs(path.rsplit("/", 1)[0])
        FileSystems.rename([staged], [path])
        _fsync_folder(path)
        written.append(path)
    return written


def _replacing(output_dir: str, run_id: str, files: list[dict], removed, *, absorb: bool) -> dict:
    """The journal of a commit that takes ``removed`` out and, with ``absorb``, every record.

    Files that an absorbed record took out and that are still there (their
    deletion failed) stay taken out.
    """
    gone = {relative_path(output_dir, path) for path in removed}
    journal = {"files": files, "removed": sorted(gone), "runs": None, "absorbed": []}
    if not (absorb and _is_local(output_dir)):
        return journal
    root = pathlib.Path(output_dir)
    names = _record_names(root / COMMITS)
    _runs, earlier = _read_records(root / COMMITS, names)
    gone |= {path for path in earlier if (root / path).is_file()}
    remaining = {
        run_of_file(path)
        for listed in committed_files(output_dir).values()
        for path in listed
        if _relative(root, path) not in gone
    }
    own = {f"{run_id}.json", run_id + REPLACE_RECORD}
    journal.update(
        removed=sorted(gone),
        runs=sorted(remaining - {None, run_id}),
        absorbed=sorted(names - own),
    )
    return journal


def _pause(step: str) -> None:
    """A hook for crash tests: ``NEWSBEAM_TEST_PAUSE=step`` (``staged``, ``journaled``,
    ``moved``, ``recorded``) says so on stderr and waits to be killed; ``step:seconds``
    waits that long, then goes on. Several, comma-separated, pause at each."""
    for pause in os.environ.get(PAUSE_VARIABLE, "").split(","):
        name, _colon, seconds = pause.partition(":")
        if name == step:
            print(f"newsbeam: test pause at {step}", file=sys.stderr, flush=True)
            time.sleep(float(seconds or 3600))


def _apply_journal(
    output_dir: str, run_id: str, journal: dict, *, counts: Mapping | None = None
) -> None:
    """Moves the journal's files that are still staged, records the commit, deletes the
    files it takes out and the records it absorbs, drops the staging.

    Repeatable after a crash at any point, and by two processes at once: a
    file already moved or deleted is skipped.
    """
    from apache_beam.io.filesystem import BeamIOError
    from apache_beam.io.filesystems import FileSystems

    files = journal["files"]
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
    _pause("moved")
    record = {
        "run_id": run_id,
        "committed_at": dt.datetime.now(dt.UTC).isoformat(),
        "files": [{"table": f["table"], "final": f["final"], "rows": f.get("rows")} for f in files],
    }
    if counts is not None:
        record["counts"] = dict(counts)
    replaces = bool(journal["removed"]) or journal["runs"] is not None
    if replaces:
        record.update(removed=journal["removed"], runs=journal["runs"] or [])
    write_json(commit_record_path(output_dir, run_id, replaces=replaces), record)
    _pause("recorded")
    # Readers of committed files switched with the record: the replaced files can go.
    for path in journal["removed"]:
        _delete(join(output_dir, *path.split("/")))
    for name in journal["absorbed"]:
        _delete(join(output_dir, COMMITS, name))
    _drop_staging(output_dir, run_id)


def _read_journal(output_dir: str, run_id: str) -> dict | None:
    """A run's journal as ``files``, ``removed``, ``runs`` and ``absorbed``; None when it has
    none. A plain commit's journal is its list of files.

    Raises ``UnreadableFileError`` for a journal that is empty, not JSON, or
    not of that shape.
    """
    path = journal_path(output_dir, run_id)
    document = read_json(path)
    if document is None:
        return None
    if isinstance(document, list):
        document = {"files": document, "removed": [], "runs": None, "absorbed": []}
    if not (
        isinstance(document, dict)
        and isinstance(document.get("files"), list)
        and all(
            isinstance(f, dict) and {"table", "staged", "final"} <= f.keys()
            for f in document["files"]
        )
        and _strings(document.get("removed"))
        and _strings(document.get("absorbed"))
        and (document.get("runs") is None or _strings(document["runs"]))
    ):
        raise UnreadableFileError(f"{path} cannot be read: not a list of files")
    return document


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


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
    if not any(
        FileSystems.exists(commit_record_path(output_dir, run_id, replaces=replaces))
        for replaces in (False, True)
    ):
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
        journal = _read_journal(output_dir, run_id)
    except UnreadableFileError as problem:
        _roll_back(output_dir, run_id, problem)
        return False
    if journal is None:
        return None
    _apply_journal(output_dir, run_id, journal)
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

    A run's files are listed once its record is written, and no longer once
    a later record (``<run>.replace.json``) takes them out. The records are
    read before the files are listed and their names again after: when a
    commit finished meanwhile, all is listed again. So each commit is
    listed all or none, and a replacement old files or new, never both or
    neither. A file not named ``part-<run>-<name>.parquet`` is nobody's commit
    and is listed as it is, unless a record takes it out; a table's empty
    file is not listed. An output without
    ``_commits/`` was written before newsbeam kept commit records: all its
    files are listed, unless a commit began meanwhile (then the listing is
    done again). For DuckDB, which reads local folders only; needs no Beam.
    """
    root = pathlib.Path(output_dir)
    records = root / COMMITS
    while True:
        if not records.is_dir():
            files = _listing(root)
            if not records.is_dir():
                return files
            continue
        names = _record_names(records)
        try:
            runs, removed = _read_records(records, names)
        except FileNotFoundError:  # absorbed by a compaction as it was read
            continue
        files = _listing(root)
        if _record_names(records) == names:
            return {
                table: [f for f in found if _shown(f, runs) and _relative(root, f) not in removed]
                for table, found in files.items()
            }


def _listing(root: pathlib.Path) -> dict[str, list[str]]:
    """Each table's data files; the empty file (``write_empty_tables``) holds no rows and
    belongs to no commit, so it is not one."""
    empty = f"{PARTITION_COLUMN}={EMPTY_DATE}/{EMPTY_FILE}"
    return {
        table: sorted(
            str(p)
            for p in (root / table).glob("/".join(_TABLE_FILES))
            if p.relative_to(root / table).as_posix() != empty
        )
        for table in COMMIT_ORDER
    }


def _record_names(records: pathlib.Path) -> frozenset[str]:
    """The names of the commit records in ``records`` (none when there is no such folder)."""
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        return frozenset(p.name for p in records.iterdir() if p.name.endswith(".json"))
    return frozenset()


def _read_records(records: pathlib.Path, names) -> tuple[set[str], set[str]]:
    """The runs the records ``names`` show, and the files (``relative_path``) they take out.

    Only a ``.replace.json`` record is opened: a plain one says all by its
    name. Raises ``FileNotFoundError`` for a record deleted meanwhile, and
    ``UnreadableFileError`` for one that is not a commit record.
    """
    runs, removed = set(), set()
    for name in names:
        if not name.endswith(REPLACE_RECORD):
            runs.add(name[: -len(".json")])
            continue
        path = records / name
        try:
            document = json.loads(path.read_bytes())
            runs.add(document["run_id"])
            runs.update(document["runs"])
            removed.update(document["removed"])
        except (ValueError, KeyError, TypeError) as exc:
            raise UnreadableFileError(f"{path} cannot be read: {exc}") from None
    return runs, removed


def _relative(root: pathlib.Path, path: str) -> str:
    return pathlib.PurePath(path).relative_to(root).as_posix()


def read_run_records(output_dir: str) -> tuple[list[dict], list[str]]:
    """The run records ``DIR/_runs/<run_id>.json`` of the local folder ``output_dir``.

    Returns the records, oldest run first (run ids begin with their UTC
    start), and the paths of the files that exist but cannot be read or
    hold no JSON object: one bad record never hides the others. An output
    without ``_runs/`` has none. Needs no Beam.
    """
    records, unreadable = [], []
    for path in sorted(pathlib.Path(output_dir, RUNS).glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        if isinstance(record, dict):
            records.append(record)
        else:
            unreadable.append(str(path))
    return records, unreadable


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
