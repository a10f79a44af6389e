"""End to end: one person, one name, one id (issue 15) through the real ``newsbeam`` command.

Language routing with a German page from the evaluation data, the resolution table
across two runs, and ``newsbeam stats`` listing each person once.
"""

import json
import shutil

import duckdb

from tests.helpers import SEEDS, evaldata, newsbeam, table

# Two invented articles: the first introduces the person in full, the second only by surname.
FIRST = """Harbour board backs new ferry line

Helena Marsh, the chair of the harbour board, presented the ferry plan on Monday. "This line \
will connect thirty thousand people to the waterfront," Marsh said. Councillor Tomas Berg \
agreed. Marsh added that tickets would cost two euros.
"""
SECOND = """Ferry line approved

The council approved the ferry line on Thursday. Marsh said the first boats would sail in May. \
"We listened to the residents," Marsh told reporters.
"""


def test_language_routing_writes_german_articles_without_english_entities(tmp_path):
    german = evaldata("fundus_nonenglish", "html", "at_ORF_2024_11_22.html")
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(german, inputs / "orf.html")
    shutil.copy(SEEDS / "002_port_strike.html", inputs / "port.html")
    output = tmp_path / "out"
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("alias,canonical,label\nRafael Duarte,Rafael Duarte Silva,PERSON\n")
    result = newsbeam(
        "ingest", "--input", inputs / "*.html", "--output", output, "--aliases", aliases
    )
    assert "not enriched          language de, 1 article" in result.stdout
    articles = {row["language"]: row for row in table(output, "articles").to_pylist()}
    assert articles["de"]["nlp_model"] is None
    assert articles["en"]["nlp_model"].startswith("en_core_web_sm")
    entity_articles = set(table(output, "entities").column("article_id").to_pylist())
    assert articles["de"]["article_id"] not in entity_articles
    assert articles["en"]["article_id"] in entity_articles
    canonicals = set(table(output, "entities").column("canonical").to_pylist())
    assert "Rafael Duarte Silva" in canonicals and "Rafael Duarte" not in canonicals
    (run,) = (output / "_runs").glob("*.json")
    record = json.loads(run.read_text())
    assert record["stages"]["enrich"]["not_enriched"] == {"de": 1}
    assert record["models"] == {"en": articles["en"]["nlp_model"]}


def test_port_strike_seed_speakers(tmp_path):
    output = tmp_path / "out"
    newsbeam("ingest", "--input", SEEDS / "002_port_strike.html", "--output", output)
    quotes = table(output, "quotes").to_pylist()
    entity_ids = set(table(output, "entities").column("entity_id").to_pylist())
    warned = next(q for q in quotes if q["cue"] == "warned")
    assert (warned["speaker"], warned["speaker_mention"], warned["speaker_rule"]) == (
        "Helen Brandt",
        "She",
        "pronoun",
    )
    named = [q for q in quotes if q["speaker_rule"] == "name"]
    assert {q["speaker"] for q in named} >= {"Rafael Duarte", "Helen Brandt"}
    assert all(q["speaker_entity_id"] in entity_ids for q in named)


def test_resolution_table_across_two_runs(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "first.txt").write_text(FIRST, encoding="utf-8")
    output = tmp_path / "out"
    newsbeam("ingest", "--input", inputs / "first.txt", "--output", output)
    first_rows = table(output, "entities").to_pylist()
    (inputs / "second.txt").write_text(SECOND, encoding="utf-8")
    newsbeam("ingest", "--input", inputs / "*.txt", "--output", output)

    # Rows already written keep their ids; the second article's surname has its own id.
    first_articles = {row["article_id"] for row in first_rows}
    entities = table(output, "entities").to_pylist()
    again = [row for row in entities if row["article_id"] in first_articles]
    assert sorted(map(repr, again)) == sorted(map(repr, first_rows))
    connection = duckdb.connect()
    connection.execute(
        "create view entities as select * from read_parquet("
        f"'{output}/entities/*/*.parquet', hive_partitioning = true)"
    )
    connection.execute(
        "create view entity_resolution as select * from read_parquet("
        f"'{output}/entity_resolution/*/*.parquet', hive_partitioning = true)"
    )
    surname = connection.execute(
        "select distinct entity_id from entities where canonical = 'Marsh' and label = 'PERSON'"
    ).fetchall()
    assert surname, "the second article mentions Marsh only by surname"
    (resolved,) = connection.execute(
        "select resolved_name, rule from entity_resolution where entity_id = ? "
        "order by resolved_at desc limit 1",
        [surname[0][0]],
    ).fetchall()
    assert resolved == ("Helena Marsh", "surname")
    runs = connection.execute("select count(distinct run_id) from entity_resolution").fetchone()
    assert runs == (2,)

    # The query view and stats count her once, under her full name.
    views = newsbeam(
        "query",
        output,
        "select resolved_name, count(*) as n from resolved_entities "
        "where resolved_label = 'PERSON' group by 1 order by 2 desc",
        "--format",
        "json",
    )
    names = [json.loads(line)["resolved_name"] for line in views.stdout.splitlines()]
    assert names.count("Helena Marsh") == 1 and "Marsh" not in names
    stats = newsbeam("stats", output, "--label", "PERSON").stdout
    section = stats.split("Most mentioned PERSON\n", 1)[1].split("\n\n", 1)[0]
    assert "Helena Marsh" in section and "\n  Marsh " not in section
    speakers = stats.split("Most quoted speakers\n", 1)[1]
    assert "Helena Marsh" in speakers and "\n  Marsh " not in speakers


def test_a_bad_aliases_file_stops_before_the_run(tmp_path):
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("Quill\n")
    result = newsbeam(
        "ingest", "--input", SEEDS / "002_port_strike.html", "--output", tmp_path / "out",
        "--aliases", aliases, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--aliases" in result.stderr and "line 1" in result.stderr
    assert not (tmp_path / "out" / "articles").exists()
