"""newsbeam against the limit of its model: throughput, scaling, memory and duplicates.

    python benchmarks/bench_pipeline.py [--corpus DIR] [--limit N] [--memory-limit N] [--repeat N]
                                        [--polls N] [--rerun-files N]
                                        [--only compaction|rerun|p8|p1|dask] [--work DIR]
                                        [--p3-articles N] [--poll-base N] [--poll-new N]

The corpus is a folder of ``.txt`` articles: by default the PolNeAR train
texts in ../shared/evaldata when present, else a corpus generated from
``seeds/``. Every figure is measured in this one run, on the same texts, and
the final line gives the ratios (absolute times on a shared machine are noise):

- L1 / L2: raw ``nlp.pipe`` with exactly newsbeam's spaCy components, model
  preloaded, one process / ``n_process=2``;
- P1 / P2: ``newsbeam ingest`` end to end on the local runner, in-process /
  with two worker processes; the model load is measured apart and excluded;
  beside them, two in-process runs side by side, each on half the corpus, show
  how far two processes can scale on this machine at all (the P2 ceiling);
- P3: the same run with ``--no-nlp`` (articles per second), on the corpus, or on
  ``--p3-articles N`` articles (or ``NEWSBEAM_BENCH_P3_ARTICLES=N``; copies get new
  ids), since on a few hundred articles the run's fixed cost is most of it;
- P4: peak memory (RSS of the whole process tree) at 1x and 10x a corpus of
  ``--memory-limit`` articles (copies get new ids);
- P5: the corpus plus 30% duplicates, against the corpus plus 30% new articles;
  the corpus alone is run beside them to give what one duplicate costs;
- P6: the feed path: ``--feed-files`` RSS files (``--entries-per-feed`` entries
  each, built from the corpus texts as HTML descriptions) given to ``--feeds``,
  ``--no-nlp``, in entries per second, and over ``feedparser.parse`` alone on the
  same files in this run (the share of feedparser's speed newsbeam keeps);
- P7: the fixed cost of a run: ``ingest`` of an input holding no article into
  the P8 output, in seconds (the pipeline, and the whole command);
- P8: a ``watch`` poll that finds ``--poll-new`` (20) new articles in an output
  already holding ``--poll-base`` (10,000) articles (the P1 output, topped up
  with ``--no-nlp`` copies), against raw ``nlp.pipe`` on the same articles with
  the model loaded: the share of the model's speed a small scheduled run keeps.
  The poll timed is a later poll of a running watcher (what each poll of a
  watch that runs for hours pays); the first poll of a fresh ``watch``, which
  also starts the model's process, is printed beside it. ``--only p8``
  measures P7 and P8 alone; ``--work DIR`` keeps their output between runs.
- C1: ``--polls`` (100) small ``--no-nlp`` runs into one output, as ``watch`` leaves
  them in one partition: the files before and after ``newsbeam compact``, and the
  time of one DuckDB aggregate over the articles (a glob, and ``newsbeam.query``)
  before and after. ``--only compaction`` measures this line alone.
- Rerun: ``newsbeam ingest`` again over an unchanged corpus of ``--rerun-files``
  files (the corpus texts, cycled with new last lines when there are fewer),
  whole commands timed, against the first run into the same output (the input
  manifest skips every file). ``--only rerun`` measures this figure alone.
- D1 / D2: ``newsbeam ingest --runner DaskRunner`` on a Dask cluster the
  benchmark starts on 127.0.0.1 (a ``dask scheduler`` and one or two ``dask
  worker`` processes of one thread each), model load excluded as for P1:
  D1/P1 is one Dask worker against the in-process run, D2/D1 two workers
  against one.

``--only p1`` measures L1 and P1 alone (P1/L1), ``--only dask`` L1, L2, P1, D1
and D2 alone (D1/P1, D2/D1, and L2/L1: how far two processes scale on this
machine at all, the ceiling of D2/D1), each interleaved ``--repeat`` times,
with the load averages before and after: the machine is shared.

With ``--repeat N`` (default 2) the timed measurements are taken N times,
interleaved (L1, L2, P1, P2, the P2 ceiling, then again; P5's three runs
likewise), and the fastest of each is kept, so a slow spell on a shared
machine does not land on one side of a ratio only.
"""

