"""WriteTables: rows to Hive-partitioned Parquet, committed all at once.

Rows are written as they arrive to hidden staging files under
``DIR/_tmp/<run_id>/`` (readers ignore names starting with ``_``), in row
groups, one file per table and date for each bundle (or each shard, with
``--shards``). When every file is written, one commit step records the planned
renames in a journal and moves the files into ``DIR/<table>/date=YYYY-MM-DD/``,
articles last, so an article row is never visible before its entities and
quotes. A run killed during the commit is finished by ``recover`` at the start
of the next run; a run killed before it leaves only staging files, which
readers never see.

Only the files listed by bundles that succeeded are committed: a retried
bundle writes new files, and the failed attempt's are deleted with the
staging folder, so retries never duplicate rows.
"""

import contextlib
import json
import os
import time
import uuid

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from schemas import PARTITION_COLUMN, TABLES

__all__ = [
    "COMMIT_ORDER",
    "PartitionWriter",
    "WriteTables",
    "abort",
    "commit_files",
    "recover",
    "staging_dir",
]

# Articles last: their presence promises that their entities and quotes are there.
COMMIT_ORDER = ("errors", "entities", "quotes", "entity_resolution", "articles")
ROWS_PER_ROW_GROUP = 100_000
PENDING_BYTES = 32 * 2**20  # Arrow bytes held by one writer before it writes
STAGING = "_tmp"
JOURNAL = "_COMMIT.json"
ABANDONED_AFTER_SECONDS = 6 * 3600


def staging_dir(output_dir: str, run_id: str) -> str:
    return FileSystems.join(output_dir, STAGING, run_id)


def final_path(output_dir: str, table: str, date: str, run_id: str, name: str) -> str:
    """Where a staged file lands: ``DIR/table/date=YYYY-MM-DD/part-<run>-<name>.parquet``."""
    return FileSystems.join(
        output_dir, table, f"{PARTITION_COLUMN}={date}", f"part-{run_id}-{name}.parquet"
    )


def shard_of(row: dict, shards: int) -> int:
    """Rows of one article share a shard number in every table."""
    article_id = row.get("article_id")
    return int(article_id[:8], 16) % shards if article_id and shards > 1 else 0


def _makedirs(path: str) -> None:
    # It may exist already; a real failure shows at the next create or rename.
    with contextlib.suppress(OSError):
        FileSystems.mkdirs(path)


class _StagedFile:
    """One partition's staged Parquet file, opened when its first row group is written.

    Rows arrive as dicts and are converted to Arrow every ``batch_rows`` rows,
    which holds them in a fraction of the memory; ``flush`` writes everything
    pending as one row group.
    """

    def __init__(self, path: str, schema: pa.Schema):
        self.path = path
        self.rows = 0  # written
        self.pending_rows = 0
        self.pending_bytes = 0  # converted, not yet written
        self._schema = schema
        self._dicts = []
        self._batches = []
        self._handle = None
        self._writer = None

    def add(self, row: dict, *, batch_rows: int) -> int:
        """Takes a row; returns the Arrow bytes it converted, if it completed a batch."""
        self._dicts.append(row)
        self.pending_rows += 1
        return self._convert() if len(self._dicts) >= batch_rows else 0

    def _convert(self) -> int:
        batch = pa.RecordBatch.from_pylist(self._dicts, schema=self._schema)
        self._dicts = []
        self._batches.append(batch)
        self.pending_bytes += batch.nbytes
        return batch.nbytes

    def flush(self) -> int:
        """Writes what is pending as one row group; returns the Arrow bytes released."""
        if self._dicts:
            self._convert()
        if not self._batches:
            return 0
        if self._writer is None:
            self._handle = FileSystems.create(self.path)  # creates missing parent folders
            self._writer = pq.ParquetWriter(self._handle, self._schema, compression="zstd")
        table = pa.Table.from_batches(self._batches, schema=self._schema)
        self._writer.write_table(table, row_group_size=table.num_rows)
        released = self.pending_bytes
        self.rows += self.pending_rows
        self._batches, self.pending_rows, self.pending_bytes = [], 0, 0
        return released

    def close(self) -> None:
        self.flush()
        if self._writer is not None:
            self._writer.close()
            self._handle.close()


