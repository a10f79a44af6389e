"""The output folder: its paths, atomic JSON files, state, and the commit journal (no pipeline)."""

import json
import os
import pathlib
import time

import pytest
from apache_beam.io.filesystems import FileSystems

from tests.helpers import NOW, error_row
from transforms import store, write
from transforms.lib.feeds import state_update
from transforms.lib.settings import DEFAULT_LIMITS


def _stage(out, run_id, table, rows, name="0"):
    writer = write.PartitionWriter(str(out), run_id, table, name)
    for row in rows:
        writer.add(row)
    return writer.close()


def _names(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------- layout


def test_paths_under_a_local_folder(tmp_path):
    out = str(tmp_path)
    assert store.feed_state_path(out) == os.path.join(out, "_state", "feeds.json")
    assert store.file_state_path(out) == os.path.join(out, "_state", "files.json")
    assert store.run_record_path(out, "r1") == os.path.join(out, "_runs", "r1.json")
    assert store.staging_dir(out, "r1") == os.path.join(out, "_tmp", "r1")
    assert store.staged_path(out, "r1", "quotes", "2026-11-28", "ab") == os.path.join(
        out, "_tmp", "r1", "quotes", "2026-11-28-ab.parquet"
    )
    assert store.final_path(out, "quotes", "2026-11-28", "r1", "ab") == os.path.join(
        out, "quotes", "date=2026-11-28", "part-r1-ab.parquet"
    )
    assert store.table_files(out, "articles") == os.path.join(
        out, "articles", "date=*", "*.parquet"
    )


@pytest.mark.parametrize("out", ["gs://bucket/out", "gs://bucket/out/"])
def test_paths_with_a_scheme_are_never_local_folders(out):
    # gs:// is joined like every Beam object store joins, whether or not
    # apache-beam[gcp] is installed, and no network is touched.
    assert store.feed_state_path(out) == "gs://bucket/out/_state/feeds.json"
    assert store.file_state_path(out) == "gs://bucket/out/_state/files.json"
    assert store.run_record_path(out, "r1") == "gs://bucket/out/_runs/r1.json"
    assert store.staged_path(out, "r1", "errors", "2026-11-28", "0") == (
        "gs://bucket/out/_tmp/r1/errors/2026-11-28-0.parquet"
    )
    assert store.final_path(out, "errors", "2026-11-28", "r1", "0") == (
        "gs://bucket/out/errors/date=2026-11-28/part-r1-0.parquet"
    )
    assert store.table_files(out, "articles") == "gs://bucket/out/articles/date=*/*.parquet"
    assert store.journal_path(out, "r1") == "gs://bucket/out/_tmp/r1/_COMMIT.json"


def test_paths_with_an_installed_scheme_are_joined_by_beam():
    out = "s3://bucket/out"  # Beam's S3 filesystem joins without touching the network
    assert store.feed_state_path(out) == FileSystems.join(out, "_state", "feeds.json")
    assert store.table_files(out, "quotes") == FileSystems.join(
        out, "quotes", "date=*", "*.parquet"
    )


def test_has_table_files_sees_only_committed_files(tmp_path):
    assert not store.has_table_files(str(tmp_path), "errors")
    _stage(tmp_path, "r1", "errors", [error_row(1)])
    assert not store.has_table_files(str(tmp_path), "errors")  # staged only
    (tmp_path / "errors" / "date=2026-11-28").mkdir(parents=True)
    assert not store.has_table_files(str(tmp_path), "errors")  # an empty partition
    (tmp_path / "errors" / "date=2026-11-28" / "part-x.parquet").write_bytes(b"")
    assert store.has_table_files(str(tmp_path), "errors")


# ---------------------------------------------------------------- JSON files


def test_write_json_leaves_no_temporary_file(tmp_path):
    path = str(tmp_path / "_state" / "x.json")
    assert store.write_json(path, {"a": ["é", 1]}) == path
    assert store.read_json(path) == {"a": ["é", 1]}
    store.write_json(path, {"a": 2})
    assert store.read_json(path) == {"a": 2}
    assert _names(tmp_path / "_state") == ["x.json"]


def test_a_reader_sees_the_old_file_until_the_new_one_is_whole(tmp_path, monkeypatch):
    path = str(tmp_path / "x.json")
    store.write_json(path, {"version": 1})
    seen = []
    real_rename = FileSystems.rename

    def rename(sources, destinations):
        # The new document is complete under its temporary name; the reader still sees v1.
        [temporary] = sources
        seen.append((store.read_json(path), json.loads(pathlib.Path(temporary).read_text())))
        real_rename(sources, destinations)

    monkeypatch.setattr(FileSystems, "rename", rename)
    store.write_json(path, {"version": 2, "big": "x" * 100_000})
    assert seen == [({"version": 1}, {"version": 2, "big": "x" * 100_000})]
    assert store.read_json(path)["version"] == 2


def test_a_failed_write_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = str(tmp_path / "x.json")
    store.write_json(path, {"version": 1})

    def rename(_sources, _destinations):
        raise OSError("disk full")

    monkeypatch.setattr(FileSystems, "rename", rename)
    with pytest.raises(OSError, match="disk full"):
        store.write_json(path, {"version": 2})
    with pytest.raises(TypeError):  # not serialisable: nothing is written at all
        store.write_json(path, {("not", "a", "key"): 2})
    assert store.read_json(path) == {"version": 1}
    assert _names(tmp_path) == ["x.json"]


def test_read_json_of_a_missing_or_broken_file(tmp_path):
    assert store.read_json(str(tmp_path / "none.json")) is None
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(store.UnreadableFileError, match=r"broken\.json cannot be read"):
        store.read_json(str(broken))


def test_run_record_is_json(tmp_path):
    path = store.write_run_record(str(tmp_path), "r1", {"a": 1, "at": NOW})
    assert path == store.run_record_path(str(tmp_path), "r1")
    assert json.loads(pathlib.Path(path).read_text()) == {"a": 1, "at": str(NOW)}
    assert _names(tmp_path / "_runs") == ["r1.json"]


def test_check_writable_leaves_nothing(tmp_path):
    store.check_writable(str(tmp_path))
    assert _names(tmp_path) == []
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError):
        store.check_writable(str(tmp_path / "file" / "below"))


