"""The numbers of ``newsbeam report``: named DuckDB queries over one output's committed tables.

Every figure of the report page comes from a function here, run on a
connection from ``query.connect`` (read-only, committed files only) after
``open_scope`` has read the ``scope_*`` temporary tables: the articles of the
chosen dates and source, their entity mentions and quotes (people and
organisations as resolved identities: the ``resolved_entities`` and
``resolved_quotes`` views, docs/ENTITIES.md) and the errors of those dates.
Everything is aggregated in SQL and cut to ``Caps``, so what reaches Python
is small for any corpus. A table with no rows, or no files, gives zeros and
empty lists.
"""

import dataclasses
import datetime as dt
import difflib
from collections.abc import Sequence

import duckdb

from pipelines import query
from schemas import TABLES

# The text_source of a feed entry that had only its headline (transforms.lib.normalize
# FEED_TITLE; not imported, because that module loads the HTML extractors).
HEADLINE_ONLY = "feed_title"
PERIODS = ("day", "week", "month", "year")
PERSON, ORG = "PERSON", "ORG"


@dataclasses.dataclass(frozen=True)
class Caps:
    """How much each part of the report shows, whatever the size of the corpus."""

    sources: int = 8  # sources named in the volume chart; the rest are "other"
    languages: int = 8
    entities: int = 10  # people (and organisations) ranked
    timeline: int = 6  # of those, the ones drawn over time
    co_mentions: int = 12  # people in the co-mention heatmap
    speakers: int = 10
    error_types: int = 12
    days_to_check: int = 8  # date partitions listed under data quality
    periods: int = 120  # time bins per chart: days, else weeks, months or years
    runs: int = 60  # latest runs drawn


CAPS = Caps()


@dataclasses.dataclass(frozen=True)
class Scope:
    """The articles a report covers: date partitions from ``since`` to ``until`` (inclusive,
    either open) and one ``source`` (None: all)."""

    since: dt.date | None = None
    until: dt.date | None = None
    source: str | None = None


EVERYTHING = Scope()


class UnknownSourceError(ValueError):
    """``--source`` names no source of the output."""


def _literal(value: str) -> str:
    """``value`` as a DuckDB string literal (no backslash escapes in standard strings)."""
    return "'" + value.replace("'", "''") + "'"


