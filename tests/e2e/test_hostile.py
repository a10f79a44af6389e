"""Nothing lost, nothing let in: hostile inputs, kills and broken disks, end to end.

Every input record must end as an article row, a declared duplicate or an
``errors`` row with a reason; a run must never crash because of one input.
"""

import codecs
import contextlib
import gzip
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import zlib

import duckdb
import pytest

from tests.helpers import SEED_ARTICLE, SEEDS, comparable_rows, newsbeam, table, wait_for
from transforms import store


def _gzip_bomb(path: pathlib.Path, *, megabytes: int) -> None:
    """A small .gz file that inflates to ``megabytes`` of text."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip container
    block = b"all work and no play " * 50_000  # ~1 MB
    with path.open("wb") as handle:
        for _ in range(megabytes):
            handle.write(compressor.compress(block))
        handle.write(compressor.flush())


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    inputs = folder / "in"
    inputs.mkdir()
    seed = SEED_ARTICLE.read_text()
    files = {
        "nul.txt": b"Council votes\n\nThe council\x00 voted on the\x00 budget on Monday night.",
        "utf16.txt": codecs.BOM_UTF16_LE
        + "Zürich mayor re-elected with 61% of the vote.".encode("utf-16-le"),
        "latin1.txt": "Der Bürgermeister von Köln eröffnete die Brücke am Montag.".encode("cp1252"),
        "mojibake.txt": "The minister said it wasnâ€™t over yet.".encode(),
        "empty.txt": b"",
        "blank.txt": b"  \n\n\t \n",
        "binary.txt": b"\x00\x01\x02\x03" * 1000,
        "scripts.html": b"<html><head><script>var x = 1;</script><style>p {}</style></head><body>"
        b"<script>track()</script></body></html>",
        "wrong_types.jsonl": b'{"text": 12345}\n'
        b'{"text": "Fine article about the port.", "authors": [1]}\n'
        b'{"text": "The harbour opened on time, officials said."}\n',
        "dates.jsonl": json.dumps(
            {"text": "A story dated in the far future.", "published": "2999-05-01"}
        ).encode()
        + b"\n"
        + json.dumps(
            {"text": "A story dated before 1900.", "published": "1850-01-01T00:00:00Z"}
        ).encode()
        + b"\n",
        "tracking.jsonl": (
            json.dumps({"url": "https://n.example/a?utm_source=x", "text": seed})
            + "\n"
            + json.dumps({"url": "https://n.example/a?fbclid=1#top", "text": seed})
            + "\n"
        ).encode(),
    }
    hostile = "../../etc/x\n/..//date=2024-01-01/.."
    files["paths.jsonl"] = (
        json.dumps(
            {
                "url": "https://evil.example/" + hostile,
                "title": hostile,
                "text": "Text with a hostile everything. " + hostile,
                "published": hostile,
                "authors": [hostile],
                "source": hostile,
                "language": hostile,
            }
        )
        + "\n"
    ).encode()
    for name, data in files.items():
        (inputs / name).write_bytes(data)
    _gzip_bomb(inputs / "bomb.txt.gz", megabytes=80)
    output = folder / "out"
    result = newsbeam("ingest", "--input", inputs / "*", "--output", output)
    return output, result


def _errors(output):
    return {
        (os.path.basename(e["origin"]), e["error_type"], e["stage"])
        for e in table(output, "errors").to_pylist()
    }


def _articles(output):
    return {os.path.basename(a["origin"]): a for a in table(output, "articles").to_pylist()}


def test_every_record_is_accounted_for(hostile_run):
    output, result = hostile_run
    [run_file] = (output / "_runs").glob("*.json")
    balance = json.loads(run_file.read_text())["balance"]
    assert balance["ok"], balance
    assert "do not balance" not in result.stdout
    assert balance["read"] == balance["written"] + balance["duplicates"] + balance["errors"]


def test_bad_inputs_are_errors_with_reasons(hostile_run):
    output, _ = hostile_run
    assert {
        ("empty.txt", "empty_text", "normalize"),
        ("blank.txt", "empty_text", "normalize"),
        ("binary.txt", "binary_file", "read"),
        ("scripts.html", "no_main_text", "normalize"),
        ("wrong_types.jsonl#1", "invalid_field", "read"),
        ("wrong_types.jsonl#2", "invalid_field", "read"),
        ("bomb.txt.gz", "too_large", "read"),
    } <= _errors(output)


def test_text_is_repaired(hostile_run):
    articles = _articles(hostile_run[0])
    assert articles["nul.txt"]["text"] == "The council voted on the budget on Monday night."
    assert articles["utf16.txt"]["text"].startswith("Zürich mayor")
    assert articles["latin1.txt"]["text"].startswith("Der Bürgermeister von Köln")
    assert articles["latin1.txt"]["language"] == "de"
    assert articles["mojibake.txt"]["text"] == "The minister said it wasn’t over yet."
    assert articles["wrong_types.jsonl#3"]["text"].startswith("The harbour")


def test_implausible_dates_keep_the_article_without_a_date(hostile_run):
    output, _ = hostile_run
    articles = _articles(output)
    for origin in ("dates.jsonl#1", "dates.jsonl#2"):
        assert articles[origin]["published_at"] is None
        assert (origin, "invalid_date", "normalize") in _errors(output)


def test_tracking_parameters_make_one_article_and_one_declared_duplicate(hostile_run):
    output, result = hostile_run
    tracked = [o for o in _articles(output) if o.startswith("tracking.jsonl")]
    assert len(tracked) == 1
    assert "duplicates dropped    1" in result.stdout


def test_no_input_value_reaches_a_path(hostile_run):
    output, _ = hostile_run
    assert _articles(output)["paths.jsonl#1"]["title"].startswith("../../etc/x")
    for path in output.rglob("*"):
        relative = path.relative_to(output).parts
        tables = {"articles", "entities", "quotes", "errors", "entity_resolution"}
        assert relative[0] in tables | {"_runs", "_commits", "_lock", "_state"}, path
        if len(relative) > 1 and relative[0] in tables:
            assert len(relative) <= 3
            assert relative[1].startswith("date=") and len(relative[1]) == len("date=YYYY-MM-DD")
    assert not (output.parent / "etc").exists()


@pytest.mark.slow
def test_two_million_characters_are_processed_in_pieces(tmp_path):
    paragraph = SEED_ARTICLE.read_text().replace("\n", "\n\n")
    text = ""
    copy = 0
    while len(text) < 2_000_000:
        copy += 1
        text += f"Part {copy}.\n\n" + paragraph + "\n\n"
    (tmp_path / "long.txt").write_text(text)
    output = tmp_path / "out"
    newsbeam("ingest", "--input", tmp_path / "long.txt", "--output", output)
    [article] = table(output, "articles").to_pylist()
    assert len(article["text"]) > 1_900_000  # kept whole, not truncated
    entities = table(output, "entities").to_pylist()
    assert len(entities) > 100 * copy // 2
    last = max(entities, key=lambda e: e["start_char"])
    assert last["start_char"] > 1_800_000  # the end of the text was annotated too
    for entity in entities[:: max(1, len(entities) // 200)]:
        assert article["text"][entity["start_char"] : entity["end_char"]] == entity["text"]


def _corpus(folder: pathlib.Path, *, articles: int) -> None:
    seed = SEED_ARTICLE.read_text()
    with (folder / "corpus.jsonl").open("w") as handle:
        for i in range(articles):
            record = {
                "url": f"https://news.example/{i}",
                "text": f"Report number {i}.\n\n{seed}",
                "published": f"2025-0{1 + i % 9}-1{i % 10}T12:00:00Z",
            }
            handle.write(json.dumps(record) + "\n")


def _start(inputs, output):
    command = [
        sys.executable,
        "-m",
        "pipelines.cli",
        "ingest",
        "--input",
        str(inputs / "*"),
        "--output",
    ]
    return subprocess.Popen(
        [*command, str(output), "--shards", "4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _staged_files(output):
    return list((output / "_tmp").glob("*/*/*.parquet"))


@pytest.fixture(scope="module")
def clean_corpus_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    inputs = folder / "in"
    inputs.mkdir()
    _corpus(inputs, articles=60)
    output = folder / "clean"
    newsbeam("ingest", "--input", inputs / "*", "--output", output, "--shards", "4")
    return inputs, comparable_rows(output)


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["nlp", "writing"])
def test_sigkill_then_rerun_gives_one_clean_run(clean_corpus_run, tmp_path, moment):
    inputs, clean_rows = clean_corpus_run
    output = tmp_path / "out"
    process = _start(inputs, output)
    deadline = time.monotonic() + 120
    try:
        if moment == "nlp":
            time.sleep(4)  # model loaded, articles in spaCy, nothing staged yet
            assert process.poll() is None, "the run ended before the kill"
            assert not _staged_files(output)
        else:
            while (
                not _staged_files(output) and process.poll() is None and time.monotonic() < deadline
            ):
                time.sleep(0.005)
            assert process.poll() is None, "the run ended before anything was staged"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
    visible = [p for p in output.rglob("*.parquet") if p.relative_to(output).parts[0] != "_tmp"]
    assert not visible  # killed before the commit: readers see nothing of it
    newsbeam("ingest", "--input", inputs / "*", "--output", output, "--shards", "4")
    assert comparable_rows(output) == clean_rows


def _mount(*args) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def read_only_folder(tmp_path):
    source, target = tmp_path / "src", tmp_path / "ro"
    source.mkdir()
    target.mkdir()
    if not (
        _mount("--bind", str(source), str(target)) and _mount("-o", "remount,bind,ro", str(target))
    ):
        subprocess.run(["umount", str(target)], capture_output=True)
        pytest.skip("cannot make a read-only mount here (needs root)")
    yield target
    subprocess.run(["umount", str(target)], capture_output=True)


def test_read_only_output_fails_before_any_work(read_only_folder):
    result = newsbeam(
        "ingest", "--input", SEED_ARTICLE, "--output", read_only_folder / "out", check=False
    )
    assert result.returncode == 2
    assert "not writable" in result.stderr and "Read-only file system" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.fixture
def full_disk(tmp_path):
    target = tmp_path / "full"
    target.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=160k", "tmpfs", str(target)):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield target
    subprocess.run(["umount", str(target)], capture_output=True)


def test_full_disk_fails_clearly_and_leaves_nothing_visible(full_disk, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    _corpus(inputs, articles=40)
    result = newsbeam(
        "ingest", "--input", inputs / "*", "--output", full_disk, "--no-nlp", check=False
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("newsbeam: error: run ") and "No space left on device" in last
    assert not list(full_disk.rglob("*.parquet"))
    assert not list(full_disk.glob("_tmp/*"))


def test_query_sees_only_committed_files(hostile_run):
    output, _ = hostile_run
    connection = duckdb.connect()
    count = connection.sql(
        f"select count(*) from read_parquet('{output}/articles/**/*.parquet')"
    ).fetchall()
    assert count[0][0] == len(_articles(output))


def test_gzip_bomb_helper_really_inflates(tmp_path):
    _gzip_bomb(tmp_path / "b.gz", megabytes=2)
    assert (tmp_path / "b.gz").stat().st_size < 50_000
    with gzip.open(tmp_path / "b.gz") as handle:
        assert len(handle.read()) > 2_000_000


# ---------------------------------------------------------------- one writer per output


def _ingest(output, *extra, stdout=subprocess.PIPE):
    command = [sys.executable, "-m", "pipelines.cli", "ingest", "--input", str(SEEDS / "0*")]
    return subprocess.Popen(
        [*command, "--output", str(output), *extra],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


def _lock_holder(output):
    with contextlib.suppress(OSError, ValueError):
        return json.loads((output / "_lock").read_text())["pid"]
    return None


def _once_each(output):
    """Every table's rows, asserting none is there twice."""
    rows = comparable_rows(output)
    for name, found in rows.items():
        assert len(found) == len(set(found)), f"{name} has rows written twice"
    return rows


