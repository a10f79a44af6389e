"""The output folder: its layout, its JSON files, and the all-at-once commit.

::

    DIR/
      articles/date=YYYY-MM-DD/part-<run_id>-<name>.parquet   the four tables,
      entities/date=.../  quotes/date=.../  errors/date=.../  Hive-partitioned
      _tmp/<run_id>/<table>/<date>-<name>.parquet             a run's staged files
      _tmp/<run_id>/_COMMIT.json                              its commit journal
      _state/feeds.json                                       feed validators, entries seen
      _state/files.json                                       input files seen by ``watch``
      _runs/<run_id>.json                                     each run's record

Readers of the tables ignore names starting with ``_``. Every path is built
here, joined as ``DIR``'s Beam filesystem joins it, and every file is
written through Beam's ``FileSystems``, so ``DIR`` may be any Beam
filesystem (``gs://...`` is never a local folder named ``gs:``). JSON files
are written whole under a temporary name and renamed, so a reader sees the
old file or the new one. Beam is imported only by the functions that read or
write: ``query`` and ``stats`` need the layout, not Beam.
"""

import contextlib
import json
import os
import pathlib
import re
import time
import uuid
from collections.abc import Iterable, Mapping

from schemas import PARTITION_COLUMN
from transforms.lib.feeds import merge_feed_state
from transforms.lib.settings import DEFAULT_LIMITS

__all__ = [
    "COMMIT_ORDER",
    "UnreadableFileError",
    "abort",
    "check_writable",
    "commit_files",
    "feed_state_path",
    "file_state_path",
    "final_path",
    "has_table_files",
    "join",
    "load_feed_state",
    "load_file_state",
    "read_json",
    "recover",
    "run_record_path",
    "save_feed_state",
    "save_file_state",
    "staged_path",
    "staging_dir",
    "table_dir",
    "table_files",
    "write_json",
    "write_run_record",
]

STAGING = "_tmp"
STATE = "_state"
RUNS = "_runs"
JOURNAL = "_COMMIT.json"
FEED_STATE = "feeds.json"
FILE_STATE = "files.json"
FEED_STATE_VERSION = 1
# Articles last: their presence promises that their entities and quotes are there.
COMMIT_ORDER = ("errors", "entities", "quotes", "articles")

# A table's committed files, under its folder.
_TABLE_FILES = (f"{PARTITION_COLUMN}=*", "*.parquet")
# A path with a scheme, as FileSystems.get_scheme reads it.
_SCHEME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9+.]*://")


class UnreadableFileError(ValueError):
    """A file of the output folder that exists but cannot be read."""


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
    """The glob of every committed file of ``table``: ``DIR/table/date=*/*.parquet``."""
    return join(table_dir(output_dir, table), *_TABLE_FILES)


def has_table_files(output_dir: str, table: str) -> bool:
    """True when ``table`` has a committed file in the local folder ``output_dir``.

    For DuckDB, which reads local folders only; needs no Beam.
    """
    return any(pathlib.Path(table_dir(output_dir, table)).glob("/".join(_TABLE_FILES)))


def final_path(output_dir: str, table: str, date: str, run_id: str, name: str) -> str:
    """Where a staged file lands: ``DIR/table/date=YYYY-MM-DD/part-<run>-<name>.parquet``."""
    return join(output_dir, table, f"{PARTITION_COLUMN}={date}", f"part-{run_id}-{name}.parquet")


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


def _is_local(path: str) -> bool:
    return not _SCHEME.match(path)


# ---------------------------------------------------------------- files


def write_json(path: str, document: object, *, indent: int | None = None) -> str:
    """Writes ``document`` to ``path`` atomically; returns ``path``.

    The JSON goes to a temporary file next to ``path`` (a name of its own,
    so two writers never share one), which is then renamed over ``path``:
    a reader sees the old file or the new one, never part of either. A
    document that cannot be serialised raises before anything is written;
    a failed write removes its temporary file.
    """
    from apache_beam.io.filesystems import FileSystems

    data = json.dumps(document, indent=indent, ensure_ascii=False, default=str).encode("utf-8")
    temporary = f"{path}.{uuid.uuid4().hex[:8]}.part"
    try:
        with FileSystems.create(temporary) as handle:  # creates missing parent folders
            handle.write(data)
        FileSystems.rename([temporary], [path])
    except BaseException:
        with contextlib.suppress(Exception):
            FileSystems.delete([temporary])
        raise
    return path


