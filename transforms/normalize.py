"""NormalizeArticles: raw records to articles rows, with a dead-letter output."""

import datetime as dt

import apache_beam as beam

from transforms import metrics
from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.lib import counters
from transforms.lib.limits import WorkerProcess
from transforms.lib.normalize import normalize_article, warm_up_extraction
from transforms.lib.records import Stage
from transforms.tagged import COUNTS, Branches, Tagged

__all__ = ["COUNTS", "ERRORS", "NormalizeArticles"]

STAGE = Stage.NORMALIZE
ARTICLES = "articles"


class _NormalizeFn(DeadLetterFn):
    def __init__(self, ingested_at: dt.datetime, time_limit: float | None):
        super().__init__(
            stage=STAGE, ingested_at=ingested_at, errors_metric=counters.NORMALIZE_ERRORS
        )
        self._time_limit = time_limit
        self._articles = metrics.counter(counters.NORMALIZE_ARTICLES)
        self._warnings = metrics.counter(counters.NORMALIZE_WARNINGS)
        self._extractor = None

    def setup(self):
        # HTML extraction runs (and is stopped) in a child process; it starts at the first page.
        self._extractor = WorkerProcess(setup=warm_up_extraction, name="newsbeam-html")

    def teardown(self):
        if self._extractor is not None:
            self._extractor.close()

    def process(self, raw):
        origin = raw.get("origin") or "?"
        yield from self.guarded(self._normalize(raw, origin), origin=origin)

    def _normalize(self, raw, origin):
        article, problems = normalize_article(
            raw, ingested_at=self._ingested_at, time_limit=self._time_limit, worker=self._extractor
        )
        for problem in problems:  # the article is kept; the problem is still reported
            yield from self.dead_letter(problem, origin=origin, counter=self._warnings)
        yield self._articles.count()
        yield Tagged(ARTICLES, article)


class NormalizeArticles(beam.PTransform):
    """Raw records to articles rows (see ``transforms.articles.normalize_article``).

    Returns ``Outputs``: ``articles`` rows; ``ERRORS``, rows for records that
    held no usable article, and for kept articles whose date had to be
    dropped; ``COUNTS``, count records.
    """

    def __init__(self, *, ingested_at: dt.datetime, time_limit: float | None = None):
        super().__init__()
        self._ingested_at = ingested_at
        self._time_limit = time_limit

    def expand(self, raw_records):
        return (
            raw_records
            | "Normalize" >> beam.ParDo(_NormalizeFn(self._ingested_at, self._time_limit))
            | "Branches" >> Branches(ARTICLES, ERRORS, COUNTS)
        )
