"""``newsbeam query`` over a tiny output: read-only DuckDB, and export to a file (no Beam)."""

import datetime as dt
import json

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from pipelines.query import (
    ExportPathError,
    NotAnOutputError,
    check_export_path,
    check_output_folder,
    export_query,
    run_query,
)
from schemas import TABLES

UTC = dt.UTC


def _article(article_id: str, title: str) -> dict:
    return {
        "article_id": article_id,
        "url": f"https://desk.example.com/{article_id}",
        "canonical_url": f"https://desk.example.com/{article_id}",
        "source": "Desk",
        "origin": f"{article_id}.txt",
        "title": title,
        "authors": ["Ana", "Bo"],
        "published_at": dt.datetime(2025, 1, 2, 9, 30, tzinfo=UTC),
        "ingested_at": dt.datetime(2025, 1, 3, tzinfo=UTC),
        "language": "en",
        "text": "Text.",
        "word_count": 1,
        "content_hash": "h" + article_id,
        "schema_version": 1,
        "text_source": "file",
    }


@pytest.fixture
def output(tmp_path):
    root = tmp_path / "out"
    folder = root / "articles" / "date=2025-01-02"
    folder.mkdir(parents=True)
    rows = [_article("a1", "Tram line"), _article("a2", "Library, Sundays")]
    pq.write_table(pa.Table.from_pylist(rows, schema=TABLES["articles"]), folder / "part-0.parquet")
    (tmp_path / "elsewhere").mkdir()
    pq.write_table(pa.table({"secret": ["x"]}), tmp_path / "elsewhere" / "s.parquet")
    return root


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_views_read_the_output(output):
    assert run_query(output, "select article_id from articles order by 1", output_format="csv") == (
        "article_id\na1\na2\n"
    )
    assert run_query(output, "select count(*) as n from errors", output_format="csv") == "n\n0\n"
    described = run_query(output, "describe articles", output_format="csv")
    assert "published_at" in described


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (select 1) TO '{tmp}/x.csv'",
        "COPY (select 1) TO '{out}/x.csv'",  # DuckDB alone would allow a write in the output
        "select 1; COPY articles TO '{out}/articles/date=2025-01-02/evil.parquet'",
        "EXPLAIN ANALYZE COPY (select 1) TO '{out}/x.csv'",  # ANALYZE runs the COPY
        "EXPORT DATABASE '{tmp}/db'",
        "select * from read_text('/etc/passwd')",
        "select * from read_csv('/etc/passwd')",
        "select * from read_parquet('{tmp}/elsewhere/*.parquet')",
        "select * from read_parquet('{out}/../elsewhere/*.parquet')",
        "select * from glob('/etc/*')",
        "ATTACH '{tmp}/x.db'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET allowed_directories = ['/']",
        "CREATE TABLE t AS SELECT 1",
    ],
)
def test_anything_but_reading_the_output_fails(output, sql):
    tmp = output.parent
    before = _files(tmp)
    with pytest.raises(duckdb.Error):
        run_query(output, sql.format(tmp=tmp, out=output))
    assert _files(tmp) == before


@pytest.mark.parametrize(("suffix", "export_format"), [(".csv", "csv"), (".PARQUET", "parquet")])
def test_export_formats_follow_the_suffix(output, tmp_path, suffix, export_format):
    assert check_export_path(output, tmp_path / f"r{suffix}") == export_format


@pytest.mark.parametrize("name", ["r.txt", "r", "r.csv.gz", "out/r.csv", "out/articles/x.parquet"])
def test_other_suffixes_and_paths_in_the_output_are_refused(output, tmp_path, name):
    before = _files(tmp_path)
    with pytest.raises(ExportPathError):
        export_query(output, "select 1", tmp_path / name)
    assert _files(tmp_path) == before


def test_export_to_csv_parquet_and_json_lines(output, tmp_path):
    sql = "select article_id, authors, published_at from articles order by article_id"
    assert export_query(output, sql, tmp_path / "r.csv") == 2
    assert export_query(output, sql, tmp_path / "r.parquet") == 2
    assert export_query(output, sql, tmp_path / "r.json") == 2

    as_csv = pacsv.read_csv(tmp_path / "r.csv")
    assert as_csv.column("article_id").to_pylist() == ["a1", "a2"]
    assert as_csv.column("authors").to_pylist() == ['["Ana","Bo"]'] * 2
    published = pq.read_table(tmp_path / "r.parquet").column("published_at").to_pylist()
    assert published == [dt.datetime(2025, 1, 2, 9, 30, tzinfo=UTC)] * 2
    lines = [json.loads(line) for line in (tmp_path / "r.json").read_text().splitlines()]
    assert lines[0]["authors"] == ["Ana", "Bo"]
    assert lines[0]["published_at"] == "2025-01-02T09:30:00.000000Z"
    assert (tmp_path / "r.csv").read_text().splitlines()[1].endswith(",2025-01-02T09:30:00.000000Z")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


