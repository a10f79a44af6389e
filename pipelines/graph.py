"""The ingest pipeline graph: Read -> Normalize -> Deduplicate -> Enrich -> Write -> Commit.

``ingest`` builds the graph from a PCollection of raw records, so tests can
feed ``beam.Create([...])`` into the same graph that production feeds from
files; ``build_pipeline`` adds the file reading in front of it.

One graph serves every runner (docs/RUNNERS.md): every stage's branches come
from one output split by tag, every count travels as data, and everything
ends in ``CommitRun``, the one sink, applied last.
"""

import dataclasses
import datetime as dt
from collections.abc import Collection, Mapping, Sequence

import apache_beam as beam

from transforms import commit, dedupe, enrich, errors_once, normalize, read
from transforms import feeds as read_feeds
from transforms import pages as read_pages
from transforms.commit import CommitRun
from transforms.enrich import ExtractEntitiesAndQuotes, SpacyModelHandler
from transforms.lib import manifest
from transforms.lib.fetch import FetchPolicy
from transforms.lib.settings import DEFAULT_LIMITS, Limits
from transforms.normalize import NormalizeArticles
from transforms.read import ReadArticles
from transforms.resolve import RESOLUTION_TABLE, ReadCurrentResolution, ResolveEntities
from transforms.tagged import COUNTS
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
    # The input listing is cut into this many shards: a runner that cannot split work
    # itself (Dask) runs each, and the work that follows from it, as its own partition.
    input_shards: int = 1


