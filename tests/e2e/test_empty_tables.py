"""Every table is readable by DuckDB, pandas, Polars, pyarrow.dataset and Spark right after
any run, with its schema and 0 rows when it has none: a clean run (no errors), a ``--no-nlp``
run (no entities, quotes or resolution) and a run of 0 articles (nothing at all)."""

import json
import shutil

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from schemas import PARTITION_COLUMN, TABLES
from tests.helpers import SEEDS, newsbeam

CASES = ("clean", "no_nlp", "no_articles")
# Which tables hold rows after each run; every other one is empty.
WITH_ROWS = {
    "clean": {"articles", "entities", "quotes", "entity_resolution"},
    "no_nlp": {"articles"},
    "no_articles": set(),
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """One output folder per case, each written by one ``newsbeam ingest``."""
    root = tmp_path_factory.mktemp("empty_tables")
    blank = root / "blank.jsonl"
    blank.write_text("\n\n")  # a file of no records: 0 articles and 0 errors
    seed = SEEDS / "001_harbour_bridge.txt"
    runs = {
        "clean": ["--input", seed],
        "no_nlp": ["--input", seed, "--no-nlp"],
        "no_articles": ["--input", blank],
    }
    found = {}
    for case, args in runs.items():
        output = root / case
        newsbeam("ingest", *args, "--output", output, "--quiet")
        found[case] = output
    return found


def _glob(output, table):
    return f"{output / table}/*/*.parquet"


def _expected_rows(case, table):
    return None if table in WITH_ROWS[case] else 0  # None: some rows


def _check_rows(found, case, table):
    expected = _expected_rows(case, table)
    assert (found == 0) if expected == 0 else (found > 0), (case, table, found)


def _arrow_schema(table):
    return TABLES[table]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("table", list(TABLES))
def test_duckdb_reads_every_table(outputs, case, table):
    relation = duckdb.sql(
        f"select * from read_parquet('{_glob(outputs[case], table)}', hive_partitioning = true)"
    )
    # The columns as DuckDB types the schema's Arrow types, and the partition as a DATE.
    expected = duckdb.from_arrow(_arrow_schema(table).empty_table())
    assert relation.columns == [*expected.columns, PARTITION_COLUMN]
    assert relation.types == [*expected.types, "DATE"]
    _check_rows(len(relation.fetchall()), case, table)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("table", list(TABLES))
def test_pandas_reads_every_table(outputs, case, table):
    frame = pd.read_parquet(outputs[case] / table)
    expected = _arrow_schema(table).empty_table().to_pandas()
    assert list(frame.columns) == [*expected.columns, PARTITION_COLUMN]
    assert frame.dtypes.drop(PARTITION_COLUMN).to_dict() == expected.dtypes.to_dict()
    assert isinstance(frame.dtypes[PARTITION_COLUMN], pd.CategoricalDtype)
    _check_rows(len(frame), case, table)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("table", list(TABLES))
def test_polars_reads_every_table(outputs, case, table):
    expected = dict(pl.from_arrow(_arrow_schema(table).empty_table()).schema)
    expected[PARTITION_COLUMN] = pl.Date
    read = pl.read_parquet(_glob(outputs[case], table), hive_partitioning=True)
    scanned = pl.scan_parquet(_glob(outputs[case], table), hive_partitioning=True)
    assert dict(read.schema) == expected
    assert dict(scanned.collect_schema()) == expected
    _check_rows(read.height, case, table)
    assert scanned.select(pl.len()).collect().item() == read.height


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("table", list(TABLES))
def test_pyarrow_dataset_reads_every_table(outputs, case, table):
    dataset = ds.dataset(outputs[case] / table, format="parquet", partitioning="hive")
    expected = _arrow_schema(table).append(pa.field(PARTITION_COLUMN, pa.string()))
    assert dataset.schema.equals(expected)
    _check_rows(dataset.count_rows(), case, table)


def test_the_empty_file_is_no_row_and_no_date_to_newsbeam(outputs, tmp_path):
    """``query``, ``stats`` and a rerun (which reads the ids already there) see the empty
    files as no rows: nothing is counted, no date 1970-01-01 appears, nothing is written."""
    output = outputs["no_nlp"]
    result = newsbeam(
        "query",
        output,
        "select (select count(*) from articles) as articles, "
        "(select count(*) from entities) as entities, "
        "(select typeof(date) from entities limit 1) as no_row, "
        "(select min(date) from articles) as first_date",
        "--format",
        "json",
    )
    row = json.loads(result.stdout)
    assert row["articles"] == 1 and row["entities"] == 0 and row["no_row"] is None
    assert row["first_date"] != "1970-01-01"
    stats = newsbeam("stats", output).stdout
    assert "articles: 1 " in stats and "1970" not in stats
    copy = tmp_path / "rerun"
    shutil.copytree(output, copy)
    rerun = newsbeam(
        "ingest", "--input", SEEDS / "001_harbour_bridge.txt", "--output", copy, "--rescan"
    )  # read again, so dedupe reads the ids already there
    assert "articles written      0" in rerun.stdout
    assert "duplicates dropped    1 (1 already in the output)" in rerun.stdout
    empty = newsbeam("query", outputs["no_articles"], "select count(*) as n from errors")
    assert "0" in empty.stdout.splitlines()[2]


# ---------------------------------------------------------------- Spark

_SPARK_TYPES = {
    pa.string(): "string",
    pa.int16(): "smallint",
    pa.int32(): "int",
    pa.int64(): "bigint",
    pa.timestamp("us", tz="UTC"): "timestamp",
    pa.list_(pa.string()): "array<string>",
}


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java, and there is no java on PATH")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("newsbeam-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
def test_spark_reads_every_table(outputs, spark):
    for case in CASES:
        for table in TABLES:
            frame = spark.read.parquet(str(outputs[case] / table))
            expected = [(f.name, _SPARK_TYPES[f.type]) for f in _arrow_schema(table)]
            found = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]
            assert found == [*expected, (PARTITION_COLUMN, "date")], (case, table)
            _check_rows(frame.count(), case, table)