def test_a_failed_or_refused_export_writes_nothing(output, tmp_path):
    with pytest.raises(duckdb.Error):
        export_query(output, "select nope from articles", tmp_path / "r.csv")
    with pytest.raises(duckdb.Error):
        export_query(output, f"COPY articles TO '{tmp_path}/c.csv'", tmp_path / "r.csv")
    with pytest.raises(duckdb.Error):
        export_query(output, "select * from read_text('/etc/passwd')", tmp_path / "r.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "out"]


def test_csv_prints_lists_as_json_and_json_prints_iso_timestamps(output):
    sql = "select authors, published_at from articles order by article_id limit 1"
    assert run_query(output, sql, output_format="csv").splitlines() == [
        "authors,published_at",
        '"[""Ana"",""Bo""]",2025-01-02T09:30:00+00:00',
    ]
    row = json.loads(run_query(output, sql, output_format="json"))
    assert row == {"authors": ["Ana", "Bo"], "published_at": "2025-01-02T09:30:00+00:00"}


def test_only_a_newsbeam_output_or_an_empty_folder_is_read(output, tmp_path):
    check_output_folder(str(output))  # has articles/
    (tmp_path / "empty").mkdir()
    check_output_folder(str(tmp_path / "empty"))  # nothing written yet: empty tables
    runs_only = tmp_path / "runs_only"
    (runs_only / "_runs").mkdir(parents=True)
    check_output_folder(str(runs_only))
    for path, message in [
        (tmp_path / "nosuchdir", "no output folder"),
        (tmp_path / "elsewhere", "is not a newsbeam output"),
        (tmp_path / "elsewhere" / "s.parquet", "is a file"),
    ]:
        with pytest.raises(NotAnOutputError, match=message):
            check_output_folder(str(path))


def _schema_without(table: str, *names: str) -> pa.Schema:
    """``table``'s schema as an older newsbeam wrote it, without the columns added since."""
    schema = TABLES[table]
    for name in names:
        schema = schema.remove(schema.get_field_index(name))
    return schema


def test_files_of_an_older_schema_read_their_new_columns_as_null(tmp_path):
    root = tmp_path / "out"
    old = root / "articles" / "date=2025-01-02"
    old.mkdir(parents=True)
    version_2 = _schema_without("articles", "run_id")
    rows = [_article("a1", "Tram line")]
    pq.write_table(pa.Table.from_pylist(rows, schema=version_2), old / "part-r0-0.parquet")
    errors = root / "errors" / "date=2025-01-02"
    errors.mkdir(parents=True)
    error = {
        "stage": "read",
        "origin": "x.md",
        "error_type": "unsupported_format",
        "message": "m",
        "excerpt": None,
        "ingested_at": dt.datetime(2025, 1, 3, tzinfo=UTC),
    }
    pq.write_table(
        pa.Table.from_pylist([error], schema=_schema_without("errors", "run_id")),
        errors / "part-r0-0.parquet",
    )
    only_old = "select article_id, run_id from articles union all select origin, run_id from errors"
    listed = run_query(str(root), only_old + " order by 1", output_format="csv")
    assert listed == "article_id,run_id\na1,\nx.md,\n"
    new = root / "articles" / "date=2025-01-03"
    new.mkdir()
    rows = [_article("a2", "Library") | {"run_id": "r1", "schema_version": 3}]
    pq.write_table(pa.Table.from_pylist(rows, schema=TABLES["articles"]), new / "part-r1-0.parquet")
    listed = run_query(
        str(root), "select article_id, run_id from articles order by 1", output_format="csv"
    )
    assert listed == "article_id,run_id\na1,\na2,r1\n"
    date_type = run_query(str(root), "select typeof(date) as t from articles limit 1")
    assert "DATE" in date_type  # the partition column keeps its type
