"""The run's accounting: per-stage counts, the balance check and the summary.

Pure functions over the run's counter totals, so the arithmetic is tested
without a pipeline. The totals are the count records that travelled with the
data, added up by the commit step into ``_commits/<run_id>.json``
(``transforms.commit``), so they are exact on every runner.
``transforms.store`` writes the run's record to ``DIR/_runs/<run_id>.json``.
"""

from transforms.lib import counters as names

STAGES = ("read", "normalize", "dedupe", "enrich", "write")
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
        "resolve": {
            "rows": c(names.RESOLVE_ROWS),
            "resolved": c(names.RESOLVE_RESOLVED),
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
        f"  errors                {totals['errors']}" + _warnings(counts),
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
    if not totals["ok"]:
        lines.append(
            "newsbeam: WARNING: the counts do not balance: read "
            f"{totals['read']} != written {totals['written']} + duplicates "
            f"{totals['duplicates']} + errors {totals['errors']}; see _runs/{run_id}.json"
        )
    return "\n".join(lines)


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