def _present_columns(connection: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """The columns of each table's view that its files have (``query.connect`` reads the
    others, added by later newsbeam versions, as NULL and lists them in ``_absent_columns``)."""
    absent = connection.execute("SELECT table_name, column_name FROM _absent_columns").fetchall()
    return {
        table: set(schema.names) - {column for name, column in absent if name == table}
        for table, schema in TABLES.items()
    }


def _column(present: set[str], name: str) -> str:
    """``name`` when the table has it, else NULL: outputs of older schema versions lack
    the columns added since (``canonical_url``, ``parent_quote_id``, ...)."""
    return name if name in present else "NULL"


def open_scope(connection: duckdb.DuckDBPyConnection, scope: Scope | None = None) -> None:
    """Reads the scope once into temporary tables the queries share.

    ``scope_articles``: one row per article id of the chosen dates and source.
    ``scope_mentions``: the entity mentions of those articles, counted per
    article and resolved identity (``mentions``); ``scope_names``: per resolved
    identity, the names its mentions carry and how often. ``scope_quotes``: their
    speech events (a partial quote inside a reported clause is not one).
    ``scope_errors``: the errors rows of the chosen dates; errors belong to
    no source, so ``--source`` leaves them unfiltered. Dates compare as
    ``YYYY-MM-DD`` text, the partition value, whether DuckDB typed the ``date``
    column as a date (files) or text (an empty table). Each table is scanned
    once here; everything after reads these, which hold one row per article,
    per identity in an article, per quote and per error. Its steps,
    ``open_articles``, ``open_mentions`` and ``open_quotes``, can be taken
    apart, to query one table's rows while the next is not read yet.
    """
    open_articles(connection, scope)
    open_mentions(connection)
    open_quotes(connection)


def open_articles(connection: duckdb.DuckDBPyConnection, scope: Scope | None = None) -> None:
    """The first step of ``open_scope``: ``scope_articles`` and ``scope_errors`` (whose
    ``with_entities`` is false until ``open_mentions``)."""
    scope = scope or EVERYTHING
    days = []
    if scope.since is not None:
        days.append(f"CAST(date AS VARCHAR) >= {_literal(scope.since.isoformat())}")
    if scope.until is not None:
        days.append(f"CAST(date AS VARCHAR) <= {_literal(scope.until.isoformat())}")
    articles_where = list(days)
    if scope.source is not None:
        articles_where.append(f"source = {_literal(scope.source)}")

    def where(conditions):
        return "WHERE " + " AND ".join(conditions) if conditions else ""

    a = _present_columns(connection)["articles"]
    # Schema 1 did not record nlp_model: whether an article was enriched is unknown (NULL).
    enriched = "nlp_model IS NOT NULL" if "nlp_model" in a else "NULL::BOOLEAN"
    connection.execute(f"""
        CREATE OR REPLACE TEMP TABLE scope_articles AS
        SELECT article_id,
               CAST(date AS VARCHAR) AS day,
               coalesce(nullif(trim(source), ''), '(no source)') AS source,
               coalesce(nullif(trim(language), ''), '(unknown)') AS language,
               published_at IS NOT NULL AS dated,
               {enriched} AS enriched,
               coalesce({_column(a, "text_source")} = {_literal(HEADLINE_ONLY)}, false)
                   AS headline_only,
               false AS with_entities,
               title, coalesce(url, {_column(a, "canonical_url")}) AS url
        FROM articles {where(articles_where)}
        QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY ingested_at) = 1
    """)
    connection.execute(f"""
        CREATE OR REPLACE TEMP TABLE scope_errors AS
        SELECT CAST(date AS VARCHAR) AS day, stage, error_type, message
        FROM errors {where(days)}
    """)


def open_mentions(connection: duckdb.DuckDBPyConnection) -> None:
    """The second step of ``open_scope``, after ``open_articles``: ``scope_mentions``
    and ``scope_names`` of the articles of ``scope_articles``, and their
    ``with_entities``."""
    # The current resolution, once: a window over every resolution row, which the
    # entities and the quotes both join (as resolved_entities and resolved_quotes).
    connection.execute("""
        CREATE OR REPLACE TEMP TABLE _scope_resolution AS
        SELECT entity_id, resolved_id, resolved_name, resolved_label
        FROM entity_resolution_current
    """)
    query.create_resolved_views(connection, current="_scope_resolution", prefix="_scope_")
    # One scan of the mentions; then one row per article and identity, and per identity the
    # names it goes by.
    connection.execute("""
        CREATE OR REPLACE TEMP TABLE _scope_named AS
        SELECT article_id, resolved_id, resolved_label, resolved_name, count(*) AS mentions
        FROM _scope_resolved_entities SEMI JOIN scope_articles USING (article_id)
        GROUP BY ALL
    """)
    connection.execute("""
        CREATE OR REPLACE TEMP TABLE scope_mentions AS
        SELECT article_id, resolved_id, resolved_label, sum(mentions)::BIGINT AS mentions
        FROM _scope_named GROUP BY ALL
    """)
    connection.execute("""
        CREATE OR REPLACE TEMP TABLE scope_names AS
        SELECT resolved_id, resolved_label, resolved_name, sum(mentions)::BIGINT AS mentions
        FROM _scope_named GROUP BY ALL
    """)
    connection.execute("DROP TABLE _scope_named")
    connection.execute("""
        UPDATE scope_articles SET with_entities = true
        WHERE article_id IN (SELECT article_id FROM scope_mentions)
    """)


def open_quotes(connection: duckdb.DuckDBPyConnection) -> None:
    """The last step of ``open_scope``, after ``open_mentions`` (whose current
    resolution it reads): ``scope_quotes`` of the articles of ``scope_articles``."""
    q = _present_columns(connection)["quotes"]
    connection.execute(f"""
        CREATE OR REPLACE TEMP TABLE scope_quotes AS
        SELECT article_id, quote_id, text, kind,
               nullif(trim(speaker), '') AS speaker,
               speaker_resolved_id AS speaker_id,
               trim(speaker_resolved_name) AS speaker_name
        FROM _scope_resolved_quotes SEMI JOIN scope_articles USING (article_id)
        WHERE {_column(q, "parent_quote_id")} IS NULL
    """)


def check_source(connection: duckdb.DuckDBPyConnection, source: str) -> None:
    """Raises ``UnknownSourceError`` unless some article has exactly this ``source``,
    naming the closest sources there are."""
    found = connection.execute(
        "SELECT count(*) FROM articles WHERE source = $source", {"source": source}
    ).fetchone()[0]
    if found:
        return
    known = [
        row[0]
        for row in connection.execute(
            "SELECT source FROM articles WHERE source IS NOT NULL "
            "GROUP BY source ORDER BY count(*) DESC, source LIMIT 1000"
        ).fetchall()
    ]
    close = difflib.get_close_matches(source, known, n=3, cutoff=0.6) or known[:3]
    hint = f" (sources include: {', '.join(map(repr, close))})" if close else " (it has none)"
    raise UnknownSourceError(f"--source {source!r}: no article of the output has it{hint}")


# ---------------------------------------------------------------- time


def choose_period(first: str | None, last: str | None, *, limit: int = CAPS.periods) -> str:
    """The finest of day, week, month, year that cuts ``first``..``last`` (``YYYY-MM-DD``)
    into at most ``limit`` bins; ``day`` when there are no dates."""
    if not first or not last:
        return "day"
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    days = (end - start).days + 1
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if days <= limit:
        return "day"
    if days / 7 + 1 <= limit:
        return "week"
    if months <= limit:
        return "month"
    return "year"


def _period(unit: str, column: str = "day") -> str:
    """SQL for the first day (``YYYY-MM-DD``) of the ``unit`` holding ``column``; ISO weeks."""
    if unit not in PERIODS:
        raise ValueError(f"unknown period {unit!r}")
    return f"CAST(CAST(date_trunc('{unit}', CAST({column} AS DATE)) AS DATE) AS VARCHAR)"


def period_start(day: dt.date, unit: str) -> dt.date:
    """The first day of the ``unit`` (day, ISO week, month, year) holding ``day``."""
    if unit == "day":
        return day
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def next_period(start: dt.date, unit: str) -> dt.date:
    """The first day of the period after the one starting on ``start``."""
    if unit == "day":
        return start + dt.timedelta(days=1)
    if unit == "week":
        return start + dt.timedelta(days=7)
    if unit == "month":
        return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 1, month=1, day=1)


