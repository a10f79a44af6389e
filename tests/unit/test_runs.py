"""``newsbeam runs``: run records to one line each, newest first (no pipeline)."""

import json

from pipelines import report, runs


def _record(run_id, *, read=3, written=2, duplicates=0, errors=1, **extra):
    record = {
        "run_id": run_id,
        "ingested_at": f"2026-11-{run_id[6:8]}T{run_id[9:11]}:00:00.123456+00:00",
        "elapsed_seconds": 2.345,
        "stages": {},
        "balance": {
            "read": read,
            "written": written,
            "duplicates": duplicates,
            "errors": errors,
            "ok": True,
        },
    }
    return record | extra


def _write(output, record, name=None):
    folder = output / "_runs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name or record['run_id']}.json").write_text(json.dumps(record))


def test_runs_are_listed_newest_first_with_their_counts_and_status(tmp_path):
    _write(tmp_path, _record("20261127T090000Z-aaaaaaaa", status="partial", exit_code=3))
    _write(tmp_path, _record("20261128T100000Z-bbbbbbbb", errors=0, status="ok", exit_code=0))
    rows = [runs.run_row(r) for r in runs.read_runs(str(tmp_path))]
    assert rows == [
        ("2026-11-28T10:00:00Z", "20261128T100000Z-bbbbbbbb", 2.345, 3, 2, 0, 0, "ok"),
        ("2026-11-27T09:00:00Z", "20261127T090000Z-aaaaaaaa", 2.345, 3, 2, 0, 1, "partial"),
    ]
    assert [r["run_id"] for r in runs.read_runs(str(tmp_path), limit=1)] == [rows[0][1]]


def test_a_record_without_status_gets_it_from_its_counts(tmp_path):
    """Records written before runs kept a status."""
    stages = report.stage_counts({"read.errors": 3})
    _write(tmp_path, _record("20261128T100000Z-cccccccc", written=0, errors=3, stages=stages))
    [row] = [runs.run_row(r) for r in runs.read_runs(str(tmp_path))]
    assert row[-1] == "nothing_ingested"


def test_failed_and_unreadable_runs_are_listed_not_dropped(tmp_path):
    failed = _record("20261128T100000Z-dddddddd", status="failed", exit_code=1, error="disk")
    del failed["balance"], failed["stages"]
    _write(tmp_path, failed)
    _write(tmp_path, {"run_id": "x"}, name="20261128T110000Z-eeeeeeee")  # no counts, no time
    (tmp_path / "_runs" / "20261128T120000Z-ffffffff.json").write_text("{not json")
    (tmp_path / "_runs" / "20261128T130000Z-99999999.json.1a2b3c4d.part").write_text("{")
    text = runs.runs_report(str(tmp_path))
    lines = text.splitlines()
    assert lines[-1] == "(3 rows)"
    assert lines[2].split() == ["-", "20261128T120000Z-ffffffff", *["-"] * 5, "unreadable"]
    assert lines[3].split() == ["-", "x", *["-"] * 5, "unreadable"]
    assert lines[4].split()[2:] == ["2.3", "-", "-", "-", "-", "failed"]


def test_csv_and_json_carry_the_same_values(tmp_path):
    _write(tmp_path, _record("20261128T100000Z-bbbbbbbb", status="ok", exit_code=0))
    header, line = runs.runs_report(str(tmp_path), output_format="csv").splitlines()
    assert header.split(",") == list(runs.COLUMNS)
    assert line == "2026-11-28T10:00:00Z,20261128T100000Z-bbbbbbbb,2.345,3,2,0,1,ok"
    [row] = map(json.loads, runs.runs_report(str(tmp_path), output_format="json").splitlines())
    assert row == dict(zip(runs.COLUMNS, line.split(","), strict=True)) | {
        "seconds": 2.345,
        "read": 3,
        "written": 2,
        "duplicates": 0,
        "errors": 1,
    }


def test_an_output_without_runs_lists_none(tmp_path):
    assert runs.read_runs(str(tmp_path)) == []
    assert runs.runs_report(str(tmp_path)).splitlines()[-1] == "(0 rows)"
    assert runs.runs_report(str(tmp_path), output_format="json") == ""
