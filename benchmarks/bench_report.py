"""Benchmark ``newsbeam report`` against one DuckDB scan of the entities table.

Ingests the PolNeAR train texts (as ``benchmarks/bench_pipeline.py`` reads them) into an
output folder, or reuses one given with ``--output`` that already holds articles, then
times, in one process and interleaved, each ``--rounds`` times (the fastest kept):

* the scan: ``query.connect`` and every row and column of ``entities`` read into Arrow;
* the report: ``corpus_report.write_report``, queries, charts and the file.

The report's own split is printed too: charts are drawn in worker processes while the
queries run, and the time the page then still waits for them. The last line is
``report=...s scan=...s ratio=...``.

Usage: python benchmarks/bench_report.py [--output DIR] [--limit N] [--rounds N]
Exits 0 with a "skipped" message when ../shared/evaldata is absent.
"""

import argparse
import pathlib
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.quotes_polnear import TEXTS  # noqa: E402


def ingest(texts: list[pathlib.Path], output: pathlib.Path) -> float:
    """Runs ``newsbeam ingest`` on ``texts`` (linked into one folder); returns its seconds."""
    corpus = output.parent / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for path in texts:
        link = corpus / path.name
        if not link.exists():
            link.symlink_to(path)
    started = time.perf_counter()
    command = ["ingest", "--input", f"{corpus}/*.txt", "--output", str(output), "--quiet"]
    subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *command],
        check=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def scan_seconds(output: pathlib.Path) -> tuple[float, int]:
    """One scan: connect, and every entities row and column read into Arrow."""
    from pipelines import query

    started = time.perf_counter()
    rows = query.connect(str(output)).sql("SELECT * FROM entities").to_arrow_table().num_rows
    return time.perf_counter() - started, rows


def report_seconds(output: pathlib.Path, page: pathlib.Path) -> tuple[float, float, int]:
    """The whole report, and the part of it spent waiting for charts after the queries."""
    from pipelines import corpus_report

    waiting = []
    original = corpus_report._Page.drawn

    def timed(self, body):
        started = time.perf_counter()
        try:
            return original(self, body)
        finally:
            waiting.append(time.perf_counter() - started)

    corpus_report._Page.drawn = timed
    try:
        started = time.perf_counter()
        written = corpus_report.write_report(str(output), str(page))
        return time.perf_counter() - started, sum(waiting), written.charts
    finally:
        corpus_report._Page.drawn = original


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=pathlib.Path, default=None, help="output to (re)use")
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument("--rounds", type=int, default=3, help="timings of each; fastest kept")
    args = parser.parse_args(argv)
    if not TEXTS.exists():
        print(f"skipped: {TEXTS} absent")
        return 0
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench_report_"))
    output = args.output or work / "out"
    if not (output / "articles").is_dir():
        texts = sorted(TEXTS.glob("*.txt"))[: args.limit]
        seconds = ingest(texts, output)
        print(f"ingested {len(texts)} PolNeAR train texts into {output} in {seconds:.0f} s")
    page = work / "report.html"
    report_seconds(output, page)  # warm: file cache, imports
    scans, reports = [], []
    for _ in range(args.rounds):
        scans.append(scan_seconds(output))
        reports.append(report_seconds(output, page))
    scan, rows = min(scans)
    report, waiting, charts = min(reports)
    print(f"entities: {rows} rows; report: {charts} charts, {page.stat().st_size:,} bytes")
    print(f"scan {scan:.3f} s; report {report:.3f} s, of which waiting for charts {waiting:.3f} s")
    print(f"report={report:.3f}s scan={scan:.3f}s ratio={report / scan:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
