"""CommitRun: the run's last step, its only sink: files committed, counts recorded, feeds saved.

Everything a run leaves behind reaches this step as data: the staged files
(``WriteTables``), the count records of every stage, and, for feeds, their
new state and the entries that were settled, for input files the records
of the files read, and for a run that replaces committed files (``newsbeam
reprocess``) their paths. All of it meets in one group, so the commit
happens once, after every file is written; the run's counts go into its
commit record (``store.commit_files``), where the launcher reads them for
the summary and ``_runs/<run_id>.json``; feed state and the input manifest
are saved only after the commit, so a run that fails never marks a feed
entry or a file as ingested.

Being the one sink matters beyond order: Beam's Dask runner computes only
the last step of a graph, and runs every other branch only as far as that
step needs it.
"""

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from transforms import store
from transforms.lib import counters, feeds, manifest
from transforms.tagged import COUNTS

__all__ = [
    "COUNTS",
    "FEED_ENTRIES",
    "FEED_UPDATES",
    "FILES",
    "INPUT_FILES",
    "REMOVED",
    "CommitRun",
]

FILES = "files"  # WriteTables' records, one per staged file
FEED_UPDATES = "feed_updates"  # ReadFeeds' STATE records
FEED_ENTRIES = "feed_entries"  # (feed, entry key) of new entries the run settled
INPUT_FILES = "input_files"  # (ReadArticles' FILES record, settled) of each file read
REMOVED = "removed"  # committed paths the run's files replace
_NOTHING = "nothing"  # the element that makes the group exist in every run
_PARTS = (FILES, COUNTS, FEED_UPDATES, FEED_ENTRIES, INPUT_FILES, REMOVED)


class _CommitFn(beam.DoFn):
    """The run's one group of parts to its commit; yields the files committed."""

    def __init__(self, output_dir: str, run_id: str, *, replacing: bool):
        self._output_dir = output_dir
        self._run_id = run_id
        self._replacing = replacing

    def process(self, everything):
        _key, tagged_parts = everything
        parts = {part: [] for part in _PARTS}
        for part, value in tagged_parts:
            if part != _NOTHING:
                parts[part].append(value)
        output_dir, run_id = self._output_dir, self._run_id
        totals = counters.add_up(parts[COUNTS])
        totals.update(counters.written(parts[FILES]))
        files, removed = parts[FILES], sorted(parts[REMOVED])
        if self._replacing and not store.commit_begun(output_dir, run_id):
            check_articles_kept(files, removed)
        committed = store.commit_files(output_dir, run_id, files, removed=removed, counts=totals)
        if parts[FEED_UPDATES]:
            settled = feeds.settle_updates(parts[FEED_UPDATES], parts[FEED_ENTRIES])
            store.save_feed_state(output_dir, settled)
        if parts[INPUT_FILES]:
            read = [file for file, _settled in parts[INPUT_FILES]]
            settled = {file["origin"] for file, settled in parts[INPUT_FILES] if settled}
            entries = manifest.file_entries(read, settled, run_id=run_id)
            store.save_input_manifest(output_dir, run_id, entries)
        yield committed


def check_articles_kept(files: list[dict], removed: list[str]) -> None:
    """Raises ``RuntimeError`` (the run fails, nothing is committed) unless ``files`` hold as
    many article rows as the ``removed`` articles files: a commit that replaces files may
    change an article, never lose or add one."""
    before = 0
    for path in removed:
        if path.replace("\\", "/").rsplit("/", 3)[-3] == "articles":  # DIR/articles/date=.../x
            with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
                before += pq.ParquetFile(handle).metadata.num_rows
    after = sum(file["rows"] for file in files if file["table"] == "articles")
    if before != after:
        raise RuntimeError(
            f"the replacement would leave {after} article rows where there were {before}: "
            "nothing was committed"
        )


def _in_group(part: str):
    """The function putting a value of ``part`` into the run's one group."""

    def tag(value):
        return None, (part, value)

    return tag


class CommitRun(beam.PTransform):
    """A dict of ``FILES``, ``COUNTS`` and optionally ``FEED_UPDATES`` and ``FEED_ENTRIES``,
    ``INPUT_FILES``, ``REMOVED`` PCollections to one commit of the run under ``output_dir``.

    Count records are ``(counter name, amount)`` pairs (``transforms.tagged``);
    the rows and files written are counted from ``FILES``. With ``REMOVED``,
    the commit takes those committed files out as it puts the run's in
    (``store.commit_files``): readers see the old files or the new; it fails
    when the run's article rows do not number those it replaces. Outputs one
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
            | "Commit"
            >> beam.ParDo(_CommitFn(self._output_dir, self._run_id, replacing=REMOVED in parts))
        )
