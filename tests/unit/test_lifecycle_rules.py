"""The rules of compaction and reprocessing, as plain functions: which files merge, what rows
come back from a committed file, and what a reprocessed article leaves."""

import pyarrow as pa
import pytest

from schemas import SCHEMA_VERSION, TABLES
from transforms.lib import compaction
from transforms.lib import reprocess as lib

MB = 1024**2


def _files(folder, *sizes):
    return [(f"{folder}/part-r{i:02d}-0.parquet", size) for i, size in enumerate(sizes)]


# ---------------------------------------------------------------- compaction plan


def test_small_files_of_a_partition_merge_in_run_order():
    files = {"articles": _files("/o/articles/date=2026-11-28", 1 * MB, 2 * MB, 3 * MB)}
    [merge] = compaction.plan(files, target_bytes=128 * MB)
    assert merge.table == "articles" and merge.partition == "2026-11-28"
    assert merge.paths == tuple(path for path, _size in files["articles"])
    assert merge.size == 6 * MB


def test_merges_stay_within_the_target_and_large_files_are_left_alone():
    small = _files("/o/quotes/date=2026-11-28", *[30 * MB] * 7)
    large = [("/o/quotes/date=2026-11-28/part-big-0.parquet", 64 * MB)]  # half the target
    merges = compaction.plan({"quotes": small + large}, target_bytes=128 * MB)
    assert [len(m.paths) for m in merges] == [4, 3]
    assert all(m.size <= 128 * MB for m in merges)
    assert not any(large[0][0] in m.paths for m in merges)


def test_partitions_and_tables_never_mix_and_a_lone_file_is_no_merge():
    files = {
        "articles": _files("/o/articles/date=2026-11-27", 1, 1)
        + _files("/o/articles/date=2026-11-28", 1),
        "entities": _files("/o/entities/date=2026-11-27", 1, 1, 1),
    }
    merges = compaction.plan(files, target_bytes=1000)
    assert [(m.table, m.partition, len(m.paths)) for m in merges] == [
        ("articles", "2026-11-27", 2),
        ("entities", "2026-11-27", 3),
    ]
    assert compaction.plan({"articles": []}, target_bytes=1000) == []


@pytest.mark.parametrize(
    ("text", "size"),
    [("128MB", 128 * MB), ("64MiB", 64 * MB), ("1.5g", 1536 * MB), ("500kB", 512000), ("10", 10)],
)
def test_sizes_read_like_query_engines_write_them(text, size):
    assert compaction.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "12 parsecs", "0", "-1MB", "0.1"])
def test_a_size_that_is_no_size_is_refused(text):
    with pytest.raises(ValueError):
        compaction.parse_size(text)


def test_an_older_file_takes_the_new_schema_with_nulls():
    schema = TABLES["articles"]
    old_schema = pa.schema([field for field in schema if field.name != "nlp_version"])
    assert compaction.missing_columns(old_schema, schema) == ["nlp_version"]
    rows = {name: [None] for name in old_schema.names} | {"article_id": ["a1"], "origin": ["o"]}
    batch = pa.RecordBatch.from_pydict(rows, schema=old_schema.with_metadata(None))
    conformed = compaction.conform(batch, schema)
    assert conformed.schema.names == schema.names
    assert conformed.column(schema.get_field_index("nlp_version")).to_pylist() == [None]
    assert conformed.column(0).to_pylist() == ["a1"]


def test_a_file_that_would_lose_data_is_not_merged():
    schema = TABLES["quotes"]
    newer = schema.append(pa.field("from_the_future", pa.string()))
    assert compaction.missing_columns(newer, schema) is None
    without_required = pa.schema([field for field in schema if field.name != "quote_id"])
    assert compaction.missing_columns(without_required, schema) is None


# ---------------------------------------------------------------- reprocess


def test_the_partition_comes_from_the_folder():
    assert lib.partition_of("/o/articles/date=2026-11-28/part-r-0.parquet") == "2026-11-28"
    with pytest.raises(ValueError):
        lib.partition_of("/o/articles/part-r-0.parquet")


def test_rows_read_back_have_every_column_and_the_date():
    [row] = lib.table_rows("errors", [{"stage": "read", "origin": "f"}], "2026-11-28")
    assert set(row) == {*TABLES["errors"].names, "date"}
    assert (row["stage"], row["message"], row["date"]) == ("read", None, "2026-11-28")
    with pytest.raises(ValueError, match="does not know"):
        lib.table_rows("errors", [{"stage": "read", "unheard_of": 1}], "2026-11-28")


def test_a_reannotated_article_replaces_its_rows_and_withdraws_its_old_entities():
    old = [{"article_id": "a", "nlp_model": None, "schema_version": 2}]
    new = [{"article_id": "a", "nlp_model": "m", "schema_version": 2}]
    entities, quotes = [{"entity_id": "e"}], [{"quote_id": "q"}]
    settled = lib.settle(old, new, entities, quotes)
    assert settled["articles"] == [{"article_id": "a", "nlp_model": "m", "schema_version": 3}]
    assert SCHEMA_VERSION == 3
    assert (settled["entities"], settled["quotes"], settled["withdrawn"]) == ([], [], entities)


def test_an_article_the_model_failed_on_keeps_its_old_rows():
    old = [{"article_id": "a", "nlp_model": "m0"}]
    entities, quotes = [{"entity_id": "e"}], [{"quote_id": "q"}]
    assert lib.settle(old, [], entities, quotes) == {
        "articles": old,
        "entities": entities,
        "quotes": quotes,
        "withdrawn": [],
    }
