"""ReadFeeds and FetchArticlePages: feeds to raw article records, pages to better text.

Both return ``Outputs`` with a dead-letter branch, ``ERRORS``, and count
records, ``COUNTS``, like ``ReadArticles``. Network politeness (one request
per host per second) is per worker process.
"""

import datetime as dt

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from transforms import metrics
from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.lib import counters, feeds
from transforms.lib.fetch import (
    FEED_ACCEPT,
    PAGE_ACCEPT,
    FetchPolicy,
    RobotsCache,
    conditional_headers,
    crawl_policy,
    fetch,
    response_text,
)
from transforms.lib.normalize import extract_html
from transforms.lib.pages import PENDING
from transforms.lib.records import ErrorType, Rejected, Stage
from transforms.lib.urls import is_http_url
from transforms.tagged import COUNTS, Branches, Tagged

__all__ = ["COUNTS", "ERRORS", "STATE", "FetchArticlePages", "ReadFeeds"]

ARTICLES = "articles"
STATE = "state"
FEED_STAGE = Stage.FEED
FETCH_STAGE = Stage.FETCH
# Records whose text came from a feed, and so may be improved by the linked page.
_FEED_TEXT_SOURCES = frozenset(["feed_content", "feed_summary", feeds.FEED_TITLE])
_HTML_TYPES = ("html", "xml")


class _ReadFeedFn(DeadLetterFn):
    """A (feed URL or path, its saved state) pair to new entries, errors and new state."""

    def __init__(self, *, ingested_at: dt.datetime, policy: FetchPolicy):
        super().__init__(
            stage=FEED_STAGE, ingested_at=ingested_at, errors_metric=counters.FEEDS_ERRORS
        )
        self._policy = policy
        self._feeds = metrics.counter(counters.FEEDS_READ)
        self._not_modified = metrics.counter(counters.FEEDS_NOT_MODIFIED)
        self._records = metrics.counter(counters.FEEDS_RECORDS)
        self._skipped = metrics.counter(counters.FEEDS_ENTRIES_SEEN_BEFORE)

    def process(self, source_and_state):
        source, previous = source_and_state
        yield self._feeds.count()
        yield from self.guarded(self._read(source, previous or {}), origin=source)

    def _read(self, source: str, previous: dict):
        etag = last_modified = feed_url = headers = None
        if is_http_url(source):
            response = fetch(
                source,
                policy=self._policy,
                headers=conditional_headers(
                    etag=previous.get("etag"), last_modified=previous.get("last_modified")
                ),
                accept=FEED_ACCEPT,
            )
            etag = response.headers.get("etag")
            last_modified = response.headers.get("last-modified")
            if response.status == 304:  # a 304 need not repeat the validators
                yield self._not_modified.count()
                etag = etag or previous.get("etag")
                last_modified = last_modified or previous.get("last_modified")
                yield self._state(source, etag, last_modified, [])
                return
            data, feed_url, headers = response.body, response.url, response.headers
        else:
            data = _read_local(source, self._policy.max_bytes)
        outcomes, info = feeds.parse_feed(
            data,
            feed_url=feed_url,
            origin=source,
            response_headers=headers,
            seen_ids=previous.get("seen_ids", ()),
        )
        yield self._skipped.count(info["skipped"])
        for outcome in outcomes:  # a Rejected entry becomes an errors row in guarded()
            if isinstance(outcome, Rejected):
                yield outcome
            else:
                yield self._records.count()
                yield Tagged(ARTICLES, outcome)
        # New entries are marked seen only once the run committed them (commit.CommitRun).
        new_keys = {key for _origin, key in info["new_entries"]}
        seen_before = [key for key in info["entry_ids"] if key not in new_keys]
        yield self._state(source, etag, last_modified, seen_before, info["new_entries"])

    def _state(self, source, etag, last_modified, seen_ids, new_entries=()):
        update = feeds.state_update(
            source,
            etag=etag,
            last_modified=last_modified,
            seen_ids=seen_ids,
            new_entries=new_entries,
            checked_at=self._ingested_at,
        )
        return Tagged(STATE, update)


def _read_local(path: str, max_bytes: int) -> bytes:
    """A local (or any Beam filesystem's) feed file, refused past ``max_bytes``."""
    try:
        with FileSystems.open(path) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise Rejected(ErrorType.UNREADABLE_FILE, f"the feed file cannot be read: {exc}") from None
    if len(data) > max_bytes:
        raise Rejected(
            ErrorType.TOO_LARGE, f"the feed file is larger than the limit of {max_bytes} bytes"
        )
    return data


