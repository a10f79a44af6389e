"""WriteTables: rows to staged Hive-partitioned Parquet files, for ``CommitRun`` to commit.

Each table's rows are keyed by partition date and shard (a stable function
of the article id, so an article's rows share a shard number in every
table), grouped, and each group is written by one step, inside ``process``,
to a hidden staging file under ``DIR/_tmp/<run_id>/`` (readers ignore names
starting with ``_``), in row groups, under a temporary name that is renamed
when the file is whole. The step outputs one record per file; nothing is
emitted from ``finish_bundle``, which Beam's Dask runner drops.

A shard's file has the same name in every attempt, so a step that a runner
retries (a lost worker, a failed bundle) writes the same file again in place
of the first attempt's, never beside it: retries never duplicate rows.
``transforms.commit.CommitRun`` then moves the files into place, all at once.
"""

import uuid

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from schemas import PARTITION_COLUMN, TABLES
from schemas.rows import ROW_TYPES
from transforms import metrics, store
from transforms.lib import counters
from transforms.lib.settings import DEFAULT_LIMITS

__all__ = ["PartitionWriter", "RowShapeError", "WriteTables"]

# The column that says which run wrote a row (articles, errors): stamped here, where the
# run's id is known, instead of by every stage that makes rows.
RUN_COLUMN = "run_id"


class RowShapeError(ValueError):
    """A row whose keys are not its table's columns: a bug upstream, never written.

    pyarrow would drop an unknown key and write NULL for a missing one, in silence.
    """


def check_row_keys(table: str, row: dict, keys: frozenset[str]) -> None:
    """Returns if ``row`` has exactly ``keys``; else ``RowShapeError`` names the odd keys."""
    if row.keys() != keys:
        extra = sorted(row.keys() - keys)
        missing = sorted(keys - row.keys())
        raise RowShapeError(
            f"a {table} row does not match the {table} table: "
            f"unknown keys {extra or 'none'}, missing keys {missing or 'none'}"
        )


def shard_of(row: dict, shards: int) -> int:
    """Rows of one article share a shard number in every table."""
    article_id = row.get("article_id")
    return int(article_id[:8], 16) % shards if article_id and shards > 1 else 0


class _StagedFile:
    """One partition's staged Parquet file, opened when its first row group is written.

    Rows arrive as dicts and are converted to Arrow every ``batch_rows`` rows,
    which holds them in a fraction of the memory; ``flush`` writes everything
    pending as one row group. The file is written under a temporary name of
    its own and renamed to ``path`` by ``close``: a reader, or a second attempt
    at the same file, never sees part of it.
    """

    def __init__(self, path: str, schema: pa.Schema):
        self.path = path
        self._temporary = f"{path}.{uuid.uuid4().hex[:8]}.part"
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
            self._handle = FileSystems.create(self._temporary)  # creates missing parent folders
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
            FileSystems.rename([self._temporary], [self.path])


class PartitionWriter:
    """Rows of one table to staged Parquet files, one per partition date, as the rows arrive.

    A file's pending rows become a row group at ``max_rows`` rows; when all
    pending rows together pass ``max_bytes`` (in Arrow), every file writes
    what it has. So memory stays bounded however many rows and dates pass
    through. ``close`` returns one record per file for the commit. A row
    whose keys are not the table's row type (``schemas.rows``) raises
    ``RowShapeError``: a bug must fail the run, not write NULLs. A row whose
    ``run_id`` is None gets ``run_id``: the run that commits it.
    """

    def __init__(
        self,
        output_dir: str,
        run_id: str,
        table: str,
        name: str,
        *,
        max_rows: int = DEFAULT_LIMITS.row_group_rows,
        max_bytes: int = DEFAULT_LIMITS.pending_bytes,
        batch_rows: int = DEFAULT_LIMITS.arrow_batch_rows,
    ):
        self._output_dir, self._run_id = output_dir, run_id
        self._table, self._name = table, name
        self._max_rows, self._max_bytes, self._batch_rows = max_rows, max_bytes, batch_rows
        self._pending_bytes = 0
        self._files: dict[str, _StagedFile] = {}
        row_type = ROW_TYPES[table]
        self._keys = frozenset(row_type.__required_keys__ | row_type.__optional_keys__)
        self._stamps_run = RUN_COLUMN in self._keys

    def add(self, row: dict) -> None:
        """Takes a row of the table; raises ``RowShapeError`` if its keys are not the columns."""
        check_row_keys(self._table, row, self._keys)
        if self._stamps_run and row[RUN_COLUMN] is None:
            row = {**row, RUN_COLUMN: self._run_id}  # a copy: an input element is never changed
        date = row[PARTITION_COLUMN]
        staged = self._files.get(date)
        if staged is None:
            path = store.staged_path(self._output_dir, self._run_id, self._table, date, self._name)
            staged = self._files[date] = _StagedFile(path, TABLES[self._table])
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
            # For runner UIs and the progress line; the summary counts the files' rows.
            metrics.counter(counters.write_rows(self._table)).inc(staged.rows)
            metrics.counter(counters.WRITE_FILES).inc()
            final = store.final_path(self._output_dir, self._table, date, self._run_id, self._name)
            committed.append(
                {"table": self._table, "staged": staged.path, "final": final, "rows": staged.rows}
            )
        self._files, self._pending_bytes = {}, 0
        return committed


class _WriteShardFn(beam.DoFn):
    """One ``(date, shard)`` group of a table's rows to one staged file."""

    def __init__(self, output_dir: str, run_id: str, table: str):
        self._args = (output_dir, run_id, table)

    def process(self, keyed):
        (_date, shard), elements = keyed
        writer = PartitionWriter(*self._args, name=f"{shard:05d}")
        for element in elements:
            for row in element if isinstance(element, list) else (element,):
                writer.add(row)
        yield from writer.close()


def _keyed_by_file(shards: int):
    """The function keying a row by its file of the table: ``(date, shard)``.

    A closure, not extra ``Map`` arguments, which Beam passes on a slower path per row.
    """

    def key(element: dict | list[dict]) -> tuple[tuple[str, int], dict | list[dict]]:
        row = element[0] if isinstance(element, list) else element  # one article's rows
        return (row[PARTITION_COLUMN], shard_of(row, shards)), element

    return key


class WriteTables(beam.PTransform):
    """A dict of table name -> rows to staged Parquet files under ``output_dir``.

    Each element is a row, or a list of one article's rows (they share a date
    and a shard, and cross the grouping as one element). Rows carry their
    partition value in ``date``. Each table's rows are grouped into at most
    ``shards`` files per date (``Limits.write_shards`` when None; fewer when
    there are fewer articles), each written by one step. Each table has a
    grouping of its own: a ``Flatten`` of the rows first would copy every row
    once more on the local runner, which materialises what it flattens.
    Outputs one record per file written (table, staged and final path,
    rows), for ``transforms.commit.CommitRun``.
    """

    def __init__(self, output_dir: str, *, run_id: str, shards: int | None = None):
        super().__init__()
        self._output_dir = output_dir
        self._run_id = run_id
        self._shards = shards or DEFAULT_LIMITS.write_shards

    def expand(self, tables):
        written = []
        for table, rows in sorted(tables.items()):
            name = table.title().replace("_", "")
            written.append(
                rows
                | f"Key{name}" >> beam.Map(_keyed_by_file(self._shards))
                | f"Group{name}" >> beam.GroupByKey()
                | f"Write{name}" >> beam.ParDo(_WriteShardFn(self._output_dir, self._run_id, table))
            )
        return written | "AllFiles" >> beam.Flatten()