import argparse
import concurrent.futures
import html
import io
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib

import psutil

REPO = pathlib.Path(__file__).resolve().parents[1]
POLNEAR = REPO.parent / "shared" / "evaldata" / "polnear_train" / "data" / "train" / "text"


def load_corpus(folder: pathlib.Path | None, limit: int | None) -> list[tuple[str, str]]:
    """(name, text) pairs: the folder's .txt files, else PolNeAR, else generated from seeds."""
    if folder is None and POLNEAR.exists():
        folder = POLNEAR
    if folder is not None:
        files = sorted(folder.glob("*.txt"))[:limit]
        return [(f.name, f.read_text(encoding="utf-8", errors="replace")) for f in files]
    seeds = [p.read_text() for p in sorted((REPO / "seeds").glob("0*.txt"))]
    count = limit or 200
    return [(f"gen{i:05d}.txt", f"Report {i}.\n\n{seeds[i % len(seeds)]}") for i in range(count)]


def write_corpus(folder: pathlib.Path, texts: list[tuple[str, str]]) -> pathlib.Path:
    folder.mkdir(parents=True)
    for name, text in texts:
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def renamed_copies(texts, copies: int) -> list[tuple[str, str]]:
    """``copies`` versions of every text, each a new article (its text differs by one line)."""
    return [
        (f"c{copy:02d}_{name}", f"{text}\n\nCopy {copy} of this report.")
        for copy in range(copies)
        for name, text in texts
    ]


def words(texts) -> int:
    from transforms.lib.text import count_words

    return sum(count_words(text) for _name, text in texts)


def measure_limit(texts, *, n_process: int) -> float:
    """Seconds for ``nlp.pipe`` over the texts with newsbeam's components, model preloaded."""
    from transforms.lib.nlp import load_model
    from transforms.lib.settings import DEFAULT_LIMITS

    nlp = load_model()
    started = time.perf_counter()
    for _doc in nlp.pipe(
        (t for _n, t in texts), batch_size=DEFAULT_LIMITS.batch_size, n_process=n_process
    ):
        pass
    return time.perf_counter() - started


def model_load_seconds() -> float:
    """One model load in a fresh interpreter, as a worker pays it."""
    code = (
        "import time; t = time.perf_counter(); from transforms.lib.nlp import load_model; "
        "load_model(); print(time.perf_counter() - t)"
    )
    return float(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout
    )


class PeakMemory:
    """Samples the RSS of a process and all its children until stopped."""

    def __init__(self, pid: int):
        self._process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                tree = [self._process, *self._process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def write_feeds(
    folder: pathlib.Path, texts: list[tuple[str, str]], *, files: int, per_feed: int
) -> list[pathlib.Path]:
    """``files`` RSS 2.0 files of ``per_feed`` entries, each entry one corpus text as HTML."""
    folder.mkdir(parents=True)
    paths = []
    for number in range(files):
        items = []
        for index in range(per_feed):
            name, text = texts[(number * per_feed + index) % len(texts)]
            paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p)
            link = f"https://desk{number % 7}.example.com/{number}/{index}"
            items.append(
                f"<item><title>{html.escape(name)} {number}-{index}</title><link>{link}</link>"
                f"<guid>{link}</guid><pubDate>Mon, 01 Jun 2026 {index % 24:02d}:00:00 GMT</pubDate>"
                f"<description>{html.escape(paragraphs)}</description></item>"
            )
        path = folder / f"feed{number:04d}.xml"
        path.write_text(
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>Desk {number}</title><link>https://desk{number % 7}.example.com/</link>"
            f"{''.join(items)}</channel></rss>",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def feedparser_seconds(paths: list[pathlib.Path]) -> tuple[float, int]:
    """Seconds ``feedparser.parse`` alone takes over ``paths``, and the entries it finds."""
    import feedparser

    started = time.perf_counter()
    entries = sum(len(feedparser.parse(io.BytesIO(p.read_bytes())).entries) for p in paths)
    return time.perf_counter() - started, entries


def ingest(
    corpus: pathlib.Path, output: pathlib.Path, *extra: str, inputs: list[str] | None = None
) -> dict:
    """Runs ``newsbeam ingest``; returns its _runs record plus the peak RSS of its process tree.

    ``inputs`` replaces the default ``--input corpus/*.txt``.
    """
    command = [
        sys.executable,
        "-m",
        "pipelines.cli",
        "ingest",
        *(inputs if inputs is not None else ["--input", str(corpus / "*.txt")]),
        "--output",
        str(output),
        *extra,
    ]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    memory = PeakMemory(process.pid)
    stdout, stderr = process.communicate()
    peak = memory.stop()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"newsbeam ingest failed:\n{stderr[-2000:]}")
    record = newest_run(output)  # the output may hold earlier runs (P7, P8)
    record["peak_rss"] = peak
    record["stdout"] = stdout
    record["wall_seconds"] = wall  # the whole command: start-up, model load and commit included
    return record


