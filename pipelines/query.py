"""DuckDB over the output: the tables and the resolved views, and result printing."""

import csv
import io
import json
import pathlib

import duckdb

from schemas import TABLES, empty_table

# The current resolution of each entity id: its latest entity_resolution row.
_CURRENT_RESOLUTION = """
CREATE VIEW entity_resolution_current AS
SELECT * EXCLUDE (date) FROM entity_resolution
QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY resolved_at DESC, run_id DESC) = 1
"""
# Entity mentions with what their id stands for across the corpus; an id the table has not
# resolved (rows written before it existed, or a --no-nlp run) stands for itself.
_RESOLVED_ENTITIES = """
CREATE VIEW resolved_entities AS
SELECT e.*,
       coalesce(r.resolved_id, e.entity_id) AS resolved_id,
       coalesce(r.resolved_name, e.canonical) AS resolved_name,
       coalesce(r.resolved_label, e.label) AS resolved_label
FROM entities e LEFT JOIN entity_resolution_current r USING (entity_id)
"""
# Quotes with their speaker's resolved id and name (a speaker without an entity id keeps
# its own name and no id).
_RESOLVED_QUOTES = """
CREATE VIEW resolved_quotes AS
SELECT q.*,
       coalesce(r.resolved_id, q.speaker_entity_id) AS speaker_resolved_id,
       coalesce(r.resolved_name, q.speaker) AS speaker_resolved_name
FROM quotes q LEFT JOIN entity_resolution_current r ON r.entity_id = q.speaker_entity_id
"""
VIEWS = ("entity_resolution_current", "resolved_entities", "resolved_quotes")


def create_resolved_views(connection: duckdb.DuckDBPyConnection) -> None:
    """Adds the views of ``VIEWS`` over views ``entities``, ``quotes``, ``entity_resolution``."""
    for statement in (_CURRENT_RESOLUTION, _RESOLVED_ENTITIES, _RESOLVED_QUOTES):
        connection.execute(statement)


def connect(output_dir: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view per table of ``schemas.TABLES`` and the ``VIEWS``.

    A table with no files yet is an empty view of the right columns, so
    queries over a fresh output still run.
    """
    connection = duckdb.connect()
    root = pathlib.Path(output_dir)
    for table in TABLES:
        if any((root / table).glob("date=*/*.parquet")):
            pattern = str(root / table / "date=*" / "*.parquet").replace("'", "''")
            connection.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pattern}', "
                "hive_partitioning = true, union_by_name = true)"
            )
        else:
            placeholder = f"_empty_{table}"
            connection.register(placeholder, empty_table(table))
            connection.execute(f"CREATE VIEW {table} AS SELECT * FROM {placeholder}")
    create_resolved_views(connection)
    return connection


def run_query(output_dir: str, sql: str, *, output_format: str = "table") -> str:
    """The result of ``sql`` over the output, as an aligned table, CSV or JSON lines."""
    relation = connect(output_dir).sql(sql)
    if relation is None:  # a statement with no result set
        return ""
    columns = relation.columns
    rows = relation.fetchall()
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return buffer.getvalue()
    if output_format == "json":
        return "".join(
            json.dumps(dict(zip(columns, row, strict=True)), default=str) + "\n" for row in rows
        )
    return format_table(columns, rows)


def format_table(columns, rows, *, max_width: int = 60) -> str:
    """A plain aligned text table; long cells are cut with an ellipsis."""

    def cell(value):
        text = "NULL" if value is None else str(value).replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
        "  ".join("-" * w for w in widths),
        *("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells),
        f"({len(rows)} row{'s' if len(rows) != 1 else ''})",
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"
