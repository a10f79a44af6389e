"""NormalizeArticles: raw records to articles rows, with a dead-letter output."""

import datetime as dt

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.lib import counters
from transforms.lib.normalize import normalize_article
from transforms.lib.records import Stage

__all__ = ["ERRORS", "NormalizeArticles"]

STAGE = Stage.NORMALIZE


class _NormalizeFn(DeadLetterFn):
    def __init__(self, ingested_at: dt.datetime, time_limit: float | None):
        super().__init__(
            stage=STAGE, ingested_at=ingested_at, errors_metric=counters.NORMALIZE_ERRORS
        )
        self._time_limit = time_limit
        self._articles = Metrics.counter(counters.NAMESPACE, counters.NORMALIZE_ARTICLES)
        self._warnings = Metrics.counter(counters.NAMESPACE, counters.NORMALIZE_WARNINGS)

    def process(self, raw):
        origin = raw.get("origin") or "?"
        yield from self.guarded(self._normalize(raw, origin), origin=origin)

    def _normalize(self, raw, origin):
        article, problems = normalize_article(
            raw, ingested_at=self._ingested_at, time_limit=self._time_limit
        )
        for problem in problems:  # the article is kept; the problem is still reported
            yield self.dead_letter(problem, origin=origin, counter=self._warnings)
        self._articles.inc()
        yield article


class NormalizeArticles(beam.PTransform):
    """Raw records to articles rows (see ``transforms.articles.normalize_article``).

    Main output: articles rows. ``ERRORS``: rows for records that held no
    usable article, and for kept articles whose date had to be dropped.
    """

    def __init__(self, *, ingested_at: dt.datetime, time_limit: float | None = None):
        super().__init__()
        self._ingested_at = ingested_at
        self._time_limit = time_limit

    def expand(self, raw_records):
        return raw_records | "Normalize" >> beam.ParDo(
            _NormalizeFn(self._ingested_at, self._time_limit)
        ).with_outputs(ERRORS, main="articles")