# ---------------------------------------------------------------- 1. volume

# Totals of the articles and errors (``open_articles``), and of the mentions
# (``open_mentions``). One aggregate per table: nine scalar subqueries took DuckDB's join
# planner ten times longer to plan than to run.
_ARTICLE_OVERVIEW = """
SELECT * FROM
    (SELECT count(*) AS articles, min(day) AS first_day, max(day) AS last_day,
            count(DISTINCT day) AS days, count(DISTINCT source) AS sources,
            count(DISTINCT language) AS languages
     FROM scope_articles),
    (SELECT count(*) AS errors, min(day) AS first_error_day, max(day) AS last_error_day
     FROM scope_errors)
"""
_MENTION_OVERVIEW = """
SELECT coalesce(sum(mentions), 0)::BIGINT AS mentions,
       count(DISTINCT resolved_id) FILTER (WHERE resolved_label = 'PERSON') AS people,
       count(DISTINCT resolved_id) FILTER (WHERE resolved_label = 'ORG') AS organisations
FROM scope_mentions
"""


def _records(relation: duckdb.DuckDBPyConnection) -> list[dict]:
    columns = [d[0] for d in relation.description]
    return [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]


def overview(connection: duckdb.DuckDBPyConnection) -> dict:
    """Totals of the scope: articles, first and last day, days with articles, sources,
    languages, entity mentions, distinct people and organisations, quotes (speech
    events), errors and the errors' first and last day."""
    quotes = voices(connection)["quotes"]
    return {**article_overview(connection), **mention_overview(connection), "quotes": quotes}


