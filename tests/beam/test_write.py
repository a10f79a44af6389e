"""Parquet writing into staged files, and their commit (no Beam pipeline).

The journal, ``recover`` and ``abort`` are tested with the output folder, in test_store.py.
"""

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from tests.helpers import error_row
from transforms import store, write


def _stage(out, run_id, table, rows, name="0"):
    writer = write.PartitionWriter(str(out), run_id, table, name)
    for row in rows:
        writer.add(row)
    return writer.close()


def test_commit_moves_files_into_hive_partitions(tmp_path):
    files = _stage(
        tmp_path, "r1", "errors", [error_row(1), error_row(2), error_row(3, "2026-11-27")]
    )
    assert [f["rows"] for f in files] == [1, 2]  # one file per date
    store.commit_files(str(tmp_path), "r1", files)
    assert not (tmp_path / "_tmp" / "r1").exists()
    table = ds.dataset(tmp_path / "errors", format="parquet", partitioning="hive").to_table()
    assert sorted(table.column("origin").to_pylist()) == ["f1", "f2", "f3"]
    assert sorted(set(map(str, table.column("date").to_pylist()))) == ["2026-11-27", "2026-11-28"]
    assert str(table.schema.field("ingested_at").type) == "timestamp[us, tz=UTC]"


def test_staged_files_are_invisible_to_readers(tmp_path):
    _stage(tmp_path, "r2", "errors", [error_row(1)])
    assert not (tmp_path / "errors").exists()
    assert list(tmp_path.glob("errors/**/*.parquet")) == []


def test_shards_keep_an_articles_rows_together():
    row = {"article_id": "9ad307750ad99124"}
    assert write.shard_of(row, 4) == write.shard_of({**row, "x": 1}, 4)
    assert write.shard_of(row, 1) == 0
    assert {write.shard_of({"article_id": f"{i:016x}"}, 4) for i in range(0, 2**40, 2**35)} <= {
        0,
        1,
        2,
        3,
    }


def test_rows_are_written_in_row_groups_as_they_come(tmp_path):
    writer = write.PartitionWriter(
        str(tmp_path), "r", "errors", "b", max_rows=10, max_bytes=10**9, batch_rows=4
    )
    for i in range(25):
        writer.add(error_row(i))
        # Rows wait in memory only until their row group is full.
        assert writer._files["2026-11-28"].pending_rows == (i + 1) % 10
    [file] = writer.close()
    metadata = pq.ParquetFile(file["staged"]).metadata
    assert (metadata.num_rows, metadata.num_row_groups, file["rows"]) == (25, 3, 25)
    assert [metadata.row_group(g).num_rows for g in range(3)] == [10, 10, 5]
    table = ds.dataset(file["staged"]).to_table()
    assert table.column("origin").to_pylist() == [f"f{i}" for i in range(25)]


def test_pending_rows_of_all_dates_are_written_at_the_byte_budget(tmp_path):
    writer = write.PartitionWriter(
        str(tmp_path), "r", "errors", "b", max_rows=1000, max_bytes=5000, batch_rows=2
    )
    for i in range(12):  # two dates, each row about 1 kB in Arrow
        writer.add({**error_row(i, f"2026-11-2{i % 2}"), "message": "x" * 1000})
        pending = sum(f.pending_bytes for f in writer._files.values())
        assert pending < 5000
    files = writer.close()
    assert [f["rows"] for f in files] == [6, 6]
    assert all(pq.ParquetFile(f["staged"]).metadata.num_row_groups > 1 for f in files)


def test_a_writer_with_no_rows_writes_no_file(tmp_path):
    assert write.PartitionWriter(str(tmp_path), "r", "errors", "b").close() == []
    assert not (tmp_path / "_tmp").exists()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda row: {**row, "error_typ": row.pop("error_type")}, "['error_typ']"),
        (lambda row: {k: v for k, v in row.items() if k != "excerpt"}, "['excerpt']"),
    ],
    ids=["misspelt", "missing"],
)
def test_a_row_whose_keys_are_not_the_columns_is_refused(tmp_path, change, named):
    writer = write.PartitionWriter(str(tmp_path), "r", "errors", "b")
    writer.add(error_row(1))
    with pytest.raises(write.RowShapeError, match=r"errors row") as raised:
        writer.add(change(error_row(2)))
    assert named in str(raised.value)
    [file] = writer.close()  # the good row is still written; the bad one never is
    assert file["rows"] == 1
