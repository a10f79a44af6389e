"""The ``newsbeam`` command: ingest, watch, reprocess, compact, query, stats, runs and report.

Every check that can fail fast (inputs, output folder, model, options) runs
before the pipeline starts, and fails with one ``newsbeam: error:`` line and
exit status 2 (the usage text only with ``--help``). Ctrl-C stops with one
line and exit status 130; a second Ctrl-C stops at once. A committed run
exits with the code of its status (``report.ExitCode``): 0, or 4 when every
input failed, or 3 when some did and ``--fail-on-errors`` was given.
"""

import argparse
import contextlib
import dataclasses
import datetime as dt
import difflib
import glob
import logging
import os
import re
import signal
import sys
import threading
import time
import uuid

from pipelines import report

USAGE_ERROR = report.ExitCode.USAGE
INTERRUPTED = report.ExitCode.INTERRUPTED  # what shells report for a command stopped by Ctrl-C
# Beam logs these at WARNING on every start; they say nothing about a newsbeam run.
_NOISE = (
    "apitools not found",
    "Resource module is not available",
    "is not available for current platform",
)


class UsageError(Exception):
    """Something the user can fix before anything runs."""


class _Parser(argparse.ArgumentParser):
    """argparse that never guesses an abbreviation and reports a mistake in one line."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        print(f"newsbeam: error: {message} (see newsbeam --help)", file=sys.stderr)
        sys.exit(USAGE_ERROR)


class _RaisingParser(_Parser):
    """The parser of the Python API: a mistake raises ``UsageError``, never exits."""

    def error(self, message: str):
        raise UsageError(message)


class RunFailed(Exception):
    """The pipeline failed as a whole (a full disk, a lost worker, a bug)."""

    def __init__(self, output_dir: str, run_id: str, cause: str):
        from transforms import store

        try:
            committed = store.is_committed(output_dir, run_id)
        except Exception:  # the output cannot be read: it cannot hold the commit either
            committed = False
        outcome = (
            f"its files were committed to {output_dir}, but what follows the commit "
            "(feed state, input manifest, run record) may be missing"
            if committed
            else f"nothing of it was committed to {output_dir}"
        )
        super().__init__(f"run {run_id} failed: {cause}; {outcome}")
        self.output_dir = output_dir
        self.run_id = run_id


_ERRNO_MESSAGE = re.compile(r"\[Errno \d+\][^\n'\"]*")


def _root_cause(exc: BaseException) -> str:
    """One line that says why a run failed, from Beam's layers of wrapped tracebacks."""
    text = str(exc)
    errno = _ERRNO_MESSAGE.findall(text)
    if errno:
        return errno[-1].strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    cause = lines[-1] if lines else type(exc).__name__
    return cause[:300]


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns its exit status (``report.ExitCode``)."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread:
        signal.signal(signal.SIGINT, _interrupt)
    try:
        return _main(argv)
    except KeyboardInterrupt:
        if in_main_thread:  # a further Ctrl-C while Python shuts down changes nothing
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        _stop_now("newsbeam: interrupted")  # no worker left behind to print tracebacks
        return INTERRUPTED


_interrupts = 0
# After the first Ctrl-C, Beam's clean-up gets this long before the process ends anyway:
# the multi-processing runner can wait for its workers for ever.
_UNWIND_SECONDS = 10.0


def _interrupt(_number, _frame):
    """The first Ctrl-C unwinds (staging is cleaned up); a second one ends the process now."""
    global _interrupts
    _interrupts += 1
    if _interrupts > 1:
        _stop_now("newsbeam: interrupted again: stopping now")
    # Beam logs an exception that reaches a DoFn, with its traceback, before it passes it
    # on; an interrupted run has nothing left to say but the one line.
    logging.disable(logging.CRITICAL)
    timer = threading.Timer(_UNWIND_SECONDS, _stop_now, ("newsbeam: interrupted",))
    timer.daemon = True
    timer.start()
    raise KeyboardInterrupt


def _stop_now(message: str) -> None:
    """Ends newsbeam and the Beam workers it started, at once, with exit status 130."""
    for pid in _descendants(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)  # before they print their lost connections
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    print(message, file=sys.stderr, flush=True)
    os._exit(INTERRUPTED)


