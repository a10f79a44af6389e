"""DuckDB over the output, read-only: the four tables as views, result printing and export."""

import csv
import io
import json
import os
import pathlib
import uuid

import duckdb

from schemas import TABLES, empty_table
from transforms import store

EXPORT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "json"}
# A SELECT reads; every other statement (COPY, EXPORT, ATTACH, SET, INSTALL, CREATE,
# and EXPLAIN, whose ANALYZE form runs a COPY) is refused before it runs.
_READ_ONLY_STATEMENTS = frozenset({duckdb.StatementType.SELECT})


class ExportPathError(ValueError):
    """An ``--output`` file newsbeam will not write: unknown suffix, no folder, or in the output."""


def connect(output_dir: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views ``articles``, ``entities``, ``quotes``, ``errors``.

    A table with no files yet is an empty view of the right columns, so
    queries over a fresh output still run. Once the views exist the
    connection is locked to ``output_dir``: reading any other file, ATTACH,
    INSTALL/LOAD and changing a setting fail with a ``duckdb.Error``. DuckDB
    would still let COPY write inside ``output_dir``; ``run_query`` and
    ``export_query`` run SELECT statements only.
    """
    connection = duckdb.connect()
    root = pathlib.Path(output_dir).resolve()  # the views' paths must lie in the allowed folder
    for table in TABLES:
        if store.has_table_files(str(root), table):
            pattern = store.table_files(str(root), table).replace("'", "''")
            connection.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pattern}', "
                "hive_partitioning = true, union_by_name = true)"
            )
        else:
            placeholder = f"_empty_{table}"
            connection.register(placeholder, empty_table(table))
            connection.execute(f"CREATE VIEW {table} AS SELECT * FROM {placeholder}")
    _lock(connection, root)
    return connection


def _lock(connection: duckdb.DuckDBPyConnection, root: pathlib.Path) -> None:
    """Only files under ``root`` can be read, no extension loaded, and no setting changed back.

    Views bind their files at each query, so ``root`` stays allowed. Parquet,
    JSON and ICU are built into DuckDB: nothing needs to be loaded.
    """
    connection.execute(
        "SET allowed_directories = $dirs", {"dirs": [root.as_posix().rstrip("/") + "/"]}
    )
    for setting in (
        "enable_external_access",
        "autoinstall_known_extensions",
        "autoload_known_extensions",
    ):
        connection.execute(f"SET {setting} = false")
    connection.execute("SET lock_configuration = true")


def _select(connection: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyRelation | None:
    """The relation of ``sql``; raises ``duckdb.PermissionException`` for anything but SELECT."""
    statements = connection.extract_statements(sql)
    refused = sorted({s.type.name for s in statements if s.type not in _READ_ONLY_STATEMENTS})
    if refused:
        hint = " (to save a result, use --output FILE)" if {"COPY", "EXPORT"} & set(refused) else ""
        raise duckdb.PermissionException(
            f"query is read-only: it runs SELECT statements only, not {', '.join(refused)}{hint}"
        )
    return connection.sql(sql)


def run_query(output_dir: str, sql: str, *, output_format: str = "table") -> str:
    """The result of ``sql`` over the output, as an aligned table, CSV or JSON lines."""
    relation = _select(connect(output_dir), sql)
    if relation is None:  # no statement at all
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


def check_export_path(output_dir: str, path: str) -> str:
    """The export format for ``path`` (``csv``, ``parquet`` or ``json``).

    Raises ``ExportPathError`` for any other suffix, a folder that does not
    exist, and a path inside ``output_dir``: query never writes to the output.
    """
    target = pathlib.Path(path)
    export_format = EXPORT_FORMATS.get(target.suffix.lower())
    if export_format is None:
        raise ExportPathError(
            f"--output {path!r}: give a file ending in {', '.join(EXPORT_FORMATS)}"
        )
    if not target.resolve().parent.is_dir():
        raise ExportPathError(f"--output {path!r}: no folder {str(target.parent)!r}")
    if target.resolve().is_relative_to(pathlib.Path(output_dir).resolve()):
        raise ExportPathError(f"--output {path!r} is inside the output folder {output_dir!r}")
    return export_format


def export_query(output_dir: str, sql: str, path: str) -> int:
    """Writes the result of ``sql`` over the output to ``path``; returns its number of rows.

    The format follows the suffix: CSV with a header, Parquet, or JSON lines.
    Raises ``ExportPathError`` (before running anything) as ``check_export_path``
    does, and ``duckdb.Error`` when the query fails or is not a SELECT. The
    file appears whole or not at all.
    """
    export_format = check_export_path(output_dir, path)
    relation = _select(connect(output_dir), sql)
    if relation is None:
        raise duckdb.InvalidInputException("no query to export")
    target = pathlib.Path(path).resolve()
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    # The locked connection cannot write; a fresh one writes this one file from
    # the result's Arrow stream and runs no SQL of the user's.
    writer = duckdb.connect()
    try:
        writer.execute("SET TimeZone = 'UTC'")  # timestamps in CSV and JSON as the tables hold them
        writer.register("result", relation.to_arrow_reader())
        options = "FORMAT csv, HEADER true" if export_format == "csv" else f"FORMAT {export_format}"
        literal = "'" + partial.as_posix().replace("'", "''") + "'"
        (rows,) = writer.execute(f"COPY result TO {literal} ({options})").fetchone()
        os.replace(partial, target)
    finally:
        writer.close()
        partial.unlink(missing_ok=True)
    return rows


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
