"""ResolveEntities: the run's entity rows plus the resolution table so far to its new rows.

The corpus-level step of entity identity. The run's rows are combined per
``entity_id`` into totals; the current resolution of every id already in the
output (its latest ``entity_resolution`` row) is read once; both meet in one
step (one group, as data: no side input) that runs
``transforms.lib.resolution.resolve`` over the whole corpus and emits a row
for each id this run saw or whose resolution changed. Those rows are written
by ``WriteTables`` with the other tables, so they commit with the run or not
at all.
"""

import datetime as dt

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from schemas import ENTITY_RESOLUTION
from transforms import metrics, store
from transforms.lib import counters
from transforms.lib.committed import FileTables
from transforms.lib.resolution import Totals, current_state, latest_rows, merge_totals, resolve
from transforms.tagged import COUNTS, Branches, Tagged

__all__ = ["COUNTS", "RESOLUTION_TABLE", "ReadCurrentResolution", "ResolveEntities"]

RESOLUTION_TABLE = "entity_resolution"
_RUN = "run"
_CURRENT = "current"
_WITHDRAWN = "withdrawn"  # totals of the entity rows a reprocess replaces


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
        self._pattern = store.table_files(output_dir, RESOLUTION_TABLE)  # DIR escaped

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
    """The run's totals and the current table, in one group, to the run's resolution rows."""

    def __init__(self, run_id: str, resolved_at: dt.datetime):
        self._run_id = run_id
        self._resolved_at = resolved_at
        self._rows = metrics.counter(counters.RESOLVE_ROWS)
        self._resolved = metrics.counter(counters.RESOLVE_RESOLVED)

    def process(self, everything):
        _key, parts = everything
        run_totals = [value for part, value in parts if part == _RUN]
        withdrawn = [value for part, value in parts if part == _WITHDRAWN]
        current = [value for part, value in parts if part == _CURRENT]
        table = current[0] if current else ENTITY_RESOLUTION.empty_table()
        previous, totals = current_state(table)
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
        rows = resolved = 0
        for entity, resolution in sorted(resolve(totals.values(), previous).items()):
            earlier = previous.get(entity)
            if entity not in seen and earlier is not None and earlier[:3] == resolution[:3]:
                continue  # nothing new about it: its latest row still holds
            rows += 1
            resolved += resolution.resolved_id != entity
            yield Tagged(
                RESOLUTION_TABLE,
                {
                    **totals[entity]._asdict(),
                    **resolution._asdict(),
                    "run_id": self._run_id,
                    "resolved_at": self._resolved_at,
                    "date": date,
                },
            )
        yield self._rows.count(rows)
        yield self._resolved.count(resolved)


class ResolveEntities(beam.PTransform):
    """Entity rows of a run to the ``entity_resolution`` rows it adds (see the module doc).

    Input: ``(entities, current)``: ``entities`` holds lists of entity rows
    (``ExtractEntitiesAndQuotes``' ``ENTITIES``), ``current`` is
    ``ReadCurrentResolution``'s table for the same folder; or ``(entities,
    current, withdrawn)``, where ``withdrawn`` holds lists of the entity rows
    the run replaces (``newsbeam reprocess``): their mentions and articles are
    taken off the totals before the run's are added, and each of their ids
    gets a row. Returns ``Outputs``: ``RESOLUTION_TABLE`` rows and ``COUNTS``.
    """

    def __init__(self, *, run_id: str, resolved_at: dt.datetime):
        super().__init__()
        self._run_id = run_id
        self._resolved_at = resolved_at

    def expand(self, inputs):
        entities, current, *withdrawn = inputs
        parts = [
            entities | "Totals" >> _TaggedTotals(_RUN),
            current | "TagCurrent" >> beam.Map(lambda table: (None, (_CURRENT, table))),
        ]
        if withdrawn:
            parts.append(withdrawn[0] | "Withdrawn" >> _TaggedTotals(_WITHDRAWN))
        # One group holds everything; with none of them, there is nothing to resolve.
        return (
            parts
            | "AllParts" >> beam.Flatten()
            | "AllInOne" >> beam.GroupByKey()
            | "Resolve" >> beam.ParDo(_ResolveFn(self._run_id, self._resolved_at))
            | "Branches" >> Branches(RESOLUTION_TABLE, COUNTS)
        )


class _TaggedTotals(beam.PTransform):
    """Lists of entity rows to ``(None, (part, (entity_id, (mentions, articles, label,
    canonical))))``, one per entity id: the run's totals, for the one group."""

    def __init__(self, part: str):
        super().__init__()
        self._part = part

    def expand(self, entities):
        part = self._part
        return (
            entities
            | "KeyByEntity" >> beam.FlatMap(lambda rows: [(row["entity_id"], row) for row in rows])
            | "TotalsPerEntity" >> beam.CombinePerKey(_TotalsFn())
            | "Tag" >> beam.Map(lambda totals: (None, (part, totals)))
        )