def article_overview(connection: duckdb.DuckDBPyConnection) -> dict:
    """The totals of ``overview`` that ``open_articles`` gives: articles, first and last
    day, days, sources, languages, errors and the errors' first and last day."""
    return _records(connection.execute(_ARTICLE_OVERVIEW))[0]


def mention_overview(connection: duckdb.DuckDBPyConnection) -> dict:
    """The totals of ``overview`` that ``open_mentions`` gives: mentions, people and
    organisations (``voices`` counts the quotes)."""
    return _records(connection.execute(_MENTION_OVERVIEW))[0]


# The top sources by articles; every other source is NULL ("other").
_VOLUME_BY_SOURCE = """
WITH top AS (
    SELECT source FROM scope_articles GROUP BY source
    ORDER BY count(*) DESC, source LIMIT $top
)
SELECT {period} AS period,
       CASE WHEN source IN (SELECT source FROM top) THEN source END AS source,
       count(*) AS articles
FROM scope_articles GROUP BY ALL ORDER BY period, source NULLS LAST
"""

# The top values of a column by articles, then one row (value NULL) for all the others.
_TOP_VALUES = """
WITH v AS (
    SELECT {column} AS value, count(*) AS articles,
           row_number() OVER (ORDER BY count(*) DESC, {column}) AS position
    FROM scope_articles GROUP BY {column}
)
SELECT CASE WHEN position <= $top THEN value END AS value, sum(articles)::BIGINT AS articles,
       count(*) AS n_values, min(position) AS position
FROM v GROUP BY 1 ORDER BY position
"""


def volume_by_source(
    connection: duckdb.DuckDBPyConnection, unit: str, *, top: int = CAPS.sources
) -> list[dict]:
    """Articles per period and source: ``{period, source, articles}``, the ``top``
    sources by name and the others together as source None."""
    sql = _VOLUME_BY_SOURCE.format(period=_period(unit))
    return _records(connection.execute(sql, {"top": top}))


def ranked_values(
    connection: duckdb.DuckDBPyConnection, column: str, *, top: int
) -> tuple[list[dict], int, int]:
    """The ``top`` values of ``column`` (``source`` or ``language``) by articles, as
    ``{value, articles}``; then the number of other values and their articles."""
    if column not in ("source", "language"):
        raise ValueError(f"not a ranked column: {column!r}")
    rows = _records(connection.execute(_TOP_VALUES.format(column=column), {"top": top}))
    named = [{"value": r["value"], "articles": r["articles"]} for r in rows if r["position"] <= top]
    rest = [r for r in rows if r["position"] > top]
    return named, sum(r["n_values"] for r in rest), sum(r["articles"] for r in rest)


# ---------------------------------------------------------------- 2. people and organisations

