"""The ingest pipeline graph: Read -> Normalize -> Deduplicate -> Enrich -> Write.

``ingest`` builds the graph from a PCollection of raw records, so tests can
feed ``beam.Create([...])`` into the same graph that production feeds from
files; ``build_pipeline`` adds the file reading in front of it.
"""

import dataclasses
import datetime as dt
import typing
from collections.abc import Collection, Mapping, Sequence

import apache_beam as beam

from transforms import dedupe, enrich, errors_once, normalize, read, store
from transforms import feeds as read_feeds
from transforms import pages as read_pages
from transforms.enrich import ExtractEntitiesAndQuotes, SpacyModelHandler
from transforms.lib import feeds, manifest
from transforms.lib.fetch import FetchPolicy
from transforms.lib.settings import DEFAULT_LIMITS, Limits
from transforms.normalize import NormalizeArticles
from transforms.read import ReadArticles
from transforms.resolve import RESOLUTION_TABLE, ReadCurrentResolution, ResolveEntities
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
    models: Mapping[str, str] = dataclasses.field(default_factory=dict)  # language -> model
    aliases: Mapping = dataclasses.field(default_factory=dict)  # --aliases, see entities
    urls: Sequence[str] = ()  # article pages to fetch (--urls)
    sitemaps: Sequence[str] = ()  # sitemaps whose pages to fetch (--sitemap)
    # Model processes outlive the run in this process, for the next (watch's next poll).
    keep_models: bool = False


class Ingested(typing.NamedTuple):
    committed: beam.PCollection  # the one list of committed files
    # Origins of records that became articles or declared duplicates (runs with feeds).
    settled: beam.PCollection | None


def ingest(raw_records, config: IngestConfig, *, extra_errors=()) -> Ingested:
    """Raw records to the four tables, written and committed under ``config.output_dir``.

    Returns the committed files and, when the run reads feeds, the origins
    of the records that were settled: written as articles or declared
    duplicates. Any other record ended as an errors row.
    """
    normalized = raw_records | "NormalizeArticles" >> NormalizeArticles(
        ingested_at=config.ingested_at, time_limit=config.limits.time_limit
    )
    errors = [*extra_errors, normalized[normalize.ERRORS]]
    existing_ids = seen_errors = None
    if config.incremental:
        existing = raw_records.pipeline | "ReadExistingIds" >> dedupe.ReadExistingIds(
            config.output_dir, ingested_at=config.ingested_at
        )
        existing_ids = existing.ids
        errors.append(existing[dedupe.ERRORS])
        seen_errors = raw_records.pipeline | "ReadSeenErrors" >> errors_once.ReadSeenErrors(
            config.output_dir, ingested_at=config.ingested_at
        )
        errors.append(seen_errors[errors_once.ERRORS])
    unique = normalized.articles | "DeduplicateArticles" >> dedupe.DeduplicateArticles(existing_ids)
    # Deduplication ends in a grouping by article, so its output is already
    # spread over the workers: no Reshuffle (and no copy of every text) is needed.
    articles = unique.articles
    tables = {"articles": articles}
    if config.nlp:
        enriched = articles | "ExtractEntitiesAndQuotes" >> ExtractEntitiesAndQuotes(
            model_handler(config), ingested_at=config.ingested_at
        )
        tables = {
            "articles": enriched["articles"],
            "entities": enriched[enrich.ENTITIES],
            "quotes": enriched[enrich.QUOTES],
        }
        current = raw_records.pipeline | "ReadCurrentResolution" >> ReadCurrentResolution(
            config.output_dir
        )
        tables[RESOLUTION_TABLE] = (
            tables["entities"],
            current,
        ) | "ResolveEntities" >> ResolveEntities(
            run_id=config.run_id, resolved_at=config.ingested_at
        )
        errors.append(enriched[enrich.ERRORS])
    tables["errors"] = errors | "AllErrors" >> beam.Flatten()
    if config.incremental:  # each failure once: not again when the output holds it already
        already_written = unique[dedupe.DUPLICATES] | "AlreadyWrittenOrigins" >> beam.FlatMap(
            lambda dup: [dup["origin"]] if dup["kept"] == dedupe.EARLIER_RUN else []
        )
        tables["errors"] = tables["errors"] | "KeepNewErrors" >> errors_once.KeepNewErrors(
            seen=seen_errors.keys, dropped_origins=already_written
        )
    committed = tables | "WriteTables" >> WriteTables(
        config.output_dir, run_id=config.run_id, shards=config.shards
    )
    settled = None
    if config.feeds or config.inputs:  # only feed state and the input manifest need them
        settled = (
            tables["articles"] | "WrittenOrigins" >> beam.Map(lambda article: article["origin"]),
            unique[dedupe.DUPLICATES] | "DuplicateOrigins" >> beam.Map(lambda dup: dup["origin"]),
        ) | "SettledOrigins" >> beam.Flatten()
    return Ingested(committed, settled)


