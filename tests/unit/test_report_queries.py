"""The report's queries (pipelines.report_queries) on the hand-built output of
``tests.report_outputs.write_fixture``, whose docstring says what it holds and what the
tests here count from it by hand.
"""

import datetime as dt
import json

import pyarrow as pa
import pytest

from pipelines import query
from pipelines import report_queries as q
from schemas import ARTICLES, ENTITIES, ENTITY_RESOLUTION, ERRORS, QUOTES
from tests.report_outputs import (
    HOSTILE_QUOTE,
    HOSTILE_TITLE,
    article,
    entity,
    quote,
    write,
    write_fixture,
)
from transforms import store


@pytest.fixture
def output(tmp_path):
    return write_fixture(tmp_path / "out")


def scoped(output, scope=q.EVERYTHING):
    connection = query.connect(str(output))
    q.open_scope(connection, scope)
    return connection


def test_overview_counts_the_scope(output):
    assert q.overview(scoped(output)) == {
        "articles": 5,
        "first_day": "2025-03-01",
        "last_day": "2025-03-09",
        "days": 3,
        "sources": 3,
        "languages": 2,
        "mentions": 12,
        "people": 3,  # Quill is Ada Quill
        "organisations": 1,
        "quotes": 5,  # the partial quote inside a reported clause is not a speech event
        "errors": 3,
        "first_error_day": "2025-03-01",
        "last_error_day": "2025-03-05",
    }


def test_since_until_and_source_narrow_everything_but_errors_follow_dates_only(output):
    later = q.overview(scoped(output, q.Scope(since=dt.date(2025, 3, 2))))
    assert (later["articles"], later["mentions"], later["quotes"], later["errors"]) == (3, 5, 2, 1)
    window = q.overview(scoped(output, q.Scope(until=dt.date(2025, 3, 2))))
    assert (window["articles"], window["last_day"], window["errors"]) == (4, "2025-03-02", 2)
    wire = q.overview(scoped(output, q.Scope(source="Wire")))
    assert (wire["articles"], wire["mentions"], wire["quotes"], wire["people"]) == (2, 7, 3, 2)
    assert wire["errors"] == 3  # errors belong to no source


def test_volume_by_source_names_the_top_sources_and_groups_the_rest(output):
    connection = scoped(output)
    assert q.volume_by_source(connection, "day", top=2) == [
        {"period": "2025-03-01", "source": "Wire", "articles": 2},
        {"period": "2025-03-02", "source": "Daily", "articles": 2},
        {"period": "2025-03-09", "source": None, "articles": 1},  # "(no source)", grouped
    ]
    assert q.ranked_values(connection, "source", top=2) == (
        [{"value": "Daily", "articles": 2}, {"value": "Wire", "articles": 2}],
        1,
        1,
    )
    assert q.ranked_values(connection, "language", top=5) == (
        [{"value": "en", "articles": 4}, {"value": "de", "articles": 1}],
        0,
        0,
    )
    weekly = q.volume_by_source(connection, "week", top=5)
    assert [(r["period"], r["articles"]) for r in weekly if r["source"] == "Daily"] == [
        ("2025-02-24", 2)  # 2025-03-02 is a Sunday: its ISO week began on Monday 24 February
    ]


def test_top_entities_count_resolved_identities(output):
    connection = scoped(output)
    assert q.top_entities(connection, q.PERSON) == [
        {"resolved_id": "P2", "name": "Ben Ode", "articles": 3, "mentions": 4},
        {"resolved_id": "P1", "name": "Ada Quill", "articles": 2, "mentions": 4},
        {"resolved_id": "P3", "name": "Cy Ray", "articles": 1, "mentions": 1},
    ]
    assert q.top_entities(connection, q.ORG) == [
        {"resolved_id": "O1", "name": "Harbour Ltd", "articles": 2, "mentions": 2}
    ]
    assert [r["resolved_id"] for r in q.top_entities(connection, q.PERSON, top=1)] == ["P2"]


def test_one_ranking_cut_shorter_is_the_ranking_made_shorter(tmp_path):
    # Bob is in two articles; Amy (twice: two identities) and Zed in one each, one
    # mention apiece: the ids break the tie of who is ranked, the names the tie of order.
    write(
        tmp_path, "articles", ARTICLES, "2025-03-01", [article(f"a{i}", "Wire") for i in (1, 2, 3)]
    )
    mentions = [("a1", "Z1", "Zed"), ("a2", "A9", "Amy"), ("a3", "A1", "Amy")]
    mentions += [("a1", "B1", "Bob"), ("a2", "B1", "Bob"), ("a1", "O1", "Org")]
    rows = [entity(a, i, name, "ORG" if i == "O1" else "PERSON") for a, i, name in mentions]
    write(tmp_path, "entities", ENTITIES, "2025-03-01", rows)
    connection = scoped(tmp_path)
    ranked = q.top_identities(connection, (q.PERSON, q.ORG), top=4)
    assert [(r["resolved_id"], r["position"]) for r in ranked[q.PERSON]] == [
        ("B1", 1),
        ("A1", 2),
        ("A9", 3),
        ("Z1", 4),
    ]
    expected = [["B1"], ["B1", "A1"], ["B1", "A1", "A9"], ["B1", "A1", "A9", "Z1"]]
    for top, ids in enumerate(expected, 1):
        alone = q.top_entities(connection, q.PERSON, top=top)
        assert [r["resolved_id"] for r in alone] == ids
        assert q.top_of(ranked[q.PERSON], top) == alone
    assert (
        q.top_of(ranked[q.ORG], 10)
        == q.top_entities(connection, q.ORG)
        == [{"resolved_id": "O1", "name": "Org", "articles": 1, "mentions": 1}]
    )


