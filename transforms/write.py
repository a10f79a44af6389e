"""WriteTables: rows to Hive-partitioned Parquet, committed all at once.

Rows are written as they arrive to hidden staging files under
``DIR/_tmp/<run_id>/`` (readers ignore names starting with ``_``), in row
groups, one file per table and date for each bundle (or each shard, with
``--shards``). When every file is written, one commit step hands the list to
``transforms.store.commit_files``, which journals the renames and moves the
files into ``DIR/<table>/date=YYYY-MM-DD/``, articles last, so an article row
is never visible before its entities and quotes. A run killed during the
commit is finished by ``store.recover`` at the start of the next run; a run
killed before it leaves only staging files, which readers never see.

Only the files listed by bundles that succeeded are committed: a retried
bundle writes new files, and the failed attempt's are deleted with the
staging folder, so retries never duplicate rows.
"""

import uuid

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

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
            metrics.counter(counters.write_rows(self._table)).inc(staged.rows)
            Metrics.counter(counters.NAMESPACE, counters.WRITE_FILES).inc()
            final = store.final_path(self._output_dir, self._table, date, self._run_id, self._name)
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


class WriteTables(beam.PTransform):
    """A dict of table name -> rows to committed Parquet files under ``output_dir``.

    Rows carry their partition value in ``date``. By default each bundle
    writes its rows as they come, one file per table and date it touches, so
    no step holds a whole table. With ``shards`` set, rows are grouped first
    into exactly that many files per table and date (useful on runners whose
    bundles are small). Outputs one element: the list of files committed
    (table, final path, rows). ``replacing``, a PCollection of committed
    paths, makes the commit take those files out as it puts these in
    (``store.commit_files``): readers see the old files or the new.
    """

    def __init__(self, output_dir: str, *, run_id: str, shards: int | None = None, replacing=None):
        super().__init__()
        self._output_dir = output_dir
        self._run_id = run_id
        self._shards = shards
        self._replacing = replacing

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
        files = written | "AllFiles" >> beam.Flatten() | "ListFiles" >> beam.combiners.ToList()
        if self._replacing is None:
            return files | "Commit" >> beam.Map(
                lambda files: store.commit_files(output_dir, run_id, files)
            )
        return files | "Commit" >> beam.Map(
            lambda files, removed: store.commit_files(
                output_dir, run_id, _articles_kept(files, removed), removed=removed
            ),
            removed=beam.pvalue.AsList(self._replacing),
        )


def _articles_kept(files: list[dict], removed: list[str]) -> list[dict]:
    """``files``, when they hold as many article rows as the ``removed`` articles files:
    a commit that replaces files may change an article, never lose or add one. Raises
    ``RuntimeError`` (the run fails, nothing is committed) when they do not."""
    before = 0
    for path in removed:
        if path.replace("\\", "/").rsplit("/", 3)[-3] == "articles":  # DIR/articles/date=.../x
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
                before += pq.ParquetFile(handle).metadata.num_rows
    after = sum(file["rows"] for file in files if file["table"] == "articles")
    if before != after:
        raise RuntimeError(
            f"the replacement would leave {after} article rows where there were {before}: "
            "nothing was committed"
        )
    return files
