"""DeduplicateArticles: one row per ``article_id``, before any NLP.

Duplicates are dropped within the run and, when the ids already in the
output are given, against earlier runs too, so rerunning the same input adds
nothing and an interrupted run can simply be run again.
"""

import datetime as dt
import logging

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from transforms import metrics, store
from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.lib import counters
from transforms.lib.committed import FileTables
from transforms.lib.dedupe import by_id, choose_article, id_shard, ids_by_shard, merged_shards
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


# What this process read of committed articles files: a watch's next poll reads only the
# files committed since (committed files never change).
_COMMITTED = FileTables()


def _read_ids(path: str) -> dict[int, list[str]] | Exception:
    """A committed articles file's ids by shard; what keeps it from being read, returned."""
    try:
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            ids = pq.read_table(handle, columns=["article_id"]).column("article_id")
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
        return exc
    return ids_by_shard(ids.to_pylist())


def _was_read(part) -> bool:
    return not isinstance(part, Exception)  # a file that failed is tried again next run


class _ReadIdsFn(DeadLetterFn):
    """The glob of the committed articles files to their ids, as ``(shard, ids)``; a file
    that cannot be read to one warning line and an errors row, never a failed run."""

    def __init__(self, ingested_at: dt.datetime):
        super().__init__(stage=STAGE, ingested_at=ingested_at, errors_metric=counters.DEDUPE_ERRORS)

    def process(self, pattern: str):
        matched = FileSystems.match([pattern])[0].metadata_list
        stamps = [(m.path, m.size_in_bytes, m.last_updated_in_seconds) for m in matched]
        parts = []
        for (path, _size, _time), part in zip(
            stamps, _COMMITTED.read_all(pattern, stamps, _read_ids, keep=_was_read), strict=True
        ):
            if isinstance(part, Exception):
                consequence = "the articles in it may be ingested again"
                reject = corrupt_file(path, part, consequence=consequence)
                _log.warning(reject.message)
                yield from self.dead_letter(reject, origin=path)
            else:
                parts.append(part)
        for shard, ids in merged_shards(parts).items():
            yield Tagged(IDS, (shard, ids))


class ReadExistingIds(beam.PTransform):
    """The ``article_id`` of every article already in ``output_dir`` (one column read), as
    ``(shard, ids)`` (``transforms.lib.dedupe.ids_by_shard``) for ``DeduplicateArticles``.

    Returns ``Outputs``: ``ids``; ``ERRORS``, one row (stage ``dedupe``, error
    type ``corrupt_output_file``) per committed file that cannot be read (its
    ids are not known, so its articles may be written again); ``COUNTS``.
    Files this process read in an earlier run are not read again.
    """

    def __init__(self, output_dir: str, *, ingested_at: dt.datetime):
        super().__init__()
        self._pattern = store.table_files(output_dir, "articles")
        self._ingested_at = ingested_at

    def expand(self, pbegin):
        return (
            pbegin
            | "ArticlesPattern" >> beam.Create([self._pattern])
            | "ReadIds" >> beam.ParDo(_ReadIdsFn(self._ingested_at))
            | "Branches" >> Branches(IDS, ERRORS, COUNTS)
        )


class _KeepOneFn(beam.DoFn):
    def __init__(self):
        self._duplicates = metrics.counter(counters.DEDUPE_DUPLICATES)
        self._already = metrics.counter(counters.DEDUPE_ALREADY_IN_OUTPUT)
        self._unique = metrics.counter(counters.DEDUPE_UNIQUE)

    def process(self, keyed):
        _shard, grouped = keyed
        copies_by_id = by_id(grouped["new"])
        if not copies_by_id:
            return
        existing = {article_id for ids in grouped["existing"] for article_id in ids}
        for article_id, copies in copies_by_id.items():
            if article_id in existing:
                yield self._already.count(len(copies))
                for copy in copies:
                    yield Tagged(DUPLICATES, _declared(copy, kept=EARLIER_RUN))
                continue
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

    ``existing_ids``, if given, is ``ReadExistingIds``' ids already written, as
    ``(shard, ids)``; their articles are dropped too. Articles meet them by shard
    (``transforms.lib.dedupe.id_shard``), so a run moves a few hundred lists of
    ids however many the output holds. Returns ``Outputs``: ``articles``, one
    per new id; ``DUPLICATES``, one small record per dropped copy (its id,
    its origin and the origin of the copy kept), so no article disappears
    without a trace; ``COUNTS``.
    """

    def __init__(self, existing_ids=None):
        super().__init__()
        self._existing_ids = existing_ids

    def expand(self, articles):
        keyed = articles | "KeyByShard" >> beam.Map(
            lambda article: (id_shard(article["article_id"]), article)
        )
        existing = self._existing_ids
        if existing is None:
            existing = articles.pipeline | "NoExistingIds" >> beam.Create([])
        return (
            {"new": keyed, "existing": existing}
            | "GroupByShard" >> beam.CoGroupByKey()
            | "KeepOne" >> beam.ParDo(_KeepOneFn())
            | "Branches" >> Branches(ARTICLES, DUPLICATES, COUNTS)
        )
