"""End to end: the real ``newsbeam`` command into a temporary folder, read back by real engines."""

import json
import os
import shutil

import duckdb
import pytest

from tests.helpers import SEEDS, comparable_rows, newsbeam, table


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("seed") / "out"
    result = newsbeam("ingest", "--input", SEEDS / "0*", "--output", output)
    return output, result


def test_summary_counts(seed_run):
    _output, result = seed_run
    summary = result.stdout
    assert "input files read      8" in summary
    assert "input records read    13" in summary
    assert "articles written      12" in summary
    assert "duplicates dropped    1" in summary
    assert "errors                0" in summary
    assert "files written" in summary and "finished in" in summary


def test_layout_is_hive_partitioned_with_no_temporary_files(seed_run):
    output, _ = seed_run
    for name in ("articles", "entities", "quotes"):
        partitions = sorted(p.name for p in (output / name).iterdir())
        assert partitions and all(p.startswith("date=") for p in partitions), partitions
    visible = [
        p
        for p in output.rglob("*")
        if p.is_file() and not p.relative_to(output).parts[0].startswith("_")
    ]
    assert all(p.suffix == ".parquet" for p in visible)
    assert not [p for p in output.rglob("*") if p.name.startswith(".")]


def test_tables_read_back_with_pyarrow(seed_run):
    output, _ = seed_run
    articles = table(output, "articles")
    assert articles.num_rows == 12
    assert str(articles.schema.field("published_at").type) == "timestamp[us, tz=UTC]"
    assert articles.schema.field("authors").type.value_type == "string"
    assert "date" in articles.schema.names
    entities = table(output, "entities")
    assert set(entities.column("article_id").to_pylist()) <= set(
        articles.column("article_id").to_pylist()
    )


def test_seed_article(seed_run):
    output, _ = seed_run
    connection = duckdb.connect()
    text, article_id = connection.sql(
        f"select text, article_id from read_parquet('{output}/articles/*/*.parquet') "
        "where origin like '%000_9ad307750ad99124.txt'"
    ).fetchall()[0]
    assert not text.rstrip().endswith("Login")
    persons = {
        row[0]
        for row in connection.sql(
            f"select text from read_parquet('{output}/entities/*/*.parquet') "
            f"where article_id = '{article_id}' and label = 'PERSON'"
        ).fetchall()
    }
    assert {"Kim Jong-un", "Xi Jinping", "Vladimir Putin"} <= persons
    quotes = connection.sql(
        "select speaker, text, start_char, end_char "
        f"from read_parquet('{output}/quotes/*/*.parquet') "
        f"where article_id = '{article_id}' and kind = 'direct'"
    ).fetchall()
    by_speaker = {speaker: (quote, start, end) for speaker, quote, start, end in quotes}
    assert by_speaker["Hong Lei"][0].startswith("Upholding, consolidating")
    assert by_speaker["Alfred Wu"][0].startswith("When Xi was just a regional leader")
    for quote, start, end in by_speaker.values():
        assert text[start:end] == quote  # offsets point into articles.text


def test_query_command_prints_speakers(seed_run):
    output, _ = seed_run
    result = newsbeam("query", output, "select speaker, count(*) from quotes group by 1 order by 1")
    assert "Hong Lei" in result.stdout
    assert "Alfred Wu" in result.stdout
    as_json = newsbeam("query", output, "select count(*) as n from articles", "--format", "json")
    assert json.loads(as_json.stdout) == {"n": 12}


def test_query_over_empty_tables_and_bad_sql(seed_run, tmp_path):
    empty = newsbeam("query", tmp_path, "select count(*) as n from quotes", "--format", "csv")
    assert empty.stdout.splitlines() == ["n", "0"]
    bad = newsbeam("query", seed_run[0], "select nope from articles", check=False)
    assert bad.returncode == 1
    assert bad.stderr.startswith("newsbeam: error:")


def test_rerun_adds_no_rows(seed_run, tmp_path):
    output, _ = seed_run
    copy = tmp_path / "out"
    shutil.copytree(output, copy)
    before = comparable_rows(copy)
    result = newsbeam("ingest", "--input", SEEDS / "0*", "--output", copy)
    assert "articles written      0" in result.stdout
    assert comparable_rows(copy) == before


