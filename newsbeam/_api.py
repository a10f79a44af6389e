"""The Python API behind ``import newsbeam``: the CLI's commands as functions."""

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pipelines import cli
from pipelines import report as run_report

UsageError = cli.UsageError
ResultKind = Literal["relation", "arrow", "pandas", "polars", "rows"]


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """What one ``ingest`` run did; ``str()`` is the summary the CLI prints."""

    run_id: str
    output: str
    counts: Mapping[str, Any]  # per stage, as in ``_runs/<run_id>.json``
    balance: Mapping[str, int | bool]  # read = written + duplicates + errors, and "ok"
    elapsed: float  # seconds, model load and commit included
    status: str = "ok"  # ok, partial (some inputs failed) or nothing_ingested (all failed)
    exit_code: int = 0  # what ``newsbeam ingest`` exits with for this run (see the README)

    @property
    def articles(self) -> int:
        return int(self.balance["written"])

    @property
    def errors(self) -> int:
        return int(self.balance["errors"])

    def __str__(self) -> str:
        return run_report.summary(
            dict(self.counts), run_id=self.run_id, output_dir=self.output, elapsed=self.elapsed
        )


def ingest(
    input: str | Iterable[str] = (),  # the CLI's name
    *,
    output: str,
    feeds: str | Iterable[str] = (),
    beam_args: Iterable[str] = (),
    **options: Any,
) -> RunSummary:
    """Runs ``newsbeam ingest`` in this process and returns its summary.

    ``input`` and ``feeds`` take one value or several; every other ``newsbeam
    ingest`` option is a keyword (``model``, ``labels``, ``nlp=False`` for
    ``--no-nlp``, ``shards``, ``time_limit``, ...). ``beam_args`` are passed to
    Beam as on the command line. Raises ``UsageError`` for an option, input,
    output or model that cannot work (nothing runs), ``TypeError`` for an
    unknown keyword, and ``RunFailed`` when the run fails (nothing is committed).
    A run in which inputs failed returns: its ``status`` and ``exit_code`` say so
    (``fail_on_errors=True`` sets ``exit_code`` 3 for a partial run, as the CLI).
    """
    from pipelines.options import OptionError
    from transforms.lib.nlp import ModelError

    args = _ingest_namespace(output, **options)
    args.inputs = [input] if isinstance(input, str) else list(input)
    args.feeds = [feeds] if isinstance(feeds, str) else list(feeds)
    beam_args = list(beam_args)
    try:
        record = cli.run_ingest(args, beam_args)
    except (OptionError, ModelError) as exc:
        raise UsageError(str(exc)) from None
    except cli.RunFailed as exc:
        cli._discard_staging(exc.output_dir, exc.run_id)
        raise
    return RunSummary(
        run_id=record["run_id"],
        output=str(output),
        counts=record["stages"],
        balance=record["balance"],
        elapsed=record["elapsed_seconds"],
        status=record["status"],
        exit_code=record["exit_code"],
    )


def _ingest_namespace(output: str, **options: Any):
    """The CLI's parsed ``ingest`` arguments for ``options`` given as keywords.

    The values go through the command line's own checks, as text.
    """
    parser = cli._parser(cli._RaisingParser)
    argv = ["ingest", "--output", str(output)]
    known = set(vars(parser.parse_args(argv))) - {"command", "inputs", "feeds", "output"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"ingest() got unknown option(s): {', '.join(unknown)}")
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if name == "nlp":
            argv += [] if value else ["--no-nlp"]
        elif isinstance(value, bool):
            argv += [flag] if value else []
        elif isinstance(value, str | int | float):
            argv += [flag, str(value)]
        elif value is not None:  # labels=["PERSON", "ORG"]
            argv += [flag, ",".join(map(str, value))]
    return parser.parse_args(argv)


def query(output: str, sql: str, *, result: ResultKind = "relation"):
    """The result of a SELECT over the output's ``articles``, ``entities``, ``quotes`` and
    ``errors`` views, read-only, as a DuckDB relation (lazy), a pyarrow Table, a pandas or
    Polars DataFrame, or a list of tuples (``result=``).

    Raises ``UsageError`` when ``output`` is not a newsbeam output folder and
    ``duckdb.Error`` for bad SQL or any statement but SELECT. A relation kept across a
    ``compact`` or ``reprocess`` of the output fails to read the files they replaced: ask again.
    """
    from pipelines import query as querying

    _check_output(output)
    convert = {
        "relation": lambda r: r,
        "arrow": lambda r: r.to_arrow_table(),
        "pandas": lambda r: r.df(),
        "polars": lambda r: r.pl(),
        "rows": lambda r: r.fetchall(),
    }
    if result not in convert:
        raise ValueError(f"result must be one of {', '.join(convert)}, not {result!r}")

    def fetch(connection):
        relation = querying._select(connection, sql)
        if relation is None:
            raise UsageError("no SQL statement given")
        return convert[result](relation)

    # A relation is read later, when asked; the other results are read here, and again
    # if a compaction replaced the files meanwhile.
    if result == "relation":
        return fetch(querying.connect(str(output)))
    return querying.run_on_committed(str(output), fetch)


def stats(output: str, *, limit: int = 10) -> str:
    """The ``newsbeam stats`` report of ``output``: top ``limit`` entities per group and
    speakers. Raises ``UsageError`` for a folder that is not an output or a limit below 1."""
    from pipelines.stats import stats_report

    _check_output(output)
    if limit < 1:
        raise UsageError(f"limit must be at least 1, not {limit}")
    return stats_report(str(output), limit=limit)


def report(
    folder: str,
    *,
    output: str,
    since: "str | dt.date | None" = None,
    until: "str | dt.date | None" = None,
    source: str | None = None,
) -> str:
    """Writes the ``newsbeam report`` page of the output ``folder`` to the .html file
    ``output`` and returns its path; ``since``/``until`` (``YYYY-MM-DD`` or dates) and
    ``source`` choose the articles. Raises ``UsageError`` for a folder that is not an
    output, a file name that is not .html or lies in the folder, a bad date or an unknown
    source, before anything is written."""
    from pipelines import corpus_report
    from pipelines.report_queries import Scope, UnknownSourceError

    def day(value, name):
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise UsageError(f"{name}: {value!r} is not a date like 2025-01-31") from None

    scope = Scope(since=day(since, "since"), until=day(until, "until"), source=source)
    if scope.since and scope.until and scope.since > scope.until:
        raise UsageError("since is after until")
    _check_output(folder)
    try:
        return corpus_report.write_report(str(folder), str(output), scope).path
    except (corpus_report.ReportPathError, UnknownSourceError) as exc:
        raise UsageError(str(exc)) from None


def _check_output(output: str) -> None:
    from pipelines.query import NotAnOutputError, check_output_folder

    try:
        check_output_folder(str(output))
    except NotAnOutputError as exc:
        raise UsageError(str(exc)) from None
