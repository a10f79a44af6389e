"""Each composite in a TestPipeline, one assertion per output, dead letters included."""

import datetime as dt
import hashlib
import json

import apache_beam as beam
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests.helpers import error_row
from transforms import commit, dedupe, errors_once, normalize, read, store
from transforms.commit import CommitRun
from transforms.dedupe import DeduplicateArticles
from transforms.lib import globs
from transforms.lib.dedupe import id_shard, ids_by_shard
from transforms.lib.formats import raw_record
from transforms.normalize import NormalizeArticles
from transforms.read import ReadArticles
from transforms.write import WriteTables

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def _field(name):
    return lambda row: row[name]


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _error_key(row):
    return (row["origin"].rsplit("/", 1)[-1], row["error_type"])


def test_read_articles_with_dead_letters(tmp_path):
    (tmp_path / "a.txt").write_text("Title\n\nBody of a.")
    (tmp_path / "b.html").write_text("<html><body><p>Hello</p></body></html>")
    (tmp_path / "c.jsonl").write_text(
        '{"text": "one"}\n{broken\n\n{"text": 5}\n{"maintext": "four"}\n'
    )
    (tmp_path / "d.json").write_text(json.dumps([{"text": "x"}, {"text": "y"}]))
    (tmp_path / "e.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(50))
    (tmp_path / "f.md").write_text("# not an article")
    (tmp_path / "g.txt").write_text("x" * 200)
    with TestPipeline() as p:
        outputs = p | ReadArticles([str(tmp_path / "*")], ingested_at=NOW, max_file_bytes=100)
        assert_that(
            outputs.articles | beam.Map(lambda r: (r["origin"].rsplit("/", 1)[-1], r["text"])),
            equal_to(
                [
                    ("a.txt", "Body of a."),
                    ("b.html", None),
                    ("c.jsonl#1", "one"),
                    ("c.jsonl#5", "four"),
                    ("d.json#0", "x"),
                    ("d.json#1", "y"),
                ]
            ),
            label="Articles",
        )
        assert_that(
            outputs[read.ERRORS] | beam.Map(_error_key),
            equal_to(
                [
                    ("c.jsonl#2", "malformed_json"),
                    ("c.jsonl#4", "invalid_field"),
                    ("e.txt", "binary_file"),
                    ("f.md", "unsupported_format"),
                    ("g.txt", "too_large"),
                ]
            ),
            label="Errors",
        )
        # One record per file read, for the input manifest: with its listed stamp and hash.
        stamps = {
            path.name: (path.stat().st_size, path.stat().st_mtime, _sha256(path))
            for path in tmp_path.iterdir()
        }
        assert_that(
            outputs[read.FILES]
            | beam.Map(lambda f: (f["origin"], (f["size"], f["mtime"], f["sha256"]))),
            equal_to([(str(tmp_path / name), stamp) for name, stamp in stamps.items()]),
            label="Files",
        )


def test_read_articles_takes_escaped_paths_literally_and_never_reads_the_output(tmp_path):
    for name in ("a[1].txt", "a1.txt", "d\\e.txt", "out/x.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(f"Title\n\nBody of {name}.")
    patterns = [
        globs.escape(str(tmp_path / "a[1].txt")),  # as watch passes the files it listed
        globs.escape(str(tmp_path / "gone[1].txt")),  # listed, then deleted before the run
        str(tmp_path / "d*"),  # a backslash in the name: Beam's own * skips it
        str(tmp_path / "**"),  # reaches into the output folder
    ]
    with TestPipeline() as p:
        outputs = p | ReadArticles(patterns, ingested_at=NOW, exclude=str(tmp_path / "out"))
        assert_that(
            outputs.articles | beam.Map(lambda r: r["origin"].rsplit("/", 1)[-1]),
            equal_to(["a[1].txt", "d\\e.txt", "a[1].txt", "a1.txt", "d\\e.txt"]),
            label="Articles",
        )
        assert_that(
            outputs[read.ERRORS] | beam.Map(lambda row: row["origin"].rsplit("/", 1)[-1]),
            equal_to(["gone[1].txt"]),
            label="Errors",
        )


def test_normalize_articles_with_dead_letters():
    raws = [
        raw_record("good", text="A real article about the council budget.", title="Budget"),
        raw_record("empty", text="   "),
        raw_record("dated", text="Another article with a bad date.", published="year 3000"),
    ]
    with TestPipeline() as p:
        outputs = p | beam.Create(raws) | NormalizeArticles(ingested_at=NOW)
        assert_that(
            outputs.articles | beam.Map(_field("origin")),
            equal_to(["good", "dated"]),
            label="Articles",
        )
        assert_that(
            outputs[normalize.ERRORS]
            | beam.Map(lambda r: (r["origin"], r["error_type"], r["stage"])),
            equal_to(
                [("empty", "empty_text", "normalize"), ("dated", "invalid_date", "normalize")]
            ),
            label="Errors",
        )


def test_deduplicate_articles_declares_duplicates():
    def article(origin, article_id, title=None):
        return {
            "article_id": article_id,
            "origin": origin,
            "published_at": None,
            "title": title,
            "text": "t",
        }

    articles = [
        article("a", "1"),
        article("b", "1", title="T"),
        article("c", "2"),
        article("d", "1"),
    ]
    with TestPipeline() as p:
        outputs = p | beam.Create(articles) | DeduplicateArticles()
        assert_that(
            outputs.articles | beam.Map(_field("origin")), equal_to(["b", "c"]), label="Kept"
        )
        assert_that(
            outputs[dedupe.DUPLICATES] | beam.Map(lambda d: (d["origin"], d["kept"])),
            equal_to([("a", "b"), ("d", "b")]),
            label="Duplicates",
        )


def test_write_tables_and_commit_run_commit_every_table_with_the_counts(tmp_path):
    errors = [error_row(i, date=f"2026-11-{20 + i % 2}") for i in range(10)]
    with TestPipeline() as p:
        written = {"errors": p | beam.Create(errors)} | WriteTables(
            str(tmp_path), run_id="r", shards=3
        )
        counts = p | "Counts" >> beam.Create([("read.records", 4), ("read.records", 6)])
        committed = {commit.FILES: written, commit.COUNTS: counts} | CommitRun(
            str(tmp_path), run_id="r"
        )
        assert_that(
            committed | beam.Map(lambda files: sum(f["rows"] for f in files)),
            equal_to([10]),
            label="Rows",
        )
    table = ds.dataset(tmp_path / "errors", format="parquet", partitioning="hive").to_table()
    assert sorted(table.column("origin").to_pylist()) == sorted(f"f{i}" for i in range(10))
    assert not list(tmp_path.glob("_tmp/*"))
    counts = store.commit_counts(str(tmp_path), "r")
    assert counts["read.records"] == 10 and counts["write.errors.rows"] == 10
    assert counts["write.files"] == 2  # one file per date: shard_of puts errors rows in 0


def test_deduplicate_against_ids_already_written():
    def article(origin, article_id):
        return {
            "article_id": article_id,
            "origin": origin,
            "published_at": None,
            "title": None,
            "text": "t",
        }

    with TestPipeline() as p:
        existing = p | "Existing" >> beam.Create(list(ids_by_shard(["1", "9"]).items()))
        outputs = (
            p | "Articles" >> beam.Create([article("a", "1"), article("b", "2")])
        ) | DeduplicateArticles(existing)
        assert_that(outputs.articles | beam.Map(_field("origin")), equal_to(["b"]), label="New")
        assert_that(
            outputs[dedupe.DUPLICATES] | beam.Map(lambda d: (d["origin"], d["kept"])),
            equal_to([("a", "(earlier run)")]),
            label="AlreadyWritten",
        )


def test_keep_new_errors_writes_each_failure_once():
    """A failure the output holds (same origin, stage, type; any message) is counted, not
    written; so is a date warning about an article dropped as already in the output."""
    fresh = error_row(1) | {"message": "a new message"}
    seen = error_row(2) | {"message": "said otherwise this time"}
    other_way = error_row(2) | {"error_type": "too_large"}
    warning = error_row(3) | {"stage": "normalize", "error_type": "invalid_date"}
    kept_warning = error_row(4) | {"stage": "normalize", "error_type": "invalid_date"}
    dropped_failure = error_row(3) | {"error_type": "empty_text"}  # not a warning: kept
    rows = [fresh, seen, other_way, warning, kept_warning, dropped_failure]
    with TestPipeline() as p:
        keys = p | "Seen" >> beam.Create([("f2", "read", "x"), ("f9", "read", "x")])
        dropped = p | "Dropped" >> beam.Create(["f3"])
        kept = p | beam.Create(rows) | errors_once.KeepNewErrors(seen=keys, dropped_origins=dropped)
        assert_that(
            kept[errors_once.ERRORS] | beam.Map(lambda row: (row["origin"], row["error_type"])),
            equal_to(
                [("f1", "x"), ("f2", "too_large"), ("f4", "invalid_date"), ("f3", "empty_text")]
            ),
        )
        assert_that(
            kept[errors_once.COUNTS] | beam.CombinePerKey(sum),
            equal_to([("errors.seen_before", 1), ("errors.duplicate_warnings", 1)]),
            label="Counts",
        )


def test_read_seen_errors_reads_the_key_of_every_committed_row(tmp_path):
    rows = [error_row(1), error_row(2, "2026-11-27") | {"error_type": "too_large"}]
    with TestPipeline() as p:
        written = {"errors": p | beam.Create(rows)} | WriteTables(str(tmp_path), run_id="r1")
        _ = {commit.FILES: written} | CommitRun(str(tmp_path), run_id="r1")
    (tmp_path / "errors" / "date=2026-11-28" / "part-r1-broken.parquet").write_bytes(b"PAR1")
    with TestPipeline() as p:
        seen = p | errors_once.ReadSeenErrors(str(tmp_path), ingested_at=NOW)
        assert_that(
            seen[errors_once.KEYS],
            equal_to([("f1", "read", "x"), ("f2", "read", "too_large")]),
            label="Keys",
        )
        assert_that(
            seen[errors_once.ERRORS] | beam.Map(_error_key),
            equal_to([("part-r1-broken.parquet", "corrupt_output_file")]),
            label="Errors",
        )


def test_read_existing_ids_gives_every_id_by_shard_and_reads_each_file_once(tmp_path, monkeypatch):
    folder = tmp_path / "articles" / "date=2026-11-28"
    folder.mkdir(parents=True)

    def committed(name, ids):
        pq.write_table(pa.table({"article_id": ids}), folder / f"part-{name}.parquet")

    def existing(ids, errors):
        with TestPipeline() as p:
            read = p | dedupe.ReadExistingIds(str(tmp_path), ingested_at=NOW)
            assert_that(
                read.ids | beam.FlatMapTuple(lambda shard, ids: [(shard, i) for i in ids]),
                equal_to([(id_shard(i), i) for i in ids]),
                label="Ids",
            )
            errors_read = read[dedupe.ERRORS] | beam.Map(_error_key)
            assert_that(errors_read, equal_to(errors), label="Errors")

    reads = []
    original = dedupe._read_ids
    monkeypatch.setattr(dedupe, "_read_ids", lambda path: reads.append(path) or original(path))
    first = [f"a{i}" for i in range(40)]
    committed("r1", first)
    existing(first, [])
    committed("r2", ["b1", "b2"])
    (folder / "part-r3-broken.parquet").write_bytes(b"PAR1")
    broken = [("part-r3-broken.parquet", "corrupt_output_file")]
    existing([*first, "b1", "b2"], broken)
    existing([*first, "b1", "b2"], broken)  # nothing new: only the broken file is read again
    names = [path.rsplit("/", 1)[-1] for path in reads]
    assert sorted(names) == sorted(
        ["part-r1.parquet", "part-r2.parquet", *["part-r3-broken.parquet"] * 2]
    )
