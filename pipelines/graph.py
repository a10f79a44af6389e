"""The ingest pipeline graph: Read -> Normalize -> Deduplicate -> Enrich -> Write.

``ingest`` builds the graph from a PCollection of raw records, so tests can
feed ``beam.Create([...])`` into the same graph that production feeds from
files; ``build_pipeline`` adds the file reading in front of it.
"""

import dataclasses
import datetime as dt
from collections.abc import Collection, Sequence

import apache_beam as beam

from transforms import dedupe, enrich, normalize, read
from transforms.enrich import ExtractEntitiesAndQuotes, SpacyModelHandler
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
    max_file_bytes: int = read.DEFAULT_MAX_FILE_BYTES
    max_nlp_chars: int = 100_000
    batch_size: int = enrich.DEFAULT_BATCH_SIZE
    shards: int = 1
    incremental: bool = True


def ingest(raw_records, config: IngestConfig, *, extra_errors=()):
    """Raw records to the four tables, written and committed under ``config.output_dir``.

    Returns the PCollection holding the one list of committed files.
    """
    normalized = raw_records | "NormalizeArticles" >> NormalizeArticles(
        ingested_at=config.ingested_at
    )
    existing_ids = None
    if config.incremental:
        existing_ids = raw_records.pipeline | "ReadExistingIds" >> dedupe.ReadExistingIds(
            config.output_dir
        )
    unique = normalized.articles | "DeduplicateArticles" >> dedupe.DeduplicateArticles(existing_ids)
    # Spread the articles over the workers before the expensive step.
    articles = unique.articles | "Redistribute" >> beam.Reshuffle()
    errors = [*extra_errors, normalized[normalize.ERRORS]]
    tables = {"articles": articles}
    if config.nlp:
        handler = SpacyModelHandler(
            config.model,
            labels=config.labels,
            cues=config.cues,
            max_chars=config.max_nlp_chars,
            batch_size=config.batch_size,
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
    """Adds the whole ingest graph, from ``config.inputs`` to Parquet, to ``pipeline``."""
    raw = pipeline | "ReadArticles" >> ReadArticles(
        config.inputs, ingested_at=config.ingested_at, max_file_bytes=config.max_file_bytes
    )
    return ingest(raw.articles, config, extra_errors=[raw[read.ERRORS]])
