"""Run accounting: per-stage counts and the balance check (no pipeline)."""

from pipelines import report

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
