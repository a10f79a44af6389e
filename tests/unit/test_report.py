"""Run accounting: per-stage counts and the balance check (no pipeline)."""

from pipelines import report
from transforms.lib import counters

CLEAN = {
    "read.files": 3,
    "read.records": 9,
    "read.errors": 2,
    "normalize.articles": 8,
    "normalize.errors": 1,
    "normalize.warnings": 1,
    "dedupe.unique": 5,
    "dedupe.duplicates": 2,
    "dedupe.already_in_output": 1,
    "enrich.articles": 4,
    "enrich.errors": 1,
    "write.articles.rows": 4,
    "write.files": 7,
}


def test_balanced_run():
    counts = report.stage_counts(CLEAN)
    totals = report.balance(counts)
    assert totals == {"read": 11, "written": 4, "duplicates": 3, "errors": 4, "ok": True}
    text = report.summary(counts, run_id="r", output_dir="out", elapsed=1.0)
    assert "WARNING" not in text
    assert "duplicates dropped    3 (1 already in the output)" in text
    assert "(+1 warnings)" in text


def test_unbalanced_run_warns():
    counts = report.stage_counts({**CLEAN, "write.articles.rows": 3})
    assert not report.balance(counts)["ok"]
    assert "do not balance" in report.summary(counts, run_id="r", output_dir="out", elapsed=1.0)


def _counts(*, written=0, duplicates=0, errors=0, not_modified=0, seen_before=0):
    return report.stage_counts(
        {
            "read.records": written + duplicates,
            "read.errors": errors,
            "write.articles.rows": written,
            "dedupe.already_in_output": duplicates,
            "feeds.not_modified": not_modified,
            "feeds.entries_seen_before": seen_before,
        }
    )


def test_status_and_exit_code_of_each_kind_of_run():
    cases = [
        # counts -> status, exit code, exit code with --fail-on-errors
        (_counts(written=5), "ok", 0, 0),
        (_counts(), "ok", 0, 0),  # nothing new: an empty file, feeds not modified
        (_counts(duplicates=3), "ok", 0, 0),  # a rerun: everything already in the output
        (_counts(written=3, errors=2), "partial", 0, 3),
        (_counts(duplicates=3, errors=2), "partial", 0, 3),  # the good ones were there already
        (_counts(errors=2, not_modified=1), "partial", 0, 3),  # one feed down, one unchanged
        (_counts(errors=1, seen_before=4), "partial", 0, 3),  # a broken entry in a good feed
        (_counts(errors=2), "nothing_ingested", 4, 4),  # every file bad, every feed failing
    ]
    for counts, status, code, strict_code in cases:
        found = report.run_status(counts)
        assert found == status, counts
        assert report.exit_code(found) == code, counts
        assert report.exit_code(found, fail_on_errors=True) == strict_code, counts
    assert report.exit_code("failed") == report.ExitCode.FAILED == 1


def test_exit_codes_are_distinct_and_keep_the_usual_ones():
    codes = {code.name: int(code) for code in report.ExitCode}
    assert len(set(codes.values())) == len(codes)
    assert (codes["OK"], codes["FAILED"], codes["USAGE"], codes["INTERRUPTED"]) == (0, 1, 2, 130)
    assert {str(status) for status in report.Status} == {
        "ok",
        "partial",
        "nothing_ingested",
        "failed",
    }


def test_a_run_that_ingested_nothing_says_so_in_its_summary():
    counts = report.stage_counts({"read.files": 2, "read.records": 0, "read.errors": 2})
    text = report.summary(counts, run_id="r", output_dir="out", elapsed=1.0)
    assert text.splitlines()[-1].startswith("newsbeam: WARNING: nothing could be ingested")
    clean = report.summary(report.stage_counts(CLEAN), run_id="r", output_dir="o", elapsed=1.0)
    assert "nothing could be ingested" not in clean


def test_count_records_add_up_and_the_files_written_give_the_write_counts():
    records = [("read.records", 4), ("dedupe.unique", 1), ("read.records", 5), ("read.errors", 0)]
    assert counters.add_up(records) == {"read.records": 9, "dedupe.unique": 1, "read.errors": 0}
    files = [
        {"table": "articles", "rows": 3},
        {"table": "articles", "rows": 2},
        {"table": "entities", "rows": 40},
    ]
    written = counters.written(files)
    assert written["write.articles.rows"] == 5 and written["write.entities.rows"] == 40
    assert written["write.quotes.rows"] == 0 and written["write.files"] == 3
    counts = report.stage_counts({**counters.add_up(records), **written})
    assert counts["write"]["articles"] == 5 and counts["read"]["in"] == 9
