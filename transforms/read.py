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

    def __init__(self, ingested_at: dt.datetime, max_file_bytes: int, max_feed_bytes: int):
        super().__init__(stage=STAGE, ingested_at=ingested_at, errors_metric=counters.READ_ERRORS)
        self._max_file_bytes = max_file_bytes
        self._max_feed_bytes = max_feed_bytes
        self._files = Metrics.counter(counters.NAMESPACE, counters.READ_FILES)
        self._records = Metrics.counter(counters.NAMESPACE, counters.READ_RECORDS)

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
                ErrorType.UNSUPPORTED_FORMAT,
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
            raise Rejected(
                ErrorType.TOO_LARGE, f"the file is larger than the limit of {limit} bytes"
            )
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
                            ErrorType.TOO_LARGE,
                            f"the line is larger than {self._max_file_bytes} bytes",
                        )
                    record = formats.parse_json_line(formats.decode_bytes(line), origin)
                except Rejected as reject:
                    reject.origin = origin
                    yield reject
                    continue
                if record is not None:
                    yield record


class ReadArticles(beam.PTransform):
    """Files matching ``patterns`` (any Beam filesystem) to raw article records.

    Returns a tagged output: the main output holds raw records (see
    ``transforms.formats``), ``ERRORS`` holds errors-table rows for files or
    records that could not be read.
    """

    def __init__(
        self,
        patterns,
        *,
        ingested_at: dt.datetime,
        max_file_bytes: int = DEFAULT_LIMITS.max_file_bytes,
        max_feed_bytes: int = DEFAULT_LIMITS.max_fetch_bytes,
    ):
        super().__init__()
        self._patterns = list(patterns)
        self._ingested_at = ingested_at
        self._max_file_bytes = max_file_bytes
        self._max_feed_bytes = max_feed_bytes

    def expand(self, pbegin):
        return (
            pbegin
            | "ListPatterns" >> beam.Create(self._patterns)
            | "MatchFiles" >> fileio.MatchAll()
            | "OpenFiles" >> fileio.ReadMatches()
            | "ParseFiles"
            >> beam.ParDo(
                _ParseFileFn(self._ingested_at, self._max_file_bytes, self._max_feed_bytes)
            ).with_outputs(ERRORS, main="articles")
        )
