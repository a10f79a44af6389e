"""Commits that replace files (reprocess, compact): what readers see at each step, crashes
at each step, folding the commit records, and the composites of ``newsbeam reprocess``."""

import os
import pathlib

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines import compact, query
from schemas import ENTITY_RESOLUTION, TABLES
from tests.helpers import NOW, error_row
from transforms import commit, reprocess, store, write
from transforms.lib.entities import entity_id
from transforms.resolve import RESOLUTION_TABLE, ResolveEntities

STEPS = ("staged", "journaled", "moved", "recorded")


def _stage(out, run_id, table, rows, name="0"):
    writer = write.PartitionWriter(str(out), run_id, table, name)
    for row in rows:
        writer.add(row)
    return writer.close()


def _row(table, article_id="a1", date="2026-11-28", **values):
    """A row of ``table``: the required columns filled with placeholders."""

    def placeholder(field):
        if field.nullable:
            return None
        if pa.types.is_timestamp(field.type):
            return NOW
        return 0 if pa.types.is_integer(field.type) else "x"

    row = {field.name: placeholder(field) for field in TABLES[table]}
    return row | {"article_id": article_id, "date": date} | values


def _commit(out, run_id, *articles):
    """One run: an articles file and an entities file holding ``articles``."""
    files = [
        *_stage(out, run_id, "entities", [_row("entities", a) for a in articles]),
        *_stage(out, run_id, "articles", [_row("articles", a) for a in articles]),
    ]
    return store.commit_files(str(out), run_id, files)


def _ids(out, table="articles"):
    """Article ids in the committed files, as newsbeam's readers list them."""
    files = store.committed_files(str(out))[table]
    return sorted(i for f in files for i in pq.read_table(f).column("article_id").to_pylist())


class _Crash(Exception):
    pass


def _crash_at(monkeypatch, step, seen=None, out=None):
    """Makes the commit stop (as a SIGKILL would) at ``step``; notes what readers saw before."""
    real = store._pause

    def pause(at):
        if seen is not None:
            seen[at] = (_ids(out), _ids(out, "entities"))
        if at == step:
            raise _Crash(at)
        real(at)

    monkeypatch.setattr(store, "_pause", pause)


def _replace(out, run_id, old_files, *articles, absorb=False):
    files = [
        *_stage(out, run_id, "entities", [_row("entities", a, text="new") for a in articles]),
        *_stage(out, run_id, "articles", [_row("articles", a, text="new") for a in articles]),
    ]
    removed = [f["final"] for f in old_files]
    return store.commit_files(str(out), run_id, files, removed=removed, absorb=absorb)


# ---------------------------------------------------------------- the replacing commit


def test_readers_switch_from_the_old_files_to_the_new_at_the_record(tmp_path, monkeypatch):
    old = _commit(tmp_path, "r1", "a1", "a2")
    seen = {}
    _crash_at(monkeypatch, None, seen, tmp_path)
    _replace(tmp_path, "r2", old, "a1", "a2")
    before = (["a1", "a2"], ["a1", "a2"])
    assert seen == {"staged": before, "journaled": before, "moved": before, "recorded": before}
    texts = query.connect(str(tmp_path)).execute("select distinct text from entities").fetchall()
    assert texts == [("new",)]
    assert not any(os.path.exists(f["final"]) for f in old)  # deleted after the record
    assert sorted(p.name for p in (tmp_path / "_commits").iterdir()) == [
        "r1.json",
        "r2.replace.json",
    ]


def test_the_old_files_are_hidden_as_soon_as_the_record_is_written(tmp_path, monkeypatch):
    old = _commit(tmp_path, "r1", "a1")
    _crash_at(monkeypatch, "recorded")
    with pytest.raises(_Crash):
        _replace(tmp_path, "r2", old, "a1")
    assert all(os.path.exists(f["final"]) for f in old)  # a glob reader sees both a moment
    assert _ids(tmp_path) == ["a1"] and _ids(tmp_path, "entities") == ["a1"]
    moved = tmp_path.rename(tmp_path.with_name("moved"))  # records name files from DIR
    assert [pathlib.Path(f).name for f in store.committed_files(str(moved))["articles"]] == [
        "part-r2-0.parquet"
    ]


@pytest.mark.parametrize("step", STEPS)
def test_a_replacement_killed_at_any_step_is_one_state_after_recover(tmp_path, monkeypatch, step):
    old = _commit(tmp_path, "r1", "a1", "a2")
    _crash_at(monkeypatch, step)
    with pytest.raises(_Crash):
        _replace(tmp_path, "r2", old, "a1", "a2")
    monkeypatch.undo()
    finished = store.recover(str(tmp_path))
    texts = query.connect(str(tmp_path)).execute("select distinct text from articles").fetchall()
    if step == "staged":  # no journal yet: the commit never began, the old files stand
        assert finished == [] and texts == [("x",)]
        assert all(os.path.exists(f["final"]) for f in old)
    else:  # journaled: finished, whatever was done of it already
        assert finished == ["r2"] and texts == [("new",)]
        assert not any(os.path.exists(f["final"]) for f in old)
    assert _ids(tmp_path) == ["a1", "a2"] and _ids(tmp_path, "entities") == ["a1", "a2"]


