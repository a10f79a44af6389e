"""DuckDB over the output, read-only: the tables and the resolved views, printing and export."""

import csv
import datetime as dt
import io
import json
import logging
import os
import pathlib
import uuid

import duckdb
import pyarrow.parquet as pq

from schemas import TABLES, empty_table
from transforms import store
from transforms.lib import globs

_log = logging.getLogger("newsbeam.query")

EXPORT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "json"}
# A SELECT reads; every other statement (COPY, EXPORT, ATTACH, SET, INSTALL, CREATE,
# and EXPLAIN, whose ANALYZE form runs a COPY) is refused before it runs.
_READ_ONLY_STATEMENTS = frozenset({duckdb.StatementType.SELECT})


class NotAnOutputError(ValueError):
    """A folder ``query`` and ``stats`` will not read: missing, a file, or someone else's."""


# What only a newsbeam output holds at its top: a table folder or the run records.
_OUTPUT_MARKERS = (*TABLES, store.RUNS)


def check_output_folder(output_dir: str) -> None:
    """Raises ``NotAnOutputError`` unless ``output_dir`` is a newsbeam output folder.

    That is a folder holding a table folder (``articles/``, ``entities/``,
    ``quotes/``, ``errors/``) or ``_runs/``, or an empty folder (an output
    nothing was written to yet reads as empty tables). A path that does not
    exist, a file, and a non-empty folder with none of these are refused, so
    a typo never looks like an empty dataset.
    """
    root = pathlib.Path(output_dir)
    if not root.exists():
        raise NotAnOutputError(f"no output folder {output_dir!r}")
    if not root.is_dir():
        raise NotAnOutputError(f"{output_dir!r} is a file, not an output folder")
    if any((root / name).is_dir() for name in _OUTPUT_MARKERS) or not any(root.iterdir()):
        return
    raise NotAnOutputError(
        f"{output_dir!r} is not a newsbeam output: it has none of "
        f"{', '.join(name + '/' for name in _OUTPUT_MARKERS)}"
    )


class ExportPathError(ValueError):
    """An ``--output`` file newsbeam will not write: unknown suffix, no folder, or in the output."""


# The current resolution of each entity id: its latest entity_resolution row.
_CURRENT_RESOLUTION = """
CREATE VIEW entity_resolution_current AS
SELECT * EXCLUDE (date) FROM entity_resolution
QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY resolved_at DESC, run_id DESC) = 1
"""
# Entity mentions with what their id stands for across the corpus; an id the table has not
# resolved (rows written before it existed, or a --no-nlp run) stands for itself.
_RESOLVED_ENTITIES = """
CREATE OR REPLACE {kind} {prefix}resolved_entities AS
SELECT e.*,
       coalesce(r.resolved_id, e.entity_id) AS resolved_id,
       coalesce(r.resolved_name, e.canonical) AS resolved_name,
       coalesce(r.resolved_label, e.label) AS resolved_label
FROM entities e LEFT JOIN {current} r USING (entity_id)
"""
# Quotes with their speaker's resolved id and name (a speaker without an entity id keeps
# its own name and no id).
_RESOLVED_QUOTES = """
CREATE OR REPLACE {kind} {prefix}resolved_quotes AS
SELECT q.*,
       coalesce(r.resolved_id, q.speaker_entity_id) AS speaker_resolved_id,
       coalesce(r.resolved_name, q.speaker) AS speaker_resolved_name
FROM quotes q LEFT JOIN {current} r ON r.entity_id = q.speaker_entity_id
"""
VIEWS = ("entity_resolution_current", "resolved_entities", "resolved_quotes")


def create_resolved_views(
    connection: duckdb.DuckDBPyConnection, *, current: str | None = None, prefix: str = ""
) -> None:
    """Adds the views of ``VIEWS`` over views ``entities``, ``quotes``, ``entity_resolution``.

    With ``current``, the name of a table holding the rows of
    ``entity_resolution_current`` (copied once, so that its window runs once),
    adds instead temporary views ``<prefix>resolved_entities`` and
    ``<prefix>resolved_quotes`` that read it.
    """
    kind = "VIEW" if current is None else "TEMP VIEW"
    if current is None:
        connection.execute(_CURRENT_RESOLUTION)
        current = "entity_resolution_current"
    for statement in (_RESOLVED_ENTITIES, _RESOLVED_QUOTES):
        connection.execute(statement.format(kind=kind, prefix=prefix, current=current))