def test_two_writers_at_once_one_is_refused_naming_the_other(tmp_path):
    output = tmp_path / "out"
    processes = [_ingest(output), _ingest(output)]
    results = [(p, *p.communicate(timeout=600)) for p in processes]
    [(winner, _out, _err)] = [r for r in results if r[0].returncode == 0]
    [(loser, _out, stderr)] = [r for r in results if r[0].returncode != 0]
    assert loser.returncode == 2
    [line] = stderr.strip().splitlines()
    assert line.startswith("newsbeam: error: ")
    assert f"is being written by pid {winner.pid} on {socket.gethostname()} (ingest" in line
    assert "--wait" in line
    assert table(output, "articles").num_rows == 12
    assert _once_each(output)["entities"]


def test_wait_queues_the_second_writer_which_adds_nothing(tmp_path):
    output = tmp_path / "out"
    first = _ingest(output)
    assert wait_for(lambda: _lock_holder(output) == first.pid, 60), "the first run never locked"
    second = _ingest(output, "--wait")
    _out, first_err = first.communicate(timeout=600)
    second_out, second_err = second.communicate(timeout=600)
    assert (first.returncode, second.returncode) == (0, 0), first_err + second_err
    assert f"waiting for pid {first.pid} on {socket.gethostname()} (ingest" in second_err
    assert "articles written      0" in second_out
    assert table(output, "articles").num_rows == 12
    _once_each(output)