def model_handler(config: IngestConfig) -> SpacyModelHandler:
    """The spaCy model handler of a run's enrichment, from its models and options."""
    return SpacyModelHandler(
        config.models or {"en": config.model},
        aliases=config.aliases,
        labels=config.labels,
        cues=config.cues,
        max_chars=config.limits.max_nlp_chars,
        batch_size=config.limits.batch_size,
        time_limit=config.limits.time_limit,
        keep_models=config.keep_models,
    )


def build_pipeline(pipeline: beam.Pipeline, config: IngestConfig):
    """Adds the whole ingest graph, from files and feeds to Parquet, to ``pipeline``.

    Feed state (validators, entry ids seen) and the input manifest (files
    read) are saved only after the commit, so a run that fails never marks a
    feed entry or a file as ingested.
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
            max_hash_bytes=config.limits.max_hash_bytes,
            exclude=config.output_dir,  # a run never reads its own output
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
    committed, settled = ingest(raw, config, extra_errors=errors)
    if config.feeds:
        _save_feed_state(committed, settled, fed[read_feeds.STATE], config.output_dir)
    if config.inputs:
        _save_input_manifest(committed, settled, files[read.FILES], config)
    return committed


def _save_input_manifest(committed, settled_origins, files, config: IngestConfig) -> None:
    """After the commit, records each file read in the input manifest: ``ok`` when it gave
    an article or a declared duplicate, else ``failed`` (read again only once it changes)."""
    output_dir, run_id = config.output_dir, config.run_id
    file_origins = (
        files
        | "FileOrigins" >> beam.Map(lambda file: file["origin"])
        | "FileOriginSet" >> beam.combiners.ToSet()
    )
    settled_files = (
        settled_origins
        | "FileOfArticle"
        >> beam.FlatMap(
            lambda origin, origins: [f] if (f := manifest.file_of(origin, origins)) else [],
            origins=beam.pvalue.AsSingleton(file_origins),
        )
        | "SettledFiles" >> beam.Distinct()
    )
    _ = committed | "SaveInputManifest" >> beam.Map(
        lambda _files, read, settled: store.save_input_manifest(
            output_dir, run_id, manifest.file_entries(read, set(settled), run_id=run_id)
        ),
        read=beam.pvalue.AsList(files),
        settled=beam.pvalue.AsList(settled_files),
    )


def _save_feed_state(committed, settled_origins, updates, output_dir: str) -> None:
    """After the commit, saves each feed's state: new entries that became articles or
    declared duplicates are marked seen, the others are read again next time."""
    entries = updates | "NewFeedEntries" >> beam.FlatMap(
        lambda update: [(origin, (update["feed"], key)) for origin, key in update["new_entries"]]
    )
    settled = settled_origins | "KeySettled" >> beam.Map(lambda origin: (origin, None))
    ingested = (
        {"entry": entries, "settled": settled}
        | "JoinSettledEntries" >> beam.CoGroupByKey()
        | "IngestedEntries"
        >> beam.FlatMap(lambda joined: joined[1]["entry"] if joined[1]["settled"] else [])
    )
    _ = committed | "SaveFeedState" >> beam.Map(
        lambda _files, updates, ingested: store.save_feed_state(
            output_dir, feeds.settle_updates(updates, ingested)
        ),
        updates=beam.pvalue.AsList(updates),
        ingested=beam.pvalue.AsList(ingested),
    )
