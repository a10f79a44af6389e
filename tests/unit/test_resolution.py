"""Corpus-level resolution (transforms.lib.resolution) on invented totals: no model, no Beam."""

import datetime as dt

import pyarrow as pa

from schemas import ENTITY_RESOLUTION
from transforms.lib.entities import entity_id
from transforms.lib.resolution import (
    Resolution,
    Totals,
    current_state,
    latest_rows,
    merge_totals,
    resolve,
    totals_of,
)


def person(name: str, mentions: int) -> Totals:
    return Totals(entity_id("person", name), "PERSON", name, mentions, mentions)


def org(name: str, mentions: int) -> Totals:
    return Totals(entity_id("org", name), "ORG", name, mentions, mentions)


def names(resolved: dict, totals: list[Totals]) -> dict[str, tuple[str, str, str]]:
    """canonical -> (resolved name, resolved label, rule), for readable assertions."""
    by_id = {t.entity_id: t for t in totals}
    return {
        by_id[entity].canonical + ("" if by_id[entity].label == "PERSON" else "/ORG"): (
            r.resolved_name,
            r.resolved_label,
            r.rule,
        )
        for entity, r in resolved.items()
    }


def test_a_surname_resolves_to_the_dominant_full_name():
    totals = [person("Helena Marsh", 40), person("Tom Marsh", 4), person("Marsh", 10)]
    resolved = names(resolve(totals), totals)
    assert resolved["Marsh"] == ("Helena Marsh", "PERSON", "surname")
    assert resolved["Helena Marsh"] == ("Helena Marsh", "PERSON", "self")
    assert resolved["Tom Marsh"] == ("Tom Marsh", "PERSON", "self")


def test_an_ambiguous_surname_stays_as_it_is():
    # 30 of 50 full-name mentions is below the 80% the rule asks for.
    totals = [person("Helena Marsh", 30), person("Tom Marsh", 20), person("Marsh", 10)]
    assert names(resolve(totals), totals)["Marsh"] == ("Marsh", "PERSON", "self")


def test_a_first_name_alone_resolves_like_a_surname():
    totals = [person("Odile Brandt", 12), person("Odile", 3)]
    assert names(resolve(totals), totals)["Odile"] == ("Odile Brandt", "PERSON", "surname")


def test_middle_names_and_initials_fold_into_the_most_mentioned_spelling():
    totals = [
        person("Margaret Ellison", 9),
        person("Margaret J. Ellison", 3),
        person("Margaret Jane Ellison", 1),
    ]
    resolved = names(resolve(totals), totals)
    assert resolved["Margaret J. Ellison"] == ("Margaret Ellison", "PERSON", "fold")
    assert resolved["Margaret Jane Ellison"][0] == "Margaret Ellison"


def test_two_different_middles_are_two_people():
    totals = [person("Arthur P. Kendal", 10), person("Arthur R. T. Kendal", 8)]
    totals.append(person("Arthur Kendal", 2))
    resolved = names(resolve(totals), totals)
    assert resolved["Arthur P. Kendal"][0] == "Arthur P. Kendal"
    assert resolved["Arthur R. T. Kendal"][0] == "Arthur R. T. Kendal"
    assert resolved["Arthur Kendal"][0] == "Arthur Kendal"  # 10 of 18 is no 80%


def test_a_suffix_keeps_people_apart():
    totals = [person("Carl Voss", 10), person("Carl Voss Jr.", 5)]
    resolved = names(resolve(totals), totals)
    assert resolved["Carl Voss Jr."][0] == "Carl Voss Jr."


def test_a_surname_labelled_org_becomes_the_person_when_the_corpus_says_so():
    totals = [person("Helena Marsh", 40), org("Marsh", 5), org("Senate", 50)]
    resolved = names(resolve(totals), totals)
    assert resolved["Marsh/ORG"] == ("Helena Marsh", "PERSON", "label")
    assert resolved["Senate/ORG"] == ("Senate", "ORG", "self")
    # A name the corpus uses as an organisation about as often stays one.
    totals = [person("Helena Marsh", 10), org("Marsh", 5)]
    assert names(resolve(totals), totals)["Marsh/ORG"][2] == "self"


def test_a_person_label_the_corpus_mostly_gives_an_organisation_goes_to_it():
    totals = [org("Harbour Board", 60), person("Harbour Board", 4), org("DLP", 30)]
    totals.append(person("Ostvale DLP", 5))
    resolved = names(resolve(totals), totals)
    assert resolved["Harbour Board"] == ("Harbour Board", "ORG", "label")
    assert resolved["Ostvale DLP"] == ("Ostvale DLP", "ORG", "label")