def topped_up(texts, count: int) -> list[tuple[str, str]]:
    """``count`` articles: the texts, then renamed copies of them (new ids) as needed."""
    copies = -(-count // len(texts))
    return (texts + renamed_copies(texts, copies))[:count] if count > len(texts) else texts[:count]


def timed_command(*arguments: str) -> tuple[float, str]:
    """Runs ``newsbeam`` with ``arguments`` in a fresh interpreter; its wall seconds and stderr.

    Fails on an exit status other than 0.
    """
    command = [sys.executable, "-m", "pipelines.cli", *arguments]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"newsbeam {arguments[0]} failed:\n{result.stderr[-2000:]}")
    return seconds, result.stderr


def newest_run(output: pathlib.Path) -> dict:
    """The newest run record of ``output`` (run ids begin with their start time)."""
    return json.loads(max((output / "_runs").glob("*.json")).read_text())


def dask_seconds(corpus: pathlib.Path, output: pathlib.Path, *, workers: int, load: float) -> float:
    """Seconds of a run on a new Dask cluster of ``workers`` one-thread workers, the model
    load (which each worker pays) excluded as for P1."""
    from tests.helpers import dask_cluster

    with dask_cluster(workers, folder=output.parent / f"{output.name}_cluster") as cluster:
        run = ingest(
            corpus, output, "--runner", "DaskRunner", "--dask_client_address", cluster.address
        )
    return run["pipeline_seconds"] - load


def load_averages() -> str:
    """``uptime``'s load averages over 1, 5 and 15 minutes."""
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def measure_alone(only: str, texts, n_words: int, repeat: int) -> None:
    """``--only p1``: L1 and P1; ``--only dask``: L1, L2, P1, D1 and D2; interleaved, the
    best of each kept."""
    print(f"load averages (1, 5, 15 min) before: {load_averages()}")
    work = pathlib.Path(tempfile.mkdtemp(prefix="newsbeam-bench-"))
    inf = float("inf")
    l1 = l2 = p1 = d1 = d2 = inf
    try:
        load = model_load_seconds()
        print(f"model load: {load:.2f} s (excluded from P1, D1 and D2)")
        corpus = write_corpus(work / "corpus", texts)
        for round_ in range(repeat):
            l1 = min(l1, measure_limit(texts, n_process=1))
            if only == "dask":
                l2 = min(l2, measure_limit(texts, n_process=2))
            p1 = min(p1, ingest(corpus, work / f"p1_{round_}")["pipeline_seconds"] - load)
            if only == "dask":
                d1 = min(d1, dask_seconds(corpus, work / f"d1_{round_}", workers=1, load=load))
                d2 = min(d2, dask_seconds(corpus, work / f"d2_{round_}", workers=2, load=load))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load averages (1, 5, 15 min) after: {load_averages()}")
    for name, seconds in (
        ("L1 nlp.pipe, 1 process", l1),
        ("L2 nlp.pipe, n_process=2", l2),
        ("P1 ingest, in-process", p1),
    ):
        if seconds < inf:
            print(
                f"{name:26} {n_words / seconds:8.0f} words/s  {len(texts) / seconds:6.2f} articles/s"
            )
    if only == "p1":
        print(f"P1/L1={l1 / p1:.2f}")
    else:
        print(dask_lines(texts, n_words, d1, d2))
        print(f"D1/P1={p1 / d1:.2f} D2/D1={d1 / d2:.2f} L2/L1={l1 / l2:.2f}")


