"""The ``newsbeam`` command: ``ingest``, ``watch``, ``query`` and ``stats``.

Every check that can fail fast (inputs, output folder, model, options) runs
before the pipeline starts, and fails with one ``newsbeam: error:`` line and
exit status 2 (the usage text only with ``--help``). Ctrl-C stops with one
line and exit status 130; a second Ctrl-C stops at once.
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

USAGE_ERROR = 2
INTERRUPTED = 130  # 128 + SIGINT, what shells report for a command stopped by Ctrl-C
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
        super().__init__(
            f"run {run_id} failed: {cause}; nothing of it was committed to {output_dir}"
        )
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
    """Runs one command; returns its exit status (0, 1 for a failed run, 2, or 130)."""
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
    if args.command not in ("ingest", "watch") and beam_args:
        parser.error(_unknown_message(parser, args.command, beam_args))
    if args.command in ("ingest", "watch"):
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
        try:
            return ingest(args, beam_args) if args.command == "ingest" else watch(args, beam_args)
        except (UsageError, OptionError, ModelError) as exc:
            print(f"newsbeam: error: {exc}", file=sys.stderr)
            return USAGE_ERROR
        except RunFailed as exc:
            print(f"newsbeam: error: {exc}", file=sys.stderr)
            return 1
    import duckdb  # query and stats need DuckDB, not Beam

    from pipelines import query

    try:
        query.check_output_folder(args.output)
    except query.NotAnOutputError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    try:
        if args.command == "query":
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
        return 1
    return 0


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
        "1 a run failed, 2 a usage error (nothing ran), 130 interrupted.",
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
    for writer in (ingest_parser, watch_parser):
        writer.add_argument(
            "--wait",
            action="store_true",
            help="if another newsbeam is writing to the output, wait for it to finish "
            "(default: fail at once, naming it)",
        )
    watch_parser.add_argument("--interval", default="5m", help="time between polls (30s, 5m, 1h)")
    watch_parser.add_argument(
        "--max-polls",
        type=options.positive_int,
        default=None,
        help="stop after this many polls, at least 1 (default: never)",
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
    parser.command_options = {  # for "did you mean ...?"
        name: [o for action in command._actions for o in action.option_strings]
        for name, command in commands.choices.items()
    }
    return parser


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
    return 0


def run_ingest(args: argparse.Namespace, beam_args: list[str]) -> dict:
    """One checked, committed ingest run; returns its run record (``newsbeam.ingest`` too)."""
    started = time.monotonic()
    _check_sources(args)
    args.inputs = _folders_as_globs(args.inputs)
    _check_inputs(args.inputs, args.output)
    with Session.start(args, beam_args) as session:  # holds the output's lock to the end
        _check_labels(session)
        return session.run(session.config(args.inputs), started=started)


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
                session, interval=interval, max_polls=args.max_polls, settle=args.settle
            )
        except store.UnreadableFileError as exc:
            raise UsageError(f"the watch state {exc}") from None


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

    @classmethod
    def start(cls, args: argparse.Namespace, beam_args: list[str]) -> "Session":
        """Checks options and output, takes the output's lock, checks the model and finishes
        interrupted commits, or raises (holding nothing)."""
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
                from transforms.enrich import load_model_ahead

                explicit = nlp.parse_models(args.models)
                models = (
                    explicit
                    if "en" in explicit
                    else nlp.parse_models(args.models, default=_installed_default_model(explicit))
                )
                for name in models.values():
                    load_model_ahead(name)  # fail now, not in every worker; workers take it
                aliases = _read_aliases(args.aliases)
            finished = store.recover(args.output)
        except BaseException:
            held.close()
            raise
        if finished:
            logging.warning("finished the commit of interrupted run(s) %s", ", ".join(finished))
        return cls(args, beam_args, pipeline_options, models, aliases, feeds, policy, held)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *_exc) -> None:
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
            urls=_page_urls(self.args.urls),
            sitemaps=list(dict.fromkeys(self.args.sitemaps)),
            input_shards=options.input_shards(self.beam_args),
        )

    def run(self, config, *, started: float) -> dict:
        """Runs one pipeline to its commit; returns the run record also written to ``_runs/``."""
        import apache_beam as beam

        from pipelines import options
        from pipelines.graph import build_pipeline
        from transforms import store

        runner = options.pipeline_runner(self.beam_args, self.pipeline_options)
        pipeline = beam.Pipeline(runner=runner, options=self.pipeline_options)
        build_pipeline(pipeline, config)
        pipeline_started = time.monotonic()
        result = None
        try:
            with _progress_shown(self.args, config, remote=options.is_dask(self.beam_args)):
                result = pipeline.run()
                state = result.wait_until_finish()
        except Exception as exc:
            _release(result, cancel=True)
            _discard_staging(config.output_dir, config.run_id)  # still holding the lock
            raise RunFailed(config.output_dir, config.run_id, _root_cause(exc)) from exc
        _release(result)
        if state is not None and str(state).rsplit(".", 1)[-1] not in ("DONE", "UNKNOWN"):
            _discard_staging(config.output_dir, config.run_id)
            raise RunFailed(config.output_dir, config.run_id, f"the runner ended in state {state}")
        pipeline_seconds = time.monotonic() - pipeline_started
        # The counts travelled with the data to the commit, which recorded them.
        counters = store.commit_counts(config.output_dir, config.run_id)
        if counters is None:
            _discard_staging(config.output_dir, config.run_id)
            raise RunFailed(
                config.output_dir, config.run_id, "the runner finished without running the commit"
            )
        counts = report.stage_counts(counters)
        counts["files"] = counts["read"]["files"]  # where run records have always had it
        record = {
            "run_id": config.run_id,
            "ingested_at": config.ingested_at.isoformat(),
            "inputs": list(config.inputs),
            "model": config.model,
            "models": dict(config.models),
            "elapsed_seconds": round(time.monotonic() - started, 3),
            "pipeline_seconds": round(pipeline_seconds, 3),
            "stages": counts,
            "balance": report.balance(counts),
        }
        store.write_run_record(config.output_dir, config.run_id, record)
        return record


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
