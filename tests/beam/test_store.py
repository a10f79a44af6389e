"""The output folder: its paths, atomic JSON files, state, and the commit journal (no pipeline)."""

import hashlib
import json
import logging
import os
import pathlib
import re
import socket
import subprocess
import sys
import threading
import time
import uuid

import pyarrow as pa
import pytest
from apache_beam.io.filesystem import BeamIOError, FileMetadata, FileSystem
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.localfilesystem import LocalFileSystem

from schemas import TABLES
from tests.helpers import NOW, REPO, error_row
from transforms import store, write
from transforms.lib import globs, manifest
from transforms.lib.feeds import state_update
from transforms.lib.settings import DEFAULT_LIMITS


def _stage(out, run_id, table, rows, name="0"):
    writer = write.PartitionWriter(str(out), run_id, table, name)
    for row in rows:
        writer.add(row)
    return writer.close()


def _row(table, article_id="a1", date="2026-11-28"):
    """A row of ``table`` for one article: the required columns filled with placeholders."""

    def placeholder(field):
        if field.nullable:
            return None
        return (
            NOW
            if pa.types.is_timestamp(field.type)
            else 0
            if pa.types.is_integer(field.type)
            else "x"
        )

    row = {field.name: placeholder(field) for field in TABLES[table]}
    return row | {"article_id": article_id, "date": date}


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


def test_every_commit_leaves_each_table_an_empty_file_with_its_schema(tmp_path):
    """A table no run has written a row to is still a folder readers open."""
    import pyarrow.parquet as pq

    out = str(tmp_path)
    store.commit_files(out, "r1", [])  # a run of no rows at all
    for table, schema in TABLES.items():
        path = store.empty_file_path(out, table)
        assert path == str(tmp_path / table / "date=1970-01-01" / "empty.parquet")
        assert pq.read_schema(path).equals(schema) and pq.read_metadata(path).num_rows == 0
        assert store.committed_files(out)[table] == []  # no rows, nobody's commit
    assert not (tmp_path / "_tmp").exists()
    before = {table: os.stat(store.empty_file_path(out, table)).st_ino for table in TABLES}
    assert store.write_empty_tables(out, "r2") == []  # already there: left alone
    assert before == {table: os.stat(store.empty_file_path(out, table)).st_ino for table in TABLES}


def test_an_empty_file_of_an_older_schema_is_replaced(tmp_path):
    """Spark and pyarrow take the schema from the first file: the empty one must be current."""
    import pyarrow.parquet as pq

    out = str(tmp_path)
    path = store.empty_file_path(out, "quotes")
    os.makedirs(os.path.dirname(path))
    pq.write_table(pa.schema([("article_id", pa.string())]).empty_table(), path)
    pathlib.Path(store.empty_file_path(out, "errors")).parent.mkdir(parents=True)
    pathlib.Path(store.empty_file_path(out, "errors")).write_bytes(b"not parquet")
    written = store.write_empty_tables(out, "r1")
    assert {store.empty_file_path(out, t) for t in ("quotes", "errors")} <= set(written)
    assert pq.read_schema(path).equals(TABLES["quotes"])
    assert pq.read_schema(store.empty_file_path(out, "errors")).equals(TABLES["errors"])


def test_a_commit_that_cannot_write_the_empty_files_commits_nothing(tmp_path, monkeypatch):
    [staged] = _stage(tmp_path, "r1", "errors", [error_row(1)])

    def full(*_args, **_kwargs):
        raise OSError("[Errno 28] No space left on device")

    monkeypatch.setattr(store, "write_empty_tables", full)
    with pytest.raises(OSError):
        store.commit_files(str(tmp_path), "r1", [staged])
    assert not os.path.exists(staged["final"])
    assert not (tmp_path / "_commits" / "r1.json").exists()


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
            "failing": {},
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


# ---------------------------------------------------------------- input manifest


def _entry(size, *, mtime=1.5, status=manifest.OK, run_id="r1"):
    return manifest.FileEntry(size, mtime, "ab" * 32, status, run_id)


