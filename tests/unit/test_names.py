"""Shared names: error types and stages (and README.md's list of them), counter names."""

import re

import pytest

from pipelines import report
from tests.helpers import NOW, REPO
from transforms.lib import counters
from transforms.lib.records import (
    HTTP_PREFIX,
    UNEXPECTED_PREFIX,
    ErrorType,
    Rejected,
    Stage,
    crash_row,
    reject_row,
)

_AT = {"stage": Stage.READ, "origin": "x", "ingested_at": NOW}


@pytest.mark.parametrize("error_type", ["nope", "too_large"])
def test_rejected_takes_only_an_error_type(error_type):
    with pytest.raises(TypeError, match="ErrorType"):
        Rejected(error_type, "m")


def test_an_http_status_goes_with_http_status_only():
    reject = Rejected(ErrorType.HTTP_STATUS, "m", status=404)
    assert (reject.kind, reject.status, reject.error_type) == (
        ErrorType.HTTP_STATUS,
        404,
        "http_404",
    )
    with pytest.raises(ValueError):
        Rejected(ErrorType.HTTP_STATUS, "m")
    with pytest.raises(ValueError):
        Rejected(ErrorType.DNS, "m", status=500)


def test_unexpected_is_written_by_crash_row_only():
    with pytest.raises(ValueError):
        Rejected(ErrorType.UNEXPECTED, "m")
    assert crash_row(KeyError("k"), **_AT)["error_type"] == "unexpected:KeyError"
    assert f"{UNEXPECTED_PREFIX}<Exception>" == ErrorType.UNEXPECTED
    assert f"{HTTP_PREFIX}<status>" == ErrorType.HTTP_STATUS


def test_error_rows_hold_plain_strings():
    row = reject_row(Rejected(ErrorType.TOO_LARGE, "m"), **_AT)
    assert (row["stage"], row["error_type"]) == ("read", "too_large")
    assert type(row["stage"]) is str and type(row["error_type"]) is str


@pytest.mark.parametrize("member", list(ErrorType), ids=str)
def test_every_error_type_says_what_it_means_and_where(member):
    assert member.description and "\n" not in member.description
    assert member.stages and set(member.stages) <= set(Stage)
    assert re.fullmatch(r"[a-z_]+(:?<[A-Za-z]+>)?", member.value)


def test_every_error_type_is_written_somewhere():
    """No member the code never raises (crash_row writes UNEXPECTED)."""
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("transforms", "pipelines")
        for path in (REPO / folder).rglob("*.py")
    )
    assert [m.name for m in ErrorType if f"ErrorType.{m.name}" not in source] == []


# ---------------------------------------------------------------- README.md


def _readme_errors_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("**`errors` columns:**")
    end = text.find("\n#", start)
    return text[start : end if end > 0 else None]


def test_readme_lists_the_stages():
    [line] = [ln for ln in _readme_errors_section().splitlines() if ln.startswith("- `stage`")]
    assert re.findall(r"`([a-z]+)`", line.split(":", 1)[1]) == [str(stage) for stage in Stage]


def test_readme_lists_the_error_types_of_each_stage():
    rows = re.findall(r"^\| `([a-z]+)` \| (.*) \|$", _readme_errors_section(), re.MULTILINE)
    listed = {stage: re.findall(r"`([^`]+)`", tags) for stage, tags in rows}
    expected = {str(s): [m.value for m in ErrorType if s in m.stages] for s in Stage}
    assert listed == expected


def test_readme_says_what_every_error_type_means():
    described = dict(re.findall(r"^- `([^`]+)`: (.*)$", _readme_errors_section(), re.MULTILINE))
    assert described == {m.value: f"{m.description}." for m in ErrorType}


# ---------------------------------------------------------------- counters


@pytest.mark.parametrize("name", counters.all_names())
def test_the_run_report_reads_every_counter(name):
    assert report.stage_counts({name: 7919}) != report.stage_counts({})


def test_counters_are_counted_by_name_only():
    """Every ``Metrics.counter`` call names its counter with a constant of ``lib/counters``."""
    calls = [
        (path.name, call)
        for path in (REPO / "transforms").rglob("*.py")
        for call in re.findall(r"Metrics\.counter\(([^)]*)\)", path.read_text(encoding="utf-8"))
    ]
    assert calls and all(call.startswith("counters.NAMESPACE, ") for _, call in calls), calls
    assert all('"' not in call for _, call in calls), calls
