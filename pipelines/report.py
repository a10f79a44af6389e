"""The run's accounting: per-stage counts, the balance check, the summary and ``_runs/`` file.

Pure functions over the run's counters (``newsbeam`` namespace), so the
arithmetic is tested without a pipeline.
"""

import json

STAGES = ("read", "normalize", "dedupe", "enrich", "write")


def stage_counts(counters: dict[str, int]) -> dict[str, dict[str, int]]:
    """Records in, out, duplicates and errors for each stage."""
    c = counters.get
    read_in = c("read.records", 0) + c("read.errors", 0)
    deduped = c("dedupe.duplicates", 0) + c("dedupe.already_in_output", 0)
    return {
        "read": {"in": read_in, "out": c("read.records", 0), "errors": c("read.errors", 0)},
        "normalize": {
            "in": c("read.records", 0),
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
            "in": c("enrich.articles", 0) + c("enrich.errors", 0),
            "out": c("enrich.articles", 0),
            "errors": c("enrich.errors", 0),
            "entities": c("enrich.entities", 0),
            "quotes": c("enrich.quotes", 0),
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
        f"  articles written      {totals['written']}",
        f"  duplicates dropped    {totals['duplicates']}"
        + (
            f" ({counts['dedupe']['already_in_output']} already in the output)"
            if counts["dedupe"]["already_in_output"]
            else ""
        ),
        f"  errors                {totals['errors']}"
        + (
            f" (+{counts['normalize']['warnings']} warnings)"
            if counts["normalize"]["warnings"]
            else ""
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


def write_run_file(output_dir: str, run_id: str, record: dict) -> str:
    """Writes ``DIR/_runs/<run_id>.json`` atomically; returns its path."""
    from apache_beam.io.filesystems import FileSystems

    path = FileSystems.join(output_dir, "_runs", f"{run_id}.json")
    with FileSystems.create(path + ".part") as handle:
        handle.write(json.dumps(record, indent=2, default=str).encode("utf-8"))
    FileSystems.rename([path + ".part"], [path])
    return path