def _descendants(pid: int) -> list[int]:
    """Every process under ``pid``, read from /proc (none where there is no /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(entry, encoding="utf-8", errors="replace") as handle:
                # "pid (command) state ppid ...": the command may hold spaces and parentheses.
                fields = handle.read().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(entry.split("/")[2]))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def _main(argv: list[str] | None) -> int:
    _configure_logging()
    parser = _parser()
    args, beam_args = parser.parse_known_args(argv)
    if getattr(args, "log_level", None):
        _configure_logging("error" if args.quiet else args.log_level)
    if args.command not in ("ingest", "watch", "reprocess") and beam_args:
        parser.error(_unknown_message(parser, args.command, beam_args))
    if args.command == "compact":
        return compact(args)
    if args.command in ("ingest", "watch", "reprocess"):
        from pipelines.options import OptionError, check_beam_arguments
        from transforms.lib.nlp import ModelError

        try:
            check_beam_arguments(beam_args)  # a mistyped option first, before any other check
        except OptionError as exc:
            unknown = getattr(exc, "unknown", None)
            message = _unknown_message(parser, args.command, unknown) if unknown else str(exc)
            print(f"newsbeam: error: {message}", file=sys.stderr)
            return USAGE_ERROR
        beam_args = _quiet_workers(args, beam_args)
        command = {"ingest": ingest, "watch": watch, "reprocess": reprocess}[args.command]
        try:
            return command(args, beam_args)
        except (UsageError, OptionError, ModelError) as exc:
            print(f"newsbeam: error: {exc}", file=sys.stderr)
            return USAGE_ERROR
        except RunFailed as exc:
            print(f"newsbeam: error: {exc}", file=sys.stderr)
            return report.ExitCode.FAILED
    if args.command == "report":
        return report_command(args)
    import duckdb  # query and stats need DuckDB, not Beam

    from pipelines import query

    try:
        query.check_output_folder(args.output)
    except query.NotAnOutputError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        if args.command == "runs":
            from pipelines import runs

            sys.stdout.write(
                runs.runs_report(args.output, limit=args.limit, output_format=args.format)
            )
        elif args.command == "query":
            if args.export is None:
                sys.stdout.write(query.run_query(args.output, args.sql, output_format=args.format))
            else:
                try:
                    query.check_export_path(args.output, args.export)
                except query.ExportPathError as exc:
                    print(f"newsbeam: error: {exc}", file=sys.stderr)
                    return USAGE_ERROR
                rows = query.export_query(args.output, args.sql, args.export)
                print(f"{rows} row{'s' if rows != 1 else ''} written to {args.export}")
        else:
            from pipelines.stats import stats_report

            labels = [label for value in args.labels for label in value.split(",")]
            sys.stdout.write(stats_report(args.output, limit=args.limit, labels=labels or None))
    except (duckdb.Error, OSError) as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return report.ExitCode.FAILED
    return report.ExitCode.OK


def _unknown_message(parser: argparse.ArgumentParser, command: str, unknown: list[str]) -> str:
    """``unknown option --inptu (did you mean --input?)``, naming the first unknown option."""
    first = next((arg for arg in unknown if arg.startswith("-")), None)
    if first is None:
        return f"unexpected argument(s) for {command}: {' '.join(unknown)}"
    flag = first.split("=", 1)[0]
    ours = parser.command_options[command]
    close = difflib.get_close_matches(flag, ours, n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown option {flag}{hint}"


def _configure_logging(level: str = "warning") -> None:
    """newsbeam's messages at ``level``; Beam's own (and its workers') only with ``debug``."""
    logging.basicConfig(level=level.upper(), format="newsbeam: %(message)s", force=True)
    logging.getLogger().setLevel(level.upper())
    if level != "debug":
        logging.getLogger("apache_beam").setLevel(logging.ERROR)
        for handler in logging.getLogger().handlers:
            handler.addFilter(lambda record: not any(n in record.getMessage() for n in _NOISE))


def _quiet_workers(args: argparse.Namespace, beam_args: list[str]) -> list[str]:
    """Beam's arguments, with the workers' own logging down to errors unless debugging."""
    if getattr(args, "log_level", "warning") == "debug" or any(
        a.startswith("--default_sdk_harness_log_level") for a in beam_args
    ):
        return beam_args
    return [*beam_args, "--default_sdk_harness_log_level=ERROR"]


def _parser(parser_class: type[argparse.ArgumentParser] = _Parser) -> argparse.ArgumentParser:
    from pipelines import options
    from transforms.lib.settings import DEFAULT_LIMITS

    parser = parser_class(
        prog="newsbeam",
        description="News files and feeds to entities, quotes and Parquet. Exit status: 0 done, "
        "1 a run failed, 2 a usage error (nothing ran), 3 some inputs failed (with "
        "--fail-on-errors), 4 every input failed (nothing ingested), 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    ingest_parser = commands.add_parser(
        "ingest",
        help="read articles, extract entities and quotes, write Parquet",
        description="Any option not listed here is passed to Beam (--runner, "
        "--direct_num_workers, --direct_running_mode, ...).",
    )
    options.add_ingest_arguments(ingest_parser)
    watch_parser = commands.add_parser(
        "watch",
        help="poll the inputs every interval and ingest what is new, until stopped",
        description="Each poll is one incremental ingest run; SIGTERM or Ctrl-C stops after the "
        "poll under way. Any option not listed here is passed to Beam.",
    )
    options.add_ingest_arguments(watch_parser)
    reprocess_parser = commands.add_parser(
        "reprocess",
        help="extract entities and quotes again for articles already in the output",
        description="Runs the model again over the articles already in DIR (all, or those "
        "--where selects) and replaces their entities and quotes in one commit that newsbeam "
        "query and the Python API see whole. Takes the output's writer lock, as ingest does. "
        "Any option not listed here is passed to Beam.",
    )
    reprocess_parser.add_argument("output", metavar="DIR")
    reprocess_parser.add_argument(
        "--where",
        metavar="SQL",
        help="reprocess only the articles this condition over the articles view selects, "
        'as in newsbeam query: "nlp_model IS NULL", "date >= \'2026-01-01\'" '
        "(default: every article)",
    )
    options.add_reprocess_arguments(reprocess_parser)
    compact_parser = commands.add_parser(
        "compact",
        help="merge the small files of each table and date into few large ones",
        description="Merges small committed files per table and date, in one commit that "
        "newsbeam query and the Python API see whole; folds the _commits/ records into one. "
        "Takes the output's writer lock, as ingest does.",
    )
    compact_parser.add_argument("output", metavar="DIR")
    for compactor in (watch_parser, compact_parser):
        compactor.add_argument(
            "--target-size",
            type=options.byte_size,
            default=DEFAULT_LIMITS.compact_target_bytes,
            metavar="SIZE",
            help="largest merged file, like 128MB or 1GB (powers of 1024); files of half of it "
            "or more are left as they are (default: 128MB)",
        )
    for writer in (ingest_parser, watch_parser, reprocess_parser, compact_parser):
        writer.add_argument(
            "--wait",
            action="store_true",
            help="if another newsbeam is writing to the output, wait for it to finish "
            "(default: fail at once, naming it)",
        )
        writer.add_argument(
            "--fail-on-errors",
            action="store_true",
            help="exit 3 when the run committed but some inputs failed (default: 0; a run "
            "in which every input failed exits 4 either way)",
        )
    watch_parser.add_argument("--interval", default="5m", help="time between polls (30s, 5m, 1h)")
    watch_parser.add_argument(
        "--max-polls",
        type=options.positive_int,
        default=None,
        help="stop after this many polls, at least 1 (default: never)",
    )
    watch_parser.add_argument(
        "--compact-every",
        type=options.positive_int,
        default=None,
        metavar="N",
        help="compact the output (as newsbeam compact does) after every N polls (default: never)",
    )
    watch_parser.add_argument(
        "--settle",
        type=options.non_negative_float,
        default=DEFAULT_LIMITS.settle_seconds,
        metavar="SECONDS",
        help="leave a file modified less than this long ago for a later poll: it may still be "
        "being written (default: %(default)s)",
    )
    query_parser = commands.add_parser(
        "query",
        help="run DuckDB SQL over an output folder",
        description="Runs SELECT statements over the views; DuckDB can read no file outside DIR "
        "and write none.",
    )
    query_parser.add_argument("output", metavar="DIR")
    query_parser.add_argument(
        "sql", metavar="SQL", help="over views articles, entities, quotes, errors"
    )
    query_parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query_parser.add_argument(
        "--output",
        dest="export",
        metavar="FILE",
        help="write the result to FILE (.csv, .parquet or .json lines) instead of printing it",
    )
    stats_parser = commands.add_parser("stats", help="most mentioned entities and quoted speakers")
    stats_parser.add_argument("output", metavar="DIR")
    stats_parser.add_argument(
        "--limit", type=options.positive_int, default=10, help="lines per section (default: 10)"
    )
    stats_parser.add_argument(
        "--label",
        dest="labels",
        action="append",
        default=[],
        metavar="LABEL",
        help="rank only entities of this label (PERSON, ORG, ...); repeatable or comma-separated",
    )
    _add_report_parser(commands)
    runs_parser = commands.add_parser(
        "runs", help="list the runs written to an output folder, newest first"
    )
    runs_parser.add_argument("output", metavar="DIR")
    runs_parser.add_argument(
        "--limit", type=options.positive_int, default=None, help="the newest N runs only"
    )
    runs_parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.command_options = {  # for "did you mean ...?"
        name: [o for action in command._actions for o in action.option_strings]
        for name, command in commands.choices.items()
    }
    return parser


def _add_report_parser(commands) -> None:
    report_parser = commands.add_parser(
        "report",
        help="write one HTML page of charts: volume, people, quotes, data quality, runs",
        description="Writes one self-contained HTML file (it loads nothing, so it opens "
        "offline and can be mailed) from the committed tables of DIR.",
    )
    report_parser.add_argument("output", metavar="DIR")
    report_parser.add_argument(
        "--output", dest="report_file", metavar="FILE", required=True, help="the .html file"
    )
    for flag, side in (("--since", "first"), ("--until", "last")):
        report_parser.add_argument(
            flag,
            type=_day,
            metavar="DATE",
            help=f"the {side} day to cover, YYYY-MM-DD: an article's day is its publication "
            "date, else the day it was ingested (default: all)",
        )
    report_parser.add_argument(
        "--source", metavar="NAME", help="only the articles whose source is exactly NAME"
    )


def _day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2025-01-31") from None


def report_command(args: argparse.Namespace) -> int:
    """``newsbeam report``: writes the page and prints one line; 2 for a usage error."""
    if args.since and args.until and args.since > args.until:
        print("newsbeam: error: --since is after --until", file=sys.stderr)
        return USAGE_ERROR
    if os.path.isdir(args.output):
        from pipelines import report_drawing

        # The chart engine takes a second to start: it does while the rest loads and queries.
        # One engine: a helper would start as slowly, for the one page this command draws.
        report_drawing.drawer(workers=1, helpers=0)

    import duckdb

    from pipelines import corpus_report, query
    from pipelines.report_queries import Scope, UnknownSourceError

    scope = Scope(since=args.since, until=args.until, source=args.source)
    try:
        written = corpus_report.write_report(args.output, args.report_file, scope)
    except (query.NotAnOutputError, corpus_report.ReportPathError, UnknownSourceError) as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except (duckdb.Error, OSError) as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"newsbeam: report of {written.articles} article{'s' if written.articles != 1 else ''} "
        f"written to {written.path} ({written.charts} charts, {written.seconds:.1f} s)"
    )
    return 0