def test_the_input_manifest_round_trips_one_log_per_run(tmp_path):
    out = str(tmp_path)
    assert store.load_input_manifest(out) == manifest.InputManifest()
    store.save_input_manifest(out, "r1", {"/in/a.txt": _entry(1), "/in/b.txt": _entry(2)})
    store.save_input_manifest(out, "r2", {"/in/b.txt": _entry(3, run_id="r2")})
    store.save_input_manifest(out, "r3", {})  # nothing read: nothing written
    loaded = store.load_input_manifest(out)
    assert loaded.files == {"/in/a.txt": _entry(1), "/in/b.txt": _entry(3, run_id="r2")}
    assert (loaded.base, loaded.sequence) == (0, 2)
    assert _names(tmp_path / "_state" / "inputs") == [
        "log-000000000001-r1.json",
        "log-000000000002-r2.json",
    ]  # no temporary file left


def test_logs_are_merged_into_a_base_once_enough_have_gathered(tmp_path):
    out = str(tmp_path)
    for number in range(1, 5):
        entries = {f"/in/{number}.txt": _entry(number)}
        store.save_input_manifest(out, f"r{number}", entries, merge_at=3)
    assert _names(tmp_path / "_state" / "inputs") == [
        "base-000000000003.json",
        "log-000000000004-r4.json",
    ]
    loaded = store.load_input_manifest(out)
    assert sorted(loaded.files) == [f"/in/{number}.txt" for number in range(1, 5)]
    assert (loaded.base, loaded.sequence) == (3, 4)


def test_a_merge_killed_before_it_tidied_up_changes_nothing(tmp_path):
    out = str(tmp_path)
    store.save_input_manifest(out, "r1", {"/in/a.txt": _entry(1)})
    store.save_input_manifest(out, "r2", {"/in/a.txt": _entry(2, run_id="r2")})
    folder = tmp_path / "_state" / "inputs"
    kept = {name: (folder / name).read_bytes() for name in _names(folder)}
    store.merge_input_manifest(out)
    for name, data in kept.items():  # the logs it merged, back as a kill would leave them
        (folder / name).write_bytes(data)
    loaded = store.load_input_manifest(out)
    assert loaded.files == {"/in/a.txt": _entry(2, run_id="r2")}
    store.save_input_manifest(out, "r3", {"/in/b.txt": _entry(3)})
    store.merge_input_manifest(out)
    assert _names(folder) == ["base-000000000003.json"]


def test_a_known_manifest_is_brought_up_to_date_from_the_new_logs_or_a_new_base(tmp_path):
    out = str(tmp_path)
    store.save_input_manifest(out, "r1", {"/in/a.txt": _entry(1)})
    known = store.load_input_manifest(out)
    store.save_input_manifest(out, "r2", {"/in/b.txt": _entry(2)})
    first = tmp_path / "_state" / "inputs" / "log-000000000001-r1.json"
    kept = first.read_bytes()
    first.write_text("{torn")  # not read again: only the new log is
    assert sorted(store.load_input_manifest(out, known).files) == ["/in/a.txt", "/in/b.txt"]
    first.write_bytes(kept)
    store.save_input_manifest(out, "r3", {"/in/c.txt": _entry(3)}, merge_at=1)  # merges
    refreshed = store.load_input_manifest(out, known)
    assert sorted(refreshed.files) == ["/in/a.txt", "/in/b.txt", "/in/c.txt"]
    assert refreshed == store.load_input_manifest(out)


def test_watch_file_state_is_read_as_the_manifest_then_merged_into_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    (out / "_state").mkdir(parents=True)
    (out / "_state" / "files.json").write_text('{"/in/a.txt": [1, 2.5], "in/b.json": [30, 7]}')
    legacy = {
        "/in/a.txt": manifest.FileEntry(1, 2.5, None, manifest.OK, None),
        str(tmp_path / "in" / "b.json"): manifest.FileEntry(30, 7, None, manifest.OK, None),
    }
    assert store.load_input_manifest(str(out)).files == legacy
    store.save_input_manifest(str(out), "r1", {"/in/c.txt": _entry(3)})  # merges at once
    assert _names(out / "_state") == ["inputs"]
    assert store.load_input_manifest(str(out)).files == {**legacy, "/in/c.txt": _entry(3)}


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("inputs/log-000000000001-r1.json", "{torn"),
        ("inputs/log-000000000001-r1.json", '{"version": 1, "files": {"path": ["/a"]}}'),
        ("inputs/base-000000000001.json", '{"version": 9, "through": 1, "files": {}}'),
        ("files.json", '{"/in/a.txt": 1}'),
    ],
)
def test_an_unreadable_input_manifest_is_an_error_saying_how_to_start_afresh(
    tmp_path, name, content
):
    (tmp_path / "_state" / "inputs").mkdir(parents=True)
    (tmp_path / "_state" / name).write_text(content)
    with pytest.raises(store.UnreadableFileError, match=r"cannot be read.*move .* aside"):
        store.load_input_manifest(str(tmp_path))


