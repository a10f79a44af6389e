"""``newsbeam runs DIR``: the runs recorded in ``DIR/_runs/``, newest first, one line each.

Reads the run records ``ingest`` and each ``watch`` poll write (local folders
only, as ``query`` does); needs neither Beam nor DuckDB.
"""

import datetime as dt
import json
import pathlib

from pipelines import report
from pipelines.query import format_rows
from transforms import store

COLUMNS = ("started", "run_id", "seconds", "read", "written", "duplicates", "errors", "status")
UNREADABLE = "unreadable"


def read_runs(output_dir: str, *, limit: int | None = None) -> list[dict]:
    """The run records of ``output_dir``, newest first (run ids begin with their start time).

    A record that cannot be read is listed as ``{"run_id": ..., "status": "unreadable"}``,
    never left out; the temporary files of a record being written are not records.
    """
    folder = pathlib.Path(output_dir) / store.RUNS
    paths = sorted(folder.glob("*.json"), key=lambda path: path.name, reverse=True)
    records = []
    for path in paths[:limit]:
        run_id = path.name.removesuffix(".json")
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        records.append(record if isinstance(record, dict) else {"run_id": run_id})
        records[-1].setdefault("run_id", run_id)
    return records


def run_row(record: dict) -> tuple:
    """One run record as the values of ``COLUMNS``; None where the record has no value.

    A record written before runs kept their status gets it from its counts.
    """
    totals, status = record.get("balance"), record.get("status")
    if status is None:
        try:
            status = str(report.run_status(record["stages"]))
        except (KeyError, TypeError):
            status = UNREADABLE
    totals = totals if isinstance(totals, dict) else {}
    return (
        _started(record.get("ingested_at")),
        record["run_id"],
        record.get("elapsed_seconds"),
        totals.get("read"),
        totals.get("written"),
        totals.get("duplicates"),
        totals.get("errors"),
        status,
    )


def _started(value: object) -> str | None:
    """``2026-11-28T12:00:00Z`` from a record's ISO-8601 start time (UTC), to the second."""
    try:
        started = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return started.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def runs_report(output_dir: str, *, limit: int | None = None, output_format: str = "table") -> str:
    """The runs of ``output_dir``, newest first: a table, CSV with a header, or JSON lines."""
    rows = [run_row(record) for record in read_runs(output_dir, limit=limit)]
    if output_format == "table":  # a run without counts (failed, unreadable) shows "-"
        rows = [
            tuple(
                "-" if value is None else f"{value:.1f}" if column == "seconds" else value
                for column, value in zip(COLUMNS, row, strict=True)
            )
            for row in rows
        ]
    return format_rows(COLUMNS, rows, output_format=output_format)
