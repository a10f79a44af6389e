"""CommitRun: the run's last step, its only sink: files committed, counts recorded, feeds saved.

Everything a run leaves behind reaches this step as data: the staged files
(``WriteTables``), the count records of every stage, and, for feeds, their
new state and the entries that were settled. All of it meets in one group,
so the commit happens once, after every file is written; the run's counts
go into its commit record (``store.commit_files``), where the launcher reads
them for the summary and ``_runs/<run_id>.json``; feed state is saved only
after the commit, so a run that fails never marks a feed entry as ingested.

Being the one sink matters beyond order: Beam's Dask runner computes only
the last step of a graph, and runs every other branch only as far as that
step needs it.
"""

import apache_beam as beam

from transforms import store
from transforms.lib import counters, feeds
from transforms.tagged import COUNTS

__all__ = ["COUNTS", "FEED_ENTRIES", "FEED_UPDATES", "FILES", "CommitRun"]

FILES = "files"  # WriteTables' records, one per staged file
FEED_UPDATES = "feed_updates"  # ReadFeeds' STATE records
FEED_ENTRIES = "feed_entries"  # (feed, entry key) of new entries the run settled
_NOTHING = "nothing"  # the element that makes the group exist in every run
_PARTS = (FILES, COUNTS, FEED_UPDATES, FEED_ENTRIES)


class _CommitFn(beam.DoFn):
    """The run's one group of parts to its commit; yields the files committed."""

    def __init__(self, output_dir: str, run_id: str):
        self._output_dir = output_dir
        self._run_id = run_id

    def process(self, everything):
        _key, tagged_parts = everything
        parts = {part: [] for part in _PARTS}
        for part, value in tagged_parts:
            if part != _NOTHING:
                parts[part].append(value)
        totals = counters.add_up(parts[COUNTS])
        totals.update(counters.written(parts[FILES]))
        committed = store.commit_files(self._output_dir, self._run_id, parts[FILES], counts=totals)
        if parts[FEED_UPDATES]:
            settled = feeds.settle_updates(parts[FEED_UPDATES], parts[FEED_ENTRIES])
            store.save_feed_state(self._output_dir, settled)
        yield committed


def _in_group(part: str):
    """The function putting a value of ``part`` into the run's one group."""

    def tag(value):
        return None, (part, value)

    return tag


class CommitRun(beam.PTransform):
    """A dict of ``FILES``, ``COUNTS`` and optionally ``FEED_UPDATES`` and ``FEED_ENTRIES``
    PCollections to one commit of the run under ``output_dir``.

    Count records are ``(counter name, amount)`` pairs (``transforms.tagged``);
    the rows and files written are counted from ``FILES``. Outputs one
    element: the list of files committed (table, final path, rows).
    """

    def __init__(self, output_dir: str, *, run_id: str):
        super().__init__()
        self._output_dir = output_dir
        self._run_id = run_id

    def expand(self, parts):
        unknown = set(parts) - set(_PARTS)
        if unknown:
            raise ValueError(f"CommitRun takes {', '.join(_PARTS)}, not {', '.join(unknown)}")
        pipeline = next(iter(parts.values())).pipeline
        tagged = [pipeline | "Nothing" >> beam.Create([(None, (_NOTHING, None))])]
        if COUNTS in parts:
            parts = {**parts, COUNTS: parts[COUNTS] | "SumCounts" >> beam.CombinePerKey(sum)}
        for part, values in sorted(parts.items()):
            tagged.append(
                values | f"Tag{part.title().replace('_', '')}" >> beam.Map(_in_group(part))
            )
        return (
            tagged
            | "AllParts" >> beam.Flatten()
            | "OneGroup" >> beam.GroupByKey()
            | "Commit" >> beam.ParDo(_CommitFn(self._output_dir, self._run_id))
        )
