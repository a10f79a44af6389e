"""``newsbeam compact``: merge the small committed files of each table and date into few.

Every run or poll writes one file per table and date it touches, so an
output polled every few minutes holds thousands of small files, and query
engines slow down with each. ``compact`` merges the small files of each table
and partition (``transforms.lib.compaction.plan``) into files of up to the
target size, with the same rows in the same order, and commits them in one
``store.commit_files`` that takes the small files out: ``newsbeam query`` and
the Python API see the old files or the new, never both or neither. The
commit also folds every ``_commits/`` record into its own, so that folder
stops growing. The caller holds the output's writer lock: no run commits
meanwhile.
"""

import dataclasses
import datetime as dt
import logging
import os
import time
import uuid

import pyarrow as pa
import pyarrow.parquet as pq

from schemas import TABLES
from transforms import store
from transforms.lib import compaction
from transforms.lib.settings import DEFAULT_LIMITS, Limits

_log = logging.getLogger("newsbeam.compact")


@dataclasses.dataclass(frozen=True)
class Compaction:
    """What one ``compact`` did; ``run_id`` is None when there was nothing to do."""

    run_id: str | None
    files_before: dict[str, int]  # per table
    files_after: dict[str, int]
    records_before: int  # _commits/ records
    records_after: int
    seconds: float


def compact(
    output_dir: str, *, target_bytes: int = DEFAULT_LIMITS.compact_target_bytes, limits=None
) -> Compaction:
    """Merges the small committed files of the local output ``output_dir`` and commits them.

    Needs the writer lock held (``store.writer_lock``). A file that cannot be
    read, or has columns the table does not (a newer newsbeam wrote it), is
    left as it is with a warning. Raises whatever the filesystem raises; a
    failure before the commit leaves the output as it was.
    """
    started = time.monotonic()
    limits = limits or DEFAULT_LIMITS
    root = os.path.abspath(output_dir)
    committed = store.committed_files(root)
    small = target_bytes / 2  # only files the plan may merge need their footer read
    mergeable = {
        table: [
            (path, size)
            for path, size in ((path, os.path.getsize(path)) for path in paths)
            if size >= small or _mergeable(path, table)
        ]
        for table, paths in committed.items()
    }
    merges = compaction.plan(mergeable, target_bytes=target_bytes)
    records = _records(root)
    before = {table: len(paths) for table, paths in committed.items()}
    if not merges and records <= 1:
        return Compaction(None, before, before, records, records, time.monotonic() - started)
    now = dt.datetime.now(dt.UTC)
    run_id = now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    try:
        files = [_merge(root, run_id, m, f"{i:05d}", limits) for i, m in enumerate(merges)]
        removed = [path for merge in merges for path in merge.paths]
        store.commit_files(root, run_id, files, removed=removed, absorb=True)
    except BaseException:
        store.abort(root, run_id)  # finishes the commit if it had begun, else drops its files
        raise
    after = dict(before)
    for merge in merges:
        after[merge.table] -= len(merge.paths) - 1
    return Compaction(run_id, before, after, records, _records(root), time.monotonic() - started)


def _records(root: str) -> int:
    folder = os.path.join(root, store.COMMITS)
    return (
        sum(name.endswith(".json") for name in os.listdir(folder)) if os.path.isdir(folder) else 0
    )


def _mergeable(path: str, table: str) -> bool:
    """Whether the file can be read and rewritten in the table's schema without a loss."""
    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
        _log.warning("%s cannot be read (%s): left as it is", path, " ".join(str(exc).split()))
        return False
    if compaction.missing_columns(schema, TABLES[table]) is None:
        _log.warning("%s has columns the %s table has not: left as it is", path, table)
        return False
    return True


def _merge(root: str, run_id: str, merge: compaction.Merge, name: str, limits: Limits) -> dict:
    """Writes the rows of ``merge``'s files, in order, to one staged file; returns it for
    the commit. Row groups hold up to ``limits.row_group_rows`` rows, as the writer's do.

    Raises ``RuntimeError`` when the rows written are not the rows read.
    """
    from apache_beam.io.filesystems import FileSystems

    schema = TABLES[merge.table]
    staged = store.staged_path(root, run_id, merge.table, merge.partition, name)
    expected = written = 0
    with FileSystems.create(staged) as handle:  # creates missing parent folders
        writer = pq.ParquetWriter(handle, schema, compression="zstd")
        pending: list[pa.RecordBatch] = []
        pending_rows = pending_bytes = 0
        for path in merge.paths:
            source = pq.ParquetFile(path)
            expected += source.metadata.num_rows
            for batch in source.iter_batches(batch_size=limits.arrow_batch_rows):
                pending.append(compaction.conform(batch, schema))
                pending_rows += batch.num_rows
                pending_bytes += batch.nbytes
                if pending_rows >= limits.row_group_rows or pending_bytes >= limits.pending_bytes:
                    writer.write_table(pa.Table.from_batches(pending), row_group_size=pending_rows)
                    written += pending_rows
                    pending, pending_rows, pending_bytes = [], 0, 0
        if pending:
            writer.write_table(pa.Table.from_batches(pending), row_group_size=pending_rows)
            written += pending_rows
        writer.close()
    if written != expected:
        raise RuntimeError(f"{staged}: wrote {written} rows of {expected}")
    final = store.final_path(root, merge.table, merge.partition, run_id, name)
    return {"table": merge.table, "staged": staged, "final": final, "rows": written}


def summary(result: Compaction, *, output_dir: str) -> str:
    """The lines ``newsbeam compact`` prints."""
    if result.run_id is None:
        return f"newsbeam: nothing to compact in {output_dir}"
    tables = [
        f"  {table:<22}{result.files_before[table]} -> {result.files_after[table]} files"
        for table in result.files_before
        if result.files_before[table] != result.files_after[table]
    ]
    return "\n".join(
        [
            f"newsbeam: compaction {result.run_id} finished in {result.seconds:.1f} s",
            *tables,
            f"  {'commit records':<22}{result.records_before} -> {result.records_after}",
            f"  {'output':<22}{output_dir}",
        ]
    )