def ingest(args: argparse.Namespace, beam_args: list[str]) -> int:
    record = run_ingest(args, beam_args)
    print(
        report.summary(
            record["stages"],
            run_id=record["run_id"],
            output_dir=args.output,
            elapsed=record["elapsed_seconds"],
        )
    )
    return record["exit_code"]


def run_ingest(args: argparse.Namespace, beam_args: list[str]) -> dict:
    """One checked, committed ingest run; returns its run record (``newsbeam.ingest`` too).

    Input files the output holds unchanged are not read (unless ``--rescan``).
    """
    from pipelines import inputs as input_files

    started = time.monotonic()
    _check_sources(args)
    args.inputs = _folders_as_globs(args.inputs)
    _check_inputs(args.inputs, args.output)
    # The model is loaded once there is something to read: a rerun over unchanged files,
    # which reads nothing, does not wait for it.
    with Session.start(args, beam_args, models_ahead=False) as session:  # holds the lock
        _check_labels(session)
        selection = _unread_inputs(args)
        record = session.run(
            session.config(selection.inputs), started=started, unchanged=selection.unchanged
        )
        input_files.record_touched(args.output, record["run_id"], selection)
        return record


def _unread_inputs(args: argparse.Namespace):
    """The ``--input`` files the output's manifest does not hold unchanged (all of them with
    ``--rescan``), as a ``pipelines.inputs.Selection``."""
    from pipelines import inputs as input_files
    from pipelines.watch import list_files

    patterns = [_absolute(pattern) for pattern in args.inputs]
    if not patterns or args.rescan:
        return input_files.everything(patterns)
    known = load_input_manifest(args.output)
    if not known.files:  # nothing ingested yet: nothing to list
        return input_files.everything(patterns)
    listing, _left_out = list_files(patterns, exclude=_absolute(args.output))
    return input_files.select(listing, known, patterns=patterns)