class PartitionWriter:
    """Rows of one table to staged Parquet files, one per partition date, as the rows arrive.

    A file's pending rows become a row group at ``max_rows`` rows; when all
    pending rows together pass ``max_bytes`` (in Arrow), every file writes
    what it has. So memory stays bounded however many rows and dates pass
    through. ``close`` returns one record per file for the commit.
    """

    def __init__(
        self,
        output_dir: str,
        run_id: str,
        table: str,
        name: str,
        *,
        max_rows: int = ROWS_PER_ROW_GROUP,
        max_bytes: int = PENDING_BYTES,
        batch_rows: int = 1_000,
    ):
        self._output_dir, self._run_id = output_dir, run_id
        self._table, self._name = table, name
        self._max_rows, self._max_bytes, self._batch_rows = max_rows, max_bytes, batch_rows
        self._pending_bytes = 0
        self._files: dict[str, _StagedFile] = {}

    def add(self, row: dict) -> None:
        date = row[PARTITION_COLUMN]
        staged = self._files.get(date)
        if staged is None:
            path = FileSystems.join(
                staging_dir(self._output_dir, self._run_id), self._table, f"{date}-{self._name}"
            )
            staged = self._files[date] = _StagedFile(path + ".parquet", TABLES[self._table])
        self._pending_bytes += staged.add(row, batch_rows=self._batch_rows)
        if staged.pending_rows >= self._max_rows:
            self._pending_bytes -= staged.flush()
        if self._pending_bytes >= self._max_bytes:
            for other in self._files.values():
                other.flush()
            self._pending_bytes = 0

    def close(self) -> list[dict]:
        committed = []
        for date, staged in sorted(self._files.items()):
            staged.close()
            Metrics.counter("newsbeam", f"write.{self._table}.rows").inc(staged.rows)
            Metrics.counter("newsbeam", "write.files").inc()
            final = final_path(self._output_dir, self._table, date, self._run_id, self._name)
            committed.append(
                {"table": self._table, "staged": staged.path, "final": final, "rows": staged.rows}
            )
        self._files, self._pending_bytes = {}, 0
        return committed


class _WriteBundleFn(beam.DoFn):
    """Each bundle's rows to its own staged files, listed once the bundle succeeds.

    A bundle that fails and is retried leaves files under new names that no
    list mentions; the commit deletes them with the staging folder.
    """

    def __init__(self, output_dir: str, run_id: str, table: str):
        self._args = (output_dir, run_id, table)
        self._writer = None

    def start_bundle(self):
        self._writer = None

    def process(self, row):
        if self._writer is None:
            self._writer = PartitionWriter(*self._args, name=uuid.uuid4().hex[:16])
        self._writer.add(row)

    def finish_bundle(self):
        if self._writer is None:
            return
        files, self._writer = self._writer.close(), None
        for file in files:
            yield WindowedValue(file, GlobalWindow().max_timestamp(), (GlobalWindow(),))


class _WriteShardFn(beam.DoFn):
    """One ``(date, shard)`` group of a table to one staged file."""

    def __init__(self, output_dir: str, run_id: str, table: str):
        self._args = (output_dir, run_id, table)

    def process(self, keyed):
        (_date, shard), rows = keyed
        writer = PartitionWriter(*self._args, name=f"{shard:05d}")
        for row in rows:
            writer.add(row)
        yield from writer.close()


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

    Rows carry their partition value in ``date``. By default each bundle
    writes its rows as they come, one file per table and date it touches, so
    no step holds a whole table. With ``shards`` set, rows are grouped first
    into exactly that many files per table and date (useful on runners whose
    bundles are small). Outputs one element: the list of files committed
    (table, final path, rows).
    """

    def __init__(self, output_dir: str, *, run_id: str, shards: int | None = None):
        super().__init__()
        self._output_dir = output_dir
        self._run_id = run_id
        self._shards = shards

    def expand(self, tables):
        output_dir, run_id, shards = self._output_dir, self._run_id, self._shards
        written = []
        for table, rows in sorted(tables.items()):
            name = table.title()
            if shards:
                rows = (
                    rows
                    | f"Key{name}"
                    >> beam.Map(lambda row: ((row[PARTITION_COLUMN], shard_of(row, shards)), row))
                    | f"Group{name}" >> beam.GroupByKey()
                )
                write_fn = _WriteShardFn(output_dir, run_id, table)
            else:
                write_fn = _WriteBundleFn(output_dir, run_id, table)
            written.append(rows | f"Write{name}" >> beam.ParDo(write_fn))
        return (
            written
            | "AllFiles" >> beam.Flatten()
            | "ListFiles" >> beam.combiners.ToList()
            | "Commit" >> beam.Map(lambda files: commit_files(output_dir, run_id, files))
        )