def test_a_file_touched_but_not_changed_is_skipped_and_its_new_time_recorded(tmp_path):
    from pipelines import inputs

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("same.txt", "touched.txt", "edited.txt", "new.txt"):
        (folder / name).write_text(f"The {name} story.")
    sha = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    known = manifest.InputManifest(
        {
            str(folder / name): manifest.FileEntry(
                (folder / name).stat().st_size, 1.0, sha[name], manifest.OK, "r1"
            )
            for name in ("same.txt", "touched.txt", "edited.txt")
        }
    )
    (folder / "edited.txt").write_text("The edited.txt scoop.")  # the same size, other bytes
    listing = {str(p): (p.stat().st_size, 2.0) for p in folder.iterdir()}
    listing[str(folder / "same.txt")] = (listing[str(folder / "same.txt")][0], 1.0)
    chosen = inputs.select(listing, known, patterns=[str(folder / "*")])
    assert chosen.read == [str(folder / "edited.txt"), str(folder / "new.txt")]
    assert chosen.inputs == [globs.escape(path) for path in chosen.read]
    assert chosen.unchanged == 2
    assert chosen.touched == {
        str(folder / "touched.txt"): known.files[str(folder / "touched.txt")]._replace(mtime=2.0)
    }
    everything = inputs.select(listing, manifest.InputManifest(), patterns=[str(folder / "*")])
    assert everything.inputs == [str(folder / "*")]  # nothing skipped: the pattern as given
    inputs.record_touched(str(tmp_path / "out"), "r2", chosen)
    assert store.load_input_manifest(str(tmp_path / "out")).files == chosen.touched


class _ElsewhereFileSystem(FileSystem):
    """``elsewhere://PATH`` is the local ``/PATH`` behind a scheme, with no folders, as an
    object store has none: what the store writes there must go through Beam's FileSystems."""

    PREFIX = "elsewhere://"

    @classmethod
    def scheme(cls):
        return "elsewhere"

    def _in(self, path):
        return "/" + path[len(self.PREFIX) :]

    def _out(self, path):
        return self.PREFIX + path.lstrip("/")

    def join(self, basepath, *paths):
        return "/".join([basepath.rstrip("/"), *(p.strip("/") for p in paths)])

    def split(self, path):
        return tuple(path.rstrip("/").rsplit("/", 1))

    def mkdirs(self, path):
        pass

    def has_dirs(self):
        return False

    def _list(self, dir_or_prefix):
        prefix = self._in(dir_or_prefix)
        for folder, _dirs, names in os.walk(os.path.dirname(prefix)):
            for path in (os.path.join(folder, name) for name in names):
                if path.startswith(prefix):
                    yield FileMetadata(
                        self._out(path), os.path.getsize(path), os.path.getmtime(path)
                    )

    def create(self, path, mime_type="application/octet-stream", compression_type="auto"):
        os.makedirs(os.path.dirname(self._in(path)), exist_ok=True)
        return LocalFileSystem(None).create(self._in(path), mime_type, compression_type)

    def open(self, path, mime_type="application/octet-stream", compression_type="auto"):
        return LocalFileSystem(None).open(self._in(path), mime_type, compression_type)

    def copy(self, source_file_names, destination_file_names):
        raise NotImplementedError

    def rename(self, source_file_names, destination_file_names):
        for source, destination in zip(source_file_names, destination_file_names, strict=True):
            os.replace(self._in(source), self._in(destination))

    def exists(self, path):
        return os.path.exists(self._in(path))

    def size(self, path):
        return os.path.getsize(self._in(path))

    def last_updated(self, path):
        return os.path.getmtime(self._in(path))

    def checksum(self, path):
        raise NotImplementedError

    def metadata(self, path):
        return FileMetadata(path, self.size(path), self.last_updated(path))

    def delete(self, paths):
        missing = {path: FileNotFoundError(path) for path in paths if not self.exists(path)}
        for path in paths:
            if path not in missing:
                os.remove(self._in(path))
        if missing:  # as Beam's filesystems report it
            raise BeamIOError("Delete operation failed", missing)