class ReadFeeds(beam.PTransform):
    """Feed URLs and local feed files to raw article records (see ``transforms.feeds``).

    ``state`` is what ``store.load_feed_state`` returned: each feed's
    validators, sent back for a conditional GET, and the ids of entries
    already ingested, which are skipped. Returns ``Outputs``: ``articles``
    holds raw records, ``ERRORS`` errors-table rows (stage ``feed``),
    ``STATE`` one new state entry per feed read (unchanged feeds included;
    see ``transforms.lib.feeds.state_update``), and ``COUNTS``. Its new entries
    are settled by ``settle_updates`` against what the run committed, then
    saved by ``store.save_feed_state``: an entry that failed anywhere is
    read again at the next poll.
    """

    def __init__(
        self,
        sources,
        *,
        state: dict,
        ingested_at: dt.datetime,
        policy: FetchPolicy | None = None,
    ):
        super().__init__()
        self._sources = list(dict.fromkeys(sources))
        self._state = state
        self._ingested_at = ingested_at
        self._policy = policy or FetchPolicy()

    def expand(self, pbegin):
        return (
            pbegin
            | "ListFeeds" >> beam.Create([(s, self._state.get(s, {})) for s in self._sources])
            | "SpreadFeeds" >> beam.Reshuffle()
            | "FetchFeeds"
            >> beam.ParDo(_ReadFeedFn(ingested_at=self._ingested_at, policy=self._policy))
            | "Branches" >> Branches(ARTICLES, ERRORS, STATE, COUNTS)
        )


class _FetchPageFn(DeadLetterFn):
    """A feed record to the same record with its page's text when that is better,
    and a URL record (``text_source="url"``) to its page's text and metadata.

    A page that cannot be fetched or read is an errors row; a feed record
    still goes on with the feed's text, a URL record goes no further.
    """

    def __init__(
        self,
        *,
        ingested_at: dt.datetime,
        policy: FetchPolicy,
        respect_robots: bool,
        time_limit: float | None,
    ):
        super().__init__(
            stage=FETCH_STAGE, ingested_at=ingested_at, errors_metric=counters.FETCH_ERRORS
        )
        self._policy = policy
        self._respect_robots = respect_robots
        self._time_limit = time_limit
        self._robots = None
        self._pages = metrics.counter(counters.FETCH_PAGES)
        self._replaced = metrics.counter(counters.FETCH_TEXT_REPLACED)
        self._listed_pages = metrics.counter(counters.PAGES_RECORDS)
        self._listed_errors = metrics.counter(counters.PAGES_ERRORS)

    def setup(self):
        if self._respect_robots:
            self._robots = RobotsCache(policy=self._policy)

    def process(self, record):
        url = record.get("url")
        source = record.get("text_source")
        if source not in _FEED_TEXT_SOURCES and source != PENDING:
            yield Tagged(ARTICLES, record)
            return
        if source == PENDING:
            yield from self._listed_page(record, url)
            return
        if not is_http_url(url or ""):
            yield Tagged(ARTICLES, record)
            return
        yield self._pages.count()
        try:
            improved = feeds.with_page(record, self._page(url))
        except Exception as exc:  # Rejected or a library failure: keep the feed's text
            yield from self.dead_letter(exc, origin=url)
            yield Tagged(ARTICLES, record)
            return
        if improved["text_source"] == "page":
            yield self._replaced.count()
        yield Tagged(ARTICLES, improved)

    def _listed_page(self, record, url):
        """A page named by --urls or a sitemap: its record, or an errors row (it has no
        other text to fall back on, so it counts as an input that could not be read)."""
        try:
            page = self._page(url)
        except Exception as exc:
            yield from self.dead_letter(exc, origin=url, counter=self._listed_errors)
            return
        yield self._listed_pages.count()
        yield Tagged(ARTICLES, feeds.with_page(record, page))

    def _page(self, url: str) -> dict:
        policy = self._policy
        if self._robots is not None:
            policy = crawl_policy(policy, self._robots.check(url))
        response = fetch(url, policy=policy, accept=PAGE_ACCEPT)
        content_type = response.headers.get("content-type", "").lower()
        if content_type and not any(kind in content_type for kind in _HTML_TYPES):
            raise Rejected(
                ErrorType.NOT_HTML, f"{response.url} is {content_type}, not an HTML page"
            )
        return extract_html(response_text(response), response.url, time_limit=self._time_limit)


class FetchArticlePages(beam.PTransform):
    """Raw feed records to the same records, their text replaced by the linked page's
    main text when that is clearly longer (``text_source="page"``).

    robots.txt is obeyed unless ``respect_robots`` is False. A page whose
    extraction takes longer than ``time_limit`` seconds is given up
    (``time_limit``), like an HTML file's. Returns ``Outputs``: ``articles``
    holds every input record, ``ERRORS`` errors-table rows (stage ``fetch``)
    for pages that could not be used, ``COUNTS`` count records.
    """

    def __init__(
        self,
        *,
        ingested_at: dt.datetime,
        policy: FetchPolicy | None = None,
        respect_robots: bool = True,
        time_limit: float | None = None,
    ):
        super().__init__()
        self._ingested_at = ingested_at
        self._policy = policy or FetchPolicy()
        self._respect_robots = respect_robots
        self._time_limit = time_limit

    def expand(self, records):
        return (
            records
            | "FetchPages"
            >> beam.ParDo(
                _FetchPageFn(
                    ingested_at=self._ingested_at,
                    policy=self._policy,
                    respect_robots=self._respect_robots,
                    time_limit=self._time_limit,
                )
            )
            | "Branches" >> Branches(ARTICLES, ERRORS, COUNTS)
        )