def test_absorbing_folds_every_record_into_one_and_lists_the_same_files(tmp_path):
    for i in range(5):
        _commit(tmp_path, f"r{i}", f"a{i}")
    (tmp_path / "articles" / "date=2026-11-28" / "by-hand.parquet").write_bytes(b"")
    listed = store.committed_files(str(tmp_path))
    old = [{"final": f} for f in listed["articles"] if "part-r0-" in f or "part-r1-" in f]
    _replace(tmp_path, "c1", old, "a0", "a1", absorb=True)
    assert [p.name for p in (tmp_path / "_commits").iterdir()] == ["c1.replace.json"]
    record = store.read_json(str(tmp_path / "_commits" / "c1.replace.json"))
    assert record["runs"] == ["r0", "r1", "r2", "r3", "r4"]  # r0, r1: their entities remain
    after = store.committed_files(str(tmp_path))
    assert len(after["articles"]) == len(listed["articles"]) - 1  # two files became one
    assert len(after["entities"]) == len(listed["entities"]) + 1
    assert str(tmp_path / "articles" / "date=2026-11-28" / "by-hand.parquet") in after["articles"]


def test_a_listing_that_crosses_a_replacement_is_done_again(tmp_path, monkeypatch):
    old = _commit(tmp_path, "r1", "a1")
    real = store._listing
    calls = []

    def listing(root):
        files = real(root)
        if not calls:  # the replacement finishes while the first listing is read
            monkeypatch.setattr(store, "_listing", real)
            _replace(tmp_path, "r2", old, "a1")
            monkeypatch.setattr(store, "_listing", listing)
        calls.append(files)
        return files

    monkeypatch.setattr(store, "_listing", listing)
    assert [pathlib.Path(f).name for f in store.committed_files(str(tmp_path))["articles"]] == [
        "part-r2-0.parquet"
    ]
    assert len(calls) == 2


def test_a_replacement_that_would_lose_articles_is_refused(tmp_path):
    old = _commit(tmp_path, "r1", "a1", "a2")
    files = _stage(tmp_path, "r2", "articles", [_row("articles", "a1")])
    with pytest.raises(RuntimeError, match="1 article rows where there were 2"):
        commit.check_articles_kept(files, [f["final"] for f in old])


# ---------------------------------------------------------------- readers


def test_a_column_no_file_has_yet_reads_as_null(tmp_path):
    [staged] = _stage(tmp_path, "r1", "articles", [_row("articles", "a1")])
    table = pq.read_table(staged["staged"]).drop_columns(["nlp_version", "nlp_model"])
    pq.write_table(table, staged["staged"])  # as schema version 1 wrote it
    store.commit_files(str(tmp_path), "r1", [staged])
    sql = "select article_id, nlp_model, nlp_version from articles"
    assert query.run_query(str(tmp_path), sql, output_format="csv") == (
        "article_id,nlp_model,nlp_version\na1,,\n"
    )


def test_a_query_whose_files_were_replaced_meanwhile_is_read_again(tmp_path, monkeypatch):
    old = _commit(tmp_path, "r1", "a1")
    real = query.connect
    connections = []

    def connect(output_dir, **kwargs):
        connection = real(output_dir, **kwargs)
        if not connections:  # a compaction finishes between the listing and the read
            _replace(tmp_path, "r2", old, "a1")
        connections.append(connection)
        return connection

    monkeypatch.setattr(query, "connect", connect)
    sql = "select text from articles"
    assert query.run_query(str(tmp_path), sql, output_format="csv") == "text\nnew\n"
    assert len(connections) == 2


# ---------------------------------------------------------------- compaction


def test_compaction_merges_small_files_keeps_every_row_and_folds_the_records(tmp_path):
    for i in range(12):
        _commit(tmp_path, f"r{i:02d}", f"a{i}", f"b{i}")
        store.commit_files(
            str(tmp_path), f"e{i:02d}", _stage(tmp_path, f"e{i:02d}", "errors", [error_row(i)])
        )
    before = {t: len(f) for t, f in store.committed_files(str(tmp_path)).items()}
    sql = "select (select count(*) from articles), (select count(*) from errors)"
    rows = query.connect(str(tmp_path)).execute(sql).fetchone()
    result = compact.compact(str(tmp_path))
    after = {t: len(f) for t, f in store.committed_files(str(tmp_path)).items()}
    assert before == {"articles": 12, "entities": 12, "errors": 12, "quotes": 0} | {
        "entity_resolution": 0
    }
    assert after == {"articles": 1, "entities": 1, "errors": 1, "quotes": 0, "entity_resolution": 0}
    assert (result.files_before, result.files_after) == (before, after)
    assert (result.records_before, result.records_after) == (24, 1)
    assert query.connect(str(tmp_path)).execute(sql).fetchone() == rows
    [merged] = store.committed_files(str(tmp_path))["articles"]
    assert pq.read_table(merged).column("article_id").to_pylist() == [
        f"{x}{i}"
        for i in range(12)
        for x in "ab"  # in the order of the runs
    ]
    data = [p for p in tmp_path.glob("*/date=*/*.parquet") if p.name != store.EMPTY_FILE]
    assert len(data) == 3  # the small files are gone
    assert compact.compact(str(tmp_path)).run_id is None  # nothing left to do