def load_input_manifest(output_dir: str, known=None):
    """``store.load_input_manifest``, a manifest that cannot be read a ``UsageError``."""
    from transforms import store

    try:
        return store.load_input_manifest(output_dir, known)
    except store.UnreadableFileError as exc:
        raise UsageError(f"the input manifest {exc}") from None


def watch(args: argparse.Namespace, beam_args: list[str]) -> int:
    from pipelines import watch as watching
    from transforms import store

    try:
        interval = watching.parse_interval(args.interval)
    except ValueError as exc:
        raise UsageError(f"--interval: {exc}") from None
    _check_sources(args)
    args.inputs = _folders_as_globs(args.inputs)
    try:
        for pattern in args.inputs:
            watching.check_pattern(pattern)
    except ValueError as exc:
        raise UsageError(f"--input {exc}") from None
    with Session.start(args, beam_args) as session:  # holds the output's lock to the end
        _check_labels(session)
        try:
            return watching.watch(
                session,
                interval=interval,
                max_polls=args.max_polls,
                settle=args.settle,
                compact_every=args.compact_every,
                target_bytes=args.target_size,
            )
        except store.UnreadableFileError as exc:
            raise UsageError(f"the watch state {exc}") from None


def reprocess(args: argparse.Namespace, beam_args: list[str]) -> int:
    """``newsbeam reprocess``: a ``Session`` (lock, model, recovery), then one run."""
    from pipelines import query
    from pipelines import reprocess as reprocessing

    started = time.monotonic()
    if re.match(r"^[a-zA-Z][-a-zA-Z0-9+.]*://", args.output):
        raise UsageError(f"reprocess needs a local output folder, not {args.output!r}")
    try:
        query.check_output_folder(args.output)
        reprocessing.select_articles(args.output, args.where, limit=0)  # bad SQL fails now
    except (query.NotAnOutputError, reprocessing.SelectionError) as exc:
        raise UsageError(str(exc)) from None
    with Session.start(args, beam_args) as session:  # holds the output's lock to the end
        _check_labels(session)
        try:
            record = reprocessing.reprocess(session, where=args.where, started=started)
        except reprocessing.SelectionError as exc:
            raise UsageError(str(exc)) from None
    print(reprocessing.summary(record, output_dir=args.output))
    return 0


