"""The declared row shapes agree with the Arrow schemas, and the stages build exactly them."""

import datetime as dt
import types
import typing

import pyarrow as pa
import pytest

from schemas import PARTITION_COLUMN, TABLES
from schemas.rows import ROW_TYPES, RawRecord
from tests.helpers import NOW, SEED_ARTICLE
from transforms.lib import nlp as nlp_lib
from transforms.lib.entities import DEFAULT_LABELS
from transforms.lib.formats import RAW_FIELDS, parse_text_file, raw_record
from transforms.lib.normalize import normalize_article
from transforms.lib.quotes import DEFAULT_CUES
from transforms.lib.records import ErrorType, Rejected, crash_row, reject_row

_ARROW_OF = {
    str: pa.string(),
    int: (pa.int16(), pa.int32(), pa.int64()),
    dt.datetime: pa.timestamp("us", tz="UTC"),
    list[str]: pa.list_(pa.string()),
}


def _unwrap(hint):
    """(the type without None, whether None is allowed)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return (args[0] if len(args) == 1 else tuple(args)), True
    return hint, False


@pytest.mark.parametrize("table", sorted(TABLES))
def test_row_type_has_every_column_with_its_type(table):
    hints = typing.get_type_hints(ROW_TYPES[table])
    schema = TABLES[table]
    assert set(hints) == {*schema.names, PARTITION_COLUMN}
    assert hints.pop(PARTITION_COLUMN) is str
    for field in schema:
        python_type, nullable = _unwrap(hints[field.name])
        arrow = _ARROW_OF[python_type]
        assert field.type in (arrow if isinstance(arrow, tuple) else (arrow,)), field
        # A column the stages always fill may still be nullable; never the other way round.
        assert field.nullable or not nullable, field


def test_raw_record_type_matches_the_readers_fields():
    assert tuple(typing.get_type_hints(RawRecord)) == RAW_FIELDS
    assert set(raw_record("x", text="t")) == set(RAW_FIELDS)


def test_the_stages_build_exactly_the_declared_rows():
    raw = parse_text_file(SEED_ARTICLE.read_text(encoding="utf-8"), "seed.txt")
    article, _problems = normalize_article(raw, ingested_at=NOW)
    assert set(article) == set(typing.get_type_hints(ROW_TYPES["articles"]))
    at = {"stage": "read", "origin": "x", "ingested_at": NOW}
    for row in (
        reject_row(Rejected(ErrorType.EMPTY_TEXT, "m"), **at),
        crash_row(ValueError("v"), **at),
    ):
        assert set(row) == set(typing.get_type_hints(ROW_TYPES["errors"]))


def test_rows_convert_to_arrow_without_losing_a_column():
    raw = parse_text_file(SEED_ARTICLE.read_text(encoding="utf-8"), "seed.txt")
    article, _ = normalize_article(raw, ingested_at=NOW)
    table = pa.Table.from_pylist([article], schema=TABLES["articles"])
    assert table.to_pylist()[0] == {k: v for k, v in article.items() if k != PARTITION_COLUMN}


def test_entity_and_quote_rows_of_the_seed_article_have_exactly_the_declared_keys(nlp):
    raw = parse_text_file(SEED_ARTICLE.read_text(encoding="utf-8"), "seed.txt")
    article, _ = normalize_article(raw, ingested_at=NOW)
    [annotations] = nlp_lib.annotate(
        nlp, [article["text"]], labels=DEFAULT_LABELS, cues=DEFAULT_CUES
    )
    entities, quotes = nlp_lib.table_rows(article, annotations)
    assert entities and quotes  # the seed article has both
    for table, rows in (("entities", entities), ("quotes", quotes)):
        declared = set(typing.get_type_hints(ROW_TYPES[table]))
        assert all(set(row) == declared for row in rows), table
        assert {row["article_id"] for row in rows} == {article["article_id"]}
        assert {row["date"] for row in rows} == {article["date"]}
    assert len({q["quote_id"] for q in quotes}) == len(quotes)
    first = quotes[0]
    assert first["quote_id"] == nlp_lib.quote_id(
        article["article_id"], first["start_char"], first["end_char"]
    )