def test_bad_inputs_become_errors_rows_and_good_ones_are_written(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "good.txt").write_text(
        "Council approves new park\n\nThe council approved a new park on Monday."
    )
    (inputs / "binary.txt").write_bytes(b"\x7fELF\x02\x01\x01" + os.urandom(2000))
    (inputs / "empty.txt").write_text("")
    (inputs / "lines.jsonl").write_text(
        '{"title": "One", "text": "The first good line of the file."}\n'
        '{"title": "Two", "text": "truncated\n'
        '{"title": "Three", "text": "The third line is fine as well."}\n'
    )
    output = tmp_path / "out"
    newsbeam("ingest", "--input", inputs / "*", "--output", output)
    titles = sorted(table(output, "articles").column("title").to_pylist())
    assert titles == ["Council approves new park", "One", "Three"]
    errors = table(output, "errors").to_pylist()
    found = sorted((os.path.basename(e["origin"]), e["error_type"], e["stage"]) for e in errors)
    assert found == [
        ("binary.txt", "binary_file", "read"),
        ("empty.txt", "empty_text", "normalize"),
        ("lines.jsonl#2", "malformed_json", "read"),
    ]
    assert all(e["message"] for e in errors)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "/nonexistent/*.txt"], "matches no file"),
        (["--input", "SEEDS", "--model", "no_such_model"], "cannot load spaCy model"),
        (["--input", "SEEDS", "--no-such-option", "1"], "unknown option"),
        (["--input", "SEEDS", "--direct_num_workers", "many"], "invalid"),
        (
            ["--input", "SEEDS", "--runner", "dask", "--dask_client_address", "tcp://127.0.0.1:9"],
            "no Dask scheduler answered",
        ),
    ],
)
def test_usage_errors_exit_2_before_any_work(tmp_path, args, message):
    output = tmp_path / "out"
    args = [str(SEEDS / "0*") if a == "SEEDS" else a for a in args]
    result = newsbeam("ingest", *args, "--output", output, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("newsbeam: error:")
    assert message in result.stderr
    assert not any(p.suffix == ".parquet" for p in output.rglob("*")) if output.exists() else True


def test_unwritable_output_exits_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = newsbeam("ingest", "--input", SEEDS / "0*", "--output", blocker / "out", check=False)
    assert result.returncode == 2
    assert "not writable" in result.stderr


@pytest.mark.slow
def test_multiprocessing_runner_writes_the_same_rows(seed_run, tmp_path):
    output, _ = seed_run
    parallel = tmp_path / "parallel"
    newsbeam(
        "ingest",
        "--input",
        SEEDS / "0*",
        "--output",
        parallel,
        "--direct_num_workers",
        "2",
        "--direct_running_mode",
        "multi_processing",
    )
    assert comparable_rows(parallel) == comparable_rows(output)


def test_stats_command_puts_the_seed_leaders_first(seed_run):
    output, _ = seed_run
    report = newsbeam("stats", output).stdout
    persons = report.split("Most mentioned persons", 1)[1].splitlines()[2:5]
    assert [line.strip().split("  ")[0] for line in persons] == [
        "Kim Jong-un",
        "Xi Jinping",
        "Vladimir Putin",
    ]
    assert "Most quoted speakers" in report


def test_query_is_read_only_and_exports_with_output(seed_run, tmp_path):
    output, _ = seed_run
    for sql in (
        f"COPY (select 1) TO '{tmp_path}/x.csv'",
        "select * from read_text('/etc/passwd')",
        f"ATTACH '{tmp_path}/x.db'",
        "INSTALL httpfs",
        "SET enable_external_access = true",
        f"select * from read_parquet('{tmp_path}/*.parquet')",
    ):
        refused = newsbeam("query", output, sql, check=False)
        assert refused.returncode == 1, sql
        assert refused.stderr.startswith("newsbeam: error:") and refused.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []

    exported = newsbeam(
        "query", output, "select count(*) as n from articles", "--output", tmp_path / "n.csv"
    )
    assert exported.stdout == f"1 row written to {tmp_path / 'n.csv'}\n"
    assert (tmp_path / "n.csv").read_text().splitlines() == ["n", "12"]
    bad = newsbeam("query", output, "select 1", "--output", tmp_path / "n.txt", check=False)
    assert bad.returncode == 2
    assert bad.stderr.startswith("newsbeam: error:") and bad.stderr.count("\n") == 1