def compact(args: argparse.Namespace) -> int:
    """``newsbeam compact``: holds the writer lock, finishes interrupted commits, compacts."""
    from pipelines import compact as compacting
    from pipelines import query
    from transforms import store

    try:
        if re.match(r"^[a-zA-Z][-a-zA-Z0-9+.]*://", args.output):
            raise UsageError(f"compact needs a local output folder, not {args.output!r}")
        query.check_output_folder(args.output)
        with _writer_lock(args):
            _recover(args.output)
            result = compacting.compact(args.output, target_bytes=args.target_size)
    except (UsageError, query.NotAnOutputError, store.UnreadableFileError) as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except OSError as exc:
        print(f"newsbeam: error: compaction failed: {exc}", file=sys.stderr)
        return 1
    print(compacting.summary(result, output_dir=args.output))
    return 0


@contextlib.contextmanager
def _writer_lock(args: argparse.Namespace):
    """The output's writer lock for a command that is no ``Session`` (``compact``); a
    ``UsageError`` when another process holds it (without ``--wait``) or it cannot be taken."""
    from transforms import store

    with contextlib.ExitStack() as held:
        try:
            held.enter_context(store.writer_lock(args.output, wait=args.wait, command=args.command))
        except store.OutputLockedError as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:  # a read-only folder, a filesystem without flock
            raise UsageError(f"{args.output!r} cannot be locked: {exc}") from None
        yield


def _recover(output_dir: str) -> None:
    """Finishes the commits of interrupted runs, saying so."""
    from transforms import store

    finished = store.recover(output_dir)
    if finished:
        logging.warning("finished the commit of interrupted run(s) %s", ", ".join(finished))


def _check_sources(args: argparse.Namespace) -> None:
    from transforms.lib.urls import canonical_url

    if not (args.inputs or args.feeds or args.urls or args.sitemaps):
        raise UsageError(
            "give at least one --input GLOB, --feeds FEED, --urls FILE or --sitemap URL"
        )
    for sitemap in args.sitemaps:
        if canonical_url(sitemap) is None:
            raise UsageError(f"--sitemap: {sitemap!r} is not an http(s) URL")
    _page_urls(args.urls)  # a bad list fails now, before anything runs


