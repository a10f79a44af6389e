"""ReadArticlePages: article URLs and sitemaps to raw records with their pages' text.

Pages and sitemaps are fetched with the same safe fetcher as feeds
(``transforms.lib.fetch``: private addresses refused unless allowed, size
and time caps, one request per host per second per worker) and robots.txt
is obeyed. The dead-letter branch, ``ERRORS``, holds stage ``fetch`` rows.
"""

import datetime as dt

import apache_beam as beam

from transforms import metrics
from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.feeds import FETCH_STAGE, FetchArticlePages
from transforms.lib import counters, pages
from transforms.lib.fetch import FEED_ACCEPT, FetchPolicy, RobotsCache, crawl_policy, fetch
from transforms.lib.settings import DEFAULT_LIMITS
from transforms.tagged import COUNTS, Branches, Outputs, Tagged

__all__ = ["COUNTS", "ERRORS", "ReadArticlePages"]

PAGES = "pages"


class _ReadSitemapFn(DeadLetterFn):
    """A sitemap URL to page records, reading the sitemaps an index names in turn."""

    def __init__(self, *, ingested_at: dt.datetime, policy: FetchPolicy, respect_robots: bool):
        super().__init__(
            stage=FETCH_STAGE, ingested_at=ingested_at, errors_metric=counters.PAGES_ERRORS
        )
        self._policy = policy
        self._respect_robots = respect_robots
        self._robots = None
        self._sitemaps = metrics.counter(counters.PAGES_SITEMAPS)
        self._listed = metrics.counter(counters.PAGES_LISTED)

    def setup(self):
        if self._respect_robots:
            self._robots = RobotsCache(policy=self._policy)

    def process(self, root: str):
        queue, seen, records = [(root, 0)], {root}, 0
        while queue and len(seen) <= DEFAULT_LIMITS.max_sitemaps:
            sitemap, depth = queue.pop(0)
            yield self._sitemaps.count()
            try:
                found, children = self._read(sitemap)
            except Exception as exc:  # this sitemap's errors row; the others are still read
                yield from self.dead_letter(exc, origin=sitemap)
                continue
            for record in found[: DEFAULT_LIMITS.max_sitemap_urls - records]:
                records += 1
                yield self._listed.count()
                yield Tagged(PAGES, record)
            for child in children if depth < DEFAULT_LIMITS.max_sitemap_depth else []:
                if child not in seen:
                    seen.add(child)
                    queue.append((child, depth + 1))

    def _read(self, sitemap: str):
        policy = self._policy
        if self._robots is not None:
            policy = crawl_policy(policy, self._robots.check(sitemap))
        response = fetch(sitemap, policy=policy, accept=FEED_ACCEPT)
        return pages.parse_sitemap(
            response.body, sitemap_url=response.url, max_bytes=self._policy.max_bytes
        )


def _counted(record: dict) -> tuple[Tagged, Tagged]:
    return Tagged(PAGES, record), metrics.counter(counters.PAGES_LISTED).count()


class ReadArticlePages(beam.PTransform):
    """Article URLs (``urls``) and sitemaps (``sitemaps``) to raw records of their pages.

    Each page's main text and metadata become the record's
    (``text_source="page"``); a Google News sitemap's title, date and
    language fill what the page leaves empty. Returns ``Outputs``: ``articles``
    (raw records), ``ERRORS`` (a page or sitemap that could not be fetched
    or read, robots.txt refusals included) and ``COUNTS``. ``time_limit`` bounds
    each page's extraction, as for HTML files.
    """

    def __init__(
        self,
        *,
        urls=(),
        sitemaps=(),
        ingested_at: dt.datetime,
        policy: FetchPolicy | None = None,
        respect_robots: bool = True,
        time_limit: float | None = None,
    ):
        super().__init__()
        self._time_limit = time_limit
        self._urls = list(dict.fromkeys(urls))
        self._sitemaps = list(dict.fromkeys(sitemaps))
        self._ingested_at = ingested_at
        self._policy = policy or FetchPolicy()
        self._respect_robots = respect_robots

    def expand(self, pbegin):
        listed = (
            pbegin
            | "ListUrls" >> beam.Create([pages.url_record(u) for u in self._urls])
            | "CountUrls" >> beam.FlatMap(_counted)
        )
        mapped = (
            pbegin
            | "ListSitemaps" >> beam.Create(self._sitemaps)
            | "ReadSitemaps"
            >> beam.ParDo(
                _ReadSitemapFn(
                    ingested_at=self._ingested_at,
                    policy=self._policy,
                    respect_robots=self._respect_robots,
                )
            )
        )
        found = (
            (listed, mapped)
            | "AllFound" >> beam.Flatten()
            | "Found" >> Branches(PAGES, ERRORS, COUNTS)
        )
        fetched = (
            found[PAGES]
            | "SpreadPages" >> beam.Reshuffle()
            | "FetchPages"
            >> FetchArticlePages(
                ingested_at=self._ingested_at,
                policy=self._policy,
                respect_robots=self._respect_robots,
                time_limit=self._time_limit,
            )
        )
        return Outputs(
            {
                "articles": fetched.articles,
                ERRORS: (found[ERRORS], fetched[ERRORS]) | "AllPageErrors" >> beam.Flatten(),
                COUNTS: (found[COUNTS], fetched[COUNTS]) | "AllPageCounts" >> beam.Flatten(),
            }
        )
