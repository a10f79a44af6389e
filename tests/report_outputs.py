"""Outputs the report tests write: a small one counted by hand, and a large synthetic one.

``write_fixture`` writes this (the counts the tests expect follow from it):
* articles: a1, a2 (2025-03-01, Wire, en), a3 (2025-03-02, Daily, en, no published
  date), a4 (2025-03-02, Daily, de, not enriched, headline only), a5 (2025-03-09, no
  source, en, no entities);
* entities: Ada Quill (P1) twice and "Quill" (P1S, which entity_resolution resolves to
  P1) once in a1, once in a2; Ben Ode (P2) once in a1, once in a2, twice in a3; Cy Ray
  (P3) once in a3; Harbour Ltd (ORG, O1) in a1 and a3; Kessington (GPE) in a3: 12 mentions;
* quotes: a1 direct (P1), indirect (P1S) and a partial quote inside it (not a speech
  event); a2 direct (P2); a3 indirect by "officials" (no entity) and direct with no
  speaker: 5 speech events;
* errors: two read/binary_file on 2025-03-01, one feed/http_404 on 2025-03-05.

``write_large_output`` writes 100,000 articles column-wise with pyarrow in a few seconds.
"""

import datetime as dt
import json

import pyarrow as pa
import pyarrow.parquet as pq

from schemas import ARTICLES, ENTITIES, ENTITY_RESOLUTION, ERRORS, QUOTES
from transforms import store

# The id of every chart the report draws for an output with rows in every table.
EVERY_CHART = {
    "volume",
    "sources",
    "languages",
    "top-person",
    "timeline-person",
    "top-org",
    "timeline-org",
    "quote-shares",
    "speakers",
    "co-mentions",
    "quality",
    "errors",
    "runs",
}

NOW = dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC)
HOSTILE_TITLE = '<script>alert("title")</script>'
HOSTILE_QUOTE = '<script>alert("quote")</script> is what he wrote, and then some more words'


def article(article_id, source, language="en", *, dated=True, nlp=True, text_source="file"):
    return {
        "article_id": article_id,
        "url": f"https://news.example/{article_id}",
        "canonical_url": None,
        "source": source,
        "origin": f"file:///in/{article_id}.txt",
        "title": f"Title {article_id}",
        "authors": [],
        "published_at": NOW if dated else None,
        "ingested_at": NOW,
        "language": language,
        "text": "text",
        "word_count": 1,
        "content_hash": article_id,
        "schema_version": 2,
        "text_source": text_source,
        "nlp_model": "en_core_web_sm" if nlp else None,
    }


def entity(article_id, entity_id, name, label="PERSON", n=0):
    return {
        "article_id": article_id,
        "entity_id": entity_id,
        "text": name,
        "canonical": name,
        "label": label,
        "start_char": n,
        "end_char": n + len(name),
        "sentence_index": 0,
    }


def quote(article_id, quote_id, kind, speaker, entity_id, text, parent=None):
    return {
        "article_id": article_id,
        "quote_id": quote_id,
        "text": text,
        "start_char": 0,
        "end_char": len(text),
        "speaker": speaker,
        "speaker_mention": speaker,
        "speaker_start": None,
        "speaker_end": None,
        "speaker_entity_id": entity_id,
        "cue": "said",
        "kind": kind,
        "sentence_index": 0,
        "parent_quote_id": parent,
        "speaker_rule": "name" if entity_id else None,
    }


def error(stage, error_type, message):
    return {
        "stage": stage,
        "origin": "file:///in/bad",
        "error_type": error_type,
        "message": message,
        "excerpt": None,
        "ingested_at": NOW,
    }


def write(root, table, schema, date, rows, name="0"):
    folder = root / table / f"date={date}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / f"part-run1-{name}.parquet")