def _page_urls(paths: list[str]) -> list[str]:
    """The URLs of the ``--urls`` files, read afresh for every run."""
    from transforms.lib.pages import UrlListError, read_url_list
    from transforms.lib.settings import DEFAULT_LIMITS

    urls = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                urls.extend(read_url_list(handle.read(DEFAULT_LIMITS.max_url_list_bytes + 1), path))
        except (OSError, UrlListError) as exc:
            raise UsageError(f"--urls: {exc}") from None
    return list(dict.fromkeys(urls))


@dataclasses.dataclass
class Session:
    """What stays the same across the runs of one command: checked options, model, runner,
    and the output's writer lock, held until the session is closed."""

    args: argparse.Namespace
    beam_args: list[str]
    pipeline_options: object
    models: dict[str, str]  # language -> spaCy model; empty with --no-nlp
    aliases: dict
    feeds: list[str]
    fetch_policy: object
    held: contextlib.ExitStack
    models_loaded: bool = False

    @classmethod
    def start(
        cls, args: argparse.Namespace, beam_args: list[str], *, models_ahead: bool = True
    ) -> "Session":
        """Checks options and output, takes the output's lock, checks the model and finishes
        interrupted commits, or raises (holding nothing). Without ``models_ahead`` the
        models are loaded (and checked) only before the first run that needs them."""
        from pipelines import options, sources
        from transforms import store
        from transforms.lib import nlp
        from transforms.lib.fetch import DEFAULT_USER_AGENT, FetchPolicy
        from transforms.lib.urls import is_http_url

        dask_threads = options.check_dask_scheduler(beam_args)
        beam_args = options.runner_arguments(beam_args, dask_threads=dask_threads)
        pipeline_options = options.check_beam_arguments(beam_args)
        try:
            feeds = [_absolute(s) if not is_http_url(s) else s for s in args.feeds]
            feeds = sources.expand_feed_sources(feeds)
        except (sources.FeedListError, OSError) as exc:
            raise UsageError(f"--feeds: {exc}") from None
        policy = FetchPolicy.from_limits(
            options.limits_from(args),
            user_agent=args.user_agent or DEFAULT_USER_AGENT,
            allow_private_hosts=args.allow_private_hosts,
        )
        _check_output(args.output)
        held = contextlib.ExitStack()
        try:
            try:
                held.enter_context(
                    store.writer_lock(args.output, wait=args.wait, command=args.command)
                )
            except store.OutputLockedError as exc:
                raise UsageError(str(exc)) from None
            except OSError as exc:  # a filesystem without flock
                raise UsageError(f"--output {args.output!r} cannot be locked: {exc}") from None
            models, aliases = {}, {}
            if args.nlp:
                explicit = nlp.parse_models(args.models)
                models = (
                    explicit
                    if "en" in explicit
                    else nlp.parse_models(args.models, default=_installed_default_model(explicit))
                )
                aliases = _read_aliases(args.aliases)
            session = cls(args, beam_args, pipeline_options, models, aliases, feeds, policy, held)
            if models_ahead:
                session.load_models_ahead()
            finished = store.recover(args.output)
        except BaseException:
            held.close()
            raise
        if finished:
            logging.warning("finished the commit of interrupted run(s) %s", ", ".join(finished))
        return session

    def load_models_ahead(self) -> None:
        """Loads each model in a worker process, once: a model that cannot be loaded fails
        here (``nlp.ModelError``), not in every worker; workers take the loaded one."""
        from transforms.enrich import load_model_ahead

        if not self.models_loaded:
            for name in self.models.values():
                load_model_ahead(name)
            self.models_loaded = True

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *_exc) -> None:
        from transforms.lib import limits

        limits.close_ahead()  # the model processes kept between runs
        self.held.close()

    def config(self, inputs: list[str]):
        """The next run's configuration; feed state is read afresh for every run."""
        from pipelines import options
        from pipelines.graph import IngestConfig
        from transforms import store

        try:
            feed_state = store.load_feed_state(self.args.output) if self.feeds else {}
        except store.UnreadableFileError as exc:
            raise UsageError(f"the feed state {exc}") from None

        ingested_at = dt.datetime.now(dt.UTC)
        return IngestConfig(
            inputs=[_absolute(pattern) for pattern in inputs],
            output_dir=_absolute(self.args.output),
            run_id=ingested_at.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8],
            ingested_at=ingested_at,
            model=self.models.get("en") or next(iter(self.models.values()), None),
            models=self.models,
            aliases=self.aliases,
            labels=options.labels_from(self.args.labels),
            cues=options.cues_from(self.args.cues),
            nlp=self.args.nlp,
            limits=options.limits_from(self.args),
            shards=self.args.shards,
            feeds=self.feeds,
            feed_state=feed_state,
            fetch_pages=self.args.fetch_articles,
            fetch_policy=self.fetch_policy,
            keep_models=True,
            urls=_page_urls(self.args.urls),
            sitemaps=list(dict.fromkeys(self.args.sitemaps)),
            input_shards=options.input_shards(self.beam_args),
        )

    def run(self, config, *, started: float, unchanged: int = 0, build=None) -> dict:
        """Runs one pipeline to its commit; returns the run record also written to ``_runs/``.

        ``build(pipeline, config)`` adds the graph: ``graph.build_pipeline`` unless given.

        ``unchanged`` input files were skipped (the output holds them); a run
        left with nothing to read runs no pipeline, and its record says so.
        """
        from transforms import store

        pipeline_started = time.monotonic()
        counters = {}
        if build is not None or config.inputs or config.feeds or config.urls or config.sitemaps:
            if config.nlp:
                self.load_models_ahead()
            counters = self._run_pipeline(config, started=started, build=build)
        pipeline_seconds = time.monotonic() - pipeline_started
        counts = report.stage_counts(counters)
        counts["read"]["unchanged_files"] = unchanged
        counts["files"] = counts["read"]["files"]  # where run records have always had it
        status = report.run_status(counts)
        fail_on_errors = getattr(self.args, "fail_on_errors", False)
        record = {
            "run_id": config.run_id,
            "command": self.args.command,
            "ingested_at": config.ingested_at.isoformat(),
            "inputs": list(config.inputs),
            "model": config.model,
            "models": dict(config.models),
            "elapsed_seconds": round(time.monotonic() - started, 3),
            "pipeline_seconds": round(pipeline_seconds, 3),
            "stages": counts,
            "balance": report.balance(counts),
            "status": str(status),
            "exit_code": int(report.exit_code(status, fail_on_errors=fail_on_errors)),
        }
        store.write_run_record(config.output_dir, config.run_id, record)
        return record

    def _run_pipeline(self, config, *, started: float, build=None) -> dict[str, int]:
        """Runs the pipeline of ``config`` to its commit; returns its counters.

        A run that fails writes a ``failed`` run record and raises ``RunFailed``.
        """
        import apache_beam as beam

        from pipelines import options
        from pipelines.graph import build_pipeline
        from transforms import store

        runner = options.pipeline_runner(self.beam_args, self.pipeline_options)
        pipeline = beam.Pipeline(runner=runner, options=self.pipeline_options)
        (build or build_pipeline)(pipeline, config)
        result = None
        try:
            with _progress_shown(self.args, config, remote=options.is_dask(self.beam_args)):
                result = pipeline.run()
                state = result.wait_until_finish()
        except Exception as exc:
            _release(result, cancel=True)
            _discard_staging(config.output_dir, config.run_id)  # still holding the lock
            _record_failure(config, started, _root_cause(exc))
            if _interrupts:  # Beam wraps a Ctrl-C that lands inside a DoFn in its own error
                raise KeyboardInterrupt from None
            raise RunFailed(config.output_dir, config.run_id, _root_cause(exc)) from exc
        _release(result)
        cause = None
        if state is not None and str(state).rsplit(".", 1)[-1] not in ("DONE", "UNKNOWN"):
            cause = f"the runner ended in state {state}"
        # The counts travelled with the data to the commit, which recorded them.
        counters = store.commit_counts(config.output_dir, config.run_id)
        if cause is None and counters is None:
            cause = "the runner finished without running the commit"
        if cause is not None:
            _discard_staging(config.output_dir, config.run_id)
            _record_failure(config, started, cause)
            raise RunFailed(config.output_dir, config.run_id, cause)
        return counters


