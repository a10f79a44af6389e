"""The output tables, as pyarrow schemas.

Rows travel through the pipeline as plain dicts whose keys are these column
names plus ``date``, the Hive partition value (``YYYY-MM-DD``, UTC), which the
writer turns into the ``date=...`` folder and does not store in the files.
Readers with Hive partitioning on (DuckDB, pyarrow.dataset, Polars, Spark)
get ``date`` back as a column.

Add columns freely; never drop or rename one (bump SCHEMA_VERSION instead).
"""

import pyarrow as pa

# 2: nlp_model (articles), model_label, title, detected_by (entities), parent_quote_id and
# speaker_rule (quotes), entity_resolution; modified_at, description, image_url and site_name
# (articles). All nullable, all added.
# 3: nlp_version (articles), what produced its entities and quotes (``newsbeam reprocess``);
# run_id (articles, errors), the run that wrote the row. NULL in files written before.
SCHEMA_VERSION = 3
PARTITION_COLUMN = "date"

_UTC = pa.timestamp("us", tz="UTC")

ARTICLES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("canonical_url", pa.string()),
        pa.field("source", pa.string()),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("authors", pa.list_(pa.string())),
        pa.field("published_at", _UTC),
        pa.field("ingested_at", _UTC, nullable=False),
        pa.field("language", pa.string()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("word_count", pa.int32(), nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("schema_version", pa.int16(), nullable=False),
        pa.field("text_source", pa.string()),
        # The spaCy model that found its entities and quotes; NULL when none ran (--no-nlp,
        # or no model for the article's language). Added in schema version 2.
        pa.field("nlp_model", pa.string()),
        pa.field("modified_at", _UTC),
        pa.field("description", pa.string()),
        pa.field("image_url", pa.string()),
        pa.field("site_name", pa.string()),
        # The versions of that model, spaCy and newsbeam (``en_core_web_sm==3.8.0 spacy==3.8.7
        # newsbeam==0.2.0``); NULL when no model ran. Added in schema version 3.
        pa.field("nlp_version", pa.string()),
        # The run that wrote the row, as in _runs/<run_id>.json. Added in schema version 3.
        pa.field("run_id", pa.string()),
    ]
)

ENTITIES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("entity_id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("canonical", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("start_char", pa.int32(), nullable=False),
        pa.field("end_char", pa.int32(), nullable=False),
        pa.field("sentence_index", pa.int32(), nullable=False),
        # Added in schema version 2: the label the model gave (``label`` may be fixed from the
        # article: a surname tagged ORG beside the person's full name is a PERSON), the title
        # taken off a person's name (``Sen.``), and ``model`` or ``speaker`` for a mention the
        # model missed that a quote's attribution names.
        pa.field("model_label", pa.string()),
        pa.field("title", pa.string()),
        pa.field("detected_by", pa.string()),
    ]
)

QUOTES = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("quote_id", pa.string(), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("start_char", pa.int32(), nullable=False),
        pa.field("end_char", pa.int32(), nullable=False),
        pa.field("speaker", pa.string()),
        pa.field("speaker_mention", pa.string()),
        pa.field("speaker_start", pa.int32()),
        pa.field("speaker_end", pa.int32()),
        pa.field("speaker_entity_id", pa.string()),
        pa.field("cue", pa.string()),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("sentence_index", pa.int32(), nullable=False),
        # Added in schema version 2: the ``quote_id`` of the reported clause a partial quote
        # sits in (count speech events with ``parent_quote_id IS NULL``), and how the speaker
        # was found: name, pronoun, role, follow_on, anonymous (NULL: no speaker).
        pa.field("parent_quote_id", pa.string()),
        pa.field("speaker_rule", pa.string()),
    ]
)

ERRORS = pa.schema(
    [
        pa.field("stage", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("error_type", pa.string(), nullable=False),
        pa.field("message", pa.string(), nullable=False),
        pa.field("excerpt", pa.string()),
        pa.field("ingested_at", _UTC, nullable=False),
        # The run that wrote the row, as in _runs/<run_id>.json. Added in schema version 3.
        pa.field("run_id", pa.string()),
    ]
)

# One row per entity id and run that saw it (or changed its resolution): what the id stands
# for across the corpus. The current resolution of an id is its row with the latest
# ``resolved_at`` (the ``entity_resolution_current`` view); see docs/ENTITIES.md.
ENTITY_RESOLUTION = pa.schema(
    [
        pa.field("entity_id", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("canonical", pa.string(), nullable=False),
        pa.field("mentions", pa.int64(), nullable=False),
        pa.field("articles", pa.int64(), nullable=False),
        pa.field("resolved_id", pa.string(), nullable=False),
        pa.field("resolved_name", pa.string(), nullable=False),
        pa.field("resolved_label", pa.string(), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("resolved_at", _UTC, nullable=False),
    ]
)

TABLES = {
    "articles": ARTICLES,
    "entities": ENTITIES,
    "quotes": QUOTES,
    "errors": ERRORS,
    "entity_resolution": ENTITY_RESOLUTION,
}


def empty_table(name: str) -> pa.Table:
    """An empty table of ``name`` with its partition column, for views over no files.

    The partition column is a date, as DuckDB reads ``date=YYYY-MM-DD`` folders.
    """
    schema = TABLES[name].append(pa.field(PARTITION_COLUMN, pa.date32()))
    return pa.Table.from_batches([], schema=schema)  # Schema.empty_table imports pandas: 1 s
