"""ResolveEntities: the run's entity rows plus the resolution table so far to its new rows.

The corpus-level step of entity identity. The run's rows are combined per
``entity_id`` into totals; the current resolution of every id already in the
output (its latest ``entity_resolution`` row) is read once; both meet in one
step that runs ``transforms.lib.resolution.resolve`` over the whole corpus and
emits a row for each id this run saw or whose resolution changed. Those rows
are written by ``WriteTables`` with the other tables, so they commit with the
run or not at all.
"""

import datetime as dt

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from schemas import ENTITY_RESOLUTION
from transforms.lib import counters
from transforms.lib.committed import FileTables
from transforms.lib.resolution import (
    Totals,
    current_state,
    latest_rows,
    merge_totals,
    resolve,
)

__all__ = ["RESOLUTION_TABLE", "ReadCurrentResolution", "ResolveEntities"]

RESOLUTION_TABLE = "entity_resolution"


# What this process read of committed resolution files: a watch's next poll reads only
# the files committed since (committed files never change).
_COMMITTED = FileTables()


def _read_resolution_file(path: str) -> pa.Table:
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return pq.read_table(handle)


class _ReadLatestFn(beam.DoFn):
    """The glob of the table's files to one table of each id's latest row."""

    def process(self, pattern: str):
        matched = FileSystems.match([pattern])[0].metadata_list
        stamps = [(m.path, m.size_in_bytes, m.last_updated_in_seconds) for m in matched]
        tables = _COMMITTED.read_all(pattern, stamps, _read_resolution_file)
        if not tables:
            yield ENTITY_RESOLUTION.empty_table()
            return
        yield latest_rows(pa.concat_tables(tables, promote_options="default"))


class ReadCurrentResolution(beam.PTransform):
    """One element: a pyarrow table of each id's latest ``entity_resolution`` row in
    ``output_dir`` (no rows when there are none).

    One table, not a row per id: resolution runs over the whole table in one
    step, and thousands of rows cost far more to move between steps one by
    one. Files this process read in an earlier run are not read again.
    """

    def __init__(self, output_dir: str):
        super().__init__()
        self._pattern = FileSystems.join(output_dir, RESOLUTION_TABLE, "date=*", "*.parquet")

    def expand(self, pbegin):
        return (
            pbegin
            | "ResolutionPattern" >> beam.Create([self._pattern])
            | "ReadLatestRows" >> beam.ParDo(_ReadLatestFn())
        )


class _TotalsFn(beam.CombineFn):
    """Entity rows of one id to its ``Totals`` for this run."""

    def create_accumulator(self):
        return (0, set(), {}, {})  # mentions, article ids, label counts, canonical counts

    def add_input(self, acc, row):
        mentions, articles, labels, names = acc
        articles.add(row["article_id"])
        labels[row["label"]] = labels.get(row["label"], 0) + 1
        names[row["canonical"]] = names.get(row["canonical"], 0) + 1
        return mentions + 1, articles, labels, names

    def merge_accumulators(self, accumulators):
        mentions, articles, labels, names = self.create_accumulator()
        for m, a, lab, nam in accumulators:
            mentions += m
            articles |= a
            for key, value in lab.items():
                labels[key] = labels.get(key, 0) + value
            for key, value in nam.items():
                names[key] = names.get(key, 0) + value
        return mentions, articles, labels, names

    def extract_output(self, acc):
        mentions, articles, labels, names = acc

        def most(counts):
            return min(counts, key=lambda k: (-counts[k], k)) if counts else ""

        return mentions, len(articles), most(labels), most(names)


class _ResolveFn(beam.DoFn):
    """The run's totals and the current table to the run's resolution rows."""

    def __init__(self, run_id: str, resolved_at: dt.datetime):
        self._run_id = run_id
        self._resolved_at = resolved_at
        self._rows = Metrics.counter(counters.NAMESPACE, counters.RESOLVE_ROWS)
        self._resolved = Metrics.counter(counters.NAMESPACE, counters.RESOLVE_RESOLVED)

    def process(self, run_totals, current, withdrawn=()):
        previous, totals = current_state(current)
        seen = set()
        for entity, (mentions, articles, _label, _canonical) in withdrawn:
            seen.add(entity)  # its totals change: it gets a row
            earlier = totals.get(entity)
            if earlier is not None:  # else counted nowhere yet (written before the table)
                totals[entity] = earlier._replace(
                    mentions=max(0, earlier.mentions - mentions),
                    articles=max(0, earlier.articles - articles),
                )
        for entity, (mentions, articles, label, canonical) in run_totals:
            seen.add(entity)
            run = Totals(entity, label, canonical, mentions, articles)
            totals[entity] = merge_totals(totals.get(entity), run)
        date = self._resolved_at.strftime("%Y-%m-%d")
        for entity, resolution in sorted(resolve(totals.values(), previous).items()):
            earlier = previous.get(entity)
            if entity not in seen and earlier is not None and earlier[:3] == resolution[:3]:
                continue  # nothing new about it: its latest row still holds
            self._rows.inc()
            if resolution.resolved_id != entity:
                self._resolved.inc()
            yield {
                **totals[entity]._asdict(),
                **resolution._asdict(),
                "run_id": self._run_id,
                "resolved_at": self._resolved_at,
                "date": date,
            }


class ResolveEntities(beam.PTransform):
    """Entity rows of a run to the ``entity_resolution`` rows it adds (see the module doc).

    Input: ``(entities, current)``, ``current`` being ``ReadCurrentResolution``'s
    table for the same folder; or ``(entities, current, withdrawn)``, where
    ``withdrawn`` are entity rows the run replaces (``newsbeam reprocess``):
    their mentions and articles are taken off the totals before the run's are
    added, and each of their ids gets a row.
    """

    def __init__(self, *, run_id: str, resolved_at: dt.datetime):
        super().__init__()
        self._run_id = run_id
        self._resolved_at = resolved_at

    def expand(self, inputs):
        entities, current, *withdrawn = inputs
        run_totals = entities | "Totals" >> _AllTotals()
        sides = {"current": beam.pvalue.AsSingleton(current)}
        if withdrawn:
            sides["withdrawn"] = beam.pvalue.AsSingleton(withdrawn[0] | "Withdrawn" >> _AllTotals())
        return run_totals | "Resolve" >> beam.ParDo(
            _ResolveFn(self._run_id, self._resolved_at), **sides
        )


class _AllTotals(beam.PTransform):
    """Entity rows to one list of ``(entity_id, (mentions, articles, label, canonical))``."""

    def expand(self, entities):
        return (
            entities
            | "KeyByEntity" >> beam.Map(lambda row: (row["entity_id"], row))
            | "TotalsPerEntity" >> beam.CombinePerKey(_TotalsFn())
            | "AllTotals" >> beam.combiners.ToList()
        )