def _record_failure(config, started: float, cause: str) -> None:
    """Writes a failed run's record (status ``failed``, no counts), so ``newsbeam runs`` shows
    it; skipped when the output cannot be written, which may be why the run failed."""
    from transforms import store

    record = {
        "run_id": config.run_id,
        "ingested_at": config.ingested_at.isoformat(),
        "inputs": list(config.inputs),
        "model": config.model,
        "models": dict(config.models),
        "elapsed_seconds": round(time.monotonic() - started, 3),
        "status": str(report.Status.FAILED),
        "exit_code": int(report.ExitCode.FAILED),
        "error": cause,
    }
    with contextlib.suppress(Exception):
        store.write_run_record(config.output_dir, config.run_id, record)


def _installed_default_model(explicit: dict[str, str]) -> str | None:
    """The default English model; None when it is missing but other languages have one."""
    from transforms.lib import nlp

    try:
        return nlp.default_model()
    except nlp.ModelError:
        if explicit:
            return None
        raise


def _read_aliases(path: str | None) -> dict:
    """The ``--aliases`` file's aliases, or a ``UsageError`` saying what is wrong with it."""
    if path is None:
        return {}
    from transforms.lib.entities import AliasFileError, read_aliases

    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return read_aliases(handle, source=path)
    except (OSError, UnicodeDecodeError, AliasFileError) as exc:
        raise UsageError(f"--aliases: {exc}") from None


