"""ReadArticles: file patterns to raw article records, with a dead-letter output."""

import datetime as dt

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.metrics import Metrics

from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.lib import counters, feeds, formats
from transforms.lib.records import ErrorType, Rejected, Stage
from transforms.lib.settings import DEFAULT_LIMITS

__all__ = ["ERRORS", "ReadArticles"]

STAGE = Stage.READ


class _ParseFileFn(DeadLetterFn):
    """One matched file to its raw records; a bad file or record to an errors row."""

    def __init__(
        self,
        ingested_at: dt.datetime,
        max_file_bytes: int,
        max_feed_bytes: int,
        max_jsonl_bytes: int,
    ):
        super().__init__(stage=STAGE, ingested_at=ingested_at, errors_metric=counters.READ_ERRORS)
        self._max_file_bytes = max_file_bytes
        self._max_feed_bytes = max_feed_bytes
        self._max_jsonl_bytes = max_jsonl_bytes
        self._files = Metrics.counter(counters.NAMESPACE, counters.READ_FILES)
        self._records = Metrics.counter(counters.NAMESPACE, counters.READ_RECORDS)
        # Lone surrogates in JSON strings, kept as U+FFFD (see formats.parse_json_object).
        self._repaired = Metrics.counter(counters.NAMESPACE, counters.READ_REPAIRED_CHARACTERS)

    def process(self, readable_file):
        path = readable_file.metadata.path
        origin = formats.path_origin(path)
        self._files.inc()
        for outcome in self.guarded(self._parse(readable_file, path, origin), origin=origin):
            if isinstance(outcome, dict):
                self._records.inc()
            yield outcome

    def _parse(self, readable_file, path, origin):
        # Before anything opens it: a FIFO would block the run, a device never ends.
        formats.check_regular_file(path)
        kind = formats.input_format(path)
        if kind is None:
            raise Rejected(
                ErrorType.UNSUPPORTED_FORMAT,
                "unknown file type; expected .txt, .html, .htm, .json, .jsonl or a feed "
                "(.xml, .rss, .atom, .rdf)",
            )
        if kind == "jsonl":
            yield from self._parse_lines(readable_file, origin)
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
            raise Rejected(
                ErrorType.TOO_LARGE, f"the file is larger than the limit of {limit} bytes"
            )
        if kind == "feed":  # feedparser reads the raw bytes: it honours the XML encoding
            records, _feed = feeds.parse_feed(data, feed_url=None, origin=origin)
            yield from records
            return
        text = formats.normalise_newlines(formats.decode_bytes(data))
        if kind == "text":
            yield formats.parse_text_file(text, origin)
        elif kind == "html":
            yield formats.parse_html_file(text, origin)
        else:
            yield from formats.parse_json_file(text, origin, on_repair=self._repaired.inc)

    def _parse_lines(self, readable_file, file_origin):
        """Each line's record or errors row. A line's failure, of any kind, is caught
        here: an exception leaving this generator would end it, and with it the file."""
        with readable_file.open() as handle:
            lines = formats.split_lines(
                handle.read,
                max_line_bytes=self._max_file_bytes,
                max_total_bytes=self._max_jsonl_bytes,
            )
            for number, line in lines:
                origin = f"{file_origin}#{number}"
                try:
                    if line is None:
                        raise Rejected(
                            ErrorType.TOO_LARGE,
                            f"the line is larger than {self._max_file_bytes} bytes",
                        )
                    record = formats.parse_json_line(
                        formats.decode_bytes(line), origin, on_repair=self._repaired.inc
                    )
                except Exception as problem:  # this line's errors row; the next lines still count
                    yield self.dead_letter(problem, origin=origin)
                    continue
                if record is not None:
                    yield record


class ReadArticles(beam.PTransform):
    """Files matching ``patterns`` (any Beam filesystem) to raw article records.

    Returns a tagged output: the main output holds raw records (see
    ``transforms.lib.formats``), ``ERRORS`` holds errors-table rows for files
    or records that could not be read. Only regular files are opened. A file
    read whole (text, HTML, JSON, feed) may hold ``max_file_bytes`` after
    decompression; a JSON Lines file is streamed, ``max_file_bytes`` per
    line and ``max_jsonl_bytes`` in all.
    """

    def __init__(
        self,
        patterns,
        *,
        ingested_at: dt.datetime,
        max_file_bytes: int = DEFAULT_LIMITS.max_file_bytes,
        max_feed_bytes: int = DEFAULT_LIMITS.max_fetch_bytes,
        max_jsonl_bytes: int = DEFAULT_LIMITS.max_jsonl_bytes,
    ):
        super().__init__()
        self._patterns = list(patterns)
        self._ingested_at = ingested_at
        self._max_file_bytes = max_file_bytes
        self._max_feed_bytes = max_feed_bytes
        self._max_jsonl_bytes = max_jsonl_bytes

    def expand(self, pbegin):
        return (
            pbegin
            | "ListPatterns" >> beam.Create(self._patterns)
            | "MatchFiles" >> fileio.MatchAll()
            | "OpenFiles" >> fileio.ReadMatches()
            | "ParseFiles"
            >> beam.ParDo(
                _ParseFileFn(
                    self._ingested_at,
                    self._max_file_bytes,
                    self._max_feed_bytes,
                    self._max_jsonl_bytes,
                )
            ).with_outputs(ERRORS, main="articles")
        )
