"""An output that lives for months: ``newsbeam reprocess`` and ``newsbeam compact`` through the
CLI, killed half-way, beside a running ingest, and under a reader that keeps counting."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading

import duckdb
import pyarrow as pa
import pytest

import newsbeam
from schemas import TABLES
from tests.helpers import NOW, REPO, SEEDS, comparable_rows
from tests.helpers import newsbeam as run
from transforms import store, write

SEED_GLOB = SEEDS / "0*"
COUNTS = (
    "select (select count(*) from articles), (select count(distinct article_id) from articles), "
    "(select count(*) from entities), (select count(*) from quotes), "
    "(select count(*) from errors)"
)


def _start(*args, pause=None):
    """``newsbeam ARGS`` in the background; with ``pause``, its commit pauses there
    (``store._pause``)."""
    env = dict(os.environ)
    if pause:
        env[store.PAUSE_VARIABLE] = pause
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", *map(str, args)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_at(process, step):
    """Waits for ``process`` to say it paused at ``step``, then SIGKILLs it."""
    try:
        for line in process.stderr:
            if f"test pause at {step}" in line:
                break
        else:
            raise AssertionError(f"the process ended before {step}: {process.wait()}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait()


def _counts(output):
    return newsbeam.query(output, COUNTS, result="rows")[0]


def _each_entity_once(output):
    sql = (
        "select count(*) = count(distinct (article_id, start_char, end_char, label)) from entities"
    )
    return newsbeam.query(output, sql, result="rows") == [(True,)]


def _parquet_files(output):
    """The tables' data files: each table's empty file (no rows, no commit) left out."""
    return sorted(
        p for p in output.glob("*/date=*/*.parquet") if p.parent.name != "date=1970-01-01"
    )


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The seeds ingested with ``--no-nlp``, and with the model (the reference)."""
    folder = tmp_path_factory.mktemp("lifecycle")
    run("ingest", "--input", SEED_GLOB, "--output", folder / "plain", "--no-nlp", "--quiet")
    run("ingest", "--input", SEED_GLOB, "--output", folder / "enriched", "--quiet")
    return folder / "plain", folder / "enriched"


def _copy(source, target):
    shutil.copytree(source, target)
    return target


# ---------------------------------------------------------------- reprocess


def test_reprocess_after_no_nlp_gives_what_ingest_with_the_model_gives(outputs, tmp_path):
    plain, enriched = outputs
    output = _copy(plain, tmp_path / "out")
    assert _counts(output)[2:4] == (0, 0)
    result = run("reprocess", output, "--quiet")
    assert "articles reprocessed" in result.stdout and result.stderr == ""
    assert comparable_rows(output) == comparable_rows(enriched)
    models = newsbeam.query(
        output,
        "select distinct nlp_model, nlp_version, schema_version from articles",
        result="rows",
    )
    [(model, version, schema_version)] = models
    assert version.startswith(f"{model}==") and " spacy==" in version and " newsbeam==" in version
    assert schema_version == 3
    assert _each_entity_once(output)


def test_reprocess_where_touches_only_the_articles_it_selects(outputs, tmp_path):
    _plain, enriched = outputs
    output = _copy(enriched, tmp_path / "out")
    where = "source = 'Example Wire'"
    before = newsbeam.query(
        output, f"select article_id, date from articles where {where}", result="rows"
    )
    assert len(before) == 1
    [(chosen, date)] = before
    untouched_sql = (
        "select * exclude (date) from {table} where article_id <> '" + chosen + "' order by all"
    )
    untouched = {
        t: newsbeam.query(output, untouched_sql.format(table=t), result="rows")
        for t in ("articles", "entities", "quotes")
    }
    files_before = set(_parquet_files(output))
    run("reprocess", output, "--where", where, "--labels", "PERSON", "--quiet")
    for table, rows in untouched.items():
        sql = untouched_sql.format(table=table)
        assert newsbeam.query(output, sql, result="rows") == rows, table
    labels = newsbeam.query(
        output, f"select distinct label from entities where article_id = '{chosen}'", result="rows"
    )
    assert labels == [("PERSON",)]
    assert _counts(output)[:2] == _counts(enriched)[:2]
    assert _each_entity_once(output)
    # Only the files that held the chosen article's rows were replaced.
    replaced = files_before - set(_parquet_files(output))
    assert {p.parent.parent.name for p in replaced} == {"articles", "entities", "quotes"}
    assert {p.parent.name for p in replaced} == {f"date={date}"}


