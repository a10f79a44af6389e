"""Every byte, character, count and time limit of newsbeam, and its default, in one place.

No Beam here, and no import from the rest of newsbeam. ``DEFAULT_LIMITS``
is what a run gets unless an option says otherwise: the command-line
defaults (``pipelines.options``), ``IngestConfig``, ``FetchPolicy`` and the
composites all read it, and keep no copy of their own
(``tests/unit/test_settings.py`` checks that no module-level one is left).
"""

import dataclasses

KIB = 1024
MIB = 1024 * KIB


@dataclasses.dataclass(frozen=True)
class Limits:
    """The limits of one run; sizes in bytes or characters, times in seconds."""

    # Input. A larger file (or .jsonl line) becomes an errors row (too_large).
    max_file_bytes: int = 64 * MIB
    # JSON Lines files are streamed, so their cap bounds time, not memory: it stops
    # a decompression bomb (or an endless stream) without refusing a large real corpus.
    max_jsonl_bytes: int = 4 * 1024 * MIB
    # A feed (fetched, or a file read whole by feedparser) or an article page,
    # after decompression.
    max_fetch_bytes: int = 10 * MIB
    # A --feeds subscription list (text or OPML).
    max_feed_list_bytes: int = 10 * MIB
    # A --urls list of article URLs.
    max_url_list_bytes: int = 10 * MIB
    # Sitemaps: the protocol caps one at 50,000 URLs; an index may name indexes,
    # read this deep, and this many sitemaps per --sitemap.
    max_sitemap_urls: int = 50_000
    max_sitemap_depth: int = 3
    max_sitemaps: int = 200
    # A page's JSON-LD block longer than this is not read (metadata, not a data dump).
    max_json_ld_chars: int = 2_000_000
    # A date string longer than this is not read as a date.
    max_date_chars: int = 200

    # Work per article: HTML extraction and NLP; None for no limit.
    time_limit: float | None = 120.0

    # HTTP.
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0  # the whole fetch, redirects and retries included
    max_redirects: int = 5
    # 429 and 5xx answers are asked again this many times.
    fetch_retries: int = 3
    # Retry-After is obeyed up to this long (and never past total_timeout).
    max_retry_after: float = 30.0
    # At most one request per host per this many seconds, per worker process.
    min_host_interval: float = 1.0
    # A robots.txt crawl delay slows requests to a host down to at most this.
    max_crawl_delay: float = 10.0
    # RFC 9309: crawlers must parse at least 500 KiB of robots.txt.
    max_robots_bytes: int = 512 * KIB

    # Feed state: the ids of entries already ingested, kept per feed.
    max_seen_ids: int = 5000
    # A new feed entry that fails is read again at the next poll, this many times in
    # all (an attempt that fails as the last did writes no new errors row); then it is
    # given up and marked seen.
    max_entry_attempts: int = 3

    # NLP. Longer texts go to spaCy in pieces cut at paragraph breaks.
    max_nlp_chars: int = 100_000
    # Larger batches are no faster with the small model and hold far more memory
    # (P4 in benchmarks/).
    batch_size: int = 16
    # spaCy's working memory grows with the text it is given at once (about
    # 3.4 MB per 1,000 characters with the small model), so texts go to
    # nlp.pipe in groups of at most this many characters (P4 in benchmarks/).
    nlp_batch_chars: int = 50_000
    # Batches are cut from this many groups of articles (by a hash of their id), and the
    # groups are what a runner spreads over its workers: more groups spread the work more
    # evenly, fewer fill more batches.
    nlp_groups: int = 32
    # Beam's Dask runner tears the NLP stage down after every partition: a worker's model
    # process waits this long for the worker's next partition before it ends.
    model_idle_seconds: float = 60.0

    # watch: a file modified less than this long ago may still be being written,
    # and is left for a later poll.
    settle_seconds: float = 5.0

    # The input manifest: a local input file of at most this many bytes is hashed when
    # read, so that a later run can tell a file merely touched from one changed.
    max_hash_bytes: int = 16 * MIB
    # Each committed run adds a small log of the files it read; once this many have
    # gathered they are merged into one base file, so a run never rewrites the whole
    # manifest and a load never reads more than this many logs.
    manifest_logs: int = 32

    # Beam's Dask runner spreads work over the partitions of a Create only: newsbeam lists
    # its inputs in twice as many shards as the cluster has worker threads, or in this many
    # when it cannot ask (--dask_npartitions says otherwise).
    dask_partitions: int = 4

    # Output.
    excerpt_chars: int = 200  # of the bad input, in an errors row
    # Rows of a table and date are grouped into at most this many files unless --shards
    # says otherwise (a shard of one date is written by one worker, in one step).
    write_shards: int = 1
    row_group_rows: int = 100_000  # rows per Parquet row group, at most
    pending_bytes: int = 32 * MIB  # Arrow bytes one writer holds before it writes
    arrow_batch_rows: int = 1_000  # rows held as dicts before they become Arrow
    # Staging left by a run that never reached its commit is removed after this
    # long (a younger one may be a run still going).
    abandoned_staging_seconds: float = 6 * 3600
    # compact: merged files grow to this size at most; a file of half of it or more is
    # left as it is (query engines read files of 100 MB to 1 GB best).
    compact_target_bytes: int = 128 * MIB


DEFAULT_LIMITS = Limits()