def test_a_writer_killed_holding_the_lock_never_blocks_the_next(tmp_path):
    output = tmp_path / "out"
    killed = _ingest(output, "--no-nlp", stdout=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: _lock_holder(output) == killed.pid, 60)
    finally:
        killed.kill()
        killed.wait()
    assert _lock_holder(output) == killed.pid  # its name is left in the file
    newsbeam("ingest", "--input", SEEDS / "0*", "--output", output, "--no-nlp")
    assert table(output, "articles").num_rows == 12


# ---------------------------------------------------------------- the commit and its state


def _uncommit_articles(output):
    """Turns the last commit back into one killed after its entities and quotes moved.

    The journal lists every file; the articles are staged again; the commit
    record is gone: what a kill -9 between the last two moves leaves.
    """
    [record_path] = (output / "_commits").glob("*.json")
    record = json.loads(record_path.read_text())
    run_id = record["run_id"]
    journal = []
    for file in record["files"]:
        final = pathlib.Path(file["final"])
        date = final.parent.name.removeprefix("date=")
        name = final.stem.removeprefix(f"part-{run_id}-")
        staged = store.staged_path(str(output), run_id, file["table"], date, name)
        journal.append({**file, "staged": staged})
        if file["table"] == "articles":
            pathlib.Path(staged).parent.mkdir(parents=True, exist_ok=True)
            final.rename(staged)
    store.write_json(store.journal_path(str(output), run_id), journal)
    record_path.unlink()


