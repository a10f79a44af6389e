"""End to end: the input manifest (files read once), errors written once, and ``run_id``.

A rerun reads only the input files that are new or changed since a
committed run read them; ``watch`` and ``ingest`` share what was read; a
killed run marks nothing. A failure the output already holds is counted,
not written again; every articles and errors row names the run that wrote it.
"""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from tests import slow_work
from tests.helpers import REPO, SEED_ARTICLE, SEEDS, newsbeam, table, wait_for


def _story(folder: pathlib.Path, name: str, text: str) -> pathlib.Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _story(folder, "harbour.txt", (SEEDS / "001_harbour_bridge.txt").read_text())
    _story(folder, "council.txt", "Council votes\n\nThe council voted on Monday to close the pier.")
    _story(folder, "weather.txt", "Rain again\n\nIt rained all week in the valley.")
    _story(folder, "broken.json", '{"title": "half a record",')
    return folder


def _ingest(inputs, output, *extra):
    result = newsbeam("ingest", "--input", inputs, "--output", output, "--no-nlp", *extra)
    return result.stdout, _last_record(output)


def _last_record(output):
    records = [json.loads(p.read_text()) for p in (output / "_runs").glob("*.json")]
    return max(records, key=lambda record: record["ingested_at"])


def _manifest_files(output):
    folder = output / "_state" / "inputs"
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


def test_a_rerun_reads_no_unchanged_file_and_rescan_reads_them_all(inputs, tmp_path):
    output = tmp_path / "out"
    _out, first = _ingest(inputs, output)
    assert first["stages"]["read"]["files"] == 4
    assert first["stages"]["read"]["unchanged_files"] == 0
    assert table(output, "articles").num_rows == 3

    stdout, again = _ingest(inputs, output)
    assert again["stages"]["read"]["files"] == 0  # nothing opened, the bad file neither
    assert again["stages"]["read"]["unchanged_files"] == 4
    assert again["balance"] == {"read": 0, "written": 0, "duplicates": 0, "errors": 0, "ok": True}
    assert "input files skipped   4 unchanged" in stdout
    assert again["pipeline_seconds"] < first["pipeline_seconds"]

    stdout, rescanned = _ingest(inputs, output, "--rescan")
    assert rescanned["stages"]["read"]["files"] == 4
    assert rescanned["stages"]["dedupe"]["already_in_output"] == 3
    assert rescanned["stages"]["errors"]["seen_before"] == 1  # broken.json, written once
    assert "errors                1 (1 seen before: not written again)" in stdout
    assert table(output, "articles").num_rows == 3
    assert table(output, "errors").num_rows == 1


def test_a_changed_file_is_read_again_and_a_touched_one_is_not(inputs, tmp_path):
    output = tmp_path / "out"
    _ingest(inputs, output)
    council = inputs / "council.txt"
    council.write_text(council.read_text() + " It opens again in May.")  # changed
    weather = inputs / "weather.txt"
    os.utime(weather, (time.time() + 60, time.time() + 60))  # touched: same bytes, new time
    _story(inputs, "new.txt", "Ferry returns\n\nThe ferry is back on Monday.")

    _out, record = _ingest(inputs, output)
    assert record["stages"]["read"]["files"] == 2  # council.txt and new.txt
    assert record["stages"]["read"]["unchanged_files"] == 3
    assert record["balance"]["written"] == 2  # the council story changed: a new article
    _out, after = _ingest(inputs, output)  # the touched file's new time is recorded
    assert after["stages"]["read"]["unchanged_files"] == 5
    assert after["stages"]["read"]["files"] == 0


def test_errors_are_written_once_and_every_row_names_its_run(inputs, tmp_path):
    output = tmp_path / "out"
    _out, first = _ingest(inputs, output)
    broken = inputs / "broken.json"
    broken.write_text('{"title": "still half a record", "text": ')  # fails the same way
    stdout, second = _ingest(inputs, output)
    assert second["stages"]["read"]["files"] == 1
    assert second["stages"]["errors"]["seen_before"] == 1
    assert "(1 seen before: not written again)" in stdout
    [error] = table(output, "errors").to_pylist()
    assert (error["origin"], error["error_type"]) == (str(broken), "malformed_json")
    assert error["run_id"] == first["run_id"]
    assert set(table(output, "articles").column("run_id").to_pylist()) == {first["run_id"]}
    last_run = newsbeam(
        "query", output, f"select count(*) as n from articles where run_id = '{first['run_id']}'",
        "--format", "csv",
    )  # fmt: skip
    assert last_run.stdout == "n\n3\n"


