"""DeduplicateArticles: one row per ``article_id``, before any NLP.

Duplicates are dropped within the run and, when the ids already in the
output are given, against earlier runs too, so rerunning the same input adds
nothing and an interrupted run can simply be run again.
"""

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.metrics import Metrics

from transforms import store
from transforms.lib import counters
from transforms.lib.dedupe import choose_article

__all__ = ["DUPLICATES", "DeduplicateArticles", "ReadExistingIds"]

DUPLICATES = "duplicates"


def _article_ids(readable_file):
    with readable_file.open(compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        table = pq.read_table(handle, columns=["article_id"])
    yield from table.column("article_id").to_pylist()


class ReadExistingIds(beam.PTransform):
    """The ``article_id`` of every article already in ``output_dir`` (one column read)."""

    def __init__(self, output_dir: str):
        super().__init__()
        self._pattern = store.table_files(output_dir, "articles")

    def expand(self, pbegin):
        return (
            pbegin
            | "ArticlesPattern" >> beam.Create([self._pattern])
            | "MatchArticleFiles"
            >> fileio.MatchAll(empty_match_treatment=fileio.EmptyMatchTreatment.ALLOW)
            | "OpenArticleFiles" >> fileio.ReadMatches()
            | "ReadIds" >> beam.FlatMap(_article_ids)
        )


class _KeepOneFn(beam.DoFn):
    def __init__(self):
        self._duplicates = Metrics.counter(counters.NAMESPACE, counters.DEDUPE_DUPLICATES)
        self._already = Metrics.counter(counters.NAMESPACE, counters.DEDUPE_ALREADY_IN_OUTPUT)
        self._unique = Metrics.counter(counters.NAMESPACE, counters.DEDUPE_UNIQUE)

    def process(self, keyed):
        _article_id, grouped = keyed
        copies = list(grouped["new"])
        if not copies:
            return
        if any(True for _ in grouped["existing"]):
            for copy in copies:
                self._already.inc()
                yield beam.pvalue.TaggedOutput(DUPLICATES, _declared(copy, kept="(earlier run)"))
            return
        kept, duplicates = choose_article(copies)
        self._unique.inc()
        yield kept
        for duplicate in duplicates:
            self._duplicates.inc()
            yield beam.pvalue.TaggedOutput(DUPLICATES, _declared(duplicate, kept=kept["origin"]))


def _declared(article: dict, *, kept: str) -> dict:
    return {"article_id": article["article_id"], "origin": article["origin"], "kept": kept}


class DeduplicateArticles(beam.PTransform):
    """Articles to unique articles by ``article_id``.

    ``existing_ids``, if given, is a PCollection of ids already written;
    their articles are dropped too. Main output: one article per new id.
    ``DUPLICATES``: one small record per dropped copy (its id, its origin and
    the origin of the copy kept), so no article disappears without a trace.
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
            | "KeepOne" >> beam.ParDo(_KeepOneFn()).with_outputs(DUPLICATES, main="articles")
        )