def write_fixture(root):
    """The output the module docstring describes; returns ``root``."""
    a2 = {**article("a2", "Wire"), "title": HOSTILE_TITLE, "url": "javascript:alert(1)"}
    write(root, "articles", ARTICLES, "2025-03-01", [article("a1", "Wire"), a2])
    write(
        root,
        "articles",
        ARTICLES,
        "2025-03-02",
        [
            article("a3", "Daily", dated=False),
            article("a4", "Daily", "de", nlp=False, text_source="feed_title"),
        ],
    )
    write(root, "articles", ARTICLES, "2025-03-09", [article("a5", None)])
    write(
        root,
        "entities",
        ENTITIES,
        "2025-03-01",
        [
            entity("a1", "P1", "Ada Quill"),
            entity("a1", "P1", "Ada Quill", n=20),
            entity("a1", "P1S", "Quill", n=40),
            entity("a1", "O1", "Harbour Ltd", "ORG"),
            entity("a1", "P2", "Ben Ode", n=60),
            entity("a2", "P1", "Ada Quill"),
            entity("a2", "P2", "Ben Ode"),
        ],
    )
    write(
        root,
        "entities",
        ENTITIES,
        "2025-03-02",
        [
            entity("a3", "P2", "Ben Ode"),
            entity("a3", "P2", "Ben Ode", n=30),
            entity("a3", "P3", "Cy Ray"),
            entity("a3", "O1", "Harbour Ltd", "ORG"),
            entity("a3", "G1", "Kessington", "GPE"),
        ],
    )
    resolution = {
        "entity_id": "P1S",
        "label": "PERSON",
        "canonical": "Quill",
        "mentions": 1,
        "articles": 1,
        "resolved_id": "P1",
        "resolved_name": "Ada Quill",
        "resolved_label": "PERSON",
        "rule": "surname",
        "run_id": "run1",
        "resolved_at": NOW,
    }
    older = {**resolution, "resolved_id": "P1S", "resolved_name": "Quill", "rule": "self"}
    older["resolved_at"] = NOW - dt.timedelta(days=1)
    write(root, "entity_resolution", ENTITY_RESOLUTION, "2025-03-10", [resolution, older])
    write(
        root,
        "quotes",
        QUOTES,
        "2025-03-01",
        [
            quote("a1", "q1", "direct", "Ada Quill", "P1", "We will build it."),
            quote(
                "a1",
                "q2",
                "indirect",
                "Quill",
                "P1S",
                "that the budget is fair and will pass next week without delay",
            ),
            quote("a1", "q3", "partial", "Quill", "P1S", "fair", parent="q2"),
            quote("a2", "q4", "direct", "Ben Ode", "P2", HOSTILE_QUOTE),
        ],
    )
    write(
        root,
        "quotes",
        QUOTES,
        "2025-03-02",
        [
            quote("a3", "q5", "indirect", "officials", None, "that the port is open again"),
            quote("a3", "q6", "direct", None, None, "Nobody said this."),
        ],
    )
    write(
        root,
        "errors",
        ERRORS,
        "2025-03-01",
        [error("read", "binary_file", "binary"), error("read", "binary_file", "binary")],
    )
    write(root, "errors", ERRORS, "2025-03-05", [error("feed", "http_404", "404 Not Found")])
    return root


def plain_article(article_id, day="2025-03-01", source="Wire"):
    now = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
    return {
        "article_id": article_id,
        "url": f"https://news.example/{article_id}",
        "source": source,
        "origin": f"file:///in/{article_id}",
        "title": article_id,
        "authors": [],
        "published_at": now,
        "ingested_at": now,
        "language": "en",
        "text": "t",
        "word_count": 1,
        "content_hash": article_id,
        "schema_version": 2,
        "text_source": "file",
        "nlp_model": None,
    }