# Per label, ranked by the articles that mention them, then by mentions; the name shown is
# the resolved name most of the mentions carry (ties alphabetical).
_TOP_IDENTITIES = """
WITH top AS (
    SELECT resolved_label, resolved_id, count(*) AS articles, sum(mentions)::BIGINT AS mentions,
           row_number() OVER (
               PARTITION BY resolved_label
               ORDER BY count(*) DESC, sum(mentions) DESC, resolved_id
           ) AS position
    FROM scope_mentions WHERE list_contains($labels, resolved_label)
    GROUP BY resolved_label, resolved_id
    QUALIFY position <= $top
),
names AS (
    SELECT resolved_label, resolved_id, resolved_name AS name
    FROM scope_names SEMI JOIN top USING (resolved_label, resolved_id)
    QUALIFY row_number() OVER (
        PARTITION BY resolved_label, resolved_id ORDER BY mentions DESC, name
    ) = 1
)
SELECT resolved_label, resolved_id, name, articles, mentions, position
FROM top JOIN names USING (resolved_label, resolved_id)
ORDER BY resolved_label, articles DESC, mentions DESC, name, resolved_id
"""

_ENTITY_TIMELINE = """
SELECT {period} AS period, resolved_id, sum(mentions)::BIGINT AS mentions,
       count(*) AS articles
FROM scope_mentions JOIN scope_articles USING (article_id)
WHERE resolved_label = $label AND list_contains($ids, resolved_id)
GROUP BY ALL ORDER BY period, resolved_id
"""

# Pairs of people and the articles that mention both; each pair once (a < b).
_CO_MENTIONS = """
WITH p AS (
    SELECT article_id, resolved_id FROM scope_mentions
    WHERE resolved_label = $label AND list_contains($ids, resolved_id)
)
SELECT a.resolved_id AS a, b.resolved_id AS b, count(*) AS articles
FROM p a JOIN p b ON a.article_id = b.article_id AND a.resolved_id < b.resolved_id
GROUP BY ALL ORDER BY a, b
"""


def top_entities(
    connection: duckdb.DuckDBPyConnection, label: str, *, top: int = CAPS.entities
) -> list[dict]:
    """The ``top`` resolved identities of ``label`` (``PERSON``, ``ORG``):
    ``{resolved_id, name, articles, mentions}``, most articles first."""
    return top_of(top_identities(connection, (label,), top=top)[label], top)


def top_identities(
    connection: duckdb.DuckDBPyConnection, labels: Sequence[str], *, top: int
) -> dict[str, list[dict]]:
    """``top_entities`` of each of ``labels`` at once, by label, each row with its
    ``position`` in the ranking too: ``top_of`` cuts one to fewer, as a smaller ``top``
    would have."""
    ranked: dict[str, list[dict]] = {label: [] for label in labels}
    for row in _records(connection.execute(_TOP_IDENTITIES, {"labels": list(labels), "top": top})):
        ranked[row.pop("resolved_label")].append(row)
    return ranked


def top_of(ranked: list[dict], top: int) -> list[dict]:
    """The rows of ``top_entities`` for ``top`` out of those of ``top_identities`` for as
    many or more: those ranked ``top`` or better, in their order, without ``position``."""
    return [
        {k: v for k, v in row.items() if k != "position"}
        for row in ranked
        if row["position"] <= top
    ]


def entity_timeline(
    connection: duckdb.DuckDBPyConnection, label: str, ids: Sequence[str], unit: str
) -> list[dict]:
    """Mentions and articles per period of the resolved ``ids`` of ``label``:
    ``{period, resolved_id, mentions, articles}``; periods without a mention are absent."""
    sql = _ENTITY_TIMELINE.format(period=_period(unit))
    return _records(connection.execute(sql, {"label": label, "ids": list(ids)}))


def co_mentions(
    connection: duckdb.DuckDBPyConnection, ids: Sequence[str], *, label: str = PERSON
) -> list[dict]:
    """Articles mentioning both of two of ``ids``: ``{a, b, articles}`` with ``a < b``;
    pairs never mentioned together are absent."""
    return _records(connection.execute(_CO_MENTIONS, {"label": label, "ids": list(ids)}))


# ---------------------------------------------------------------- 3. voices

