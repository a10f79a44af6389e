"""newsbeam from Python: news files and feeds to entities, quotes and Parquet.

The same commands as the ``newsbeam`` CLI, with its options as keyword
arguments (``--max-file-bytes`` is ``max_file_bytes``)::

    import newsbeam

    run = newsbeam.ingest(input="seeds/0*", output="out", labels="person,org")
    run.articles, run.counts["write"]["entities"], run.elapsed
    newsbeam.query("out", "select speaker, count(*) from quotes group by 1", result="pandas")
    print(newsbeam.stats("out", limit=5))
    newsbeam.report("out", output="report.html", since="2025-01-01")

The spaCy model is loaded once per process: later ``ingest`` calls reuse it.
Problems the caller can fix raise ``UsageError`` before anything runs; a
run that fails as a whole raises ``RunFailed`` and commits nothing.
"""

from importlib import metadata

from newsbeam._api import RunSummary, UsageError, ingest, query, report, stats
from pipelines.cli import RunFailed

try:
    __version__ = metadata.version("newsbeam")
except metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "RunFailed",
    "RunSummary",
    "UsageError",
    "__version__",
    "ingest",
    "query",
    "report",
    "stats",
]