def write_large_output(root, *, articles=100_000, days=200, sources=60, people=5_000):
    """A synthetic output of ``articles`` articles over ``days`` date partitions, with three
    person mentions, one organisation mention and one quote per article, errors on every
    tenth day and 300 runs, written column-wise by pyarrow (a few seconds)."""
    per_day = articles // days
    start = dt.date(2024, 1, 1)
    resolved_at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for d in range(days):
        day = (start + dt.timedelta(days=d)).isoformat()
        stamp = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
        ids = [f"a{d}-{i}" for i in range(per_day)]
        n = len(ids)
        columns = {
            "article_id": ids,
            "url": [f"https://s{i % sources}.example/{a}" for i, a in enumerate(ids)],
            "source": [f"source {(i * 7 + d) % sources}" for i in range(n)],
            "origin": ids,
            "title": ids,
            "authors": [[] for _ in ids],
            "published_at": [stamp if i % 10 else None for i in range(n)],
            "ingested_at": [stamp] * n,
            "language": ["en" if i % 5 else "de" for i in range(n)],
            "text": ["t"] * n,
            "word_count": [1] * n,
            "content_hash": ids,
            "schema_version": [2] * n,
            "text_source": ["file"] * n,
            "nlp_model": ["m" if i % 5 else None for i in range(n)],
        }
        _write_columns(root, "articles", ARTICLES, day, columns)
        # Two of 16 frequent people (who therefore appear together) and one of the rest.
        mentions = [(a, i) for i, a in enumerate(ids) if i % 5 for _ in range(3)]
        persons = [
            f"P{(i + d) % 16}"
            if k % 3 == 0
            else f"P{(i * 3 + d + 5) % 16}"
            if k % 3 == 1
            else f"P{16 + (i * 31 + d) % (people - 16)}"
            for k, (_a, i) in enumerate(mentions)
        ]
        entity_columns = {
            "article_id": [a for a, _ in mentions] + ids,
            "entity_id": persons + [f"O{i % 400}" for i in range(n)],
            "text": persons + [f"Org {i % 400}" for i in range(n)],
            "canonical": persons + [f"Org {i % 400}" for i in range(n)],
            "label": ["PERSON"] * len(persons) + ["ORG"] * n,
            "start_char": [0] * (len(persons) + n),
            "end_char": [1] * (len(persons) + n),
            "sentence_index": [0] * (len(persons) + n),
        }
        _write_columns(root, "entities", ENTITIES, day, entity_columns)
        quote_columns = {
            "article_id": ids,
            "quote_id": [f"q-{a}" for a in ids],
            "text": [f"Words number {i}, said at length for the sample." for i in range(n)],
            "start_char": [0] * n,
            "end_char": [1] * n,
            "speaker": [f"P{i % people}" for i in range(n)],
            "speaker_entity_id": [f"P{i % people}" if i % 3 else None for i in range(n)],
            "kind": ["direct" if i % 2 else "indirect" for i in range(n)],
            "sentence_index": [0] * n,
        }
        _write_columns(root, "quotes", QUOTES, day, quote_columns)
        if d % 10 == 0:
            errors = {
                "stage": ["read", "feed"] * 50,
                "origin": ["x"] * 100,
                "error_type": [f"type_{i % 20}" for i in range(100)],
                "message": ["bad"] * 100,
                "ingested_at": [stamp] * 100,
            }
            _write_columns(root, "errors", ERRORS, day, errors)
    resolution = {
        "entity_id": [f"P{i}" for i in range(people)],
        "label": ["PERSON"] * people,
        "canonical": [f"P{i}" for i in range(people)],
        "mentions": [1] * people,
        "articles": [1] * people,
        "resolved_id": [f"P{i - i % 2}" for i in range(people)],  # every odd id is its even one
        "resolved_name": [f"Person {i - i % 2}" for i in range(people)],
        "resolved_label": ["PERSON"] * people,
        "rule": ["fold"] * people,
        "run_id": ["r"] * people,
        "resolved_at": [resolved_at] * people,
    }
    _write_columns(root, "entity_resolution", ENTITY_RESOLUTION, "2025-01-01", resolution)
    runs = root / store.RUNS
    runs.mkdir()
    for r in range(300):
        run_id = f"2025{r:06d}-run"
        record = {"run_id": run_id, "elapsed_seconds": 1.0 + r % 7, "balance": {"written": 333}}
        (runs / f"{run_id}.json").write_text(json.dumps(record))
    return root


def _write_columns(root, table, schema, day, columns):
    folder = root / table / f"date={day}"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {name: columns.get(name) for name in schema.names}
    length = len(next(iter(columns.values())))
    table_ = pa.table(
        {
            name: pa.array(
                values if values is not None else [None] * length, schema.field(name).type
            )
            for name, values in arrays.items()
        },
        schema=schema,
    )
    pq.write_table(table_, folder / "part-big-0.parquet")
