"""The input manifest's logic: which files a run reads, what it records, and the files on disk."""

import hashlib
import io

import pytest

from transforms.lib import manifest
from transforms.lib.manifest import FAILED, OK, FileEntry

SHA = "ab" * 32


def _entry(size=10, mtime=100.0, sha256=SHA, status=OK, run_id="r1"):
    return FileEntry(size, mtime, sha256, status, run_id)


def test_a_file_is_read_when_new_or_changed_and_skipped_when_unchanged():
    known = {
        "/in/same.txt": _entry(),
        "/in/grown.txt": _entry(),
        "/in/touched.txt": _entry(),
        "/in/touched_unhashed.txt": _entry(sha256=None),
        "/in/failed.txt": _entry(status=FAILED),  # failed the same way: not read again
    }
    listing = {
        "/in/same.txt": (10, 100.0),
        "/in/grown.txt": (11, 100.0),  # a size of its own: changed, whatever its time
        "/in/touched.txt": (10, 200.0),
        "/in/touched_unhashed.txt": (10, 200.0),
        "/in/failed.txt": (10, 100.0),
        "/in/new.txt": (1, 1.0),
    }
    plan = manifest.plan_reads(listing, known)
    assert plan.read == ["/in/grown.txt", "/in/new.txt", "/in/touched_unhashed.txt"]
    assert plan.unchanged == ["/in/failed.txt", "/in/same.txt"]
    assert plan.to_verify == ["/in/touched.txt"]  # same size, new time: the hash decides


def test_files_are_known_by_their_origin_so_any_file_name_can_be_recorded():
    odd = "/in/caf\udce9.txt"  # a name that is not UTF-8, as Python lists it
    assert manifest.key_of(odd) == "/in/caf\\xe9.txt"
    plan = manifest.plan_reads({odd: (10, 100.0)}, {"/in/caf\\xe9.txt": _entry()})
    assert plan.unchanged == [odd]


def test_nothing_known_means_everything_is_read():
    assert manifest.plan_reads({"b": (1, 1.0), "a": (None, None)}, {}).read == ["a", "b"]


def test_sha256_of_reads_in_chunks():
    data = b"x" * (3 * 1024 * 1024 + 5)
    assert manifest.sha256_of(io.BytesIO(data).read) == hashlib.sha256(data).hexdigest()
    assert manifest.sha256_of(io.BytesIO(b"").read) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("/in/a.txt", "/in/a.txt"),
        ("/in/a.jsonl#12", "/in/a.jsonl"),  # a line
        ("/in/f.xml#https://x.example/p#frag", "/in/f.xml"),  # a feed entry whose id has a #
        ("/in/odd#name.txt", "/in/odd#name.txt"),  # a # in the file name itself
        ("/in/odd#name.json#3", "/in/odd#name.json"),
        ("https://x.example/feed#1", None),  # a feed's entry: no file of this run
    ],
)
def test_an_article_is_traced_to_the_file_it_came_from(origin, expected):
    files = {"/in/a.txt", "/in/a.jsonl", "/in/f.xml", "/in/odd#name.txt", "/in/odd#name.json"}
    assert manifest.file_of(origin, files) == expected


def test_a_file_that_gave_no_article_is_recorded_as_failed():
    files = [
        {"origin": "/in/good.jsonl", "size": 5, "mtime": 1.0, "sha256": SHA},
        {"origin": "/in/bad.json", "size": 3, "mtime": 2.0, "sha256": None},
    ]
    entries = manifest.file_entries(files, {"/in/good.jsonl"}, run_id="r9")
    assert entries == {
        "/in/good.jsonl": FileEntry(5, 1.0, SHA, OK, "r9"),
        "/in/bad.json": FileEntry(3, 2.0, None, FAILED, "r9"),
    }


def test_names_on_disk_sort_in_sequence_order():
    assert manifest.base_name(42) == "base-000000000042.json"
    assert manifest.log_name(43, "20261128T120000Z-0badf00d") == (
        "log-000000000043-20261128T120000Z-0badf00d.json"
    )
    assert manifest.parse_name(manifest.base_name(42)) == ("base", 42)
    assert manifest.parse_name(manifest.log_name(43, "r")) == ("log", 43)
    for other in ("log-1-r.json", "base-000000000042.json.1a2b.part", "notes.json"):
        assert manifest.parse_name(other) is None
    assert sorted([manifest.log_name(10, "a"), manifest.log_name(9, "z")])[0].startswith(
        "log-000000000009"
    )


def test_bases_and_logs_round_trip():
    files = {"/in/a.txt": _entry(), "/in/b.txt": _entry(None, None, None, FAILED, None)}
    assert manifest.decode_base(manifest.encode_base(files, through=7)) == (files, 7)
    assert manifest.decode_log(manifest.encode_log(files, run_id="r1")) == files


def _columns(**changed):
    """The columns of a one-file log, with ``changed`` ones."""
    columns = {"path": ["/a"], "size": [1], "mtime": [2.0], "sha256": [None]}
    return {"version": 1, "files": {**columns, "status": ["ok"], "run_id": [None], **changed}}


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        {"version": 2, "files": {}},
        {"version": 1, "files": []},
        {"version": 1, "files": {"/a": [1, 2.0, None, "ok", None]}},  # one list per file
        _columns(run_id=None),  # a column missing
        _columns(size=[1, 2]),  # columns of different lengths
        _columns(status=["maybe"]),  # no such status
        _columns(size=["big"]),
        _columns(size=[True]),  # a JSON true is no size
        _columns(mtime=[[2.0]]),
    ],
)
def test_a_log_that_is_not_one_is_refused(document):
    with pytest.raises(ValueError):
        manifest.decode_log(document)


def test_a_log_is_a_column_per_field():
    files = {"/in/a.txt": _entry(), "/in/b.txt": _entry(3, None, None, FAILED, None)}
    assert manifest.encode_log(files, run_id="r1")["files"] == {
        "path": ["/in/a.txt", "/in/b.txt"],
        "size": [10, 3],
        "mtime": [100.0, None],
        "sha256": [SHA, None],
        "status": ["ok", "failed"],
        "run_id": ["r1", None],
    }
    assert manifest.decode_log(_columns()) == {"/a": FileEntry(1, 2.0, None, OK, None)}


def test_a_base_needs_its_sequence():
    with pytest.raises(ValueError, match="through"):
        manifest.decode_base({**_columns(), "through": "7"})


def test_watch_old_file_state_becomes_entries_with_absolute_paths():
    document = {"/in/a.txt": [1, 2.5], "rel/b.json": [30, 1700000000]}
    assert manifest.decode_legacy(document, cwd="/home/me") == {
        "/in/a.txt": FileEntry(1, 2.5, None, OK, None),
        "/home/me/rel/b.json": FileEntry(30, 1700000000, None, OK, None),
    }
    for bad in ([], {"/in/a.txt": 1}, {"/in/a.txt": ["big", "old"]}):
        with pytest.raises(ValueError, match="size, mtime"):
            manifest.decode_legacy(bad, cwd="/")