def dask_lines(texts, n_words: int, d1: float, d2: float) -> str:
    return (
        f"D1 ingest, Dask, 1 worker:  {n_words / d1:8.0f} words/s  {len(texts) / d1:6.2f} articles/s\n"
        f"D2 ingest, Dask, 2 workers: {n_words / d2:8.0f} words/s  {len(texts) / d2:6.2f} articles/s"
    )


def ingest_side_by_side(corpora, output: pathlib.Path) -> float:
    """Seconds until the last of several in-process runs, started together, finishes."""
    with concurrent.futures.ThreadPoolExecutor(len(corpora)) as pool:
        runs = pool.map(lambda i: ingest(corpora[i], output / str(i)), range(len(corpora)))
        return max(run["pipeline_seconds"] for run in runs)


# C1's aggregate: a scan of every articles file, as a dashboard query makes it.
COMPACTION_SQL = (
    "select source, count(*) as articles, sum(word_count) as words, avg(length(text)) as chars "
    "from {articles} group by source order by articles desc"
)


def measure_compaction(work: pathlib.Path, texts, *, polls: int, repeat: int) -> dict:
    """C1: ``polls`` in-process ``--no-nlp`` runs of a share of the corpus each into one
    output (articles dated by the run: one partition); the parquet files, and the best of
    ``repeat`` timings of ``COMPACTION_SQL`` through a DuckDB glob and ``newsbeam.query``,
    before and after ``newsbeam compact`` (whose time is given too)."""
    import duckdb

    import newsbeam

    output = work / "c1"
    for poll in range(polls):
        share = texts[poll::polls]
        if share:
            folder = write_corpus(work / f"c1_{poll:03d}", share)
            newsbeam.ingest(str(folder / "*.txt"), output=str(output), nlp=False, quiet=True)
    glob = f"read_parquet('{output}/articles/*/*.parquet', hive_partitioning = true)"

    def timings() -> tuple[float, float, list]:
        plain = through_newsbeam = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            rows = duckdb.connect().sql(COMPACTION_SQL.format(articles=glob)).fetchall()
            plain = min(plain, time.perf_counter() - started)
            started = time.perf_counter()
            newsbeam.query(output, COMPACTION_SQL.format(articles="articles"), result="rows")
            through_newsbeam = min(through_newsbeam, time.perf_counter() - started)
        return plain, through_newsbeam, sorted(rows)

    def files() -> tuple[int, int]:
        # The table's empty file (date=1970-01-01, no rows) is no data file.
        articles = [
            p for p in output.glob("articles/date=*/*.parquet") if p.name != "empty.parquet"
        ]
        return len(articles), len({path.parent for path in articles})

    before = files(), timings()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "compact", str(output)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    compact_seconds = time.perf_counter() - started
    after = files(), timings()
    assert before[1][2] == after[1][2], "compaction changed the query's answer"
    return {
        "articles": sum(len(texts[poll::polls]) for poll in range(polls)),
        "files": (before[0][0], after[0][0]),
        "partitions": before[0][1],
        "glob_seconds": (before[1][0], after[1][0]),
        "query_seconds": (before[1][1], after[1][1]),
        "compact_seconds": compact_seconds,
    }


def print_compaction(figures: dict, *, polls: int) -> None:
    (files_before, files_after) = figures["files"]
    (glob_before, glob_after), (query_before, query_after) = (
        figures["glob_seconds"],
        figures["query_seconds"],
    )
    print(
        f"C1 compaction: {polls} polls, {figures['articles']} articles, "
        f"{figures['partitions']} partition(s): {files_before} articles files -> {files_after} "
        f"(compact {figures['compact_seconds']:.1f} s); DuckDB aggregate over the glob "
        f"{glob_before * 1000:.0f} ms -> {glob_after * 1000:.0f} ms "
        f"({glob_before / glob_after:.1f}x), through newsbeam.query "
        f"{query_before * 1000:.0f} ms -> {query_after * 1000:.0f} ms "
        f"({query_before / query_after:.1f}x)"
    )