def _progress_shown(args: argparse.Namespace, config, *, remote: bool = False):
    """The progress of one run, shown while it goes on (``--quiet``: not at all; nor on Dask,
    whose workers' counts never reach this process: ``remote``)."""
    from apache_beam.io.filesystems import FileSystems

    from pipelines import progress

    files = None
    if not config.feeds:  # feeds' entries are not known before they are fetched
        with contextlib.suppress(Exception):
            files = sum(len(m.metadata_list) for m in FileSystems.match(list(config.inputs)))
    quiet = getattr(args, "quiet", False) or remote
    return progress.shown(config.run_id, files=files, quiet=quiet)


def _absolute(path: str) -> str:
    """A local path made absolute: workers of a remote runner run in other folders.

    A path with a scheme (gs://, s3://, hdfs://, ...) is returned unchanged.
    """
    from apache_beam.io.filesystems import FileSystems

    return path if FileSystems.get_scheme(path) else os.path.abspath(path)


def _discard_staging(output_dir: str, run_id: str) -> None:
    """Ends a failed run cleanly: its commit finished if it had begun, else its staging removed."""
    from transforms import store

    with contextlib.suppress(Exception):  # the disk may be the very thing that failed
        store.abort(output_dir, run_id)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("newsbeam")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _folders_as_globs(patterns: list[str]) -> list[str]:
    """``--input seeds/`` means the files in ``seeds``: a local folder becomes ``seeds/*``.

    Only the files directly inside are read, not those of its subfolders.
    """
    return [
        os.path.join(glob.escape(pattern.rstrip(os.sep) or os.sep), "*")
        if os.path.isdir(pattern)
        else pattern
        for pattern in patterns
    ]


def _check_labels(session: "Session") -> None:
    """Raises ``OptionError`` for ``--labels`` the model never writes (case does not matter).

    Only labels the user chose are checked: the default list names every kind
    newsbeam keeps, and a model may write fewer (or, without NER, none).
    """
    from pipelines import options
    from transforms.lib import nlp

    if session.args.labels == options.DEFAULT_LABELS_OPTION:
        return
    english = session.models.get("en")
    known = nlp.entity_labels(nlp.load_model(english)) if english else None
    options.labels_from(session.args.labels, known)


def _check_inputs(patterns: list[str], output_dir: str) -> None:
    """Fails when a pattern matches no file; warns when it matches files in the output."""
    from pipelines.watch import output_files_line
    from transforms.read import match_inputs

    for pattern in patterns:
        try:
            matched, left_out = match_inputs(pattern, exclude=output_dir)
        except Exception as exc:  # Beam raises BeamIOError, ValueError, ... per filesystem
            raise UsageError(f"--input {pattern!r}: {exc}") from None
        if left_out:
            logging.warning(output_files_line(pattern, len(left_out), output_dir))
        if not matched:
            elsewhere = " outside the output folder" if left_out else ""
            raise UsageError(f"--input {pattern!r} matches no file{elsewhere}")


def _check_output(output_dir: str) -> None:
    from transforms import store

    try:
        store.check_writable(output_dir)
    except Exception as exc:
        raise UsageError(f"--output {output_dir!r} is not writable: {exc}") from None


def _release(result, *, cancel: bool = False) -> None:
    """Lets go of a runner's client (Dask's), cancelling first what it still runs of a failed
    run; nothing for runners without one."""
    if result is not None and cancel:
        with contextlib.suppress(Exception):  # most runners cannot cancel a finished run
            result.cancel()
    client = getattr(result, "client", None)
    if client is not None:
        with contextlib.suppress(Exception):
            client.close()


if __name__ == "__main__":
    sys.exit(main())