def test_the_input_manifest_of_an_output_with_a_scheme_goes_through_beam(tmp_path):
    out = _ElsewhereFileSystem.PREFIX + str(tmp_path / "out").lstrip("/")
    for number in range(1, 4):
        entries = {f"/in/{number}.txt": _entry(number)}
        store.save_input_manifest(out, f"r{number}", entries, merge_at=2)
    assert _names(tmp_path / "out" / "_state" / "inputs") == [
        "base-000000000002.json",
        "log-000000000003-r3.json",
    ]
    assert sorted(store.load_input_manifest(out).files) == ["/in/1.txt", "/in/2.txt", "/in/3.txt"]
    assert not (tmp_path / "elsewhere:").exists()  # never a local folder named after the scheme


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
        *_stage(tmp_path, "r", "articles", [_row("articles")]),
        *_stage(tmp_path, "r", "quotes", [_row("quotes")]),
        *_stage(tmp_path, "r", "errors", [error_row(1)]),
        *_stage(tmp_path, "r", "entities", [_row("entities")]),
    ]
    committed = store.commit_files(str(tmp_path), "r", files)
    staged = {f["table"] for f in files}
    assert [f["table"] for f in committed] == [t for t in store.COMMIT_ORDER if t in staged]


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


def test_a_commit_tried_again_finishes_the_first_attempt_or_does_nothing(tmp_path):
    # A runner retries the commit step after losing the worker that ran it.
    files = [
        *_stage(tmp_path, "r4", "errors", [error_row(1)]),
        *_stage(tmp_path, "r4", "errors", [error_row(2)], name="1"),
    ]
    store.write_json(store.journal_path(str(tmp_path), "r4"), files)
    os.makedirs(os.path.dirname(files[0]["final"]))
    os.rename(files[0]["staged"], files[0]["final"])  # the first attempt died here
    store.commit_files(str(tmp_path), "r4", files, counts={"read.records": 2})
    assert all(os.path.exists(f["final"]) for f in files)
    assert store.commit_counts(str(tmp_path), "r4") == {"read.records": 2}
    store.commit_files(str(tmp_path), "r4", files, counts={"read.records": 2})  # done already
    assert not (tmp_path / "_tmp").exists() and len(list(tmp_path.glob("_commits/*"))) == 1


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


def _move(file):
    os.makedirs(os.path.dirname(file["final"]), exist_ok=True)
    os.rename(file["staged"], file["final"])


@pytest.mark.parametrize("journal", ["", "{not json", '{"files": 1}', "null", "[1]"])
@pytest.mark.parametrize("finish", [store.recover, lambda out: store.abort(out, "r")])
def test_a_broken_journal_is_a_commit_that_never_began(tmp_path, caplog, journal, finish):
    files = [
        *_stage(tmp_path, "r", "entities", [_row("entities")]),
        *_stage(tmp_path, "r", "articles", [_row("articles")]),
    ]
    # What a power cut leaves when the journal was renamed without fsync: an
    # empty or torn journal, and perhaps (an older newsbeam) a file moved already.
    pathlib.Path(store.journal_path(str(tmp_path), "r")).write_text(journal)
    _move(files[0])
    with caplog.at_level(logging.WARNING, logger="newsbeam.store"):
        finish(str(tmp_path))
    assert "_COMMIT.json cannot be read" in caplog.text
    assert "run r never began its commit" in caplog.text
    assert not any(os.path.exists(f["final"]) for f in files)
    assert not (tmp_path / "_tmp").exists()
    assert store.recover(str(tmp_path)) == []