def test_entity_timeline_and_co_mentions(output):
    connection = scoped(output)
    assert q.entity_timeline(connection, q.PERSON, ["P1", "P2"], "day") == [
        {"period": "2025-03-01", "resolved_id": "P1", "mentions": 4, "articles": 2},
        {"period": "2025-03-01", "resolved_id": "P2", "mentions": 2, "articles": 2},
        {"period": "2025-03-02", "resolved_id": "P2", "mentions": 2, "articles": 1},
    ]
    assert q.co_mentions(connection, ["P1", "P2", "P3"]) == [
        {"a": "P1", "b": "P2", "articles": 2},
        {"a": "P2", "b": "P3", "articles": 1},
    ]
    assert q.co_mentions(connection, ["P1", "P3"]) == []


def test_voices_count_speech_events_by_kind_and_speaker(output):
    connection = scoped(output)
    assert q.voices(connection) == {
        "quotes": 5,
        "direct": 3,
        "indirect": 2,
        "partial": 0,
        "named": 3,
        "unnamed": 1,
        "no_speaker": 1,
        "articles": 3,
    }
    top = q.top_speakers(connection)
    assert [(s["name"], s["quotes"], s["direct"], s["indirect"], s["articles"]) for s in top] == [
        ("Ada Quill", 2, 1, 1, 1),
        ("Ben Ode", 1, 1, 0, 1),
    ]
    assert top[0]["sample"] == "We will build it."  # a direct quote is the sample
    assert top[0]["article_url"] == "https://news.example/a1"
    assert (top[1]["sample"], top[1]["article_title"]) == (HOSTILE_QUOTE, HOSTILE_TITLE)


def test_quality_per_partition_and_days_to_check(output):
    connection = scoped(output)
    assert q.quality(connection, "day") == [
        {
            "period": "2025-03-01",
            "articles": 2,
            "undated": 0,
            "without_entities": 0,
            "not_enriched": 0,
            "headline_only": 0,
        },
        {
            "period": "2025-03-02",
            "articles": 2,
            "undated": 1,
            "without_entities": 1,
            "not_enriched": 1,
            "headline_only": 1,
        },
        {
            "period": "2025-03-09",
            "articles": 1,
            "undated": 0,
            "without_entities": 1,
            "not_enriched": 0,
            "headline_only": 0,
        },
    ]
    # 3 of 5 articles have a problem; both days above that share, the larger first.
    assert [(d["day"], d["with_problems"]) for d in q.days_to_check(connection)] == [
        ("2025-03-02", 2),
        ("2025-03-09", 1),
    ]


def test_errors_by_period_and_type(output):
    connection = scoped(output)
    assert q.errors_by_period(connection, "day") == [
        {"period": "2025-03-01", "stage": "read", "errors": 2},
        {"period": "2025-03-05", "stage": "feed", "errors": 1},
    ]
    types, more = q.error_types(connection, top=1)
    assert types == [
        {
            "stage": "read",
            "error_type": "binary_file",
            "errors": 2,
            "last_day": "2025-03-01",
            "example": "binary",
        }
    ]
    assert more == 1


def test_an_unknown_source_names_the_close_ones(output):
    connection = query.connect(str(output))
    q.check_source(connection, "Wire")
    with pytest.raises(q.UnknownSourceError, match=r"'wire'.*'Wire'"):
        q.check_source(connection, "wire")


def _zeros(connection):
    totals = q.overview(connection)
    assert totals["articles"] == totals["mentions"] == totals["quotes"] == totals["errors"] == 0
    assert totals["first_day"] is None
    unit = q.choose_period(totals["first_day"], totals["last_day"])
    for rows in (
        q.volume_by_source(connection, unit),
        q.top_entities(connection, q.PERSON),
        q.entity_timeline(connection, q.PERSON, [], unit),
        q.co_mentions(connection, []),
        q.top_speakers(connection),
        q.quality(connection, unit),
        q.days_to_check(connection),
        q.errors_by_period(connection, unit),
    ):
        assert rows == []
    assert q.voices(connection)["quotes"] == 0
    assert q.error_types(connection) == ([], 0)
    assert q.ranked_values(connection, "source", top=3) == ([], 0, 0)


