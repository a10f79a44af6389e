"""ReadCommittedRows and ReplaceEnrichment: the stages of ``newsbeam reprocess`` around enrichment.

``ReadCommittedRows`` reads the committed files of articles, entities and
quotes back. A file holding no row of a selected article is left alone; a
file holding one is replaced: its other rows are written again (``KEPT_*``)
and its path goes to ``REPLACED``, which the commit takes out. The selected
articles go on to ``ExtractEntitiesAndQuotes`` with their old entities and
quotes beside them; ``ReplaceEnrichment`` then keeps, per article, the new
annotation, or the old rows when the model failed on it.
"""

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from transforms import metrics
from transforms.lib import counters
from transforms.lib import reprocess as lib
from transforms.tagged import COUNTS, Branches, Tagged

__all__ = [
    "COUNTS",
    "KEPT",
    "OLD_ENTITIES",
    "OLD_QUOTES",
    "REPLACED",
    "WITHDRAWN",
    "ReadCommittedRows",
    "ReplaceEnrichment",
]

TABLES = ("articles", "entities", "quotes")
ARTICLES = "articles"
KEPT = {table: f"kept_{table}" for table in TABLES}  # rows of replaced files to write again
OLD_ENTITIES = "old_entities"  # the selected articles' committed rows
OLD_QUOTES = "old_quotes"
REPLACED = "replaced"  # paths of the committed files the commit takes out
WITHDRAWN = "withdrawn"  # old entity rows of the articles annotated again
_OLD = {"entities": OLD_ENTITIES, "quotes": OLD_QUOTES}


class _SplitFileFn(beam.DoFn):
    """One committed file to its rows: the selected articles' rows by table, the others
    (``KEPT``) only when the file holds a selected article's row, and then its path too."""

    def __init__(self, selected: frozenset[str] | None, batch_rows: int):
        self._selected = selected
        self._batch_rows = batch_rows
        self._articles = metrics.counter(counters.REPROCESS_ARTICLES)
        self._replaced = metrics.counter(counters.REPROCESS_FILES_REPLACED)

    def process(self, table_and_path):
        table, path = table_and_path
        date = lib.partition_of(path)
        selected = self._selected
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            source = pq.ParquetFile(handle)
            if selected is not None:  # one column first: most files may hold none of them
                ids = source.read(columns=["article_id"]).column("article_id").to_pylist()
                if selected.isdisjoint(ids):
                    return
            yield self._replaced.count()
            yield Tagged(REPLACED, path)
            articles = 0
            for batch in source.iter_batches(batch_size=self._batch_rows):
                for row in lib.table_rows(table, batch.to_pylist(), date):
                    if selected is None or row["article_id"] in selected:
                        if table == "articles":
                            articles += 1
                            yield Tagged(ARTICLES, row)
                        else:
                            yield Tagged(_OLD[table], row)
                    else:
                        yield Tagged(KEPT[table], row)
            if articles:
                yield self._articles.count(articles)


class ReadCommittedRows(beam.PTransform):
    """Committed files (``{table: [path, ...]}`` of articles, entities, quotes) to rows.

    Returns ``Outputs``: ``articles`` (the selected articles' rows),
    ``OLD_ENTITIES`` and ``OLD_QUOTES`` (theirs), ``KEPT[table]`` (the other
    rows of the files that held a selected row), ``REPLACED`` (those files'
    paths) and ``COUNTS``. ``selected``
    is the set of article ids to reprocess; None selects every article.
    A file with a column this newsbeam does not know fails the run.
    """

    def __init__(self, files, *, selected: frozenset[str] | None, batch_rows: int):
        super().__init__()
        self._files = [(table, path) for table in TABLES for path in files.get(table, ())]
        self._selected = selected
        self._batch_rows = batch_rows

    def expand(self, pbegin):
        return (
            pbegin
            | "CommittedFiles" >> beam.Create(self._files)
            | "SpreadFiles" >> beam.Reshuffle()
            | "SplitFiles" >> beam.ParDo(_SplitFileFn(self._selected, self._batch_rows))
            | "Branches"
            >> Branches(ARTICLES, *KEPT.values(), OLD_ENTITIES, OLD_QUOTES, REPLACED, COUNTS)
        )


class _SettleFn(beam.DoFn):
    def __init__(self):
        self._restored = metrics.counter(counters.REPROCESS_KEPT_AS_THEY_WERE)

    def process(self, keyed):
        _article_id, grouped = keyed
        settled = lib.settle(
            list(grouped["old"]),
            list(grouped["new"]),
            list(grouped["entities"]),
            list(grouped["quotes"]),
        )
        if not grouped["new"]:
            yield self._restored.count()
        for row in settled["articles"]:
            yield Tagged(ARTICLES, row)
        # An article's rows travel as one element, as enrichment's do.
        for tag in ("entities", "quotes", WITHDRAWN):
            if settled[tag]:
                yield Tagged(tag, settled[tag])


class ReplaceEnrichment(beam.PTransform):
    """Per article, the rows a reprocess writes besides the new annotation's entities and quotes.

    Input: a dict of ``old`` (the selected articles' committed rows), ``new``
    (enrichment's articles), ``entities`` and ``quotes`` (their committed
    rows). Returns ``Outputs`` (``transforms.lib.reprocess.settle``):
    ``articles``; ``entities``, ``quotes`` and ``WITHDRAWN``, each article's
    rows as one list; and ``COUNTS``.
    """

    def expand(self, inputs):
        keyed = {
            name: rows | f"Key{name.title()}" >> beam.Map(lambda row: (row["article_id"], row))
            for name, rows in inputs.items()
        }
        return (
            keyed
            | "GroupByArticle" >> beam.CoGroupByKey()
            | "Settle" >> beam.ParDo(_SettleFn())
            | "Branches" >> Branches(ARTICLES, "entities", "quotes", WITHDRAWN, COUNTS)
        )
