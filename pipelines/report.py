"""The run's accounting: per-stage counts, the balance check and the summary.

Pure functions over the run's counter totals, so the arithmetic is tested
without a pipeline. The totals are the count records that travelled with the
data, added up by the commit step into ``_commits/<run_id>.json``
(``transforms.commit``), so they are exact on every runner.
``transforms.store`` writes the run's record to ``DIR/_runs/<run_id>.json``.
"""

import enum

from transforms.lib import counters as names

STAGES = ("read", "normalize", "dedupe", "enrich", "write")


class ExitCode(enum.IntEnum):
    """What ``newsbeam`` exits with, for schedulers and alerts."""

    OK = 0  # committed; no input failed (or some did, without --fail-on-errors)
    FAILED = 1  # the run failed as a whole: nothing of it was committed
    USAGE = 2  # a mistake found before anything ran
    SOME_INPUTS_FAILED = 3  # committed, some inputs failed, and --fail-on-errors was given
    NOTHING_INGESTED = 4  # committed, but every input failed: nothing could be ingested
    INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT, what shells report


class Status(enum.StrEnum):
    """How a committed run went, from its counts (stored in ``_runs/<run_id>.json``)."""

    OK = "ok"  # no input failed (a run with nothing new is ok too)
    PARTIAL = "partial"  # some inputs failed, others were ingested or already there
    NOTHING_INGESTED = "nothing_ingested"  # every input failed
    FAILED = "failed"  # the run failed as a whole


def run_status(counts: dict) -> Status:
    """A run's status from its ``stage_counts``: ``nothing_ingested`` when inputs failed and
    none worked, ``partial`` when some failed and some worked, else ``ok``.

    An input that worked is one that gave an article written or already in the
    output (a duplicate), or a feed that answered "not modified" or listed only
    entries ingested before, or an input file skipped as unchanged since a
    run that ingested it: a rerun over unchanged inputs is ``ok``, and a
    feed with one broken entry is not a run that ingested nothing. Warnings
    (a dropped date, a page that kept the feed's text) are no failures: the
    article was written.
    """
    totals = balance(counts)
    if not totals["errors"]:
        return Status.OK
    feeds = counts.get("feeds", {})
    worked = (
        totals["written"]
        + totals["duplicates"]
        + feeds.get("not_modified", 0)
        + feeds.get("entries_seen_before", 0)
        + counts.get("read", {}).get("unchanged_files", 0)
    )
    return Status.PARTIAL if worked else Status.NOTHING_INGESTED


def exit_code(status: str, *, fail_on_errors: bool = False) -> ExitCode:
    """The exit code for a run of ``status``; a partial run fails only with ``fail_on_errors``."""
    if status == Status.PARTIAL:
        return ExitCode.SOME_INPUTS_FAILED if fail_on_errors else ExitCode.OK
    return {
        Status.OK: ExitCode.OK,
        Status.NOTHING_INGESTED: ExitCode.NOTHING_INGESTED,
        Status.FAILED: ExitCode.FAILED,
    }[Status(status)]


_NOT_ENRICHED = names.ENRICH_NOT_ENRICHED_PREFIX


def stage_counts(counters: dict[str, int]) -> dict[str, dict[str, int]]:
    """Records in, out, duplicates and errors for each stage (from every counter newsbeam emits)."""

    def c(name: str) -> int:
        return counters.get(name, 0)

    # Feed entries are input records like the records of files; a feed that fails whole
    # (DNS, timeout, malformed) counts as one record in error.
    read_out = c(names.READ_RECORDS) + c(names.FEEDS_RECORDS) + c(names.PAGES_RECORDS)
    read_errors = c(names.READ_ERRORS) + c(names.FEEDS_ERRORS) + c(names.PAGES_ERRORS)
    deduped = c(names.DEDUPE_DUPLICATES) + c(names.DEDUPE_ALREADY_IN_OUTPUT)
    not_enriched = {
        name.removeprefix(_NOT_ENRICHED): count
        for name, count in sorted(counters.items())
        if name.startswith(_NOT_ENRICHED) and count
    }
    return {
        "read": {
            "in": read_out + read_errors,
            "out": read_out,
            "errors": read_errors,
            "files": c(names.READ_FILES),
            "repaired_characters": c(names.READ_REPAIRED_CHARACTERS),
        },
        "feeds": {
            "polled": c(names.FEEDS_READ),
            "not_modified": c(names.FEEDS_NOT_MODIFIED),
            "entries": c(names.FEEDS_RECORDS),
            "entries_seen_before": c(names.FEEDS_ENTRIES_SEEN_BEFORE),
            "errors": c(names.FEEDS_ERRORS),
        },
        "pages": {
            "listed": c(names.PAGES_LISTED),
            "sitemaps": c(names.PAGES_SITEMAPS),
            "fetched": c(names.PAGES_RECORDS),
            "errors": c(names.PAGES_ERRORS),
        },
        "fetch": {
            "pages": c(names.FETCH_PAGES),
            "text_replaced": c(names.FETCH_TEXT_REPLACED),
            "warnings": c(names.FETCH_ERRORS),
        },
        "normalize": {
            "in": read_out,
            "out": c(names.NORMALIZE_ARTICLES),
            "errors": c(names.NORMALIZE_ERRORS),
            "warnings": c(names.NORMALIZE_WARNINGS),
        },
        "dedupe": {
            "in": c(names.NORMALIZE_ARTICLES),
            "out": c(names.DEDUPE_UNIQUE),
            "duplicates": deduped,
            "already_in_output": c(names.DEDUPE_ALREADY_IN_OUTPUT),
            # Committed articles files whose ids could not be read: not input records.
            "unreadable_output_files": c(names.DEDUPE_ERRORS),
        },
        "enrich": {
            "in": c(names.ENRICH_ARTICLES) + c(names.ENRICH_ERRORS) + sum(not_enriched.values()),
            "out": c(names.ENRICH_ARTICLES) + sum(not_enriched.values()),
            "errors": c(names.ENRICH_ERRORS),
            "entities": c(names.ENRICH_ENTITIES),
            "quotes": c(names.ENRICH_QUOTES),
            # Articles of a language no model was given for, written without NLP, per language.
            "not_enriched": not_enriched,
        },
        # Errors rows left out of the errors table (the errors were counted where they arose).
        "errors": {
            "seen_before": c(names.ERRORS_SEEN_BEFORE),
            "duplicate_warnings": c(names.ERRORS_DUPLICATE_WARNINGS),
        },
        "resolve": {
            "rows": c(names.RESOLVE_ROWS),
            "resolved": c(names.RESOLVE_RESOLVED),
        },
        "reprocess": {
            "articles": c(names.REPROCESS_ARTICLES),
            "files_replaced": c(names.REPROCESS_FILES_REPLACED),
            "kept_as_they_were": c(names.REPROCESS_KEPT_AS_THEY_WERE),
        },
        "write": {
            **{table: c(names.write_rows(table)) for table in names.WRITTEN_TABLES},
            "files": c(names.WRITE_FILES),
        },
    }


