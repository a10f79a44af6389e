"""ResolveEntities in a TestPipeline: the run's entity rows and the table so far to new rows."""

import datetime as dt

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from schemas import ENTITY_RESOLUTION
from transforms.lib.entities import entity_id
from transforms.resolve import COUNTS, RESOLUTION_TABLE, ReadCurrentResolution, ResolveEntities

EARLIER = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
MARSH = entity_id("person", "Marsh")
HELENA = entity_id("person", "Helena Marsh")


def _entity(article, name):
    return {
        "article_id": article,
        "entity_id": entity_id("person", name),
        "canonical": name,
        "label": "PERSON",
    }


def _written(entity, canonical, resolved, resolved_name, mentions, at, run):
    return {
        "entity_id": entity,
        "label": "PERSON",
        "canonical": canonical,
        "mentions": mentions,
        "articles": 1,
        "resolved_id": resolved,
        "resolved_name": resolved_name,
        "resolved_label": "PERSON",
        "rule": "self" if entity == resolved else "surname",
        "run_id": run,
        "resolved_at": at,
    }


def test_resolve_entities_against_the_table_so_far(tmp_path):
    # Two earlier runs: in the later one "Marsh" was resolved to Helena Marsh.
    folder = tmp_path / "entity_resolution" / "date=2026-11-27"
    folder.mkdir(parents=True)
    first = [
        _written(HELENA, "Helena Marsh", HELENA, "Helena Marsh", 2, EARLIER, "r1"),
        _written(MARSH, "Marsh", MARSH, "Marsh", 1, EARLIER, "r1"),
    ]
    later = EARLIER + dt.timedelta(hours=1)
    second = [_written(MARSH, "Marsh", HELENA, "Helena Marsh", 3, later, "r2")]
    pq.write_table(pa.Table.from_pylist(first, schema=ENTITY_RESOLUTION), folder / "a.parquet")
    pq.write_table(pa.Table.from_pylist(second, schema=ENTITY_RESOLUTION), folder / "b.parquet")
    # This run mentions Tom Marsh far more: the surname would be ambiguous now, but the
    # resolution already written is kept.
    rows = [_entity("x", "Tom Marsh")] * 20 + [_entity("x", "Marsh"), _entity("y", "Marsh")]
    with TestPipeline() as pipeline:
        current = pipeline | "Current" >> ReadCurrentResolution(str(tmp_path))
        entities = pipeline | beam.Create([rows])  # one article's rows, as the stage gives them
        resolved = (entities, current) | ResolveEntities(run_id="r3", resolved_at=NOW)
        assert_that(
            resolved[RESOLUTION_TABLE]
            | beam.Map(
                lambda r: (
                    r["canonical"],
                    r["mentions"],
                    r["articles"],
                    r["resolved_name"],
                    r["rule"],
                )
            ),
            equal_to(
                [
                    ("Marsh", 5, 3, "Helena Marsh", "kept"),
                    ("Tom Marsh", 20, 1, "Tom Marsh", "self"),
                ]
            ),
            label="RowsOfTheIdsThisRunSaw",
        )
        assert_that(
            resolved[RESOLUTION_TABLE]
            | beam.Map(lambda r: (r["run_id"], r["date"], r["resolved_at"])),
            equal_to([("r3", "2026-11-28", NOW)] * 2),
            label="RunAndDate",
        )


def test_resolve_entities_in_an_empty_output(tmp_path):
    rows = [_entity("a", "Helena Marsh"), _entity("b", "Marsh")]
    with TestPipeline() as pipeline:
        current = pipeline | "Current" >> ReadCurrentResolution(str(tmp_path))
        resolved = (pipeline | beam.Create([rows[:1], rows[1:]]), current) | ResolveEntities(
            run_id="r1", resolved_at=NOW
        )
        assert_that(
            resolved[RESOLUTION_TABLE]
            | beam.Map(lambda r: (r["canonical"], r["resolved_id"], r["rule"])),
            equal_to([("Helena Marsh", HELENA, "self"), ("Marsh", HELENA, "surname")]),
            label="Rows",
        )
        assert_that(
            resolved[COUNTS],
            equal_to([("resolve.rows", 2), ("resolve.resolved", 1)]),
            label="Counts",
        )


def test_the_current_table_of_an_output_named_with_glob_characters_is_its_own(tmp_path):
    helena = _written(HELENA, "Helena Marsh", HELENA, "Helena Marsh", 2, EARLIER, "r1")
    marsh = _written(MARSH, "Marsh", MARSH, "Marsh", 1, EARLIER, "r1")
    for name, rows in (("out[1]", [helena]), ("out1", [marsh])):  # out[1] as a glob is out1
        folder = tmp_path / name / "entity_resolution" / "date=2026-11-27"
        folder.mkdir(parents=True)
        table = pa.Table.from_pylist(rows, schema=ENTITY_RESOLUTION)
        pq.write_table(table, folder / "a.parquet")
    with TestPipeline() as pipeline:
        current = pipeline | ReadCurrentResolution(str(tmp_path / "out[1]"))
        assert_that(
            current | beam.Map(lambda table: table.column("entity_id").to_pylist()),
            equal_to([[HELENA]]),
        )