def test_an_output_with_no_files_gives_zeros(tmp_path):
    _zeros(scoped(tmp_path))


def test_tables_of_zero_rows_give_zeros(tmp_path):
    for table, schema in (
        ("articles", ARTICLES),
        ("entities", ENTITIES),
        ("quotes", QUOTES),
        ("errors", ERRORS),
        ("entity_resolution", ENTITY_RESOLUTION),
    ):
        write(tmp_path, table, schema, "2025-03-01", [])
    _zeros(scoped(tmp_path))


def test_an_output_of_schema_1_reads_with_enrichment_unknown(tmp_path):
    old = pa.schema([f for f in ARTICLES if f.name not in ("nlp_model", "canonical_url")])
    rows = [{k: v for k, v in article("a1", "Wire").items() if k in old.names}]
    write(tmp_path, "articles", old, "2025-03-01", rows)
    old_quotes = pa.schema([f for f in QUOTES if f.name not in ("parent_quote_id", "speaker_rule")])
    text = "We will build it."
    row = quote("a1", "q1", "direct", "Ada Quill", None, text)
    write(tmp_path, "quotes", old_quotes, "2025-03-01", [{k: row[k] for k in old_quotes.names}])
    connection = scoped(tmp_path)
    assert q.quality(connection, "day")[0]["not_enriched"] == 0  # unknown is not "not enriched"
    assert q.voices(connection)["quotes"] == 1


def test_the_headline_only_marker_is_the_normaliser_s():
    from transforms.lib.normalize import FEED_TITLE

    assert q.HEADLINE_ONLY == FEED_TITLE


@pytest.mark.parametrize(
    ("first", "last", "unit"),
    [
        (None, None, "day"),
        ("2025-03-01", "2025-03-01", "day"),
        ("2025-01-01", "2025-04-30", "day"),  # 120 days
        ("2025-01-01", "2025-05-01", "week"),
        ("2020-01-01", "2025-12-31", "month"),
        ("1990-01-01", "2025-12-31", "year"),
    ],
)
def test_choose_period_keeps_charts_to_the_cap(first, last, unit):
    assert q.choose_period(first, last, limit=120) == unit
    if first:
        start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        periods, at = 0, q.period_start(start, unit)
        while at <= end:
            periods, at = periods + 1, q.next_period(at, unit)
        assert periods <= 120


def test_periods_start_on_their_first_day():
    sunday = dt.date(2025, 3, 2)
    assert q.period_start(sunday, "week") == dt.date(2025, 2, 24)  # ISO weeks: Monday
    assert q.period_start(sunday, "month") == dt.date(2025, 3, 1)
    assert q.period_start(sunday, "year") == dt.date(2025, 1, 1)
    assert q.next_period(dt.date(2025, 1, 1), "month") == dt.date(2025, 2, 1)
    assert q.next_period(dt.date(2024, 12, 1), "month") == dt.date(2025, 1, 1)
    assert q.next_period(dt.date(2025, 2, 24), "week") == dt.date(2025, 3, 3)
    assert q.next_period(dt.date(2024, 1, 1), "year") == dt.date(2025, 1, 1)


def test_run_history_reads_what_each_record_has(tmp_path):
    runs = tmp_path / store.RUNS
    runs.mkdir()
    full = {
        "run_id": "20250301T000000Z-a",
        "ingested_at": "2025-03-01T00:00:00+00:00",
        "elapsed_seconds": 2.5,
        "balance": {"read": 5, "written": 3, "duplicates": 1, "errors": 1, "ok": True},
    }
    (runs / "20250301T000000Z-a.json").write_text(json.dumps(full))
    (runs / "20250302T000000Z-b.json").write_text(json.dumps({"run_id": "20250302T000000Z-b"}))
    (runs / "20250303T000000Z-c.json").write_text("{not json")
    (runs / "20250304T000000Z-d.json").write_text("[1, 2]")
    records, unreadable = store.read_run_records(str(tmp_path))
    assert [r["run_id"] for r in records] == ["20250301T000000Z-a", "20250302T000000Z-b"]
    assert [p.rsplit("/", 1)[-1] for p in unreadable] == [
        "20250303T000000Z-c.json",
        "20250304T000000Z-d.json",
    ]
    assert q.run_history(records) == [
        {
            "run_id": "20250301T000000Z-a",
            "started": "2025-03-01 00:00:00",
            "added": 3,
            "duplicates": 1,
            "errors": 1,
            "seconds": 2.5,
            "balanced": True,
        },
        {
            "run_id": "20250302T000000Z-b",
            "started": None,
            "added": None,
            "duplicates": None,
            "errors": None,
            "seconds": None,
            "balanced": None,
        },
    ]
    assert store.read_run_records(str(tmp_path / "nowhere")) == ([], [])
