"""DeduplicateArticles: one row per ``article_id``, before any NLP.

Duplicates are dropped within the run and, when the ids already in the
output are given, against earlier runs too, so rerunning the same input adds
nothing and an interrupted run can simply be run again.
"""

import datetime as dt
import logging

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes

from transforms import metrics, store
from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.lib import counters
from transforms.lib.dedupe import choose_article
from transforms.lib.records import ErrorType, Rejected, Stage
from transforms.tagged import COUNTS, Branches, Tagged

__all__ = [
    "COUNTS",
    "DUPLICATES",
    "EARLIER_RUN",
    "ERRORS",
    "DeduplicateArticles",
    "ReadExistingIds",
    "corrupt_file",
]

ARTICLES = "articles"
IDS = "ids"
DUPLICATES = "duplicates"
EARLIER_RUN = "(earlier run)"  # the ``kept`` of a copy of an article already in the output
STAGE = Stage.DEDUPE
_log = logging.getLogger("newsbeam.dedupe")


def corrupt_file(path: str, problem: BaseException, *, consequence: str) -> Rejected:
    """The ``corrupt_output_file`` reject for a committed Parquet file that cannot be read."""
    cause = " ".join(str(problem).split())[:300] or type(problem).__name__
    return Rejected(
        ErrorType.CORRUPT_OUTPUT_FILE,
        f"{path} cannot be read ({cause}); {consequence}",
        origin=path,
    )


class _ReadIdsFn(DeadLetterFn):
    """A committed articles file to its ids; a file that cannot be read to one warning line
    and an errors row, never a failed run."""

    def __init__(self, ingested_at: dt.datetime):
        super().__init__(stage=STAGE, ingested_at=ingested_at, errors_metric=counters.DEDUPE_ERRORS)

    def process(self, readable_file):
        path = readable_file.metadata.path
        try:
            with readable_file.open(compression_type=CompressionTypes.UNCOMPRESSED) as handle:
                ids = pq.read_table(handle, columns=["article_id"]).column("article_id")
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
            reject = corrupt_file(path, exc, consequence="the articles in it may be ingested again")
            _log.warning(reject.message)
            yield from self.dead_letter(reject, origin=path)
            return
        for article_id in ids.to_pylist():
            yield Tagged(IDS, article_id)


class ReadExistingIds(beam.PTransform):
    """The ``article_id`` of every article already in ``output_dir`` (one column read).

    Returns ``Outputs``: ``ids``; ``ERRORS``, one row (stage ``dedupe``, error
    type ``corrupt_output_file``) per committed file that cannot be read (its
    ids are not known, so its articles may be written again); ``COUNTS``.
    """

    def __init__(self, output_dir: str, *, ingested_at: dt.datetime):
        super().__init__()
        self._pattern = store.table_files(output_dir, "articles")
        self._ingested_at = ingested_at

    def expand(self, pbegin):
        return (
            pbegin
            | "ArticlesPattern" >> beam.Create([self._pattern])
            | "MatchArticleFiles"
            >> fileio.MatchAll(empty_match_treatment=fileio.EmptyMatchTreatment.ALLOW)
            | "OpenArticleFiles" >> fileio.ReadMatches()
            | "ReadIds" >> beam.ParDo(_ReadIdsFn(self._ingested_at))
            | "Branches" >> Branches(IDS, ERRORS, COUNTS)
        )


class _KeepOneFn(beam.DoFn):
    def __init__(self):
        self._duplicates = metrics.counter(counters.DEDUPE_DUPLICATES)
        self._already = metrics.counter(counters.DEDUPE_ALREADY_IN_OUTPUT)
        self._unique = metrics.counter(counters.DEDUPE_UNIQUE)

    def process(self, keyed):
        _article_id, grouped = keyed
        copies = list(grouped["new"])
        if not copies:
            return
        if any(True for _ in grouped["existing"]):
            yield self._already.count(len(copies))
            for copy in copies:
                yield Tagged(DUPLICATES, _declared(copy, kept=EARLIER_RUN))
            return
        kept, duplicates = choose_article(copies)
        yield self._unique.count()
        yield Tagged(ARTICLES, kept)
        if duplicates:
            yield self._duplicates.count(len(duplicates))
        for duplicate in duplicates:
            yield Tagged(DUPLICATES, _declared(duplicate, kept=kept["origin"]))


def _declared(article: dict, *, kept: str) -> dict:
    return {"article_id": article["article_id"], "origin": article["origin"], "kept": kept}


class DeduplicateArticles(beam.PTransform):
    """Articles to unique articles by ``article_id``.

    ``existing_ids``, if given, is a PCollection of ids already written;
    their articles are dropped too. Returns ``Outputs``: ``articles``, one
    per new id; ``DUPLICATES``, one small record per dropped copy (its id,
    its origin and the origin of the copy kept), so no article disappears
    without a trace; ``COUNTS``.
    """

    def __init__(self, existing_ids=None):
        super().__init__()
        self._existing_ids = existing_ids

    def expand(self, articles):
        keyed = articles | "KeyById" >> beam.Map(lambda article: (article["article_id"], article))
        if self._existing_ids is None:
            existing = articles.pipeline | "NoExistingIds" >> beam.Create([])
        else:
            existing = self._existing_ids | "KeyExistingIds" >> beam.Map(lambda i: (i, True))
        return (
            {"new": keyed, "existing": existing}
            | "GroupById" >> beam.CoGroupByKey()
            | "KeepOne" >> beam.ParDo(_KeepOneFn())
            | "Branches" >> Branches(ARTICLES, DUPLICATES, COUNTS)
        )