def read_json(path: str) -> object | None:
    """The JSON document at ``path``; None when there is no such file.

    Raises ``UnreadableFileError``, naming the file, when it exists but
    cannot be read or is not JSON.
    """
    from apache_beam.io.filesystems import FileSystems

    if not FileSystems.exists(path):
        return None
    try:
        with FileSystems.open(path) as handle:
            return json.loads(handle.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise UnreadableFileError(f"{path} cannot be read: {exc}") from None


def check_writable(output_dir: str) -> None:
    """Writes and deletes a probe file in ``output_dir``; raises whatever the filesystem raises."""
    from apache_beam.io.filesystems import FileSystems

    probe = join(output_dir, f"_probe-{uuid.uuid4().hex}")
    with FileSystems.create(probe) as handle:
        handle.write(b"newsbeam")
    FileSystems.delete([probe])


def write_run_record(output_dir: str, run_id: str, record: dict) -> str:
    """Writes ``DIR/_runs/<run_id>.json`` atomically; returns its path."""
    return write_json(run_record_path(output_dir, run_id), record, indent=2)


# ---------------------------------------------------------------- state


def load_feed_state(output_dir: str) -> dict[str, dict]:
    """Each feed's saved state, by feed URL or path: ``etag``, ``last_modified``,
    ``seen_ids`` (oldest first) and ``checked_at``. Empty when nothing is saved.

    Raises ``UnreadableFileError`` when the state file cannot be read.
    """
    path = feed_state_path(output_dir)
    document = read_json(path)
    if document is None:
        return {}
    feeds = document.get("feeds") if isinstance(document, dict) else None
    if not isinstance(feeds, dict):
        raise UnreadableFileError(f"{path} cannot be read: 'feeds' is not an object")
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
    state file cannot be read.
    """
    path = file_state_path(output_dir)
    document = read_json(path)
    if document is None:
        return {}
    if not isinstance(document, dict) or not all(isinstance(v, list) for v in document.values()):
        raise UnreadableFileError(f"{path} cannot be read: not an object of [size, mtime] pairs")
    return {file: tuple(stamp) for file, stamp in document.items()}


def save_file_state(output_dir: str, known: Mapping[str, tuple[int, float]]) -> None:
    """Writes the file state atomically: a reader sees the old state or the new one."""
    write_json(file_state_path(output_dir), {file: list(stamp) for file, stamp in known.items()})


# ---------------------------------------------------------------- commit


def commit_files(output_dir: str, run_id: str, files: Iterable[dict]) -> list[dict]:
    """Moves staged files into place, articles last; returns the files committed.

    Each file is a dict with ``table``, ``staged`` and ``final`` paths (and
    ``rows``). The journal is written first, so ``recover`` can finish the
    moves if this process dies half-way.
    """
    order = {table: i for i, table in enumerate(COMMIT_ORDER)}
    files = sorted(files, key=lambda f: (order[f["table"]], f["final"]))
    write_json(journal_path(output_dir, run_id), files)
    _apply_journal(output_dir, run_id, files)
    return files


def _apply_journal(output_dir: str, run_id: str, files: list[dict]) -> None:
    from apache_beam.io.filesystems import FileSystems

    for file in files:
        if FileSystems.exists(file["staged"]):
            _makedirs(file["final"].rsplit("/", 1)[0])
            FileSystems.rename([file["staged"]], [file["final"]])
    _drop_staging(output_dir, run_id)


def _drop_staging(output_dir: str, run_id: str) -> None:
    """Deletes a run's staging folder, and ``_tmp`` when no other run is staging there."""
    from apache_beam.io.filesystems import FileSystems

    FileSystems.delete([staging_dir(output_dir, run_id)])
    if _is_local(output_dir):  # object stores have no folders to tidy
        with contextlib.suppress(OSError):  # not empty: another run is staging there
            os.rmdir(join(output_dir, STAGING))


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

    files = read_json(journal_path(output_dir, run_id))
    if files is not None:
        _apply_journal(output_dir, run_id, files)
    elif FileSystems.exists(staging_dir(output_dir, run_id)):
        _drop_staging(output_dir, run_id)


def recover(output_dir: str) -> list[str]:
    """Finishes commits that a killed run left half done; returns their run ids.

    Staging folders without a journal belong to runs that never reached the
    commit: invisible to readers, they are removed once older than
    ``Limits.abandoned_staging_seconds`` (a younger one may be a run still going).
    """
    from apache_beam.io.filesystems import FileSystems

    finished = []
    root = join(output_dir, STAGING)
    if not FileSystems.exists(root):
        return finished
    runs = {}
    for metadata in FileSystems.match([join(root, "*", "**")])[0].metadata_list:
        run_id = metadata.path[len(root) :].strip("/").split("/", 1)[0]
        runs.setdefault(run_id, []).append(metadata)
    for run_id, entries in sorted(runs.items()):
        files = read_json(journal_path(output_dir, run_id))
        if files is not None:
            _apply_journal(output_dir, run_id, files)
            finished.append(run_id)
        elif all(
            time.time() - (m.last_updated_in_seconds or 0)
            > DEFAULT_LIMITS.abandoned_staging_seconds
            for m in entries
        ):
            _drop_staging(output_dir, run_id)
    return finished