def test_a_date_warning_about_an_article_already_written_is_not_written(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    record = {"title": "Pier closes", "text": "The pier closes.", "published": "yesterday-ish"}
    (folder / "a.json").write_text(json.dumps(record))
    output = tmp_path / "out"
    newsbeam("ingest", "--input", folder / "a.json", "--output", output, "--no-nlp")
    (folder / "b.json").write_text(json.dumps(record))  # the same article, another file
    _out, second = _ingest(folder / "b.json", output)
    assert second["stages"]["dedupe"]["already_in_output"] == 1
    assert second["stages"]["errors"]["duplicate_warnings"] == 1
    warnings = table(output, "errors").to_pylist()
    assert [(e["origin"], e["error_type"]) for e in warnings] == [
        (str(folder / "a.json"), "invalid_date")
    ]


def test_watch_and_ingest_share_the_manifest(inputs, tmp_path):
    output = tmp_path / "out"
    _ingest(inputs, output)
    watch = newsbeam("watch", "--input", inputs, "--output", output, "--no-nlp",
                     "--max-polls", "1", "--interval", "1s", "--settle", "0")  # fmt: skip
    assert "poll 1: nothing new" in watch.stderr
    _story(inputs, "new.txt", "Ferry returns\n\nThe ferry is back on Monday.")
    watch = newsbeam("watch", "--input", inputs, "--output", output, "--no-nlp",
                     "--max-polls", "1", "--interval", "1s", "--settle", "0")  # fmt: skip
    assert "poll 1: 1 items, 1 new" in watch.stderr
    stdout, record = _ingest(inputs, output)  # what the watch read, ingest does not
    assert record["stages"]["read"]["unchanged_files"] == 5
    assert "input files skipped   5 unchanged" in stdout


def test_watch_reads_its_old_file_state_as_the_manifest(tmp_path):
    output = tmp_path / "out"
    one = SEEDS / "001_harbour_bridge.txt"
    newsbeam("ingest", "--input", one, "--output", output, "--no-nlp")
    for path in (output / "_state" / "inputs").iterdir():
        path.unlink()
    (output / "_state" / "inputs").rmdir()
    stat = one.stat()  # what watch wrote before the manifest
    (output / "_state" / "files.json").write_text(
        json.dumps({str(one): [stat.st_size, stat.st_mtime]})
    )
    watch = newsbeam("watch", "--input", one, "--output", output, "--no-nlp",
                     "--max-polls", "1", "--interval", "1s", "--settle", "0")  # fmt: skip
    assert "poll 1: nothing new" in watch.stderr
    _out, record = _ingest(one, output)
    assert record["stages"]["read"]["unchanged_files"] == 1


@pytest.mark.slow
def test_a_killed_run_marks_no_file_and_the_rerun_reads_them(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _story(folder, "a.txt", SEED_ARTICLE.read_text())
    output = tmp_path / "out"
    _ingest(folder, output)
    before = _manifest_files(output)
    assert before
    _story(folder, "slow.txt", f"This {slow_work.MARKER} article never ends. It said so.")
    _story(folder, "b.txt", "Rain again\n\nIt rained all week in the valley.")
    model = slow_work.slow_model(tmp_path / "model")
    plugin = slow_work.plugin_path(tmp_path / "plugin")
    temporary = tmp_path / "tmp"  # where this run's progress folder appears, and no other's
    temporary.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([plugin, str(REPO), os.environ.get("PYTHONPATH", "")]),
        "TMPDIR": str(temporary),
    }
    command = [sys.executable, "-m", "pipelines.cli", "ingest", "--input", str(folder)]
    process = subprocess.Popen(
        [*command, "--output", str(output), "--model", model, "--time-limit", "600"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes its workers too
    )
    try:
        started = wait_for(lambda: any(temporary.glob("newsbeam-progress-*")), 300)
        assert started is not None and process.poll() is None, "the pipeline never started"
        time.sleep(3)  # in spaCy on the slow article, nothing committed
        assert process.poll() is None, "the run ended before the kill"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert _manifest_files(output) == before  # the kill left the manifest as it was
    stdout, rerun = _ingest(folder, output)
    assert rerun["stages"]["read"]["files"] == 2  # slow.txt and b.txt, read after all
    assert rerun["stages"]["read"]["unchanged_files"] == 1
    assert "input files skipped   1 unchanged" in stdout
    assert table(output, "articles").num_rows == 3