def ingest(
    raw_records,
    config: IngestConfig,
    *,
    extra_errors=(),
    extra_counts=(),
    feed_updates=None,
    input_files=None,
):
    """Raw records to the tables, written and committed under ``config.output_dir``.

    ``extra_errors`` and ``extra_counts`` are the errors rows and count
    records of the steps that read ``raw_records``; ``feed_updates`` the
    feeds' new state (``ReadFeeds``' ``STATE``), saved after the commit with
    the entries that were settled (written as articles or declared
    duplicates; any other record ended as an errors row); ``input_files``
    the records of the files read (``ReadArticles``' ``FILES``), saved after
    the commit in the input manifest, each ``ok`` when it gave a settled
    record, else ``failed`` (read again only once it changes). Returns the
    commit step's output, the list of files committed: the graph's one sink.
    """
    normalized = raw_records | "NormalizeArticles" >> NormalizeArticles(
        ingested_at=config.ingested_at, time_limit=config.limits.time_limit
    )
    errors = [*extra_errors, normalized[normalize.ERRORS]]
    counts = [*extra_counts, normalized[COUNTS]]
    existing_ids = seen_errors = None
    if config.incremental:
        existing = raw_records.pipeline | "ReadExistingIds" >> dedupe.ReadExistingIds(
            config.output_dir, ingested_at=config.ingested_at
        )
        existing_ids = existing.ids
        errors.append(existing[dedupe.ERRORS])
        counts.append(existing[COUNTS])
        seen_errors = raw_records.pipeline | "ReadSeenErrors" >> errors_once.ReadSeenErrors(
            config.output_dir, ingested_at=config.ingested_at
        )
        errors.append(seen_errors[errors_once.ERRORS])
        counts.append(seen_errors[COUNTS])
    unique = normalized.articles | "DeduplicateArticles" >> dedupe.DeduplicateArticles(existing_ids)
    counts.append(unique[COUNTS])
    # Deduplication ends in a grouping by id shard (512 of them), so its output is already
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
        resolved = (
            tables["entities"],
            current,
        ) | "ResolveEntities" >> ResolveEntities(
            run_id=config.run_id, resolved_at=config.ingested_at
        )
        tables[RESOLUTION_TABLE] = resolved[RESOLUTION_TABLE]
        errors.append(enriched[enrich.ERRORS])
        counts += [enriched[COUNTS], resolved[COUNTS]]
    tables["errors"] = errors | "AllErrors" >> beam.Flatten()
    if config.incremental:  # each failure once: not again when the output holds it already
        already_written = unique[dedupe.DUPLICATES] | "AlreadyWrittenOrigins" >> beam.FlatMap(
            lambda dup: [dup["origin"]] if dup["kept"] == dedupe.EARLIER_RUN else []
        )
        new_errors = tables["errors"] | "KeepNewErrors" >> errors_once.KeepNewErrors(
            seen=seen_errors[errors_once.KEYS], dropped_origins=already_written
        )
        tables["errors"] = new_errors[errors_once.ERRORS]
        counts.append(new_errors[COUNTS])
    written = tables | "WriteTables" >> WriteTables(
        config.output_dir, run_id=config.run_id, shards=config.shards
    )
    parts = {commit.FILES: written, COUNTS: counts | "AllCounts" >> beam.Flatten()}
    if feed_updates is not None or input_files is not None:  # only they need the settled
        settled = (
            tables["articles"] | "WrittenOrigins" >> beam.Map(lambda article: article["origin"]),
            unique[dedupe.DUPLICATES] | "DuplicateOrigins" >> beam.Map(lambda dup: dup["origin"]),
        ) | "SettledOrigins" >> beam.Flatten()
    if feed_updates is not None:
        parts[commit.FEED_UPDATES] = feed_updates
        parts[commit.FEED_ENTRIES] = _settled_entries(feed_updates, settled)
    if input_files is not None:
        parts[commit.INPUT_FILES] = _files_read(input_files, settled)
    return parts | "CommitRun" >> CommitRun(config.output_dir, run_id=config.run_id)


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
    feed entry or a file as ingested. Returns the commit step's output;
    nothing may be applied to ``pipeline`` after it.
    """
    sources, errors, counts, listed = [], [], [], []
    feed_updates = None
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
            shards=config.input_shards,
        )
        listed.append(files.articles)
        errors.append(files[read.ERRORS])
        counts.append(files[COUNTS])
    if config.feeds:
        fed = pipeline | "ReadFeeds" >> read_feeds.ReadFeeds(
            config.feeds,
            state=config.feed_state,
            ingested_at=config.ingested_at,
            policy=policy,
        )
        listed.append(fed.articles)
        errors.append(fed[read_feeds.ERRORS])
        counts.append(fed[COUNTS])
        feed_updates = fed[read_feeds.STATE]
    if listed:
        records = listed | "FilesAndFeeds" >> beam.Flatten()
        if config.fetch_pages:  # feed entries from --feeds and --input feed files alike
            fetched = records | "FetchArticlePages" >> read_feeds.FetchArticlePages(
                ingested_at=config.ingested_at, policy=policy, time_limit=config.limits.time_limit
            )
            records = fetched.articles
            errors.append(fetched[read_feeds.ERRORS])
            counts.append(fetched[COUNTS])
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
        counts.append(pages[COUNTS])
    raw = sources | "AllSources" >> beam.Flatten()
    return ingest(
        raw,
        config,
        extra_errors=errors,
        extra_counts=counts,
        feed_updates=feed_updates,
        input_files=files[read.FILES] if config.inputs else None,
    )


def _files_read(files, settled_origins):
    """Each file read (``ReadArticles``' ``FILES`` record), as ``(record, settled)``:
    ``settled`` when an article or a declared duplicate came from it.

    An origin's candidate files (``manifest.origin_files``: itself and each
    part before a ``#``) meet the files read in one join, so no step holds
    every origin; a name that is both a file and a ``#`` part of another
    file's records counts as settled by either.
    """
    by_origin = files | "KeyFilesRead" >> beam.Map(lambda file: (file["origin"], file))
    candidates = settled_origins | "CandidateFiles" >> beam.FlatMap(
        lambda origin: [(candidate, None) for candidate in manifest.origin_files(origin)]
    )
    return (
        {"file": by_origin, "settled": candidates}
        | "JoinSettledFiles" >> beam.CoGroupByKey()
        | "FilesRead"
        >> beam.FlatMap(
            lambda joined: [(file, bool(joined[1]["settled"])) for file in joined[1]["file"]]
        )
    )


def _settled_entries(updates, settled_origins):
    """The (feed, key) of each new feed entry that became an article or a declared duplicate:
    those are marked seen once the run commits; the others are read again next time."""
    entries = updates | "NewFeedEntries" >> beam.FlatMap(
        lambda update: [(origin, (update["feed"], key)) for origin, key in update["new_entries"]]
    )
    settled = settled_origins | "KeySettled" >> beam.Map(lambda origin: (origin, None))
    return (
        {"entry": entries, "settled": settled}
        | "JoinSettledEntries" >> beam.CoGroupByKey()
        | "IngestedEntries"
        >> beam.FlatMap(lambda joined: joined[1]["entry"] if joined[1]["settled"] else [])
    )
