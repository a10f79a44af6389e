"""WriteTables: rows to Hive-partitioned Parquet, committed all at once.

Every ``(table, date, shard)`` group is written to a hidden staging file under
``DIR/_tmp/<run_id>/`` (readers ignore names starting with ``_``). When all
groups are written, one commit step records the planned renames in a journal
and moves the files into ``DIR/<table>/date=YYYY-MM-DD/``, articles last, so
an article row is never visible before its entities and quotes. A run killed
during the commit is finished by ``recover`` at the start of the next run; a
run killed before it leaves only staging files, which readers never see.

A retried write rewrites the same staging file (names depend only on the run
and the group), so retries never duplicate rows.
"""

import contextlib
import json
import os
import time

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from schemas import PARTITION_COLUMN, TABLES

__all__ = ["COMMIT_ORDER", "WriteTables", "abort", "commit_files", "recover", "staging_dir"]

# Articles last: their presence promises that their entities and quotes are there.
COMMIT_ORDER = ("errors", "entities", "quotes", "articles")
ROWS_PER_ROW_GROUP = 20_000
STAGING = "_tmp"
JOURNAL = "_COMMIT.json"
ABANDONED_AFTER_SECONDS = 6 * 3600


def staging_dir(output_dir: str, run_id: str) -> str:
    return FileSystems.join(output_dir, STAGING, run_id)


def final_path(output_dir: str, table: str, date: str, run_id: str, shard: int) -> str:
    """Where a group's file lands: ``DIR/table/date=YYYY-MM-DD/part-<run>-<shard>.parquet``."""
    return FileSystems.join(
        output_dir, table, f"{PARTITION_COLUMN}={date}", f"part-{run_id}-{shard:05d}.parquet"
    )


def shard_of(row: dict, shards: int) -> int:
    """Rows of one article share a shard number in every table."""
    article_id = row.get("article_id")
    return int(article_id[:8], 16) % shards if article_id and shards > 1 else 0


def _makedirs(path: str) -> None:
    # It may exist already; a real failure shows at the next create or rename.
    with contextlib.suppress(OSError):
        FileSystems.mkdirs(path)


def _write_parquet(path: str, schema: pa.Schema, rows) -> int:
    """Writes ``rows`` (dicts) to ``path`` in row groups; returns the row count."""
    count = 0
    with (
        FileSystems.create(path) as handle,  # creates missing parent folders
        pq.ParquetWriter(handle, schema, compression="zstd") as writer,
    ):
        chunk = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= ROWS_PER_ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                count += len(chunk)
                chunk = []
        if chunk or count == 0:
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            count += len(chunk)
    return count


class _WriteGroupFn(beam.DoFn):
    def __init__(self, output_dir: str, run_id: str):
        self._output_dir = output_dir
        self._run_id = run_id
        self._files = Metrics.counter("newsbeam", "write.files")

    def process(self, keyed):
        (table, date, shard), rows = keyed
        staged = FileSystems.join(
            staging_dir(self._output_dir, self._run_id), table, f"{date}-{shard:05d}.parquet"
        )
        count = _write_parquet(staged, TABLES[table], rows)
        Metrics.counter("newsbeam", f"write.{table}.rows").inc(count)
        self._files.inc()
        yield {
            "table": table,
            "staged": staged,
            "final": final_path(self._output_dir, table, date, self._run_id, shard),
            "rows": count,
        }


def commit_files(output_dir: str, run_id: str, files: list[dict]) -> list[dict]:
    """Moves staged files into place, articles last; returns the files committed.

    The journal is written first, so ``recover`` can finish the moves if this
    process dies half-way.
    """
    order = {table: i for i, table in enumerate(COMMIT_ORDER)}
    files = sorted(files, key=lambda f: (order[f["table"]], f["final"]))
    staging = staging_dir(output_dir, run_id)
    _makedirs(staging)
    journal = FileSystems.join(staging, JOURNAL)
    with FileSystems.create(journal + ".part") as handle:
        handle.write(json.dumps(files).encode("utf-8"))
    FileSystems.rename([journal + ".part"], [journal])
    _apply_journal(output_dir, run_id, files)
    return files


def _apply_journal(output_dir: str, run_id: str, files: list[dict]) -> None:
    for file in files:
        if FileSystems.exists(file["staged"]):
            _makedirs(file["final"].rsplit("/", 1)[0])
            FileSystems.rename([file["staged"]], [file["final"]])
    FileSystems.delete([staging_dir(output_dir, run_id)])
    if "://" not in output_dir:  # object stores have no folders to tidy
        with contextlib.suppress(OSError):  # not empty: another run is staging there
            os.rmdir(os.path.join(output_dir, STAGING))


def abort(output_dir: str, run_id: str) -> None:
    """After a failed run: finish its commit if the journal was written, else drop its staging.

    Either way readers see all of the run or none of it.
    """
    journal = FileSystems.join(staging_dir(output_dir, run_id), JOURNAL)
    if FileSystems.exists(journal):
        with FileSystems.open(journal) as handle:
            _apply_journal(output_dir, run_id, json.loads(handle.read()))
    elif FileSystems.exists(staging_dir(output_dir, run_id)):
        FileSystems.delete([staging_dir(output_dir, run_id)])


def recover(output_dir: str) -> list[str]:
    """Finishes commits that a killed run left half done; returns their run ids.

    Staging folders without a journal belong to runs that never reached the
    commit: invisible to readers, they are removed once older than
    ``ABANDONED_AFTER_SECONDS`` (a younger one may be a run still going).
    """
    finished = []
    root = FileSystems.join(output_dir, STAGING)
    if not FileSystems.exists(root):
        return finished
    runs = {}
    for metadata in FileSystems.match([FileSystems.join(root, "*", "**")])[0].metadata_list:
        run_id = metadata.path[len(root) :].strip("/").split("/", 1)[0]
        runs.setdefault(run_id, []).append(metadata)
    for run_id, entries in sorted(runs.items()):
        journal = FileSystems.join(staging_dir(output_dir, run_id), JOURNAL)
        if FileSystems.exists(journal):
            with FileSystems.open(journal) as handle:
                _apply_journal(output_dir, run_id, json.loads(handle.read()))
            finished.append(run_id)
        elif all(
            time.time() - (m.last_updated_in_seconds or 0) > ABANDONED_AFTER_SECONDS
            for m in entries
        ):
            FileSystems.delete([staging_dir(output_dir, run_id)])
    return finished


class WriteTables(beam.PTransform):
    """A dict of table name -> rows to committed Parquet files under ``output_dir``.

    Rows carry their partition value in ``date``. Outputs one element: the
    list of files committed (table, final path, rows).
    """

    def __init__(self, output_dir: str, *, run_id: str, shards: int = 1):
        super().__init__()
        self._output_dir = output_dir
        self._run_id = run_id
        self._shards = shards

    def expand(self, tables):
        shards = self._shards
        groups = []
        for table, rows in sorted(tables.items()):
            groups.append(
                rows
                | f"Key{table.title()}"
                >> beam.Map(
                    lambda row, t=table: ((t, row[PARTITION_COLUMN], shard_of(row, shards)), row)
                )
                | f"Group{table.title()}" >> beam.GroupByKey()
            )
        output_dir, run_id = self._output_dir, self._run_id
        return (
            groups
            | "AllGroups" >> beam.Flatten()
            | "WriteGroups" >> beam.ParDo(_WriteGroupFn(output_dir, run_id))
            | "ListFiles" >> beam.combiners.ToList()
            | "Commit" >> beam.Map(lambda files: commit_files(output_dir, run_id, files))
        )
