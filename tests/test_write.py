"""Parquet writing, the all-at-once commit, and recovery after a kill (no Beam pipeline)."""

import datetime as dt
import json
import os
import time

import pyarrow.dataset as ds

from transforms import write

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def _error(i, date="2026-11-28"):
    return {
        "stage": "read",
        "origin": f"f{i}",
        "error_type": "x",
        "message": "m",
        "excerpt": None,
        "ingested_at": NOW,
        "date": date,
    }


def _stage(out, run_id, table, date, rows, shard=0):
    staged = os.path.join(write.staging_dir(str(out), run_id), table, f"{date}-{shard:05d}.parquet")
    count = write._write_parquet(staged, write.TABLES[table], rows)
    return {
        "table": table,
        "staged": staged,
        "final": write.final_path(str(out), table, date, run_id, shard),
        "rows": count,
    }


def test_commit_moves_files_into_hive_partitions(tmp_path):
    files = [
        _stage(tmp_path, "r1", "errors", "2026-11-28", [_error(1), _error(2)]),
        _stage(tmp_path, "r1", "errors", "2026-11-27", [_error(3, "2026-11-27")]),
    ]
    write.commit_files(str(tmp_path), "r1", files)
    assert not (tmp_path / "_tmp" / "r1").exists()
    table = ds.dataset(tmp_path / "errors", format="parquet", partitioning="hive").to_table()
    assert sorted(table.column("origin").to_pylist()) == ["f1", "f2", "f3"]
    assert sorted(set(map(str, table.column("date").to_pylist()))) == ["2026-11-27", "2026-11-28"]
    assert str(table.schema.field("ingested_at").type) == "timestamp[us, tz=UTC]"


def test_staged_files_are_invisible_to_readers(tmp_path):
    _stage(tmp_path, "r2", "errors", "2026-11-28", [_error(1)])
    assert not (tmp_path / "errors").exists()
    assert list(tmp_path.glob("errors/**/*.parquet")) == []


def test_recover_finishes_a_commit_killed_half_way(tmp_path):
    files = [
        _stage(tmp_path, "r3", "errors", "2026-11-28", [_error(1)]),
        _stage(tmp_path, "r3", "errors", "2026-11-28", [_error(2)], shard=1),
    ]
    # The journal was written and the first file moved, then the process died.
    journal = os.path.join(write.staging_dir(str(tmp_path), "r3"), write.JOURNAL)
    with open(journal, "w") as handle:
        json.dump(files, handle)
    os.makedirs(os.path.dirname(files[0]["final"]))
    os.rename(files[0]["staged"], files[0]["final"])
    assert write.recover(str(tmp_path)) == ["r3"]
    assert all(os.path.exists(f["final"]) for f in files)
    assert not (tmp_path / "_tmp" / "r3").exists()
    assert write.recover(str(tmp_path)) == []  # idempotent


def test_recover_leaves_young_uncommitted_runs_and_removes_old_ones(tmp_path):
    young = _stage(tmp_path, "young", "errors", "2026-11-28", [_error(1)])
    old = _stage(tmp_path, "old", "errors", "2026-11-28", [_error(2)])
    long_ago = time.time() - 2 * write.ABANDONED_AFTER_SECONDS
    os.utime(old["staged"], (long_ago, long_ago))
    assert write.recover(str(tmp_path)) == []
    assert os.path.exists(young["staged"])
    assert not os.path.exists(old["staged"])
    assert not (tmp_path / "errors").exists()


def test_commit_order_puts_articles_last():
    assert write.COMMIT_ORDER[-1] == "articles"


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


def test_empty_group_still_writes_a_valid_file(tmp_path):
    path = str(tmp_path / "x.parquet")
    assert write._write_parquet(path, write.TABLES["errors"], []) == 0
    assert ds.dataset(path).to_table().num_rows == 0
