"""The ingest pipeline graph: Read -> Normalize -> Deduplicate -> Enrich -> Write.

``ingest`` builds the graph from a PCollection of raw records, so tests can
feed ``beam.Create([...])`` into the same graph that production feeds from
files; ``build_pipeline`` adds the file reading in front of it.
"""

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence

import apache_beam as beam

from transforms import dedupe, enrich, normalize, read, store
from transforms import feeds as read_feeds
from transforms import pages as read_pages
from transforms.enrich import ExtractEntitiesAndQuotes, SpacyModelHandler
from transforms.lib.fetch import FetchPolicy
from transforms.lib.settings import DEFAULT_LIMITS, Limits
from transforms.normalize import NormalizeArticles
from transforms.read import ReadArticles
from transforms.write import WriteTables


@dataclasses.dataclass(frozen=True)
class IngestConfig:
    """Everything a run needs besides Beam's own options."""

    inputs: Sequence[str]
    output_dir: str
    run_id: str
    ingested_at: dt.datetime
    model: str | None
    labels: Collection[str]
    cues: Collection[str]
    nlp: bool = True
    limits: Limits = DEFAULT_LIMITS
    shards: int | None = None  # None: one file per bundle, table and date
    incremental: bool = True
    feeds: Sequence[str] = ()
    feed_state: dict = dataclasses.field(default_factory=dict)
    fetch_pages: bool = False
    fetch_policy: FetchPolicy | None = None  # None: FetchPolicy.from_limits(limits)
    urls: Sequence[str] = ()  # article pages to fetch (--urls)
    sitemaps: Sequence[str] = ()  # sitemaps whose pages to fetch (--sitemap)


def ingest(raw_records, config: IngestConfig, *, extra_errors=()):
    """Raw records to the four tables, written and committed under ``config.output_dir``.

    Returns the PCollection holding the one list of committed files.
    """
    normalized = raw_records | "NormalizeArticles" >> NormalizeArticles(
        ingested_at=config.ingested_at, time_limit=config.limits.time_limit
    )
    existing_ids = None
    if config.incremental:
        existing_ids = raw_records.pipeline | "ReadExistingIds" >> dedupe.ReadExistingIds(
            config.output_dir
        )
    unique = normalized.articles | "DeduplicateArticles" >> dedupe.DeduplicateArticles(existing_ids)
    # Deduplication ends in a grouping by article, so its output is already
    # spread over the workers: no Reshuffle (and no copy of every text) is needed.
    articles = unique.articles
    errors = [*extra_errors, normalized[normalize.ERRORS]]
    tables = {"articles": articles}
    if config.nlp:
        handler = SpacyModelHandler(
            config.model,
            labels=config.labels,
            cues=config.cues,
            max_chars=config.limits.max_nlp_chars,
            batch_size=config.limits.batch_size,
            time_limit=config.limits.time_limit,
        )
        enriched = articles | "ExtractEntitiesAndQuotes" >> ExtractEntitiesAndQuotes(
            handler, ingested_at=config.ingested_at
        )
        tables = {
            "articles": enriched.articles,
            "entities": enriched[enrich.ENTITIES],
            "quotes": enriched[enrich.QUOTES],
        }
        errors.append(enriched[enrich.ERRORS])
    tables["errors"] = errors | "AllErrors" >> beam.Flatten()
    return tables | "WriteTables" >> WriteTables(
        config.output_dir, run_id=config.run_id, shards=config.shards
    )


def build_pipeline(pipeline: beam.Pipeline, config: IngestConfig):
    """Adds the whole ingest graph, from files and feeds to Parquet, to ``pipeline``.

    Feed state (validators, entry ids seen) is saved only after the commit, so
    a run that fails never marks a feed entry as ingested.
    """
    sources, errors, listed = [], [], []
    policy = config.fetch_policy or FetchPolicy.from_limits(config.limits)
    if config.inputs:
        files = pipeline | "ReadArticles" >> ReadArticles(
            config.inputs,
            ingested_at=config.ingested_at,
            max_file_bytes=config.limits.max_file_bytes,
            max_feed_bytes=policy.max_bytes,
            max_jsonl_bytes=config.limits.max_jsonl_bytes,
        )
        listed.append(files.articles)
        errors.append(files[read.ERRORS])
    if config.feeds:
        fed = pipeline | "ReadFeeds" >> read_feeds.ReadFeeds(
            config.feeds,
            state=config.feed_state,
            ingested_at=config.ingested_at,
            policy=policy,
        )
        listed.append(fed.articles)
        errors.append(fed[read_feeds.ERRORS])
    if listed:
        records = listed | "FilesAndFeeds" >> beam.Flatten()
        if config.fetch_pages:  # feed entries from --feeds and --input feed files alike
            fetched = records | "FetchArticlePages" >> read_feeds.FetchArticlePages(
                ingested_at=config.ingested_at, policy=policy, time_limit=config.limits.time_limit
            )
            records = fetched.articles
            errors.append(fetched[read_feeds.ERRORS])
        sources.append(records)
    if config.urls or config.sitemaps:
        pages = pipeline | "ReadArticlePages" >> read_pages.ReadArticlePages(
            urls=config.urls,
            sitemaps=config.sitemaps,
            ingested_at=config.ingested_at,
            policy=policy,
            time_limit=config.limits.time_limit,
        )
        sources.append(pages["articles"])
        errors.append(pages[read_pages.ERRORS])
    raw = sources | "AllSources" >> beam.Flatten()
    committed = ingest(raw, config, extra_errors=errors)
    if config.feeds:
        output_dir = config.output_dir
        _ = committed | "SaveFeedState" >> beam.Map(
            lambda _files, updates: store.save_feed_state(output_dir, updates),
            updates=beam.pvalue.AsList(fed[read_feeds.STATE]),
        )
    return committed