def test_two_processes_recovering_one_journal_both_finish(tmp_path, monkeypatch):
    files = [
        *_stage(tmp_path, "r", "errors", [error_row(1)]),
        *_stage(tmp_path, "r", "errors", [error_row(2)], name="1"),
    ]
    store.write_json(store.journal_path(str(tmp_path), "r"), files)
    real_rename = FileSystems.rename
    raced = []

    def rename(sources, destinations):
        if not raced:  # the other process does all of it between our check and our rename
            raced.append(True)
            assert store.recover(str(tmp_path)) == ["r"]
        real_rename(sources, destinations)

    monkeypatch.setattr(FileSystems, "rename", rename)
    assert store.recover(str(tmp_path)) == ["r"]
    assert raced and all(os.path.exists(f["final"]) for f in files)
    assert not (tmp_path / "_tmp").exists()


def test_commit_puts_files_and_journal_on_disk_before_publishing_them(tmp_path, monkeypatch):
    out = str(tmp_path.resolve())
    files = [
        *_stage(out, "r", "quotes", [_row("quotes")]),
        *_stage(out, "r", "articles", [_row("articles")]),
    ]
    events = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(descriptor):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    def rename(source, destination):
        events.append(("rename", str(source), str(destination)))
        real_rename(source, destination)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    store.commit_files(out, "r", files)

    def at(kind, path, *, to=False):
        [index] = [i for i, e in enumerate(events) if e[0] == kind and e[-1 if to else 1] == path]
        return index

    journal = store.journal_path(out, "r")
    published = at("rename", journal, to=True)
    assert at("fsync", events[published][1]) < published  # the journal's bytes, then its name
    assert at("fsync", os.path.dirname(journal)) > published
    record = at("rename", store.commit_record_path(out, "r"), to=True)
    for file in files:
        moved = at("rename", file["final"], to=True)
        assert at("fsync", file["staged"]) < published < moved
        assert moved < at("fsync", os.path.dirname(file["final"])) < record
    assert max(i for i, e in enumerate(events) if e[0] == "rename") == record  # published last


# ---------------------------------------------------------------- what readers see


def _counts(out):
    from pipelines import query

    sql = "select (select count(*) from articles), (select count(*) from entities), " + (
        "(select count(*) from quotes)"
    )
    return query.connect(str(out)).execute(sql).fetchone()


def test_readers_never_see_a_commit_half_done(tmp_path):
    out = tmp_path / "out"
    store.commit_files(
        str(out),
        "r1",
        [
            *_stage(out, "r1", "articles", [_row("articles", "a1")]),
            *_stage(out, "r1", "entities", [_row("entities", "a1")]),
        ],
    )
    files = [
        *_stage(out, "r2", "entities", [_row("entities", "a2")]),
        *_stage(out, "r2", "quotes", [_row("quotes", "a2")]),
        *_stage(out, "r2", "articles", [_row("articles", "a2")]),
    ]
    # Killed in the commit: journal written, entities and quotes moved, articles not.
    store.write_json(store.journal_path(str(out), "r2"), files)
    _move(files[0])
    _move(files[1])
    assert os.path.exists(files[0]["final"])  # a plain-file reader could see it
    visible = store.committed_files(str(out))
    assert not [f for found in visible.values() for f in found if "part-r2-" in f]
    assert _counts(out) == (1, 1, 0)
    assert store.recover(str(out)) == ["r2"]
    assert _counts(out) == (2, 2, 1)


def test_a_connection_keeps_the_files_it_listed(tmp_path):
    from pipelines import query

    out = tmp_path / "out"
    store.commit_files(str(out), "r1", _stage(out, "r1", "articles", [_row("articles", "a1")]))
    connection = query.connect(str(out))
    store.commit_files(str(out), "r2", _stage(out, "r2", "articles", [_row("articles", "a2")]))
    assert connection.execute("select count(*) from articles").fetchone() == (1,)
    assert _counts(out) == (2, 0, 0)


