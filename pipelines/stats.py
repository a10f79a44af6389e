"""``newsbeam stats DIR``: a printable summary of a pipeline output folder, via DuckDB.

Reads the Hive-partitioned Parquet tables ``DIR/{articles,entities,quotes}/
date=YYYY-MM-DD/*.parquet`` through ``query.connect`` (read-only); a table
folder that is missing or holds no files counts as an empty table. Entities
are ranked per label group (persons: PERSON; organisations: ORG; places: GPE,
LOC, FAC; others: every other label) by mentions, counted per resolved id
(``entity_resolution``: so ``Obama``, ``Barack Obama`` and
``U.S.``/``United States`` are one line each) and shown under the resolved
name; speakers are ranked by speech events, per resolved speaker id (else the
speaker name, case-insensitively).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.query import run_on_committed

LABEL_GROUPS = (
    ("persons", ("PERSON",)),
    ("organisations", ("ORG",)),
    ("places", ("GPE", "LOC", "FAC")),
    ("others", None),  # None: every label not named above
)
_NAME_WIDTH = 40
_COUNT_HEADERS = frozenset({"mentions", "articles", "quotes", "folded"})


def _group_case(groups) -> str:
    return (
        "CASE "
        + " ".join(
            f"WHEN resolved_label IN ({', '.join(repr(label) for label in labels)}) THEN '{group}'"
            for group, labels in groups
            if labels
        )
        + " ELSE 'others' END"
    )


# Top entities per group, over what each id stands for across the corpus (the resolved_entities
# view). A key is the resolved id; the shown name is its most frequent resolved name, ties
# alphabetical; "folded" is the share of its mentions whose text does not hold that name
# (short forms, other spellings, relabelled mentions, surnames resolved over the corpus).
_TOP_ENTITIES = """
WITH e AS (
    SELECT article_id, text, resolved_label, resolved_name, {group_case} AS grp,
           coalesce(resolved_id, 'name:' || lower(resolved_name)) AS key
    FROM resolved_entities {where}
),
names AS (
    SELECT grp, key, resolved_name AS name, count(*) AS n FROM e GROUP BY grp, key, resolved_name
    QUALIFY row_number() OVER (PARTITION BY grp, key ORDER BY n DESC, resolved_name) = 1
),
totals AS (
    SELECT e.grp, e.key, count(*) AS mentions, count(DISTINCT article_id) AS articles,
           string_agg(DISTINCT resolved_label, '/' ORDER BY resolved_label) AS labels,
           avg(CASE WHEN position(lower(n.name) IN lower(e.text)) = 0 THEN 1 ELSE 0 END)
               AS folded
    FROM e JOIN names n USING (grp, key) GROUP BY e.grp, e.key
)
SELECT t.grp, n.name, t.mentions, t.articles, t.labels, t.folded
FROM totals t JOIN names n USING (grp, key)
QUALIFY row_number() OVER (
    PARTITION BY t.grp ORDER BY t.mentions DESC, t.articles DESC, n.name
) <= $limit
ORDER BY t.grp, t.mentions DESC, t.articles DESC, n.name
"""

# Speakers per resolved speaker id (else the speaker name, case-insensitively), counting
# speech events only: a partial quote inside its reported clause is not a second one.
_TOP_SPEAKERS = """
WITH q AS (
    SELECT article_id, trim(speaker_resolved_name) AS speaker,
           coalesce(speaker_resolved_id, 'name:' || lower(trim(speaker))) AS key
    FROM resolved_quotes
    WHERE speaker IS NOT NULL AND trim(speaker) <> '' {events}
),
names AS (
    SELECT key, speaker, count(*) AS n FROM q GROUP BY key, speaker
    QUALIFY row_number() OVER (PARTITION BY key ORDER BY n DESC, speaker) = 1
),
totals AS (
    SELECT key, count(*) AS quotes, count(DISTINCT article_id) AS articles FROM q GROUP BY key
)
SELECT n.speaker, t.quotes, t.articles
FROM totals t JOIN names n USING (key)
ORDER BY t.quotes DESC, t.articles DESC, n.speaker
LIMIT $limit
"""

_OVERVIEW = """
SELECT
    (SELECT count(DISTINCT article_id) FROM articles),
    (SELECT count(*) FROM entities),
    (SELECT count(DISTINCT article_id) FROM entities),
    (SELECT count(*) FROM quotes {events_where}),
    (SELECT count(*) FROM quotes WHERE (speaker IS NULL OR trim(speaker) = '') {events}),
    (SELECT min(d) FROM (SELECT CAST(date AS VARCHAR) AS d FROM articles
                         UNION ALL SELECT CAST(date AS VARCHAR) FROM entities
                         UNION ALL SELECT CAST(date AS VARCHAR) FROM quotes)),
    (SELECT max(d) FROM (SELECT CAST(date AS VARCHAR) AS d FROM articles
                         UNION ALL SELECT CAST(date AS VARCHAR) FROM entities
                         UNION ALL SELECT CAST(date AS VARCHAR) FROM quotes))