def balance(counts: dict[str, dict[str, int]]) -> dict[str, int | bool]:
    """``read = written + duplicates + errors``, with its terms; ``ok`` says whether it holds."""
    read = counts["read"]["in"]
    written = counts["write"]["articles"]
    duplicates = counts["dedupe"]["duplicates"]
    errors = counts["read"]["errors"] + counts["normalize"]["errors"] + counts["enrich"]["errors"]
    return {
        "read": read,
        "written": written,
        "duplicates": duplicates,
        "errors": errors,
        "ok": read == written + duplicates + errors,
    }


def summary(counts: dict, *, run_id: str, output_dir: str, elapsed: float) -> str:
    """The end-of-run report a person reads."""
    totals = balance(counts)
    lines = [
        f"newsbeam: run {run_id} finished in {elapsed:.1f} s",
        f"  input files read      {counts.get('files', 0)}",
        *(
            [f"  input files skipped   {unchanged} unchanged (--rescan reads them again)"]
            if (unchanged := counts.get("read", {}).get("unchanged_files"))
            else []
        ),
        f"  input records read    {totals['read']}",
        *(
            [
                f"  feeds polled          {counts['feeds']['polled']} "
                f"({counts['feeds']['not_modified']} not modified, "
                f"{counts['feeds']['entries_seen_before']} entries seen before)"
            ]
            if counts.get("feeds", {}).get("polled")
            else []
        ),
        f"  articles written      {totals['written']}",
        f"  duplicates dropped    {totals['duplicates']}"
        + (
            f" ({counts['dedupe']['already_in_output']} already in the output)"
            if counts["dedupe"]["already_in_output"]
            else ""
        ),
        f"  errors                {totals['errors']}" + _warnings(counts) + _not_written(counts),
        *(
            [f"  not enriched          {_not_enriched(counts['enrich']['not_enriched'])}"]
            if counts.get("enrich", {}).get("not_enriched")
            else []
        ),
        f"  entities              {counts['write']['entities']}",
        f"  quotes                {counts['write']['quotes']}",
        f"  files written         {counts['write']['files']}",
        f"  output                {output_dir}",
    ]
    if run_status(counts) == Status.NOTHING_INGESTED:
        lines.append(
            "newsbeam: WARNING: nothing could be ingested: every input failed "
            "(see the errors table)"
        )
    if not totals["ok"]:
        lines.append(
            "newsbeam: WARNING: the counts do not balance: read "
            f"{totals['read']} != written {totals['written']} + duplicates "
            f"{totals['duplicates']} + errors {totals['errors']}; see _runs/{run_id}.json"
        )
    return "\n".join(lines)


def _not_written(counts: dict) -> str:
    """Errors rows left out of the errors table: failures it holds already, and warnings
    about articles dropped as already in the output."""
    left_out = counts.get("errors", {})
    seen, warnings = left_out.get("seen_before", 0), left_out.get("duplicate_warnings", 0)
    parts = [f"{seen} seen before"] if seen else []
    parts += [f"{warnings} about articles already in the output"] if warnings else []
    return f" ({', '.join(parts)}: not written again)" if parts else ""


def _not_enriched(per_language: dict[str, int]) -> str:
    """``language de, 3 articles; language fr, 1 article``."""
    return "; ".join(
        f"language {language}, {count} article{'s' if count != 1 else ''}"
        for language, count in per_language.items()
    )


def _warnings(counts: dict) -> str:
    """Problems an article was kept despite: a dropped date, a page that could not be fetched,
    an output file whose ids could not be checked."""
    warnings = (
        counts["normalize"]["warnings"]
        + counts.get("fetch", {}).get("warnings", 0)
        + counts["dedupe"].get("unreadable_output_files", 0)
    )
    return f" (+{warnings} warnings)" if warnings else ""
