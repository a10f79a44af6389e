"""Errors once per failing input: a failure already in the ``errors`` table is not written again.

An input that fails the same way run after run (a file read again after a
change, a feed that is down, a page that is gone) would add the same row
each time. A row is the same failure as one already written when its
origin, stage and error type are (``records.error_key``); it is counted as
seen before instead. An ``invalid_date`` warning about an article the run
then drops as already in the output is left out too: the article it warns
about is not written either. The errors are still counted where they arose,
so the run's balance is unchanged.
"""

import datetime as dt
import logging

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes

from transforms import metrics, store
from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.dedupe import corrupt_file
from transforms.lib import counters
from transforms.lib.records import Stage, error_key, is_article_warning
from transforms.tagged import COUNTS, Branches, Outputs, Tagged

__all__ = ["COUNTS", "ERRORS", "KEYS", "KeepNewErrors", "ReadSeenErrors"]

KEYS = "keys"
ROWS = "rows"

_KEY_COLUMNS = ["origin", "stage", "error_type"]  # in the order of records.error_key
_log = logging.getLogger("newsbeam.errors")


class _ReadErrorKeysFn(DeadLetterFn):
    """A committed errors file to the key of each of its rows; a file that cannot be read to
    one warning line and an errors row, never a failed run."""

    def __init__(self, ingested_at: dt.datetime):
        super().__init__(
            stage=Stage.DEDUPE, ingested_at=ingested_at, errors_metric=counters.DEDUPE_ERRORS
        )

    def process(self, readable_file):
        path = readable_file.metadata.path
        try:
            with readable_file.open(compression_type=CompressionTypes.UNCOMPRESSED) as handle:
                columns = pq.read_table(handle, columns=_KEY_COLUMNS).to_pydict()
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
            reject = corrupt_file(path, exc, consequence="the errors in it may be written again")
            _log.warning(reject.message)
            yield from self.dead_letter(reject, origin=path)
            return
        for key in zip(*(columns[name] for name in _KEY_COLUMNS), strict=True):
            yield Tagged(KEYS, key)


class ReadSeenErrors(beam.PTransform):
    """The key (``records.error_key``) of every errors row already in ``output_dir``.

    Returns ``Outputs``: ``KEYS``, the keys; ``ERRORS``, one
    ``corrupt_output_file`` row (stage ``dedupe``) per committed errors file
    that cannot be read; ``COUNTS``.
    """

    def __init__(self, output_dir: str, *, ingested_at: dt.datetime):
        super().__init__()
        self._pattern = store.table_files(output_dir, "errors")
        self._ingested_at = ingested_at

    def expand(self, pbegin):
        return (
            pbegin
            | "ErrorsPattern" >> beam.Create([self._pattern])
            | "MatchErrorFiles"
            >> fileio.MatchAll(empty_match_treatment=fileio.EmptyMatchTreatment.ALLOW)
            | "OpenErrorFiles" >> fileio.ReadMatches()
            | "ReadErrorKeys" >> beam.ParDo(_ReadErrorKeysFn(self._ingested_at))
            | "Branches" >> Branches(KEYS, ERRORS, COUNTS)
        )


class _DropDuplicateWarningsFn(beam.DoFn):
    def __init__(self):
        self._dropped = metrics.counter(counters.ERRORS_DUPLICATE_WARNINGS)

    def process(self, keyed):
        _origin, grouped = keyed
        already_written = any(True for _ in grouped["dropped"])
        dropped = 0
        for row in grouped["errors"]:
            if already_written and is_article_warning(row):
                dropped += 1
            else:
                yield Tagged(ROWS, row)
        if dropped:
            yield self._dropped.count(dropped)


class _DropSeenFn(beam.DoFn):
    def __init__(self):
        self._seen = metrics.counter(counters.ERRORS_SEEN_BEFORE)

    def process(self, keyed):
        _key, grouped = keyed
        rows = grouped["errors"]
        if any(True for _ in grouped["seen"]):
            yield self._seen.count(sum(1 for _ in rows))
            return
        for row in rows:
            yield Tagged(ROWS, row)


class KeepNewErrors(beam.PTransform):
    """Errors rows to those the output does not hold yet.

    ``seen`` holds the keys of the rows already written (``ReadSeenErrors``);
    a row with one of them is counted as seen before and dropped.
    ``dropped_origins`` holds the origins of articles the run dropped as
    already in the output; their ``invalid_date`` warnings are counted and
    dropped. Rows of this run alone are all kept, even when alike: an
    article may warn twice. Returns ``Outputs``: ``ERRORS``, the rows kept,
    and ``COUNTS``.
    """

    def __init__(self, *, seen, dropped_origins):
        super().__init__()
        self._seen = seen
        self._dropped_origins = dropped_origins

    def expand(self, errors):
        by_origin = errors | "KeyByOrigin" >> beam.Map(lambda row: (row["origin"], row))
        dropped = self._dropped_origins | "KeyDroppedOrigins" >> beam.Map(lambda o: (o, None))
        kept = (
            {"errors": by_origin, "dropped": dropped}
            | "GroupByOrigin" >> beam.CoGroupByKey()
            | "DropDuplicateWarnings" >> beam.ParDo(_DropDuplicateWarningsFn())
            | "WarningsBranches" >> Branches(ROWS, COUNTS)
        )
        by_key = kept[ROWS] | "KeyByFailure" >> beam.Map(lambda row: (error_key(row), row))
        seen = self._seen | "KeySeen" >> beam.Map(lambda key: (tuple(key), None))
        new = (
            {"errors": by_key, "seen": seen}
            | "GroupByFailure" >> beam.CoGroupByKey()
            | "DropSeen" >> beam.ParDo(_DropSeenFn())
            | "SeenBranches" >> Branches(ROWS, COUNTS)
        )
        counts = (kept[COUNTS], new[COUNTS]) | "AllCounts" >> beam.Flatten()
        return Outputs({ERRORS: new[ROWS], COUNTS: counts})
