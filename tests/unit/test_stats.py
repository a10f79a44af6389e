"""Tests of pipelines.stats on a small Hive-partitioned output tree written here."""

import re
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.stats import stats_report
from schemas import ARTICLES, ENTITIES, ENTITY_RESOLUTION, QUOTES

KIM = "id-kim-jong-un"
SOO = "id-soo-kim"
US = "id-united-states"


def _entity(article, entity_id, canonical, label="PERSON", text=None):
    return {
        "article_id": article,
        "entity_id": entity_id,
        "text": text or canonical,
        "canonical": canonical,
        "label": label,
        "start_char": 0,
        "end_char": len(text or canonical),
        "sentence_index": 0,
    }


def _quote(article, number, speaker, speaker_entity_id):
    return {
        "article_id": article,
        "quote_id": f"{article}-q{number}",
        "text": "Something was said.",
        "start_char": 0,
        "end_char": 19,
        "speaker": speaker,
        "speaker_mention": speaker,
        "speaker_start": None,
        "speaker_end": None,
        "speaker_entity_id": speaker_entity_id,
        "cue": "said",
        "kind": "direct",
        "sentence_index": 0,
    }


def _article(article):
    now = datetime(2025, 8, 29, tzinfo=UTC)
    return {
        "article_id": article,
        "url": f"https://example.org/{article}",
        "canonical_url": None,
        "source": "example.org",
        "origin": f"file://{article}",
        "title": article,
        "authors": [],
        "published_at": now,
        "ingested_at": now,
        "language": "en",
        "text": "text",
        "word_count": 1,
        "content_hash": article,
        "schema_version": 1,
        "text_source": None,
    }


def _write(root, table, schema, date, rows, part="part-0"):
    folder = root / table / f"date={date}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / f"{part}.parquet")


@pytest.fixture
def output_tree(tmp_path):
    day_1, day_2 = "2025-08-28", "2025-08-29"
    _write(tmp_path, "articles", ARTICLES, day_1, [_article("a1"), _article("a2")])
    _write(tmp_path, "articles", ARTICLES, day_2, [_article("a3")])
    _write(
        tmp_path,
        "entities",
        ENTITIES,
        day_1,
        [
            _entity("a1", KIM, "Kim Jong-un"),
            _entity("a1", KIM, "Kim Jong-un", text="Kim"),
            _entity("a1", KIM, "Kim Jong-un", text="Kim"),
            _entity("a1", SOO, "Soo Kim"),
            _entity("a1", US, "United States", "GPE", text="U.S."),
            _entity("a2", US, "United States", "GPE", text="the United States"),
            _entity("a2", "id-un", "United Nations", "ORG"),
            _entity("a2", "id-ww2", "World War II", "EVENT"),
        ],
    )
    _write(
        tmp_path,
        "entities",
        ENTITIES,
        day_2,
        [
            _entity("a3", KIM, "Kim Jong-Un"),  # another spelling, same id
            _entity("a3", "id-asia", "Asia", "LOC"),
            _entity("a3", "id-chinese", "Chinese", "NORP"),
        ],
    )
    _write(
        tmp_path,
        "quotes",
        QUOTES,
        day_1,
        [
            _quote("a1", 1, "Soo Kim", SOO),
            _quote("a1", 2, "Soo Kim", SOO),
            _quote("a2", 1, "Hong Lei", None),
            _quote("a2", 2, None, None),
        ],
    )
    _write(tmp_path, "quotes", QUOTES, day_2, [_quote("a3", 1, "Soo Kim", SOO)])
    return tmp_path


def _section(report, title):
    """The lines of one report section, header row first."""
    block = report.split(f"\n{title}\n", 1)[1]
    return block.split("\n\n", 1)[0].splitlines()


def _row(lines, name):
    (line,) = [line for line in lines if line.strip().startswith(name)]
    return re.split(r"\s{2,}", line.strip())


def test_report_overview(output_tree):
    report = stats_report(str(output_tree))
    assert "articles: 3" in report
    assert "dates: 2025-08-28 .. 2025-08-29" in report
    assert "entity mentions: 11 in 3 articles" in report
    assert "quotes: 5 speech events (1 without a speaker)" in report


def test_report_ranks_entities_per_label_group(output_tree):
    report = stats_report(str(output_tree))
    persons = _section(report, "Most mentioned persons")
    assert persons[0].split() == ["name", "mentions", "articles", "folded"]
    # Four mentions in two articles under one id, shown by its commonest spelling; two of
    # them ("Kim") do not spell the name out.
    assert _row(persons, "Kim Jong-un") == ["Kim Jong-un", "4", "2", "50%"]
    assert _row(persons, "Soo Kim") == ["Soo Kim", "1", "1", "0%"]
    assert persons.index(next(line for line in persons if "Kim Jong-un" in line)) == 1
    assert "Kim Jong-Un" not in report

    places = _section(report, "Most mentioned places")
    assert _row(places, "United States") == ["United States", "2", "2", "50%"]
    assert _row(places, "Asia") == ["Asia", "1", "1", "0%"]
    organisations = _section(report, "Most mentioned organisations")
    assert _row(organisations, "United Nations")[1:] == ["1", "1", "0%"]
    others = _section(report, "Most mentioned others")
    assert _row(others, "World War II") == ["World War II", "EVENT", "1", "1", "0%"]
    assert _row(others, "Chinese") == ["Chinese", "NORP", "1", "1", "0%"]


