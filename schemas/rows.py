"""The dict shapes that travel through the pipeline, declared once.

``RawRecord`` is what a reader hands to normalisation; the row types
are the tables' rows as the stages build them: every column of the table's
Arrow schema (``schemas.tables``) plus ``date``, the partition value.
``tests/unit/test_rows.py`` checks each row type against its Arrow schema, so
a misspelt or missing column fails a test instead of being written as NULL
(pyarrow drops unknown keys and fills missing ones with NULL, silently).
"""

import datetime as dt
from typing import TypedDict


class RawRecord(TypedDict):
    """One input record before normalisation; values not known yet are None.

    Exactly one of ``text`` and ``html`` is set. ``published`` and
    ``modified`` are whatever the source said (an aware datetime, an epoch
    number or a date string). ``identity_key`` is set only for a feed entry
    that shares its URL with different entries of its feed (its link's
    fragment, or its guid): it keeps the entries apart in ``article_id``.
    """

    origin: str
    text: str | None
    html: str | None
    url: str | None
    title: str | None
    authors: list[str] | None
    published: dt.datetime | str | int | float | None
    source: str | None
    language: str | None
    text_source: str | None
    modified: dt.datetime | str | int | float | None
    description: str | None
    image_url: str | None
    site_name: str | None
    identity_key: str | None


class ArticleRow(TypedDict):
    article_id: str
    url: str | None
    canonical_url: str | None
    source: str | None
    origin: str
    title: str | None
    authors: list[str]
    published_at: dt.datetime | None
    ingested_at: dt.datetime
    language: str | None
    text: str
    word_count: int
    content_hash: str
    schema_version: int
    text_source: str | None
    nlp_model: str | None
    modified_at: dt.datetime | None
    description: str | None
    image_url: str | None
    site_name: str | None
    nlp_version: str | None
    run_id: str | None  # filled in by the writer: the run that commits the row
    date: str


class EntityRow(TypedDict):
    article_id: str
    entity_id: str
    text: str
    canonical: str
    label: str
    start_char: int
    end_char: int
    sentence_index: int
    model_label: str | None
    title: str | None
    detected_by: str | None
    date: str


class QuoteRow(TypedDict):
    article_id: str
    quote_id: str
    text: str
    start_char: int
    end_char: int
    speaker: str | None
    speaker_mention: str | None
    speaker_start: int | None
    speaker_end: int | None
    speaker_entity_id: str | None
    cue: str | None
    kind: str
    sentence_index: int
    parent_quote_id: str | None
    speaker_rule: str | None
    date: str


class ErrorRow(TypedDict):
    stage: str
    origin: str
    error_type: str
    message: str
    excerpt: str | None
    ingested_at: dt.datetime
    run_id: str | None  # filled in by the writer: the run that commits the row
    date: str


class EntityResolutionRow(TypedDict):
    entity_id: str
    label: str
    canonical: str
    mentions: int
    articles: int
    resolved_id: str
    resolved_name: str
    resolved_label: str
    rule: str
    run_id: str
    resolved_at: dt.datetime
    date: str


ROW_TYPES = {
    "articles": ArticleRow,
    "entities": EntityRow,
    "quotes": QuoteRow,
    "errors": ErrorRow,
    "entity_resolution": EntityResolutionRow,
}