# Speech events only: a partial quote inside its reported clause is not a second one.
_VOICES = """
SELECT count(*) AS quotes,
       count(*) FILTER (WHERE kind = 'direct') AS direct,
       count(*) FILTER (WHERE kind = 'indirect') AS indirect,
       count(*) FILTER (WHERE kind = 'partial') AS partial,
       count(*) FILTER (WHERE speaker_id IS NOT NULL) AS named,
       count(*) FILTER (WHERE speaker_id IS NULL AND speaker IS NOT NULL) AS unnamed,
       count(*) FILTER (WHERE speaker_id IS NULL AND speaker IS NULL) AS no_speaker,
       count(DISTINCT article_id) AS articles
FROM scope_quotes
"""

# Named speakers (linked to an entity, so resolved across the corpus), by speech events;
# each with one sample: a direct quote of readable length first, then the latest.
_TOP_SPEAKERS = """
WITH q AS (
    SELECT q.*, a.day FROM scope_quotes q JOIN scope_articles a USING (article_id)
    WHERE speaker_id IS NOT NULL
),
top AS (
    SELECT speaker_id, count(*) AS quotes,
           count(*) FILTER (WHERE kind = 'direct') AS direct,
           count(*) FILTER (WHERE kind = 'indirect') AS indirect,
           count(*) FILTER (WHERE kind NOT IN ('direct', 'indirect') OR kind IS NULL) AS other,
           count(DISTINCT article_id) AS articles
    FROM q GROUP BY speaker_id ORDER BY quotes DESC, articles DESC, speaker_id LIMIT $top
),
names AS (
    SELECT speaker_id, speaker_name AS name, count(*) AS n
    FROM q SEMI JOIN top USING (speaker_id) GROUP BY speaker_id, speaker_name
    QUALIFY row_number() OVER (PARTITION BY speaker_id ORDER BY n DESC, speaker_name) = 1
),
sample AS (
    SELECT speaker_id, text AS sample, kind AS sample_kind, article_id, day AS sample_day
    FROM q SEMI JOIN top USING (speaker_id)
    QUALIFY row_number() OVER (
        PARTITION BY speaker_id
        ORDER BY kind = 'direct' DESC, length(text) BETWEEN 40 AND 280 DESC, day DESC, quote_id
    ) = 1
)
SELECT t.*, n.name, s.sample, s.sample_kind, s.sample_day,
       a.title AS article_title, a.url AS article_url
FROM top t JOIN names n USING (speaker_id) JOIN sample s USING (speaker_id)
LEFT JOIN scope_articles a ON a.article_id = s.article_id
ORDER BY t.quotes DESC, t.articles DESC, n.name
"""


def voices(connection: duckdb.DuckDBPyConnection) -> dict:
    """Speech events: total, by kind (direct, indirect, partial), by speaker (named: linked
    to a person or organisation; unnamed: a description such as "officials"; none), and
    the articles that quote anyone."""
    return _records(connection.execute(_VOICES))[0]


def top_speakers(connection: duckdb.DuckDBPyConnection, *, top: int = CAPS.speakers) -> list[dict]:
    """The ``top`` named speakers by speech events: ``{speaker_id, name, quotes, direct,
    indirect, other, articles, sample, sample_kind, sample_day, article_title,
    article_url}``; the article's URL is as stored (the page decides whether to link it)."""
    return _records(connection.execute(_TOP_SPEAKERS, {"top": top}))


# ---------------------------------------------------------------- 5. data quality

_QUALITY = """
SELECT {period} AS period, count(*) AS articles,
       count(*) FILTER (WHERE NOT dated) AS undated,
       count(*) FILTER (WHERE NOT with_entities) AS without_entities,
       count(*) FILTER (WHERE NOT enriched) AS not_enriched,
       count(*) FILTER (WHERE headline_only) AS headline_only
FROM scope_articles GROUP BY ALL ORDER BY period
"""

