"""ReadArticles: file patterns to raw article records, with a dead-letter output and a record
of each file read (for the input manifest)."""

import datetime as dt
import os
import re

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes, FileMetadata
from apache_beam.io.filesystems import FileSystems

from transforms import metrics
from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.lib import counters, feeds, formats, globs, manifest
from transforms.lib.records import ErrorType, Rejected, Stage
from transforms.lib.settings import DEFAULT_LIMITS
from transforms.tagged import COUNTS, Branches, Tagged

__all__ = ["COUNTS", "ERRORS", "FILES", "ReadArticles", "is_under", "match_inputs"]

STAGE = Stage.READ
ARTICLES = "articles"
FILES = "files"


class _ParseFileFn(DeadLetterFn):
    """One matched file to its raw records; a bad file or record to an errors row."""

    def __init__(
        self,
        ingested_at: dt.datetime,
        max_file_bytes: int,
        max_feed_bytes: int,
        max_jsonl_bytes: int,
        max_hash_bytes: int,
    ):
        super().__init__(stage=STAGE, ingested_at=ingested_at, errors_metric=counters.READ_ERRORS)
        self._max_file_bytes = max_file_bytes
        self._max_feed_bytes = max_feed_bytes
        self._max_jsonl_bytes = max_jsonl_bytes
        self._max_hash_bytes = max_hash_bytes
        self._files = metrics.counter(counters.READ_FILES)
        self._records = metrics.counter(counters.READ_RECORDS)
        # Lone surrogates in JSON strings, kept as U+FFFD (see formats.parse_json_object).
        self._repaired = metrics.counter(counters.READ_REPAIRED_CHARACTERS)
        self._repairs = 0  # since the last record, told by formats' on_repair

    def process(self, readable_file):
        metadata = readable_file.metadata
        path = metadata.path
        origin = formats.path_origin(path)
        yield self._files.count()
        # Hashed before it is parsed: a file that changes in between is read again next time.
        sha256 = self._content_hash(readable_file)
        self._repairs = 0
        for outcome in self.guarded(self._parse(readable_file, path, origin), origin=origin):
            if isinstance(outcome, dict):
                yield Tagged(ARTICLES, outcome)
                yield self._records.count()
            else:  # an errors row or its count, tagged already
                yield outcome
            if self._repairs:
                yield self._repaired.count(self._repairs)
                self._repairs = 0
        yield Tagged(
            FILES,
            {  # no path: one not valid UTF-8 cannot be encoded; its origin always can
                "origin": origin,
                "size": metadata.size_in_bytes,
                "mtime": metadata.last_updated_in_seconds,
                "sha256": sha256,
            },
        )

    def _repair(self, characters: int) -> None:
        self._repairs += characters

    def _content_hash(self, readable_file) -> str | None:
        """The SHA-256 of a local regular file of at most ``max_hash_bytes``, where hashing is
        cheap (the bytes are about to be read anyway); None for any other."""
        metadata = readable_file.metadata
        if FileSystems.get_scheme(metadata.path) or metadata.size_in_bytes > self._max_hash_bytes:
            return None
        try:
            formats.check_regular_file(metadata.path)  # a FIFO would block the hash
            with readable_file.open(compression_type=CompressionTypes.UNCOMPRESSED) as handle:
                return manifest.sha256_of(handle.read)
        except Exception:  # no hash, nothing lost: the parse reports why the file is unreadable
            return None

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
            yield from formats.parse_json_file(text, origin, on_repair=self._repair)

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
                        formats.decode_bytes(line), origin, on_repair=self._repair
                    )
                except Exception as problem:  # this line's errors row; the next lines still count
                    yield from self.dead_letter(problem, origin=origin)
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
    """A listing shard to the metadata of its share of the files the patterns match,
    files under ``exclude`` left out.

    Every shard lists every pattern and keeps the files ``globs.shard_of_path``
    gives it, so a runner that cannot split work itself (Dask) still reads
    the shards side by side. A literal path that no longer exists (a file
    listed by ``watch``, then deleted) is passed on all the same, so reading
    it gives an errors row instead of nothing.
    """

    def __init__(self, patterns: list[str], exclude: str | None, shards: int):
        self._patterns = patterns
        self._exclude = exclude
        self._shards = shards

    def process(self, shard: int):
        for pattern in self._patterns:
            kept, left_out = match_inputs(pattern, exclude=self._exclude)
            path = globs.literal(pattern)
            if not kept and not left_out and path is not None:
                kept = [FileMetadata(path, 0)]
            for metadata in kept:
                if globs.shard_of_path(metadata.path, self._shards) == shard:
                    yield metadata


class ReadArticles(beam.PTransform):
    """Files matching ``patterns`` (any Beam filesystem) to raw article records.

    Returns ``Outputs``: ``articles`` holds raw records (see
    ``transforms.lib.formats``), ``ERRORS`` errors-table rows for files or
    records that could not be read, ``FILES`` one record per file read
    (``origin``, ``size``, ``mtime``, and ``sha256`` for a local file of at
    most ``max_hash_bytes``), ``COUNTS`` count records. The files are listed
    in ``shards`` shards, each a unit of work (see ``_MatchFn``).
    Only regular files are opened. A file
    read whole (text, HTML, JSON, feed) may hold ``max_file_bytes`` after
    decompression; a JSON Lines file is streamed, ``max_file_bytes`` per
    line and ``max_jsonl_bytes`` in all.
    Files under ``exclude`` (the output folder) are never read. A path meant
    literally must come escaped (``transforms.lib.globs.escape``): Beam reads
    ``[``, ``*`` and ``?`` in any path as a pattern.
    """

    def __init__(
        self,
        patterns,
        *,
        ingested_at: dt.datetime,
        max_file_bytes: int = DEFAULT_LIMITS.max_file_bytes,
        max_feed_bytes: int = DEFAULT_LIMITS.max_fetch_bytes,
        max_jsonl_bytes: int = DEFAULT_LIMITS.max_jsonl_bytes,
        max_hash_bytes: int = DEFAULT_LIMITS.max_hash_bytes,
        exclude: str | None = None,
        shards: int = 1,
    ):
        super().__init__()
        self._shards = shards
        self._patterns = list(patterns)
        self._exclude = exclude
        self._ingested_at = ingested_at
        self._max_file_bytes = max_file_bytes
        self._max_feed_bytes = max_feed_bytes
        self._max_jsonl_bytes = max_jsonl_bytes
        self._max_hash_bytes = max_hash_bytes

    def expand(self, pbegin):
        return (
            pbegin
            | "ListShards" >> beam.Create(range(self._shards))
            | "MatchFiles" >> beam.ParDo(_MatchFn(self._patterns, self._exclude, self._shards))
            | "OpenFiles" >> fileio.ReadMatches()
            | "ParseFiles"
            >> beam.ParDo(
                _ParseFileFn(
                    self._ingested_at,
                    self._max_file_bytes,
                    self._max_feed_bytes,
                    self._max_jsonl_bytes,
                    self._max_hash_bytes,
                )
            )
            | "Branches" >> Branches(ARTICLES, ERRORS, FILES, COUNTS)
        )