# ---------------------------------------------------------------- state


def test_feed_state_round_trips_through_the_output_folder(tmp_path):
    assert store.load_feed_state(str(tmp_path)) == {}
    store.save_feed_state(
        str(tmp_path),
        [
            state_update(
                "https://a.example/rss",
                etag='"v1"',
                last_modified=None,
                seen_ids=["a", "b"],
                checked_at=NOW,
            )
        ],
    )
    assert store.load_feed_state(str(tmp_path)) == {
        "https://a.example/rss": {
            "etag": '"v1"',
            "last_modified": None,
            "seen_ids": ["a", "b"],
            "checked_at": "2026-11-28T12:00:00+00:00",
        }
    }
    assert _names(tmp_path / "_state") == ["feeds.json"]  # no temp file left
    store.save_feed_state(str(tmp_path), [])  # nothing to save: the file is left alone
    assert list(store.load_feed_state(str(tmp_path))) == ["https://a.example/rss"]


@pytest.mark.parametrize("content", ["{not json", '{"version": 1}', '{"feeds": []}', "[]"])
def test_an_unreadable_feed_state_is_an_error(tmp_path, content):
    (tmp_path / "_state").mkdir()
    (tmp_path / "_state" / "feeds.json").write_text(content)
    with pytest.raises(store.UnreadableFileError, match=r"feeds\.json cannot be read"):
        store.load_feed_state(str(tmp_path))


def test_watch_file_state_round_trips_through_the_output_folder(tmp_path):
    assert store.load_file_state(str(tmp_path / "none")) == {}
    known = {"/in/a.txt": (1, 2.5), "/in/b.json": (30, 1700000000.0)}
    store.save_file_state(str(tmp_path), known)
    assert store.load_file_state(str(tmp_path)) == known
    assert _names(tmp_path / "_state") == ["files.json"]  # no temp file left
    (tmp_path / "_state" / "files.json").write_text('{"/in/a.txt": 1}')
    with pytest.raises(store.UnreadableFileError, match=r"files\.json cannot be read"):
        store.load_file_state(str(tmp_path))


# ---------------------------------------------------------------- commit


def test_commit_moves_files_into_hive_partitions(tmp_path):
    files = _stage(
        tmp_path, "r1", "errors", [error_row(1), error_row(2), error_row(3, "2026-11-27")]
    )
    committed = store.commit_files(str(tmp_path), "r1", files)
    assert [f["final"] for f in committed] == [
        store.final_path(str(tmp_path), "errors", date, "r1", "0")
        for date in ("2026-11-27", "2026-11-28")
    ]
    assert all(os.path.exists(f["final"]) for f in committed)
    assert not (tmp_path / "_tmp").exists()  # the staging folder is tidied away


def test_commit_order_puts_articles_last(tmp_path):
    assert store.COMMIT_ORDER[-1] == "articles"
    files = [
        {"table": table, "staged": f"/none/{table}", "final": f"/none/{table}", "rows": 0}
        for table in ("articles", "quotes", "errors", "entities")
    ]
    committed = store.commit_files(str(tmp_path), "r", files)
    assert [f["table"] for f in committed] == list(store.COMMIT_ORDER)


def test_recover_finishes_a_commit_killed_half_way(tmp_path):
    files = [
        *_stage(tmp_path, "r3", "errors", [error_row(1)]),
        *_stage(tmp_path, "r3", "errors", [error_row(2)], name="1"),
    ]
    # The journal was written and the first file moved, then the process died.
    with open(store.journal_path(str(tmp_path), "r3"), "w") as handle:
        json.dump(files, handle)
    os.makedirs(os.path.dirname(files[0]["final"]))
    os.rename(files[0]["staged"], files[0]["final"])
    assert store.recover(str(tmp_path)) == ["r3"]
    assert all(os.path.exists(f["final"]) for f in files)
    assert not (tmp_path / "_tmp" / "r3").exists()
    assert store.recover(str(tmp_path)) == []  # idempotent


def test_recover_leaves_young_uncommitted_runs_and_removes_old_ones(tmp_path):
    [young] = _stage(tmp_path, "young", "errors", [error_row(1)])
    [old] = _stage(tmp_path, "old", "errors", [error_row(2)])
    long_ago = time.time() - 2 * DEFAULT_LIMITS.abandoned_staging_seconds
    os.utime(old["staged"], (long_ago, long_ago))
    assert store.recover(str(tmp_path)) == []
    assert os.path.exists(young["staged"])
    assert not os.path.exists(old["staged"])
    assert not (tmp_path / "errors").exists()


def test_abort_finishes_a_journaled_commit_or_drops_the_staging(tmp_path):
    [journaled] = _stage(tmp_path, "j", "errors", [error_row(1)])
    store.write_json(store.journal_path(str(tmp_path), "j"), [journaled])
    [unjournaled] = _stage(tmp_path, "u", "errors", [error_row(2)])
    store.abort(str(tmp_path), "j")
    store.abort(str(tmp_path), "u")
    store.abort(str(tmp_path), "never-ran")
    assert os.path.exists(journaled["final"])
    assert not os.path.exists(unjournaled["final"])
    assert not (tmp_path / "_tmp").exists()