def test_report_ranks_speakers(output_tree):
    speakers = _section(stats_report(str(output_tree)), "Most quoted speakers")
    assert speakers[0].split() == ["speaker", "quotes", "articles"]
    assert _row(speakers, "Soo Kim") == ["Soo Kim", "3", "2"]
    assert _row(speakers, "Hong Lei") == ["Hong Lei", "1", "1"]
    assert speakers[1].strip().startswith("Soo Kim")
    assert len(speakers) == 3  # the unattributed quote is not a speaker


def test_report_limit(output_tree):
    report = stats_report(str(output_tree), limit=1)
    persons = _section(report, "Most mentioned persons")
    assert len(persons) == 2
    assert "Kim Jong-un" in persons[1]
    assert "Soo Kim" not in "\n".join(persons)
    assert len(_section(report, "Most quoted speakers")) == 2
    with pytest.raises(ValueError):
        stats_report(str(output_tree), limit=0)


def test_report_of_empty_or_missing_tables(tmp_path):
    (tmp_path / "entities" / "date=2025-08-28").mkdir(parents=True)
    (tmp_path / "quotes").mkdir()
    report = stats_report(str(tmp_path))
    assert "articles: 0  dates: none" in report
    assert "entity mentions: 0 in 0 articles" in report
    for title in ("persons", "organisations", "places", "others"):
        assert _section(report, f"Most mentioned {title}") == ["  (none)"]
    assert _section(report, "Most quoted speakers") == ["  (none)"]


def test_report_with_quotes_missing_only(output_tree):
    for path in (output_tree / "quotes").rglob("*.parquet"):
        path.unlink()
    report = stats_report(str(output_tree))
    assert "quotes: 0 speech events (0 without a speaker)" in report
    assert "Kim Jong-un" in report


def test_report_of_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        stats_report(str(tmp_path / "nope"))


def test_report_path_with_a_quote(tmp_path):
    root = tmp_path / "it's here"
    _write(root, "entities", ENTITIES, "2025-08-28", [_entity("a1", KIM, "Kim Jong-un")])
    assert "Kim Jong-un" in stats_report(str(root))


def _resolution(entity_id, canonical, label, resolved_id, resolved_name, resolved_label, at):
    return {
        "entity_id": entity_id,
        "label": label,
        "canonical": canonical,
        "mentions": 1,
        "articles": 1,
        "resolved_id": resolved_id,
        "resolved_name": resolved_name,
        "resolved_label": resolved_label,
        "rule": "self" if entity_id == resolved_id else "surname",
        "run_id": at.isoformat(),
        "resolved_at": at,
    }


@pytest.fixture
def resolved_tree(tmp_path):
    """Barack Obama under three ids: the full name, a bare surname, a surname the model
    labelled ORG; the table resolves the last two (the ORG one only in its later row)."""
    day, first, later = "2025-08-28", datetime(2025, 8, 28, tzinfo=UTC), datetime(2025, 8, 29)
    later = later.replace(tzinfo=UTC)
    entities = [
        _entity("a1", "p-barack-obama", "Barack Obama"),
        _entity("a1", "p-barack-obama", "Barack Obama", text="Obama"),
        _entity("a2", "p-obama", "Obama"),
        _entity("a2", "p-obama", "Obama"),
        _entity("a3", "o-obama", "Obama", "ORG"),
        _entity("a3", "o-senate", "Senate", "ORG"),
    ]
    _write(tmp_path, "entities", ENTITIES, day, entities)
    quotes = [
        _quote("a2", 1, "Obama", "p-obama"),
        _quote("a1", 1, "Barack Obama", "p-barack-obama"),
        {**_quote("a1", 2, "Barack Obama", "p-barack-obama"), "parent_quote_id": "a1-q1"},
    ]
    _write(tmp_path, "quotes", QUOTES, day, quotes)
    table = "entity_resolution"
    rows = [
        _resolution("p-barack-obama", "Barack Obama", "PERSON", "p-barack-obama",
                    "Barack Obama", "PERSON", first),
        _resolution("p-obama", "Obama", "PERSON", "p-barack-obama", "Barack Obama", "PERSON",
                    first),
        _resolution("o-obama", "Obama", "ORG", "o-obama", "Obama", "ORG", first),
    ]  # fmt: skip
    _write(tmp_path, table, ENTITY_RESOLUTION, day, rows)
    newer = _resolution(
        "o-obama", "Obama", "ORG", "p-barack-obama", "Barack Obama", "PERSON", later
    )
    _write(tmp_path, table, ENTITY_RESOLUTION, "2025-08-29", [newer])
    return tmp_path


def test_report_lists_each_resolved_person_once(resolved_tree):
    report = stats_report(str(resolved_tree))
    persons = _section(report, "Most mentioned persons")
    # Five mentions under one row; four of them do not spell "Barack Obama" out.
    assert len(persons) == 2
    assert _row(persons, "Barack Obama") == ["Barack Obama", "5", "3", "80%"]
    organisations = _section(report, "Most mentioned organisations")
    assert [line.split()[0] for line in organisations[1:]] == ["Senate"]


def test_report_counts_speech_events_under_resolved_speakers(resolved_tree):
    report = stats_report(str(resolved_tree))
    assert "quotes: 2 speech events (0 without a speaker)" in report
    speakers = _section(report, "Most quoted speakers")
    # The partial quote inside its reported clause (parent_quote_id set) is not counted.
    assert _row(speakers, "Barack Obama") == ["Barack Obama", "2", "2"]
    assert len(speakers) == 2


def test_report_of_one_label(resolved_tree):
    report = stats_report(str(resolved_tree), labels=["org"])
    assert "Most mentioned persons" not in report
    lines = _section(report, "Most mentioned ORG")
    assert [line.split()[0] for line in lines[1:]] == ["Senate"]