def test_reprocess_refuses_bad_sql_and_a_locked_output_in_one_line(outputs, tmp_path):
    output = _copy(outputs[0], tmp_path / "out")
    result = run("reprocess", output, "--where", "no_such_column = 1", check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("newsbeam: error: --where 'no_such_column = 1':")
    for where in ("1 = 1; select 2", "1 = 1); copy articles to 'x.csv'; select (1"):
        result = run("reprocess", output, "--where", where, check=False)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, where
    assert "one condition" in result.stderr
    with store.writer_lock(str(output), command="ingest"):
        for command in (["reprocess", output], ["compact", output]):
            result = run(*command, check=False)
            assert result.returncode == 2 and "is being written by" in result.stderr, command
    assert run("reprocess", output, "--where", "false").stdout.startswith("newsbeam: no article of")


@pytest.mark.slow
@pytest.mark.parametrize("step", ["staged", "moved"])
def test_reprocess_killed_half_way_then_run_again_gives_one_state(outputs, tmp_path, step):
    plain, enriched = outputs
    output = _copy(plain, tmp_path / "out")
    _kill_at(_start("reprocess", output, "--quiet", pause=step), step)
    # Killed before its record: readers still see the output as it was.
    assert _counts(output) == _counts(plain)
    run("reprocess", output, "--quiet")  # finishes (moved) or drops nothing (staged) first
    assert comparable_rows(output) == comparable_rows(enriched)
    assert _each_entity_once(output)


# ---------------------------------------------------------------- compact


def _small_files(output, runs=30):
    """``runs`` commits of two articles, their entities and an error each: many small files
    in one partition (as 30 polls leave them)."""

    def rows(table, i, article):
        def value(field):
            if field.nullable:
                return None
            if pa.types.is_timestamp(field.type):
                return NOW
            return i if pa.types.is_integer(field.type) else f"{field.name}-{i}"

        row = {f.name: value(f) for f in TABLES[table]} | {"date": "2026-11-28"}
        return row | ({"article_id": article} if "article_id" in row else {})

    for i in range(runs):
        run_id = f"20261128T12{i:04d}Z-{i:08x}"
        files = []
        for table, count in (("errors", 1), ("entities", 3), ("articles", 2)):
            writer = write.PartitionWriter(str(output), run_id, table, "0")
            for n in range(count):
                writer.add(rows(table, i, f"a{i}-{n % 2}"))
            files += writer.close()
        store.commit_files(str(output), run_id, files)


@pytest.mark.slow
@pytest.mark.parametrize("step", ["staged", "journaled", "moved", "recorded"])
def test_compact_killed_at_any_step_then_run_again_gives_one_state(tmp_path, step):
    output = tmp_path / "out"
    _small_files(output)
    counts = _counts(output)
    _kill_at(_start("compact", output, pause=step), step)
    assert _counts(output) == counts
    result = run("compact", output)
    assert _counts(output) == counts
    assert {p.parent.parent.name for p in _parquet_files(output)} == {
        "articles",
        "entities",
        "errors",
    }
    assert len(_parquet_files(output)) == 3, result.stdout  # one file per table, none lost
    [record] = (output / "_commits").iterdir()
    assert record.name.endswith(".replace.json")


def test_compact_prints_the_file_counts_before_and_after(tmp_path):
    output = tmp_path / "out"
    _small_files(output)
    result = run("compact", output, "--target-size", "64MB")
    assert "articles              30 -> 1 files" in result.stdout
    assert "commit records        30 -> 1" in result.stdout
    assert len(_parquet_files(output)) == 3
    assert run("compact", output).stdout.startswith("newsbeam: nothing to compact")
    result = run("compact", output, "--target-size", "lots", check=False)
    assert result.returncode == 2 and "--target-size" in result.stderr


def test_a_reader_counting_during_a_compaction_always_sees_the_same_totals(tmp_path):
    output = tmp_path / "out"
    _small_files(output)
    expected = _counts(output)
    seen, failures = [], []
    done = threading.Event()

    def count():
        while not done.is_set():
            try:
                seen.append(_counts(output))
            except Exception as exc:  # a failed read is a failure too
                failures.append(exc)

    reader = threading.Thread(target=count)
    reader.start()
    try:
        compaction = _start("compact", output, pause="journaled:1,moved:1,recorded:1")
        _stdout, stderr = compaction.communicate(timeout=120)
    finally:
        done.set()
        reader.join()
    assert compaction.returncode == 0, stderr
    assert len(_parquet_files(output)) == 3
    assert not failures
    assert len(seen) > 10 and set(seen) == {expected}


@pytest.mark.slow
def test_compact_while_ingest_runs_loses_and_duplicates_nothing(outputs, tmp_path):
    plain, _enriched = outputs
    output = _copy(plain, tmp_path / "out")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(3):
        (inputs / f"new{i}.txt").write_text(f"Council report {i}.\n\nThe council met on Monday.")
    # An ingest holds the lock while it runs: compact fails at once, or waits with --wait.
    ingest = _start(
        "ingest", "--input", inputs / "*", "--output", output, "--no-nlp", pause="moved:8"
    )
    for line in ingest.stderr:
        if "test pause at moved" in line:
            break
    refused = run("compact", output, check=False)
    assert refused.returncode == 2 and "is being written by" in refused.stderr
    waited = _start("compact", output, "--wait")
    assert ingest.wait(timeout=120) == 0
    assert waited.wait(timeout=120) == 0, waited.stderr.read()
    articles = _counts(plain)[0] + 3
    assert _counts(output)[:2] == (articles, articles)
    # And the other way round: an ingest --wait during a compaction's commit.
    more = tmp_path / "more"
    more.mkdir()
    (more / "late.txt").write_text("A late report.\n\nThe harbour reopened on Tuesday.")
    _small_files(output, runs=3)
    compaction = _start("compact", output, pause="moved:8")
    for line in compaction.stderr:
        if "test pause at moved" in line:
            break
    late = run("ingest", "--input", more / "*", "--output", output, "--no-nlp", "--wait")
    assert compaction.wait(timeout=120) == 0 and late.returncode == 0
    articles += 1 + 3 * 2
    assert _counts(output)[:2] == (articles, articles)
    rows = duckdb.sql(f"select count(*) from read_parquet('{output}/articles/*/*.parquet')")
    assert rows.fetchall() == [(articles,)]  # no file left behind for a plain reader either


def test_watch_compacts_every_n_polls(tmp_path):
    output = tmp_path / "out"
    _small_files(output, runs=5)
    drop = tmp_path / "drop"
    drop.mkdir()
    result = run(
        "watch",
        "--input",
        drop / "*",
        "--output",
        output,
        "--no-nlp",
        "--max-polls",
        "2",
        "--interval",
        "0.1s",
        "--compact-every",
        "2",
    )
    assert "compaction " in result.stderr and "files -> 3" in result.stderr
    assert len(_parquet_files(output)) == 3