def measure_rerun(texts, work: pathlib.Path, *, files: int) -> tuple[float, float]:
    """Seconds of a first ``ingest`` over ``files`` files and of a rerun over them unchanged
    into the same output, each the whole command as a cron job pays it."""
    cycled = [
        (f"r{i:05d}_{name}", text if i < len(texts) else f"{text}\n\nCopy {i // len(texts)}.")
        for i, (name, text) in ((i, texts[i % len(texts)]) for i in range(files))
    ]
    corpus = write_corpus(work / "rerun_corpus", cycled)
    first = ingest(corpus, work / "rerun")
    again = ingest(corpus, work / "rerun")
    assert again["stages"]["read"]["unchanged_files"] == files, again["stages"]["read"]
    assert again["stages"]["read"]["files"] == 0, again["stages"]["read"]
    return first["wall_seconds"], again["wall_seconds"]


def rerun_line(files: int, first: float, again: float) -> str:
    return (
        f"Rerun over {files} unchanged files: {again:.1f} s against {first:.1f} s for the "
        f"first run: {again / first:.3f}x (target <= 0.05)"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=pathlib.Path, help="folder of .txt articles")
    parser.add_argument("--limit", type=int, help="use only the first N articles")
    parser.add_argument(
        "--memory-limit",
        type=int,
        default=100,
        help="articles in the 1x corpus of P4 (default 100)",
    )
    parser.add_argument(
        "--feed-files", type=int, default=300, help="feed files of P6 (default 300)"
    )
    parser.add_argument(
        "--entries-per-feed", type=int, default=10, help="entries per P6 feed (default 10)"
    )
    parser.add_argument(
        "--p3-articles",
        type=int,
        default=None,
        help="articles of P3, the corpus topped up with renamed copies (default: "
        "$NEWSBEAM_BENCH_P3_ARTICLES, else the corpus)",
    )
    parser.add_argument(
        "--poll-base",
        type=int,
        default=10_000,
        help="articles already in the output of the P8 poll (default 10000)",
    )
    parser.add_argument(
        "--poll-new", type=int, default=20, help="new articles the P8 poll finds (default 20)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="take each timed figure N times, interleaved, and keep the fastest (default 2)",
    )
    parser.add_argument(
        "--polls", type=int, default=100, help="small runs before C1's compaction (default 100)"
    )
    parser.add_argument(
        "--rerun-files",
        type=int,
        default=1000,
        help="files of the Rerun figure's corpus (default 1000)",
    )
    parser.add_argument(
        "--only",
        choices=("compaction", "rerun", "p8", "p1", "dask"),
        help="measure this alone and print no final line: C1 (compaction), Rerun, "
        "P7 and P8 (p8), L1 and P1 (p1), or L1, L2, P1, D1 and D2 (dask)",
    )
    parser.add_argument(
        "--work",
        type=pathlib.Path,
        help="keep the P7/P8 output of --poll-base articles in this folder and reuse it "
        "next time (default: build it afresh in a temporary folder)",
    )
    args = parser.parse_args(argv)
    if args.p3_articles is None and os.environ.get("NEWSBEAM_BENCH_P3_ARTICLES"):
        args.p3_articles = int(os.environ["NEWSBEAM_BENCH_P3_ARTICLES"])

    texts = load_corpus(args.corpus, args.limit)
    if args.only == "rerun":
        work = pathlib.Path(tempfile.mkdtemp(prefix="newsbeam-bench-"))
        try:
            first, again = measure_rerun(texts, work, files=args.rerun_files)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(rerun_line(args.rerun_files, first, again))
        return 0
    n_words = words(texts)
    print(
        f"machine: {platform.machine()}, {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"
    )
    print(
        f"corpus: {len(texts)} articles, {n_words} words ({args.corpus or ('PolNeAR train' if POLNEAR.exists() else 'generated from seeds')})"
    )
    if args.only in ("p1", "dask"):
        measure_alone(args.only, texts, n_words, args.repeat)
        return 0

    work = pathlib.Path(tempfile.mkdtemp(prefix="newsbeam-bench-"))
    if args.only == "p8":
        try:
            measure_small_runs(args, texts, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    if args.only == "compaction":
        try:
            figures = measure_compaction(work, texts, polls=args.polls, repeat=max(3, args.repeat))
            print_compaction(figures, polls=args.polls)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return 0
    try:
        load = model_load_seconds()
        print(f"model load: {load:.2f} s (excluded from P1 and P2)")

        corpus = write_corpus(work / "corpus", texts)
        two_workers = ("--direct_running_mode", "multi_processing", "--direct_num_workers", "2")
        halves = [write_corpus(work / f"half{i}", texts[i::2]) for i in range(2)]
        l1 = l2 = p1 = p2 = side_by_side = float("inf")
        for round_ in range(args.repeat):
            l1 = min(l1, measure_limit(texts, n_process=1))
            l2 = min(l2, measure_limit(texts, n_process=2))
            p1_run = ingest(corpus, work / f"p1_{round_}")
            p1 = min(p1, p1_run["pipeline_seconds"] - load)
            p2 = min(
                p2, ingest(corpus, work / f"p2_{round_}", *two_workers)["pipeline_seconds"] - load
            )
            side_by_side = min(
                side_by_side, ingest_side_by_side(halves, work / f"h{round_}") - load
            )
        print(
            f"L1 nlp.pipe, 1 process:   {n_words / l1:8.0f} words/s  {len(texts) / l1:6.2f} articles/s"
        )
        print(
            f"L2 nlp.pipe, n_process=2: {n_words / l2:8.0f} words/s  {len(texts) / l2:6.2f} articles/s"
        )
        print(
            f"P1 ingest, in-process:    {n_words / p1:8.0f} words/s  {len(texts) / p1:6.2f} articles/s"
        )
        print(
            f"P2 ingest, 2 workers:     {n_words / p2:8.0f} words/s  {len(texts) / p2:6.2f} articles/s"
        )
        print(
            f"P2 ceiling: two in-process runs side by side, each on half the corpus, "
            f"{side_by_side:.1f} s: P1 over this is {p1 / side_by_side:.2f}, "
            f"the P2/P1 of two workers that cost nothing beyond two processes"
        )
        p3_texts = topped_up(texts, args.p3_articles) if args.p3_articles else texts
        p3_corpus = corpus if p3_texts is texts else write_corpus(work / "p3corpus", p3_texts)
        p3_seconds = min(
            ingest(p3_corpus, work / f"p3_{round_}", "--no-nlp")["pipeline_seconds"]
            for round_ in range(args.repeat)
        )
        p3 = len(p3_texts) / p3_seconds
        print(
            f"P3 ingest --no-nlp:       {p3:8.0f} articles/s  ({len(p3_texts)} articles "
            f"in {p3_seconds:.1f} s)"
        )

        small = texts[: args.memory_limit]
        p4_1 = ingest(write_corpus(work / "m1", small), work / "p4_1")["peak_rss"]
        p4_10 = ingest(write_corpus(work / "m10", renamed_copies(small, 10)), work / "p4_10")[
            "peak_rss"
        ]
        print(
            f"P4 peak memory: {p4_1 / 2**20:.0f} MB at 1x ({len(small)} articles), {p4_10 / 2**20:.0f} MB at 10x"
        )

        extra = len(texts) * 3 // 10
        duplicates = [(f"dup_{name}", text) for name, text in texts[:extra]]
        distinct = [(f"new_{name}", f"{text}\n\nA new report.") for name, text in texts[:extra]]
        dups_corpus = write_corpus(work / "d", texts + duplicates)
        new_corpus = write_corpus(work / "n", texts + distinct)
        base = with_dups = with_new = float("inf")
        for round_ in range(args.repeat):
            # The corpus alone is run again here, next to the other two, so the
            # cost of a duplicate is measured against runs under the same load.
            base = min(base, ingest(corpus, work / f"p5_b{round_}")["pipeline_seconds"] - load)
            dups_run = ingest(dups_corpus, work / f"p5_d{round_}")
            # The corpus may hold duplicates of its own (PolNeAR train has one).
            assert dups_run["stages"]["dedupe"]["duplicates"] >= extra, dups_run["stages"]["dedupe"]
            with_dups = min(with_dups, dups_run["pipeline_seconds"] - load)
            with_new = min(
                with_new, ingest(new_corpus, work / f"p5_n{round_}")["pipeline_seconds"] - load
            )
        p5 = with_dups / with_new
        # On a tiny corpus the new articles may cost nothing measurable.
        added = with_new - base
        duplicate_cost = f"{(with_dups - base) / added:.2f}" if added > 0 else "n/a"
        print(
            f"P5 corpus alone: {base:.1f} s; +30% duplicates: {with_dups:.1f} s; "
            f"+30% new articles: {with_new:.1f} s; a duplicate costs {duplicate_cost} "
            f"of a new article (floor of P5 with free duplicates: {1 / 1.3:.2f})"
        )

        feed_paths = write_feeds(
            work / "feeds", texts, files=args.feed_files, per_feed=args.entries_per_feed
        )
        feed_arguments = [argument for p in feed_paths for argument in ("--feeds", str(p))]
        p6_seconds = parse_seconds = float("inf")
        for round_ in range(args.repeat):
            p6_run = ingest(corpus, work / f"p6_{round_}", "--no-nlp", inputs=feed_arguments)
            p6_seconds = min(p6_seconds, p6_run["pipeline_seconds"])
            seconds, entries = feedparser_seconds(feed_paths)
            parse_seconds = min(parse_seconds, seconds)
        p6 = entries / p6_seconds
        p6_share = parse_seconds / p6_seconds
        print(
            f"P6 feeds --no-nlp: {len(feed_paths)} files, {entries} entries in {p6_seconds:.1f} s: "
            f"{p6:.0f} entries/s; feedparser.parse alone {entries / parse_seconds:.0f} entries/s "
            f"({p6_share:.2f} of its speed)"
        )

        p7, p8 = measure_small_runs(args, texts, work)
        compaction = measure_compaction(work, texts, polls=args.polls, repeat=max(3, args.repeat))
        print_compaction(compaction, polls=args.polls)
        first, again = measure_rerun(texts, work, files=args.rerun_files)
        rerun = again / first
        print(rerun_line(args.rerun_files, first, again))
        d1 = d2 = float("inf")
        for round_ in range(args.repeat):
            d1 = min(d1, dask_seconds(corpus, work / f"d1_{round_}", workers=1, load=load))
            d2 = min(d2, dask_seconds(corpus, work / f"d2_{round_}", workers=2, load=load))
        print(dask_lines(texts, n_words, d1, d2))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"P1/L1={l1 / p1:.2f} P2/L2={l2 / p2:.2f} P2/P1={p1 / p2:.2f} P3={p3:.0f}/s "
        f"P4_growth={p4_10 / p4_1:.2f} P4_peak={p4_10 / 2**20:.0f}MB P5={p5:.2f} "
        f"P6={p6:.0f}/s P6/feedparser={p6_share:.2f} P7={p7:.2f}s P8={p8:.2f} "
        f"C1_files_before={compaction['files'][0]} C1_files_after={compaction['files'][1]} "
        f"C1_speedup={compaction['glob_seconds'][0] / compaction['glob_seconds'][1]:.2f} "
        f"Rerun={rerun:.3f} D1/P1={p1 / d1:.2f} D2/D1={d1 / d2:.2f}"
    )
    return 0


