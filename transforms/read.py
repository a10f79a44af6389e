"""ReadArticles: file patterns to raw article records, with a dead-letter output."""

import datetime as dt
import os
import re

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import FileMetadata
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.lib import feeds, formats, globs
from transforms.lib.records import Rejected

__all__ = ["ERRORS", "ReadArticles", "is_under", "match_inputs"]

STAGE = "read"
DEFAULT_MAX_FILE_BYTES = formats.DEFAULT_MAX_FILE_BYTES
DEFAULT_MAX_FEED_BYTES = 10 * 1024 * 1024


class _ParseFileFn(DeadLetterFn):
    """One matched file to its raw records; a bad file or record to an errors row."""

    def __init__(self, ingested_at: dt.datetime, max_file_bytes: int, max_feed_bytes: int):
        super().__init__(stage=STAGE, ingested_at=ingested_at, errors_metric="read.errors")
        self._max_file_bytes = max_file_bytes
        self._max_feed_bytes = max_feed_bytes
        self._files = Metrics.counter("newsbeam", "read.files")
        self._records = Metrics.counter("newsbeam", "read.records")

    def process(self, readable_file):
        path = readable_file.metadata.path
        self._files.inc()
        for outcome in self.guarded(self._parse(readable_file, path), origin=path):
            if isinstance(outcome, dict):
                self._records.inc()
            yield outcome

    def _parse(self, readable_file, path):
        kind = formats.input_format(path)
        if kind is None:
            raise Rejected(
                "unsupported_format",
                "unknown file type; expected .txt, .html, .htm, .json, .jsonl or a feed "
                "(.xml, .rss, .atom, .rdf)",
            )
        if kind == "jsonl":
            yield from self._parse_lines(readable_file, path)
            return
        # A feed is parsed whole in memory by feedparser: it gets the feed limit.
        limit = (
            min(self._max_file_bytes, self._max_feed_bytes)
            if kind == "feed"
            else self._max_file_bytes
        )
        with readable_file.open() as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise Rejected("too_large", f"the file is larger than the limit of {limit} bytes")
        if kind == "feed":  # feedparser reads the raw bytes: it honours the XML encoding
            records, _feed = feeds.parse_feed(data, feed_url=None, origin=path)
            yield from records
            return
        text = formats.normalise_newlines(formats.decode_bytes(data))
        if kind == "text":
            yield formats.parse_text_file(text, path)
        elif kind == "html":
            yield formats.parse_html_file(text, path)
        else:
            yield from formats.parse_json_file(text, path)

    def _parse_lines(self, readable_file, path):
        with readable_file.open() as handle:
            lines = formats.split_lines(handle.read, max_line_bytes=self._max_file_bytes)
            for number, line in enumerate(lines, start=1):
                origin = f"{path}#{number}"
                try:
                    if line is None:
                        raise Rejected(
                            "too_large", f"the line is larger than {self._max_file_bytes} bytes"
                        )
                    record = formats.parse_json_line(formats.decode_bytes(line), origin)
                except Rejected as reject:
                    reject.origin = origin
                    yield reject
                    continue
                if record is not None:
                    yield record


def match_inputs(
    pattern: str, *, exclude: str | None = None
) -> tuple[list[FileMetadata], list[FileMetadata]]:
    """The files matching ``pattern``, and those left out because they lie under ``exclude``.

    Any Beam filesystem's pattern. A local ``*`` stops at ``/`` only, so it
    also matches a name holding a backslash, which Beam's own ``*`` skips.
    A path that is meant literally must come escaped (``globs.escape``).
    """
    if FileSystems.get_scheme(pattern) or not globs.has_glob(pattern):
        matched = FileSystems.match([pattern])[0].metadata_list
    else:
        if pattern.endswith("/"):  # as Beam reads it: every file in the folder
            pattern += "*"
        wanted = re.compile(globs.translate(pattern))
        widened = FileSystems.match([globs.widen(pattern)])[0].metadata_list
        matched = [metadata for metadata in widened if wanted.match(metadata.path)]
    if exclude is None:
        return matched, []
    kept = [m for m in matched if not is_under(m.path, exclude)]
    left_out = [m for m in matched if is_under(m.path, exclude)]
    return kept, left_out


def is_under(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or lies under it, symbolic links resolved if local."""
    if FileSystems.get_scheme(folder) or FileSystems.get_scheme(path):
        return path.rstrip("/") == folder.rstrip("/") or path.startswith(folder.rstrip("/") + "/")
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class _MatchFn(beam.DoFn):
    """A pattern to the metadata of each file it matches, files under ``exclude`` left out.

    A literal path that no longer exists (a file listed by ``watch``, then
    deleted) is passed on all the same, so reading it gives an errors row
    instead of nothing.
    """

    def __init__(self, exclude: str | None):
        self._exclude = exclude

    def process(self, pattern):
        kept, left_out = match_inputs(pattern, exclude=self._exclude)
        path = globs.literal(pattern)
        if not kept and not left_out and path is not None:
            yield FileMetadata(path, 0)
        yield from kept


class ReadArticles(beam.PTransform):
    """Files matching ``patterns`` (any Beam filesystem) to raw article records.

    Returns a tagged output: the main output holds raw records (see
    ``transforms.formats``), ``ERRORS`` holds errors-table rows for files or
    records that could not be read. Files under ``exclude`` (the output
    folder) are never read. A path meant literally must come escaped
    (``transforms.lib.globs.escape``): Beam reads ``[``, ``*`` and ``?`` in
    any path as a pattern.
    """

    def __init__(
        self,
        patterns,
        *,
        ingested_at: dt.datetime,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_feed_bytes: int = DEFAULT_MAX_FEED_BYTES,
        exclude: str | None = None,
    ):
        super().__init__()
        self._patterns = list(patterns)
        self._exclude = exclude
        self._ingested_at = ingested_at
        self._max_file_bytes = max_file_bytes
        self._max_feed_bytes = max_feed_bytes

    def expand(self, pbegin):
        return (
            pbegin
            | "ListPatterns" >> beam.Create(self._patterns)
            | "MatchFiles" >> beam.ParDo(_MatchFn(self._exclude))
            | "OpenFiles" >> fileio.ReadMatches()
            | "ParseFiles"
            >> beam.ParDo(
                _ParseFileFn(self._ingested_at, self._max_file_bytes, self._max_feed_bytes)
            ).with_outputs(ERRORS, main="articles")
        )