def test_an_output_written_before_commit_records_stays_visible(tmp_path):
    [old] = _stage(tmp_path, "old", "articles", [_row("articles", "a0")])
    _move(old)  # as a newsbeam without commit records left it
    store.abort(str(tmp_path), "old")
    (tmp_path / "articles" / "date=2026-11-28" / "by-hand.parquet").write_bytes(b"")
    assert store.committed_files(str(tmp_path))["articles"] == [
        str(tmp_path / "articles" / "date=2026-11-28" / "by-hand.parquet"),
        old["final"],
    ]
    [new] = _stage(tmp_path, "new", "articles", [_row("articles", "a1")])
    store.commit_files(str(tmp_path), "new", [new])
    assert _names(tmp_path / "_commits") == ["new.json", "old.json"]
    empty = store.empty_file_path(str(tmp_path), "articles")  # the commit wrote it
    assert os.path.exists(empty)
    assert len(store.committed_files(str(tmp_path))["articles"]) == 3  # and lists no rows


def test_run_of_file_reads_the_name_final_path_writes():
    path = store.final_path("/out", "quotes", "2026-11-28", "20261128T120000Z-0a1b2c3d", "00003")
    assert store.run_of_file(path) == "20261128T120000Z-0a1b2c3d"
    assert store.run_of_file("/out/quotes/date=2026-11-28/part-0.parquet") is None
    assert store.run_of_file("/out/quotes/date=2026-11-28/x.parquet") is None
    with pytest.raises(ValueError, match="may not contain"):
        store.final_path("/out", "quotes", "2026-11-28", "r", "a-b")


# ---------------------------------------------------------------- one writer


def test_a_second_writer_is_refused_at_once_naming_the_holder(tmp_path):
    out = str(tmp_path / "out")
    with store.writer_lock(out, command="ingest") as holder:
        assert holder["pid"] == os.getpid()
        started = time.monotonic()
        named = rf"pid {os.getpid()} on {re.escape(socket.gethostname())} \(ingest, since "
        with pytest.raises(store.OutputLockedError, match=named), store.writer_lock(out):
            pass
        assert time.monotonic() - started < 1
    with store.writer_lock(out):  # released when the block ends
        pass
    assert (tmp_path / "out" / "_lock").read_text() == ""  # nobody to name


def test_a_lock_left_by_a_killed_process_never_blocks(tmp_path):
    out = tmp_path / "out"
    hold = (
        "import sys, time\nfrom transforms import store\n"
        "lock = store.writer_lock(sys.argv[1], command='ingest')\nlock.__enter__()\n"
        "print('held', flush=True)\ntime.sleep(600)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(out)], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert holder.stdout.readline() == "held\n"
        locked = pytest.raises(store.OutputLockedError, match=f"pid {holder.pid} ")
        with locked, store.writer_lock(str(out)):
            pass
    finally:
        holder.kill()  # SIGKILL: no cleanup runs
        holder.wait()
    assert json.loads((out / "_lock").read_text())["pid"] == holder.pid  # its name is left
    with store.writer_lock(str(out)) as record:
        assert record["pid"] == os.getpid()


def test_wait_blocks_until_the_holder_is_done(tmp_path, caplog):
    out = str(tmp_path)
    holding = threading.Event()

    def hold():
        with store.writer_lock(out, command="watch"):
            holding.set()
            time.sleep(0.5)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(timeout=30)
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="newsbeam.store"),
        store.writer_lock(out, wait=True),
    ):
        waited = time.monotonic() - started
    thread.join()
    assert waited > 0.3
    assert f"waiting for pid {os.getpid()}" in caplog.text and "(watch, since" in caplog.text


def test_an_output_with_a_scheme_is_locked_on_this_machine_only_and_says_so(caplog):
    out = f"gs://newsbeam-test-{uuid.uuid4().hex[:8]}/out"
    with (
        caplog.at_level(logging.WARNING, logger="newsbeam.store"),
        store.writer_lock(out),
        pytest.raises(store.OutputLockedError),
        store.writer_lock(out + "/"),
    ):
        pass
    assert "cannot be locked against writers on other machines" in caplog.text


def test_a_failed_run_says_whether_its_files_were_committed(tmp_path):
    from pipelines.cli import RunFailed

    store.commit_files(str(tmp_path), "r1", [])  # failed after its commit (saving feed state)
    assert "its files were committed" in str(RunFailed(str(tmp_path), "r1", "boom"))
    assert "nothing of it was committed" in str(RunFailed(str(tmp_path), "r2", "boom"))