def measure_small_runs(args, texts, work: pathlib.Path) -> tuple[float, float]:
    """P7 and P8, in an output of ``--poll-base`` articles (``poll_base``).

    Returns the fixed cost of a run (pipeline seconds) and the steady poll's
    share of ``nlp.pipe``'s speed on the same new articles.
    """
    base, held = poll_base(args, texts, work)
    empty = work / "poll_empty.jsonl"
    empty.write_text("\n")
    p7_command, _ = timed_command("ingest", "--input", str(empty), "--output", str(base))
    p7_run = newest_run(base)
    p7 = p7_run["pipeline_seconds"]
    print(
        f"P7 fixed cost of a run of 0 new articles, output of {held} articles: "
        f"{p7:.2f} s pipeline, {p7_run['elapsed_seconds']:.2f} s with the model check, "
        f"{p7_command:.2f} s the whole command"
    )
    polls = measure_polls(args, texts, base, work)
    p8 = polls["limit"] / polls["steady"]
    print(
        f"P8 watch poll finding {args.poll_new} new articles in {held}, the watcher running: "
        f"{polls['steady']:.2f} s; nlp.pipe on them {polls['limit']:.2f} s: {p8:.2f} of the "
        f"model's speed (target 0.6); the first poll of a fresh watch {polls['first']:.2f} s "
        f"({polls['limit'] / polls['first']:.2f}: its start-up included)"
    )
    return p7, p8


