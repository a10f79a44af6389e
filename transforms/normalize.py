"""NormalizeArticles: raw records to articles rows, with a dead-letter output."""

import datetime as dt

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.articles import normalize_article
from transforms.records import Rejected, crash_row, reject_row

__all__ = ["ERRORS", "NormalizeArticles"]

ERRORS = "errors"
STAGE = "normalize"


class _NormalizeFn(beam.DoFn):
    def __init__(self, ingested_at: dt.datetime):
        self._ingested_at = ingested_at
        self._articles = Metrics.counter("newsbeam", "normalize.articles")
        self._errors = Metrics.counter("newsbeam", "normalize.errors")
        self._warnings = Metrics.counter("newsbeam", "normalize.warnings")

    def process(self, raw):
        origin = raw.get("origin") or "?"
        try:
            article, problems = normalize_article(raw, ingested_at=self._ingested_at)
        except Rejected as reject:
            self._errors.inc()
            yield beam.pvalue.TaggedOutput(
                ERRORS,
                reject_row(reject, stage=STAGE, origin=origin, ingested_at=self._ingested_at),
            )
            return
        except Exception as exc:  # a library failure must not stop the run
            self._errors.inc()
            yield beam.pvalue.TaggedOutput(
                ERRORS, crash_row(exc, stage=STAGE, origin=origin, ingested_at=self._ingested_at)
            )
            return
        for problem in problems:
            self._warnings.inc()
            yield beam.pvalue.TaggedOutput(
                ERRORS,
                reject_row(problem, stage=STAGE, origin=origin, ingested_at=self._ingested_at),
            )
        self._articles.inc()
        yield article


class NormalizeArticles(beam.PTransform):
    """Raw records to articles rows (see ``transforms.articles.normalize_article``).

    Main output: articles rows. ``ERRORS``: rows for records that held no
    usable article, and for kept articles whose date had to be dropped.
    """

    def __init__(self, *, ingested_at: dt.datetime):
        super().__init__()
        self._ingested_at = ingested_at

    def expand(self, raw_records):
        return raw_records | "Normalize" >> beam.ParDo(
            _NormalizeFn(self._ingested_at)
        ).with_outputs(ERRORS, main="articles")