def test_compaction_leaves_a_file_it_cannot_read(tmp_path, caplog):
    for i in range(3):
        _commit(tmp_path, f"r{i}", f"a{i}")
    broken = store.committed_files(str(tmp_path))["articles"][0]
    pathlib.Path(broken).write_bytes(b"not parquet")
    compact.compact(str(tmp_path))
    assert os.path.exists(broken) and "cannot be read" in caplog.text
    assert len(store.committed_files(str(tmp_path))["articles"]) == 2


# ---------------------------------------------------------------- the composites


def test_read_committed_rows_replaces_only_files_that_hold_a_selected_article(tmp_path):
    first = _commit(tmp_path, "r1", "a1", "a2")
    _commit(tmp_path, "r2", "a3")
    files = store.committed_files(str(tmp_path))
    with TestPipeline() as pipeline:
        read = pipeline | reprocess.ReadCommittedRows(
            files, selected=frozenset({"a1"}), batch_rows=1
        )
        assert_that(read.articles | beam.Map(lambda r: r["article_id"]), equal_to(["a1"]))
        assert_that(
            read[reprocess.OLD_ENTITIES] | beam.Map(lambda r: (r["article_id"], r["date"])),
            equal_to([("a1", "2026-11-28")]),
            label="OldEntities",
        )
        assert_that(
            read[reprocess.KEPT["articles"]] | beam.Map(lambda r: r["article_id"]),
            equal_to(["a2"]),
            label="KeptArticles",
        )
        assert_that(
            read[reprocess.REPLACED], equal_to([f["final"] for f in first]), label="Replaced"
        )


def test_replace_enrichment_keeps_the_old_rows_of_an_article_the_model_failed_on():
    old = [_row("articles", "ok"), _row("articles", "failed")]
    new = [_row("articles", "ok", nlp_model="m")]
    entities = [_row("entities", "ok", entity_id="e1"), _row("entities", "failed")]
    with TestPipeline() as pipeline:
        settled = {
            "old": pipeline | "Old" >> beam.Create(old),
            "new": pipeline | "New" >> beam.Create(new),
            "entities": pipeline | "Entities" >> beam.Create(entities),
            "quotes": pipeline | "Quotes" >> beam.Create([]),
        } | reprocess.ReplaceEnrichment()
        assert_that(
            settled.articles | beam.Map(lambda r: (r["article_id"], r["nlp_model"])),
            equal_to([("ok", "m"), ("failed", None)]),
        )
        assert_that(
            settled.entities | beam.FlatMap(lambda rows: [r["article_id"] for r in rows]),
            equal_to(["failed"]),
            label="Restored",
        )
        assert_that(
            settled[reprocess.WITHDRAWN]
            | beam.FlatMap(lambda rows: [r["entity_id"] for r in rows]),
            equal_to(["e1"]),
            label="Withdrawn",
        )


def test_withdrawn_mentions_come_off_the_totals_before_the_new_ones_go_on():
    marsh = entity_id("person", "Helena Marsh")
    current = {
        "entity_id": marsh,
        "label": "PERSON",
        "canonical": "Helena Marsh",
        "mentions": 5,
        "articles": 3,
        "resolved_id": marsh,
        "resolved_name": "Helena Marsh",
        "resolved_label": "PERSON",
        "rule": "self",
        "run_id": "r1",
        "resolved_at": NOW,
    }

    def mention(article):
        return {"article_id": article, "entity_id": marsh, "canonical": "Helena Marsh"} | {
            "label": "PERSON"
        }

    table = pa.Table.from_pylist([current], schema=ENTITY_RESOLUTION)  # ReadCurrentResolution's
    with TestPipeline() as pipeline:
        resolved = (
            pipeline | "Run" >> beam.Create([[mention("a")]]),  # an article's rows: one list
            pipeline | "Current" >> beam.Create([table]),
            pipeline | "Withdrawn" >> beam.Create([[mention("a"), mention("a")], [mention("b")]]),
        ) | ResolveEntities(run_id="r2", resolved_at=NOW)
        assert_that(
            resolved[RESOLUTION_TABLE]
            | beam.Map(lambda r: (r["mentions"], r["articles"], r["run_id"])),
            equal_to([(3, 2, "r2")]),
        )