# Polls timed in each watch process after its first, which pays the start-up.
STEADY_POLLS = 2


def poll_base(args, texts, work: pathlib.Path) -> tuple[pathlib.Path, int]:
    """A fresh copy of the P7/P8 output and the articles it holds: the corpus with NLP (the
    P1 output when this run made one), topped up with ``--no-nlp`` copies to ``--poll-base``.

    With ``--work DIR`` the built output is kept in DIR and copied from there next time
    (for the same corpus and ``--poll-base``), so ``--only p8`` builds it once.
    """
    more = topped_up(texts, args.poll_base)[len(texts) :]
    held = len(texts) + len(more)
    key = f"{len(texts)}-{held}-{zlib.crc32(''.join(n for n, _t in texts).encode()):08x}"
    kept = args.work / f"poll_base-{key}" if args.work else work / "poll_base_built"
    if not kept.exists():
        building = kept.with_name(kept.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        if (work / "p1_0").exists():
            shutil.copytree(work / "p1_0", building)
        else:
            ingest(write_corpus(work / "poll_corpus", texts), building)
        if more:
            ingest(write_corpus(work / "poll_more", more), building, "--no-nlp")
        building.rename(kept)  # a base half built is never taken for a whole one
    base = work / "poll_base"
    shutil.rmtree(base, ignore_errors=True)
    shutil.copytree(kept, base)
    return base, held


def measure_polls(args, texts, base: pathlib.Path, work: pathlib.Path) -> dict:
    """Seconds of watch polls that each find ``--poll-new`` new articles in ``base``.

    Each of ``--repeat`` rounds starts one ``newsbeam watch`` (interval 1 s) over a drop
    folder that holds a first batch; after the first poll, ``STEADY_POLLS`` more batches
    are dropped in, each as one folder rename (so no poll sees half a batch), each once the
    poll before has written its run record. Returns the fastest ``first`` poll (start-up
    included), the fastest ``steady`` poll (the watcher running, as for hours), and the
    fastest ``limit``: ``nlp.pipe`` on a batch, timed while the watcher idles.
    """
    fastest = {"first": float("inf"), "steady": float("inf"), "limit": float("inf")}
    for round_ in range(args.repeat):
        drop = work / f"poll_drop{round_}"
        drop.mkdir()
        batches = [
            [
                (f"poll{round_}_{batch}_{name}", f"{text}\n\nPoll {round_}.{batch}, a new report.")
                for name, text in topped_up(texts, args.poll_new)
            ]
            for batch in range(1 + STEADY_POLLS)
        ]
        write_corpus(drop / "batch0", batches[0])
        log = (work / f"poll_watch{round_}.log").open("w")
        before = runs_in(base)
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "watch", "--input", str(drop / "*" / "*.txt"),
             "--output", str(base), "--interval", "1s", "--settle", "0"],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            for batch, fresh in enumerate(batches):
                if batch:
                    staged = write_corpus(work / f"poll_staged{round_}_{batch}", fresh)
                    before = runs_in(base)
                    staged.rename(drop / f"batch{batch}")
                record = next_run(base, before, process, log.name)
                assert record["balance"]["written"] == len(fresh), record["balance"]
                figure = "steady" if batch else "first"
                fastest[figure] = min(fastest[figure], record["elapsed_seconds"])
                fastest["limit"] = min(fastest["limit"], measure_limit(fresh, n_process=1))
        finally:
            process.terminate()  # SIGTERM: watch stops after the poll under way
            returncode = process.wait(timeout=120)
            log.close()
        if returncode != 0:
            raise SystemExit(
                f"newsbeam watch failed:\n{pathlib.Path(log.name).read_text()[-2000:]}"
            )
    return fastest


def runs_in(output: pathlib.Path) -> set[pathlib.Path]:
    return set((output / "_runs").glob("*.json"))


def next_run(output: pathlib.Path, before: set, process: subprocess.Popen, log: str) -> dict:
    """The first run record ``process`` writes to ``output`` beyond those ``before``; fails
    when the process ends or no record comes within ten minutes."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        written = runs_in(output) - before
        if written:
            return json.loads(max(written).read_text())
        if process.poll() is not None:
            raise SystemExit(f"newsbeam watch ended:\n{pathlib.Path(log).read_text()[-2000:]}")
        time.sleep(0.05)
    raise SystemExit("newsbeam watch wrote no run record in ten minutes")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