# Date partitions whose share of articles with any problem is highest, above the scope's own.
_DAYS_TO_CHECK = """
WITH a AS (
    SELECT day, NOT dated AS undated, NOT with_entities AS without_entities,
           coalesce(NOT enriched, false) AS not_enriched, headline_only
    FROM scope_articles
),
d AS (
    SELECT day, count(*) AS articles,
           count(*) FILTER (WHERE undated) AS undated,
           count(*) FILTER (WHERE without_entities) AS without_entities,
           count(*) FILTER (WHERE not_enriched) AS not_enriched,
           count(*) FILTER (WHERE headline_only) AS headline_only,
           count(*) FILTER (WHERE undated OR without_entities OR not_enriched OR headline_only)
               AS with_problems
    FROM a GROUP BY day
)
SELECT * FROM d
WHERE with_problems > 0
  AND with_problems / articles > (SELECT sum(with_problems) / sum(articles) FROM d)
ORDER BY with_problems / articles DESC, with_problems DESC, day DESC LIMIT $top
"""

_ERRORS_BY_PERIOD = """
SELECT {period} AS period, stage, count(*) AS errors FROM scope_errors
GROUP BY ALL ORDER BY period, stage
"""

_ERROR_TYPES = """
SELECT stage, error_type, count(*) AS errors, max(day) AS last_day,
       arg_max(message, day) AS example
FROM scope_errors GROUP BY ALL ORDER BY errors DESC, stage, error_type
"""


def quality(connection: duckdb.DuckDBPyConnection, unit: str) -> list[dict]:
    """Per period (``day``: per date partition): articles, and those without a published
    date, without any entity, not enriched (no model ran: ``--no-nlp`` or a language
    without a model; unknown for outputs of schema 1) and headline-only."""
    return _records(connection.execute(_QUALITY.format(period=_period(unit))))


def days_to_check(
    connection: duckdb.DuckDBPyConnection, *, top: int = CAPS.days_to_check
) -> list[dict]:
    """The ``top`` date partitions with the highest share of articles with a problem of
    ``quality`` (only those above the share over the whole scope): ``{day, articles,
    undated, without_entities, not_enriched, headline_only, with_problems}``."""
    return _records(connection.execute(_DAYS_TO_CHECK, {"top": top}))


def errors_by_period(connection: duckdb.DuckDBPyConnection, unit: str) -> list[dict]:
    """Errors rows per period of their date partition (the day they were written) and stage."""
    return _records(connection.execute(_ERRORS_BY_PERIOD.format(period=_period(unit))))


def error_types(
    connection: duckdb.DuckDBPyConnection, *, top: int = CAPS.error_types
) -> tuple[list[dict], int]:
    """The ``top`` (stage, error type) pairs by rows, with their last day and latest
    message: ``{stage, error_type, errors, last_day, example}``; then how many other
    pairs there are."""
    rows = _records(connection.execute(_ERROR_TYPES))
    return rows[:top], len(rows) - len(rows[:top])


# ---------------------------------------------------------------- 6. runs


def run_history(records: Sequence[dict]) -> list[dict]:
    """One row per run record (``_runs/<run_id>.json``, oldest first): ``{run_id, started,
    added, duplicates, errors, seconds, balanced}``; a value the record lacks is None."""

    def number(value):
        return value if isinstance(value, int | float) and not isinstance(value, bool) else None

    rows = []
    for record in records:
        balance = record.get("balance") if isinstance(record.get("balance"), dict) else {}
        rows.append(
            {
                "run_id": str(record.get("run_id", "")),
                "started": str(record.get("ingested_at") or "")[:19].replace("T", " ") or None,
                "added": number(balance.get("written")),
                "duplicates": number(balance.get("duplicates")),
                "errors": number(balance.get("errors")),
                "seconds": number(record.get("elapsed_seconds")),
                "balanced": balance.get("ok") if isinstance(balance.get("ok"), bool) else None,
            }
        )
    return rows
