"""The run's accounting: per-stage counts, the balance check, the summary and ``_runs/`` file.

Pure functions over the run's counters (``newsbeam`` namespace), so the
arithmetic is tested without a pipeline.
"""

import json

STAGES = ("read", "normalize", "dedupe", "enrich", "write")
_NOT_ENRICHED = "enrich.not_enriched."


def stage_counts(counters: dict[str, int]) -> dict[str, dict[str, int]]:
    """Records in, out, duplicates and errors for each stage."""
    c = counters.get
    # Feed entries are input records like the records of files; a feed that fails whole
    # (DNS, timeout, malformed) counts as one record in error.
    read_out = c("read.records", 0) + c("feeds.records", 0)
    read_errors = c("read.errors", 0) + c("feeds.errors", 0)
    deduped = c("dedupe.duplicates", 0) + c("dedupe.already_in_output", 0)
    not_enriched = {
        name.removeprefix(_NOT_ENRICHED): count
        for name, count in sorted(counters.items())
        if name.startswith(_NOT_ENRICHED) and count
    }
    return {
        "read": {"in": read_out + read_errors, "out": read_out, "errors": read_errors},
        "feeds": {
            "polled": c("feeds.read", 0),
            "not_modified": c("feeds.not_modified", 0),
            "entries": c("feeds.records", 0),
            "entries_seen_before": c("feeds.entries_seen_before", 0),
            "errors": c("feeds.errors", 0),
        },
        "fetch": {
            "pages": c("fetch.pages", 0),
            "text_replaced": c("fetch.text_replaced", 0),
            "warnings": c("fetch.errors", 0),
        },
        "normalize": {
            "in": read_out,
            "out": c("normalize.articles", 0),
            "errors": c("normalize.errors", 0),
            "warnings": c("normalize.warnings", 0),
        },
        "dedupe": {
            "in": c("normalize.articles", 0),
            "out": c("dedupe.unique", 0),
            "duplicates": deduped,
            "already_in_output": c("dedupe.already_in_output", 0),
        },
        "enrich": {
            "in": c("enrich.articles", 0) + c("enrich.errors", 0) + sum(not_enriched.values()),
            "out": c("enrich.articles", 0) + sum(not_enriched.values()),
            "errors": c("enrich.errors", 0),
            "entities": c("enrich.entities", 0),
            "quotes": c("enrich.quotes", 0),
            # Articles of a language no model was given for, written without NLP, per language.
            "not_enriched": not_enriched,
        },
        "write": {
            "articles": c("write.articles.rows", 0),
            "entities": c("write.entities.rows", 0),
            "quotes": c("write.quotes.rows", 0),
            "errors": c("write.errors.rows", 0),
            "files": c("write.files", 0),
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
    """Problems an article was kept despite: a dropped date, a page that could not be fetched."""
    warnings = counts["normalize"]["warnings"] + counts.get("fetch", {}).get("warnings", 0)
    return f" (+{warnings} warnings)" if warnings else ""


def write_run_file(output_dir: str, run_id: str, record: dict) -> str:
    """Writes ``DIR/_runs/<run_id>.json`` atomically; returns its path."""
    from apache_beam.io.filesystems import FileSystems

    path = FileSystems.join(output_dir, "_runs", f"{run_id}.json")
    with FileSystems.create(path + ".part") as handle:
        handle.write(json.dumps(record, indent=2, default=str).encode("utf-8"))
    FileSystems.rename([path + ".part"], [path])
    return path