def connect(
    output_dir: str, *, committed=None, threads: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with a view per table of ``schemas.TABLES`` and the ``VIEWS``.

    The views read the files of finished commits only (``store.committed_files``,
    or ``committed`` when given), as they were when the connection was made:
    never part of a commit. A table with no files yet is an empty view of the
    right columns, so queries over a fresh output still run; a column that
    no file has yet (written by an older newsbeam) reads as NULL, and is
    listed in the table ``_absent_columns(table_name, column_name)``. A
    compaction or reprocess deletes the files it replaced, so a connection
    kept across one fails to read them (``run_on_committed`` asks again).
    Once the views exist the
    connection is locked to ``output_dir``: reading any other file, ATTACH,
    INSTALL/LOAD and changing a setting fail with a ``duckdb.Error``. DuckDB
    would still let COPY write inside ``output_dir``; ``run_query`` and
    ``export_query`` run SELECT statements only. ``threads`` caps DuckDB's
    threads (None: one per core), before the configuration is locked.
    """
    connection = duckdb.connect(config={"threads": threads}) if threads else duckdb.connect()
    root = pathlib.Path(output_dir).resolve()  # the views' paths must lie in the allowed folder
    committed = store.committed_files(str(root)) if committed is None else committed
    absent = []  # (table, column) that every file lacks: read as NULL, listed for callers
    for table in TABLES:
        footers = _readable_footers(committed[table], table)
        placeholder = f"_empty_{table}"
        connection.register(placeholder, empty_table(table))
        if footers:
            held = {name for names in footers.values() for name in names}
            absent += [(table, name) for name in TABLES[table].names if name not in held]
            # The files listed now, not a glob: a commit that begins later stays out.
            # DuckDB reads [, * and ? in every path it is given: each comes escaped.
            paths = ", ".join("'" + globs.escape(f).replace("'", "''") + "'" for f in footers)
            connection.execute(
                f"CREATE VIEW {table} AS SELECT *{_null_columns(connection, table, footers)} "
                f"FROM read_parquet([{paths}], hive_partitioning = true, union_by_name = true)"
            )
        else:
            connection.execute(f"CREATE VIEW {table} AS SELECT * FROM {placeholder}")
    connection.execute("CREATE TABLE _absent_columns (table_name VARCHAR, column_name VARCHAR)")
    if absent:
        connection.executemany("INSERT INTO _absent_columns VALUES (?, ?)", absent)
    create_resolved_views(connection)
    _lock(connection, root)
    return connection


def run_on_committed(output_dir: str, work, *, attempts: int = 5, threads: int | None = None):
    """``work(connection)`` over a fresh ``connect`` (with ``threads``); asked again, up to
    ``attempts`` times in all, when it fails to read a file because a commit took files
    out meanwhile (a ``compact`` or ``reprocess`` deletes the files it replaced)."""
    root = str(pathlib.Path(output_dir).resolve())
    for attempt in range(1, attempts + 1):
        listed = store.committed_files(root)
        try:
            return work(connect(output_dir, committed=listed, threads=threads))
        except duckdb.IOException:
            if attempt == attempts or store.committed_files(root) == listed:
                raise
            _log.info("files were replaced while reading %s: reading again", output_dir)
    raise AssertionError("unreachable")


def readable_files(paths: list[str], table: str) -> list[str]:
    """The files among ``paths`` (of ``table``) whose Parquet footer can be read.

    A file that cannot be read is left out with one warning line naming it,
    so one corrupt file never stops every query.
    """
    return list(_readable_footers(paths, table))


def _readable_footers(paths: list[str], table: str) -> dict[str, list[str]]:
    """The column names of each file among ``paths`` whose footer can be read, by path."""
    readable = {}
    for path in paths:
        try:
            with pq.ParquetFile(path) as parquet:  # reads the footer, where a bad file fails
                readable[path] = parquet.schema_arrow.names
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a bad file
            cause = " ".join(str(exc).split())[:300] or type(exc).__name__
            _log.warning("%s cannot be read (%s): left out of the %s view", path, cause, table)
    return readable


def _null_columns(
    connection: duckdb.DuckDBPyConnection, table: str, footers: dict[str, list[str]]
) -> str:
    """``, NULL AS run_id``...: each column of ``table`` no file holds (files written before
    the column was added), typed as the table's empty placeholder types it, so a query
    written for the current schema runs over an older output too."""
    held = {name for names in footers.values() for name in names}
    placeholder = connection.table(f"_empty_{table}")
    types = dict(zip(placeholder.columns, placeholder.types, strict=True))
    absent = [name for name in TABLES[table].names if name not in held]
    return "".join(f', CAST(NULL AS {types[name]}) AS "{name}"' for name in absent)


def _lock(connection: duckdb.DuckDBPyConnection, root: pathlib.Path) -> None:
    """Only files under ``root`` can be read, no extension loaded, and no setting changed back.

    Views bind their files at each query, so ``root`` stays allowed. Parquet,
    JSON and ICU are built into DuckDB: nothing needs to be loaded.
    """
    folder = root.as_posix().rstrip("/") + "/"
    # DuckDB checks each view path as written, escaped, before it expands it.
    allowed = list(dict.fromkeys([folder, globs.escape(folder)]))
    connection.execute("SET allowed_directories = $dirs", {"dirs": allowed})
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

    def fetch(connection):
        relation = _select(connection, sql)
        return (relation.columns, relation.fetchall()) if relation is not None else None

    result = run_on_committed(output_dir, fetch)
    if result is None:  # no statement at all
        return ""
    columns, rows = result
    return format_rows(columns, rows, output_format=output_format)


def format_rows(columns, rows, *, output_format: str = "table") -> str:
    """``rows`` under ``columns`` as an aligned table, CSV with a header, or JSON lines."""
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_csv_cell(value) for value in row] for row in rows)
        return buffer.getvalue()
    if output_format == "json":
        return "".join(
            json.dumps(dict(zip(columns, row, strict=True)), default=_json_value) + "\n"
            for row in rows
        )
    return format_table(columns, rows)


def _json_value(value):
    """JSON for what ``json`` cannot write itself: ISO-8601 times and dates, else text."""
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    return str(value)


def _csv_cell(value):
    """A CSV cell: lists and structs as JSON (``["Wire staff"]``), times as ISO-8601."""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, default=_json_value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


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
    return run_on_committed(
        output_dir, lambda connection: _export(connection, sql, path, export_format)
    )


def _export(connection, sql: str, path: str, export_format: str) -> int:
    relation = _select(connection, sql)
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
        source, options = "result", f"FORMAT {export_format}"
        if export_format in ("csv", "json"):
            # ISO-8601 with the T (the tables' timestamps are UTC); in CSV, lists and
            # structs as JSON, as --format csv prints them.
            options += ", TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%fZ'"
        if export_format == "csv":
            options += ", HEADER true"
            source = _json_nested("result", relation.columns, relation.types)
        literal = "'" + partial.as_posix().replace("'", "''") + "'"
        (rows,) = writer.execute(f"COPY {source} TO {literal} ({options})").fetchone()
        os.replace(partial, target)
    finally:
        writer.close()
        partial.unlink(missing_ok=True)
    return rows


def _json_nested(name: str, columns, types) -> str:
    """A query over ``name`` with its list, struct and map columns as JSON text."""
    nested = ("[]", "STRUCT", "MAP", "UNION")

    def column(col, col_type):
        quoted = '"' + col.replace('"', '""') + '"'
        if any(marker in str(col_type).upper() for marker in nested):
            return f"CAST(to_json({quoted}) AS VARCHAR) AS {quoted}"
        return quoted

    columns = ", ".join(column(c, t) for c, t in zip(columns, types, strict=True))
    return f"(SELECT {columns} FROM {name})"


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