def test_query_and_stats_never_see_a_commit_half_done(tmp_path):
    output = tmp_path / "out"
    newsbeam("ingest", "--input", SEEDS / "0*", "--output", output)
    clean = comparable_rows(output)
    _uncommit_articles(output)
    assert list(output.glob("entities/*/*.parquet"))  # a plain-file reader sees these
    counts = newsbeam(
        "query",
        output,
        "select (select count(*) from articles) as a, (select count(*) from entities) as e, "
        "(select count(*) from quotes) as q",
        "--format",
        "csv",
    )
    assert counts.stdout.splitlines() == ["a,e,q", "0,0,0"]
    assert "entity mentions: 0 in 0 articles" in newsbeam("stats", output).stdout
    rerun = newsbeam("ingest", "--input", SEEDS / "0*", "--output", output)
    assert "finished the commit of interrupted run(s)" in rerun.stderr
    assert "articles written      0" in rerun.stdout
    assert comparable_rows(output) == clean


@pytest.mark.parametrize("journal", ["", '{"torn'])
def test_a_broken_commit_journal_is_a_warning_not_a_traceback(tmp_path, journal):
    output = tmp_path / "out"
    staged = output / "_tmp" / "20261128T000000Z-0badf00d"
    (staged / "articles").mkdir(parents=True)
    (staged / "articles" / "2026-11-28-0.parquet").write_bytes(b"PAR1")
    (staged / "_COMMIT.json").write_text(journal)
    result = newsbeam("ingest", "--input", SEEDS / "0*", "--output", output, "--no-nlp")
    assert "Traceback" not in result.stderr
    assert "_COMMIT.json cannot be read" in result.stderr and "never began" in result.stderr
    assert not (output / "_tmp").exists()
    assert table(output, "articles").num_rows == 12


@pytest.mark.parametrize(
    ("state", "command"),
    [("files.json", "watch"), ("feeds.json", "ingest"), ("feeds.json", "watch")],
)
@pytest.mark.parametrize("content", ["", "{not json", '{"/in/a.txt": ["big", "old"]}', "null"])
def test_a_corrupt_state_file_is_one_line_saying_how_to_start_afresh(
    tmp_path, state, command, content
):
    output = tmp_path / "out"
    (output / "_state").mkdir(parents=True)
    (output / "_state" / state).write_text(content)
    extra = ["--max-polls", "1"] if command == "watch" else []
    result = newsbeam(
        command,
        *("--input", SEEDS / "001_harbour_bridge.txt", "--feeds", SEEDS / "005_city_desk_rss2.xml"),
        *("--output", output, "--no-nlp", *extra),
        check=False,
    )
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("newsbeam: error: ") and f"_state/{state} cannot be read" in line
    assert "move it aside" in line
