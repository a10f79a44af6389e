"""DuckDB over the output: the four tables as views, and result printing."""

import csv
import io
import json

import duckdb

from schemas import TABLES, empty_table
from transforms import store


def connect(output_dir: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views ``articles``, ``entities``, ``quotes``, ``errors``.

    A table with no files yet is an empty view of the right columns, so
    queries over a fresh output still run.
    """
    connection = duckdb.connect()
    for table in TABLES:
        if store.has_table_files(output_dir, table):
            pattern = store.table_files(output_dir, table).replace("'", "''")
            connection.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pattern}', "
                "hive_partitioning = true, union_by_name = true)"
            )
        else:
            placeholder = f"_empty_{table}"
            connection.register(placeholder, empty_table(table))
            connection.execute(f"CREATE VIEW {table} AS SELECT * FROM {placeholder}")
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