def test_a_written_resolution_is_kept_when_the_corpus_changes():
    first = [person("Helena Marsh", 40), person("Marsh", 10)]
    written = resolve(first)
    marsh = entity_id("person", "Marsh")
    assert written[marsh].resolved_name == "Helena Marsh"
    # Later runs bring many mentions of another Marsh: the surname would now be ambiguous,
    # but rows already written keep what they meant.
    later = [person("Helena Marsh", 40), person("Tom Marsh", 200), person("Marsh", 30)]
    again = resolve(later, written)
    assert again[marsh] == Resolution(
        entity_id("person", "Helena Marsh"), "Helena Marsh", "PERSON", "kept"
    )


def test_an_unresolved_name_resolves_once_the_corpus_can_tell():
    written = resolve([person("Marsh", 3)])
    marsh = entity_id("person", "Marsh")
    assert written[marsh].rule == "self"
    again = resolve([person("Marsh", 3), person("Helena Marsh", 2)], written)
    assert again[marsh].resolved_name == "Helena Marsh"


def test_a_group_keeps_its_earlier_representative():
    written = resolve([person("Helena Marsh", 5), person("Helena K. Marsh", 2)])
    # The initialled spelling becomes the commoner one; the group still resolves as before.
    later = [person("Helena Marsh", 5), person("Helena K. Marsh", 20), person("Marsh", 1)]
    again = names(resolve(later, written), later)
    assert again["Helena K. Marsh"][0] == "Helena Marsh"
    assert again["Marsh"][0] == "Helena Marsh"


def test_totals_of_rows_and_merge():
    rows = [
        {"entity_id": "x", "label": "PERSON", "canonical": "Helena Marsh", "article_id": "a"},
        {"entity_id": "x", "label": "PERSON", "canonical": "Helena Marsh", "article_id": "a"},
        {"entity_id": "x", "label": "ORG", "canonical": "helena marsh", "article_id": "b"},
    ]
    (totals,) = totals_of(rows)
    assert totals == Totals("x", "PERSON", "Helena Marsh", 3, 2)
    assert merge_totals(totals, totals._replace(mentions=1, articles=1)).mentions == 4
    assert merge_totals(None, totals) == totals


def _table_row(name: str, resolved_name: str, mentions: int, hour: int, run: str) -> dict:
    return {
        "entity_id": entity_id("person", name),
        "label": "PERSON",
        "canonical": name,
        "mentions": mentions,
        "articles": 1,
        "resolved_id": entity_id("person", resolved_name),
        "resolved_name": resolved_name,
        "resolved_label": "PERSON",
        "rule": "self" if name == resolved_name else "surname",
        "run_id": run,
        "resolved_at": dt.datetime(2026, 11, 28, hour, tzinfo=dt.UTC),
    }


def test_latest_rows_keeps_each_ids_row_resolved_last_then_of_the_later_run():
    rows = [
        _table_row("Marsh", "Helena Marsh", 3, 14, "r2"),  # resolved last
        _table_row("Marsh", "Marsh", 1, 12, "r1"),
        _table_row("Helena Marsh", "Helena Marsh", 2, 12, "r1"),
        _table_row("Tom Marsh", "Tom Marsh", 5, 12, "r1"),
        _table_row("Tom Marsh", "Tom Marsh", 6, 12, "r3"),  # same time, later run id
    ]
    # Spread over chunks, as several files concatenated are.
    table = pa.concat_tables(
        [pa.Table.from_pylist(part, schema=ENTITY_RESOLUTION) for part in (rows[:2], rows[2:])]
    )
    latest = {row["canonical"]: row for row in latest_rows(table).to_pylist()}
    assert {name: (row["mentions"], row["run_id"]) for name, row in latest.items()} == {
        "Marsh": (3, "r2"),
        "Helena Marsh": (2, "r1"),
        "Tom Marsh": (6, "r3"),
    }
    assert latest_rows(ENTITY_RESOLUTION.empty_table()).num_rows == 0


def test_current_state_gives_each_ids_resolution_and_totals():
    table = pa.Table.from_pylist(
        [_table_row("Marsh", "Helena Marsh", 3, 14, "r2")], schema=ENTITY_RESOLUTION
    )
    marsh, helena = entity_id("person", "Marsh"), entity_id("person", "Helena Marsh")
    previous, totals = current_state(table)
    assert previous == {marsh: Resolution(helena, "Helena Marsh", "PERSON", "surname")}
    assert totals == {marsh: Totals(marsh, "PERSON", "Marsh", 3, 1)}
    assert current_state(ENTITY_RESOLUTION.empty_table()) == ({}, {})