"""


def _cut(name: str) -> str:
    name = " ".join(str(name).split())
    return name if len(name) <= _NAME_WIDTH else name[: _NAME_WIDTH - 1] + "…"


def _table(rows: list[tuple], headers: tuple[str, ...]) -> list[str]:
    if not rows:
        return ["  (none)"]
    cells = [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values):
        # Text left-aligned, counts right-aligned.
        return (
            "  "
            + "  ".join(
                f"{v:>{w}}" if h in _COUNT_HEADERS else f"{v:<{w}}"
                for v, w, h in zip(values, widths, headers, strict=True)
            ).rstrip()
        )

    return [line(headers), *(line(row) for row in cells)]


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}


def stats_report(output_dir: str, *, limit: int = 10, labels: list[str] | None = None) -> str:
    """A plain-text report of the output folder ``output_dir``, top ``limit`` per section.

    Sections: an overview (articles, mentions, speech events, date range), the
    most mentioned entities of each label group (or, with ``labels``, of those
    labels only) with mention and article counts and the share of mentions
    folded into the name, and the most quoted speakers. Entities and speakers
    are counted per resolved id, so each person is one row. Raises
    ``FileNotFoundError`` when ``output_dir`` is not a folder and
    ``ValueError`` when ``limit`` is below 1; missing or empty table folders
    are reported as empty.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    root = Path(output_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"no output folder at {output_dir}")
    groups = LABEL_GROUPS
    where = ""
    if labels:
        wanted = [label.strip().upper() for label in labels if label.strip()]
        groups = ((f"{'/'.join(wanted)}", tuple(wanted)),)
        where = f"WHERE resolved_label IN ({', '.join(_sql_string(label) for label in wanted)})"

    def read(con):
        try:
            # Rows written before schema version 2 have no parent_quote_id: every one is an event.
            nested = "parent_quote_id" in _columns(con, "quotes")
            events = "AND parent_quote_id IS NULL" if nested else ""
            overview = con.execute(
                _OVERVIEW.format(events=events, events_where=events.replace("AND", "WHERE", 1))
            ).fetchone()
            entities = con.execute(
                _TOP_ENTITIES.format(group_case=_group_case(groups), where=where), {"limit": limit}
            ).fetchall()
            speakers = con.execute(_TOP_SPEAKERS.format(events=events), {"limit": limit}).fetchall()
        finally:
            con.close()
        return overview, entities, speakers

    overview, entities, speakers = run_on_committed(output_dir, read)

    articles, mentions, mention_articles, quotes, unattributed, first, last = overview
    dates = f"{first} .. {last}" if first else "none"
    lines = [
        f"newsbeam stats: {root}",
        f"articles: {articles}  dates: {dates}",
        f"entity mentions: {mentions} in {mention_articles} articles",
        f"quotes: {quotes} speech events ({unattributed} without a speaker)",
    ]
    for group, _ in groups:
        others = group == "others"
        rows = [
            (_cut(name), *((kinds,) if others else ()), count, in_articles, f"{folded:.0%}")
            for grp, name, count, in_articles, kinds, folded in entities
            if grp == group
        ]
        headers = ("name", "label", "mentions", "articles", "folded") if others else None
        lines += ["", f"Most mentioned {group}"]
        lines += _table(rows, headers or ("name", "mentions", "articles", "folded"))
    lines += ["", "Most quoted speakers"]
    lines += _table([(_cut(s), n, a) for s, n, a in speakers], ("speaker", "quotes", "articles"))
    return "\n".join(lines) + "\n"
