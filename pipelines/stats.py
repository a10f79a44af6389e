"""``newsbeam stats DIR``: a printable summary of a pipeline output folder, via DuckDB.

Reads the Hive-partitioned Parquet tables ``DIR/{articles,entities,quotes}/
date=YYYY-MM-DD/*.parquet``; a table folder that is missing or holds no
files counts as an empty table. Entities are ranked per label group
(persons: PERSON; organisations: ORG; places: GPE, LOC, FAC; others: every
other label) by mentions, counted per ``entity_id`` (so ``U.S.`` and
``United States`` are one line) and shown under their most frequent
canonical name; speakers are ranked by quotes, per ``speaker_entity_id``
(else the speaker name, case-insensitively).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from schemas import empty_table
from transforms import store

TABLE_NAMES = ("articles", "entities", "quotes")
LABEL_GROUPS = (
    ("persons", ("PERSON",)),
    ("organisations", ("ORG",)),
    ("places", ("GPE", "LOC", "FAC")),
    ("others", None),  # None: every label not named above
)
_NAME_WIDTH = 40
_COUNT_HEADERS = frozenset({"mentions", "articles", "quotes"})

_GROUP_CASE = (
    "CASE "
    + " ".join(
        f"WHEN label IN ({', '.join(repr(label) for label in labels)}) THEN '{group}'"
        for group, labels in LABEL_GROUPS
        if labels
    )
    + " ELSE 'others' END"
)

# Top entities per group. A key is the entity id (the canonical name when an id
# is missing); the shown name is its most frequent canonical, ties alphabetical.
_TOP_ENTITIES = f"""
WITH e AS (
    SELECT article_id, label, canonical, {_GROUP_CASE} AS grp,
           coalesce(entity_id, 'name:' || lower(canonical)) AS key
    FROM entities
),
names AS (
    SELECT grp, key, canonical, count(*) AS n FROM e GROUP BY grp, key, canonical
    QUALIFY row_number() OVER (PARTITION BY grp, key ORDER BY n DESC, canonical) = 1
),
totals AS (
    SELECT grp, key, count(*) AS mentions, count(DISTINCT article_id) AS articles,
           string_agg(DISTINCT label, '/' ORDER BY label) AS labels
    FROM e GROUP BY grp, key
)
SELECT t.grp, n.canonical, t.mentions, t.articles, t.labels
FROM totals t JOIN names n USING (grp, key)
QUALIFY row_number() OVER (
    PARTITION BY t.grp ORDER BY t.mentions DESC, t.articles DESC, n.canonical
) <= $limit
ORDER BY t.grp, t.mentions DESC, t.articles DESC, n.canonical
"""

_TOP_SPEAKERS = """
WITH q AS (
    SELECT article_id, trim(speaker) AS speaker,
           coalesce(speaker_entity_id, 'name:' || lower(trim(speaker))) AS key
    FROM quotes WHERE speaker IS NOT NULL AND trim(speaker) <> ''
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
    (SELECT count(*) FROM quotes),
    (SELECT count(*) FROM quotes WHERE speaker IS NULL OR trim(speaker) = ''),
    (SELECT min(d) FROM (SELECT CAST(date AS VARCHAR) AS d FROM articles
                         UNION ALL SELECT CAST(date AS VARCHAR) FROM entities
                         UNION ALL SELECT CAST(date AS VARCHAR) FROM quotes)),
    (SELECT max(d) FROM (SELECT CAST(date AS VARCHAR) AS d FROM articles
                         UNION ALL SELECT CAST(date AS VARCHAR) FROM entities
                         UNION ALL SELECT CAST(date AS VARCHAR) FROM quotes))
"""


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _register_table(con: duckdb.DuckDBPyConnection, root: Path, name: str) -> None:
    """View ``name`` over the table's committed files, or over an empty table of its schema."""
    if store.has_table_files(str(root), name):
        pattern = _sql_string(store.table_files(str(root), name))
        # union_by_name: files written before a column was added still read.
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet("
            f"{pattern}, hive_partitioning = true, union_by_name = true)"
        )
    else:
        # An empty folder is an empty table, not an error (a run may yield no quotes).
        con.register(name, empty_table(name))


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


def stats_report(output_dir: str, *, limit: int = 10) -> str:
    """A plain-text report of the output folder ``output_dir``, top ``limit`` per section.

    Sections: an overview (articles, mentions, quotes, date range), the most
    mentioned entities of each label group with mention and article counts,
    and the most quoted speakers with quote and article counts. Raises
    ``FileNotFoundError`` when ``output_dir`` is not a folder and
    ``ValueError`` when ``limit`` is below 1; missing or empty table folders
    are reported as empty.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    root = Path(output_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"no output folder at {output_dir}")

    con = duckdb.connect()
    try:
        for name in TABLE_NAMES:
            _register_table(con, root, name)
        overview = con.execute(_OVERVIEW).fetchone()
        entities = con.execute(_TOP_ENTITIES, {"limit": limit}).fetchall()
        speakers = con.execute(_TOP_SPEAKERS, {"limit": limit}).fetchall()
    finally:
        con.close()

    articles, mentions, mention_articles, quotes, unattributed, first, last = overview
    dates = f"{first} .. {last}" if first else "none"
    lines = [
        f"newsbeam stats: {root}",
        f"articles: {articles}  dates: {dates}",
        f"entity mentions: {mentions} in {mention_articles} articles",
        f"quotes: {quotes} ({unattributed} without a speaker)",
    ]
    for group, _ in LABEL_GROUPS:
        rows = [
            (_cut(name), *((labels,) if group == "others" else ()), count, in_articles)
            for grp, name, count, in_articles, labels in entities
            if grp == group
        ]
        headers = ("name", "label", "mentions", "articles") if group == "others" else None
        lines += ["", f"Most mentioned {group}"]
        lines += _table(rows, headers or ("name", "mentions", "articles"))
    lines += ["", "Most quoted speakers"]
    lines += _table([(_cut(s), n, a) for s, n, a in speakers], ("speaker", "quotes", "articles"))
    return "\n".join(lines) + "\n"
