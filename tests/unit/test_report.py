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
