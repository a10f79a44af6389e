"""Tests of transforms.entities: pure rules on plain strings first, then the real model."""

import hashlib
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO, SEED_ARTICLE
from transforms.lib.entities import (
    DEFAULT_ALIASES,
    DEFAULT_LABELS,
    AliasFileError,
    Mention,
    alias_table,
    apply_alias,
    clean_name,
    entity_id,
    entity_rows,
    extend_span,
    fits_acronym,
    fits_words,
    kind_of,
    normalise,
    read_aliases,
    resolve_short_names,
    rows_from_mentions,
    same_person,
    split_title,
)

SEED = SEED_ARTICLE
QUOTE_MARKS = set('"“”„‟«»‘‚‛`')
ROW_KEYS = {
    "text",
    "canonical",
    "label",
    "start_char",
    "end_char",
    "sentence_index",
    "entity_id",
    "model_label",
    "title",
    "detected_by",
}


# --- span clean-up ----------------------------------------------------------
@pytest.mark.parametrize(
    ("surface", "expected"),
    [
        ("the World War II", "World War II"),
        ("The Associated Press", "Associated Press"),
        (
            'the "War of Resistance Against Japanese Aggression',
            "War of Resistance Against Japanese Aggression",
        ),
        ('an "Axis of Upheaval', "Axis of Upheaval"),
        ("the \"Democratic People's Republic of Korea", "Democratic People's Republic of Korea"),
        ("“Axis of Upheaval”", "Axis of Upheaval"),
        ("‘Axis of Upheaval’", "Axis of Upheaval"),
        ("Japan's", "Japan"),
        ("Japan’s", "Japan"),
        ("Reuters'", "Reuters"),
        ("People’s Daily", "People's Daily"),
        ("O’Brien", "O'Brien"),
        ("McDonald's", "McDonald's"),
        ("(Hamas", "Hamas"),
        ("Islamic State (IS)", "Islamic State (IS)"),
        ("(NATO)", "NATO"),
        ("Kim,", "Kim"),
        ("—Kim Jong-un.", "Kim Jong-un"),
        ("U.S.", "U.S."),
        ("Martin Luther King Jr.", "Martin Luther King Jr."),
        ("Kim  Jong-un\n", "Kim Jong-un"),
        ("the Hague", "the Hague"),
        ("$5 million", "$5 million"),
        ("50%", "50%"),
        ("the", ""),
        ('"', ""),
        ("...", ""),
        ("", ""),
    ],
)
def test_clean_name(surface, expected):
    assert clean_name(surface) == expected


def test_clean_name_strips_titles_of_persons_only():
    assert clean_name("Mr. Kim", person=True) == "Kim"
    assert clean_name("Dr Soo Kim's", person=True) == "Soo Kim"
    assert clean_name("Mr. Kim") == "Mr. Kim"


def test_clean_name_never_leaves_quote_marks():
    for surface in ['"Kim', 'Kim"', "‘Kim”", "«Kim»", "the „Kim“ ‘plan’", "'Kim'"]:
        assert not QUOTE_MARKS & set(clean_name(surface)), surface
        assert "'" not in clean_name(surface), surface


# --- span extension -------------------------------------------------------------
def test_extend_span_takes_the_rest_of_a_hyphenated_name():
    text = "Analyst Moon Seong-mook from the institute"
    start = text.index("Moon")
    assert extend_span(text, start, start + len("Moon Seong")) == (
        start,
        start + len("Moon Seong-mook"),
    )


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("leader Kim Jong-un said", "Kim Jong", "Kim Jong-un"),
        ("father Kim Jong-Il died", "Kim Jong", "Kim Jong-Il"),
        ("a vaccine for Covid-19 now", "Covid", "Covid-19"),
        ("singer Sinéad O'Connor sang", "Sinéad O", "Sinéad O'Connor"),
        ("a Kim-led delegation", "Kim", "Kim"),
        ("a Russia-based group", "Russia", "Russia"),
        ("Kim's presence", "Kim", "Kim"),
        ("Kim’s presence", "Kim", "Kim"),
        ("China-US talks", "China", "China"),
        ("U.S.-China talks", "U.S.", "U.S."),
        ("Jean-Pierre Raffarin spoke", "Pierre Raffarin", "Jean-Pierre Raffarin"),
        ("pro-Russia parties", "Russia", "Russia"),
        ("Anti-Japan rallies", "Japan", "Japan"),
    ],
)
def test_extend_span_cases(text, name, expected):
    start = text.index(name)
    new_start, new_end = extend_span(text, start, start + len(name))
    assert text[new_start:new_end] == expected


def test_extend_span_stops_at_another_entity():
    text = "The Kim-Putin summit"
    kim = text.index("Kim")
    putin = text.index("Putin")
    blocked = [(putin, putin + len("Putin"))]
    assert extend_span(text, kim, kim + 3, blocked=blocked) == (kim, kim + 3)
    assert extend_span(text, putin, putin + 5, blocked=[(kim, kim + 3)]) == (putin, putin + 5)


def test_extend_span_leaves_bad_offsets_alone():
    assert extend_span("", 0, 0) == (0, 0)
    assert extend_span("abc", 2, 9) == (2, 9)
    assert extend_span("abc-de", 0, 3) == (0, 6)


# --- normalisation, aliases, ids ---------------------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("U.S.", "us"),
        ("US", "us"),
        ("Donald J. Trump", "donald j trump"),
        ("People’s  Daily", "people's daily"),
        ("ＮＡＴＯ", "nato"),
        ("Kim\nJong-un", "kim jong-un"),
        ("STRASSE", "strasse"),
    ],
)
def test_normalise(name, expected):
    assert normalise(name) == expected


def test_default_aliases_fold_common_names():
    table = alias_table()
    for alias in ["U.S.", "US", "USA", "United States of America", "United States"]:
        assert apply_alias(clean_name(alias), table) == "United States", alias
    for alias in ["U.N.", "UN", "United Nations"]:
        assert apply_alias(clean_name(alias), table) == "United Nations", alias
    for alias in ["U.K.", "UK", "Britain", "Great Britain"]:
        assert apply_alias(clean_name(alias), table) == "United Kingdom", alias
    # Deliberately not folded: they name something else.
    for name in ["America", "England", "Republic of China", "Korea"]:
        assert apply_alias(name, table) == name
    assert apply_alias("Nato", table) == "NATO"
    assert apply_alias("WWII", table) == "World War II"


def test_user_aliases_merge_over_defaults():
    table = alias_table({"the Beeb": "BBC", "UK": "Britain"})
    assert apply_alias("Beeb", table) == "BBC"
    assert apply_alias("U.K.", table) == "Britain"
    assert apply_alias("U.S.", table) == "United States"
    assert "Beeb" not in DEFAULT_ALIASES  # the defaults are not mutated
    assert alias_table()["uk"] == ("United Kingdom", None)


def test_kinds_group_labels():
    assert kind_of("PERSON") == "person"
    assert kind_of("GPE") == kind_of("LOC") == kind_of("FAC") == "place"
    assert kind_of("ORG") == "org"
    assert kind_of("NORP") == "group"
    assert kind_of("WORK_OF_ART") == "work_of_art"


def test_entity_id_is_a_stable_short_sha256():
    expected = hashlib.sha256(b"person\x1fangela merkel").hexdigest()[:16]
    assert entity_id("person", "Angela Merkel") == expected
    assert entity_id("person", "ANGELA  MERKEL") == expected
    assert entity_id("place", "U.S.") == entity_id("place", "US")
    assert entity_id("org", "Angela Merkel") != expected


def test_entity_id_does_not_depend_on_the_hash_seed():
    code = "from transforms.lib.entities import entity_id; print(entity_id('person', 'Xi Jinping'))"
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        outputs.add(result.stdout.strip())
    assert outputs == {entity_id("person", "Xi Jinping")}


# --- within-article canonical names ------------------------------------------------
def test_fits_words():
    assert fits_words("Kim", "Kim Jong-un")
    assert fits_words("Kim", "Soo Kim")
    assert fits_words("Jong-un", "Kim Jong-un")
    assert fits_words("merkel", "Angela Merkel")
    assert not fits_words("Jong", "Kim Jong-un")
    assert not fits_words("Kim Jong-un", "Kim Jong-un")
    assert not fits_words("Jong-un Kim", "Kim Jong-un")


def test_fits_acronym():
    assert fits_acronym("ICC", "International Criminal Court")
    assert fits_acronym("C.P.C.", "Communist Party of China")
    assert fits_acronym("DPRK", "Democratic People's Republic of Korea")
    assert not fits_acronym("Icc", "International Criminal Court")
    assert not fits_acronym("IC", "International Criminal Court")
    assert not fits_acronym("ICC", "ICC")


def _persons(*names):
    return [("person", name) for name in names]


def test_short_name_takes_the_only_full_name_it_fits():
    got = resolve_short_names(_persons("Angela Merkel", "Merkel", "Putin", "Vladimir Putin"))
    assert got == ["Angela Merkel", "Angela Merkel", "Vladimir Putin", "Vladimir Putin"]


def test_ambiguous_short_name_prefers_first_introduced_and_most_mentioned():
    names = _persons("Kim Jong-un", "Kim", "Kim Jong-un", "Kim Jong-Il", "Soo Kim", "Kim", "Soo")
    assert resolve_short_names(names) == [
        "Kim Jong-un",
        "Kim Jong-un",
        "Kim Jong-un",
        "Kim Jong-Il",
        "Soo Kim",
        "Kim Jong-un",  # "Kim's presence" in Soo Kim's own sentence
        "Soo Kim",  # "Soo" fits only Soo Kim
    ]


def test_ambiguous_short_name_counts_unambiguous_short_forms():
    # Both introduced once in full; "Jane" fits only Jane Smith and tips the balance.
    names = _persons("John Smith", "Jane Smith", "Jane", "Jane", "Smith")
    assert resolve_short_names(names)[-1] == "Jane Smith"


def test_ambiguous_short_name_prefers_names_introduced_before_it():
    names = _persons("Soo Kim", "Kim", "Kim Jong-un", "Kim Jong-un", "Kim")
    assert resolve_short_names(names) == [
        "Soo Kim",
        "Soo Kim",  # only Soo Kim had been introduced
        "Kim Jong-un",
        "Kim Jong-un",
        "Kim Jong-un",  # both introduced; Kim Jong-un is mentioned more
    ]


def test_short_name_may_point_forward_when_nothing_came_before():
    assert resolve_short_names(_persons("Xi", "Xi Jinping")) == ["Xi Jinping", "Xi Jinping"]


def test_short_names_need_the_same_kind_and_places_are_not_matched_by_words():
    mentions = [("person", "Washington"), ("place", "George Washington Bridge")]
    assert resolve_short_names(mentions) == ["Washington", "George Washington Bridge"]
    places = [("place", "North Korea"), ("place", "Korea"), ("place", "South Sudan")]
    assert resolve_short_names([*places, ("place", "Sudan")]) == [
        "North Korea",
        "Korea",
        "South Sudan",
        "Sudan",
    ]


def test_organisations_resolve_acronyms_only():
    orgs = [("org", "International Criminal Court"), ("org", "ICC"), ("org", "Court")]
    assert resolve_short_names(orgs) == ["International Criminal Court"] * 2 + ["Court"]


def test_resolution_keeps_the_first_spelling_of_a_name():
    assert resolve_short_names(_persons("Kim Jong-un", "KIM JONG-UN", "Kim")) == ["Kim Jong-un"] * 3


def test_resolution_of_nothing():
    assert resolve_short_names([]) == []


# --- rows from plain mentions (no model) -------------------------------------------
def _mention(text, name, label, *, sentence=0, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(name, start + 1)
    return Mention(name, label, start, start + len(name), sentence)


def test_rows_from_mentions_apply_every_rule():
    text = (
        'Analyst Moon Seong-mook said the "Axis of Upheaval was real. '
        "The U.S. agreed, and Moon's view spread to the United States. 2011 was cited."
    )
    mentions = [
        _mention(text, "Moon Seong", "PERSON"),
        _mention(text, 'the "Axis of Upheaval', "LAW"),
        _mention(text, "The U.S.", "GPE", sentence=1),
        _mention(text, "Moon", "PERSON", sentence=1, occurrence=1),
        _mention(text, "the United States", "GPE", sentence=1),
        _mention(text, "2011", "DATE", sentence=2),
    ]
    rows = rows_from_mentions(text, mentions)
    assert [set(row) for row in rows] == [ROW_KEYS] * 5
    got = [(r["text"], r["canonical"], r["label"], r["sentence_index"]) for r in rows]
    assert got == [
        ("Moon Seong-mook", "Moon Seong-mook", "PERSON", 0),
        ('the "Axis of Upheaval', "Axis of Upheaval", "LAW", 0),
        ("The U.S.", "United States", "GPE", 1),
        ("Moon", "Moon Seong-mook", "PERSON", 1),
        ("the United States", "United States", "GPE", 1),
    ]
    for row in rows:
        assert text[row["start_char"] : row["end_char"]] == row["text"]
    assert rows[0]["entity_id"] == rows[3]["entity_id"] == entity_id("person", "Moon Seong-mook")
    assert rows[2]["entity_id"] == rows[4]["entity_id"]


def test_rows_from_mentions_labels_and_empty_names():
    text = 'In 2011 "the" said "'
    mentions = [
        _mention(text, "2011", "DATE"),
        _mention(text, '"the"', "ORG"),
        Mention('"', "PERSON", len(text) - 1, len(text), 0),
    ]
    assert rows_from_mentions(text, mentions) == []
    dates = rows_from_mentions(text, mentions, labels={"DATE"})
    assert [(r["canonical"], r["label"]) for r in dates] == [("2011", "DATE")]
    assert dates[0]["entity_id"] == entity_id("date", "2011")


# --- the real model -------------------------------------------------------------------
def _seed_variants():
    raw = SEED.read_text(encoding="utf-8")
    joined = "\n\n".join(line for line in raw.splitlines() if line.strip())
    return {"raw": raw, "paragraphs": joined}


@pytest.fixture(scope="module", params=["raw", "paragraphs"])
def seed_rows(request, nlp):
    doc = nlp(_seed_variants()[request.param])
    return doc, entity_rows(doc)


def _by_text(rows, text):
    return [row for row in rows if row["text"] == text]


def test_seed_rows_are_well_formed(seed_rows):
    doc, rows = seed_rows
    sentences = list(doc.sents)
    assert rows
    assert [r["start_char"] for r in rows] == sorted(r["start_char"] for r in rows)
    for row in rows:
        assert set(row) == ROW_KEYS
        assert doc.text[row["start_char"] : row["end_char"]] == row["text"]
        sentence = sentences[row["sentence_index"]]
        assert sentence.start_char <= row["start_char"] < sentence.end_char
        assert row["label"] in DEFAULT_LABELS
        assert len(row["entity_id"]) == 16
        assert not QUOTE_MARKS & set(row["canonical"]), row


def test_seed_kim_means_kim_jong_un_and_soo_kim_stays(seed_rows):
    doc, rows = seed_rows
    kims = [r for r in _by_text(rows, "Kim") if r["label"] == "PERSON"]
    assert len(kims) >= 8
    assert {r["canonical"] for r in kims} == {"Kim Jong-un"}
    assert len({r["entity_id"] for r in kims + _by_text(rows, "Kim Jong-un")}) == 1

    (soo,) = _by_text(rows, "Soo Kim")
    assert soo["canonical"] == "Soo Kim"
    assert soo["entity_id"] != kims[0]["entity_id"]
    presence = doc.text.index("Kim's presence")
    (in_soo_sentence,) = [r for r in kims if r["start_char"] == presence]
    assert in_soo_sentence["sentence_index"] == soo["sentence_index"]
    assert in_soo_sentence["canonical"] == "Kim Jong-un"
    (father,) = _by_text(rows, "Kim Jong-Il")
    assert father["canonical"] == "Kim Jong-Il"


def test_seed_other_short_names_and_spans(seed_rows):
    doc, rows = seed_rows
    assert {r["canonical"] for r in _by_text(rows, "Xi")} == {"Xi Jinping"}
    assert {r["canonical"] for r in _by_text(rows, "Putin")} == {"Vladimir Putin"}
    assert {r["canonical"] for r in _by_text(rows, "Trump") if r["label"] == "PERSON"} == {
        "Donald Trump"
    }
    world_war = _by_text(rows, "the World War II")
    assert world_war
    assert {r["canonical"] for r in world_war} == {"World War II"}
    assert len({r["entity_id"] for r in world_war + _by_text(rows, "World War II")}) == 1

    (moon,) = [r for r in rows if r["text"].startswith("Moon")]
    assert moon["text"] == moon["canonical"] == "Moon Seong-mook"
    assert moon["start_char"] == doc.text.index("Moon Seong-mook")
    assert moon["end_char"] == moon["start_char"] + len("Moon Seong-mook")

    canonicals = {r["canonical"] for r in rows}
    assert "War of Resistance Against Japanese Aggression" in canonicals
    assert "Axis of Upheaval" in canonicals
    assert {r["canonical"] for r in _by_text(rows, "U.S.")} == {"United States"}


def test_seed_excludes_numbers_and_dates_by_default(nlp, seed_rows):
    doc, rows = seed_rows
    assert not {"DATE", "CARDINAL", "ORDINAL"} & {r["label"] for r in rows}
    dates = entity_rows(doc, labels={"DATE", "ORDINAL"})
    assert {r["label"] for r in dates} == {"DATE", "ORDINAL"}
    assert any(r["canonical"] == "2011" for r in dates)
    persons = entity_rows(doc, labels=["PERSON"])
    assert persons == [r for r in rows if r["label"] == "PERSON"]


def test_one_person_gets_one_id_across_articles_and_runs(nlp):
    first = "Angela Merkel met French officials in Berlin on Monday. Merkel said talks went well."
    second = "Former German chancellor Angela Merkel visited the U.S. last week."
    third = "The United States announced new sanctions on Tuesday."
    runs = [[entity_rows(nlp(text)) for text in (first, second, third)] for _ in range(2)]
    assert runs[0] == runs[1]
    rows_1, rows_2, rows_3 = runs[0]
    merkel = {r["entity_id"] for r in rows_1 + rows_2 if r["canonical"] == "Angela Merkel"}
    assert len(merkel) == 1
    assert merkel == {entity_id("person", "Angela Merkel")}
    assert any(r["text"] == "Merkel" and r["canonical"] == "Angela Merkel" for r in rows_1)
    us = [r for r in rows_2 + rows_3 if r["canonical"] == "United States"]
    assert {r["text"] for r in us} == {"U.S.", "The United States"}
    assert len({r["entity_id"] for r in us}) == 1


def test_user_aliases_reach_the_rows(nlp):
    rows = entity_rows(nlp("Officials at the BBC spoke in London."), aliases={"BBC": "The BBC"})
    assert [r["canonical"] for r in rows if r["label"] == "ORG"] == ["The BBC"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "...!?",
        '"',
        "\u200b\ufeff\u00a0",
        "“Kim”—‘Moon’s’ (Putin",
        "ＫＩＭ ＪＯＮＧ-ＵＮ met 𝔄𝔟𝔠 Zoë d’Arc’s “résumé” in 東京.",
        "-" * 50 + "'s",
    ],
)
def test_entity_rows_never_raises(nlp, text):
    doc = nlp(text)
    for row in entity_rows(doc, labels=set(nlp.get_pipe("ner").labels)):
        assert set(row) == ROW_KEYS
        assert row["canonical"]
        assert not QUOTE_MARKS & set(row["canonical"])


def test_entity_rows_without_sentence_boundaries():
    spacy = pytest.importorskip("spacy")
    doc = spacy.blank("en")("Angela Merkel and Merkel")
    doc.ents = [doc.char_span(0, 13, label="PERSON"), doc.char_span(18, 24, label="PERSON")]
    rows = entity_rows(doc)
    assert [(r["canonical"], r["sentence_index"]) for r in rows] == [
        ("Angela Merkel", 0),
        ("Angela Merkel", 0),
    ]


# --- titles, epithets, one person per article (issue 15) ------------------------------------
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Sen. Bob Corker", ("Sen.", "Bob Corker")),
        ("Councillor Dana Whitfield", ("Councillor", "Dana Whitfield")),
        ("former Secretary of State Helena Marsh", ("former Secretary of State", "Helena Marsh")),
        ("Democratic Rep. Ada Quill", ("Democratic Rep.", "Ada Quill")),
        ("then-Gov. Ada Quill", ("then-Gov.", "Ada Quill")),
        ("Prime Minister Ada Quill", ("Prime Minister", "Ada Quill")),
        ("Dr. Ada Quill", ("Dr.", "Ada Quill")),
        ("Crooked Helena Marsh", (None, "Helena Marsh")),
        ("Lyin' Ada Quill", (None, "Ada Quill")),
        ("Mr Quill", ("Mr", "Quill")),
        ("Major", (None, "Major")),  # nothing left: a name, not a title
        ("President", (None, "President")),
        ("Ada Quill", (None, "Ada Quill")),
    ],
)
def test_split_title(name, expected):
    assert split_title(name) == expected
    assert clean_name(name, person=True) == expected[1]


@pytest.mark.parametrize(
    ("short", "full", "same"),
    [
        ("Donald Trump", "Donald J. Trump", True),
        ("Margaret Ellison", "Margaret J. Ellison", True),
        ("Margaret J. Ellison", "Margaret Jane Ellison", True),
        ("Hillary Clinton", "Hillary Rodham Clinton", True),
        ("George W. Bush", "George H. W. Bush", False),
        ("Carl Voss", "Carl Voss Jr.", False),
        ("Ada Quill", "Ada Quill", True),
        ("Quill", "Ada Quill", False),
    ],
)
def test_same_person(short, full, same):
    assert same_person(short, full) is same


def _rows(text, *spans):
    """Rows of ``text`` for ``(surface, label)`` spans, each found at its first place after the
    previous one."""
    mentions, at = [], 0
    for surface, label in spans:
        start = text.index(surface, at)
        mentions.append(Mention(surface, label, start, start + len(surface), 0))
        at = start + len(surface)
    return rows_from_mentions(text, mentions)


def test_a_title_never_starts_a_person_canonical():
    text = "Councillor Dana Whitfield spoke. Dana Whitfield left."
    rows = _rows(text, ("Councillor Dana Whitfield", "PERSON"), ("Dana Whitfield", "PERSON"))
    assert [r["canonical"] for r in rows] == ["Dana Whitfield", "Dana Whitfield"]
    assert [r["title"] for r in rows] == ["Councillor", None]
    assert rows[0]["entity_id"] == rows[1]["entity_id"] == entity_id("person", "Dana Whitfield")


def test_initials_fold_within_an_article():
    text = "Margaret J. Ellison won. Margaret Ellison thanked Ellison's team."
    rows = _rows(
        text,
        ("Margaret J. Ellison", "PERSON"),
        ("Margaret Ellison", "PERSON"),
        ("Ellison", "ORG"),
    )
    assert {r["entity_id"] for r in rows} == {entity_id("person", "Margaret J. Ellison")}


def test_a_surname_with_another_label_is_the_person_of_the_article():
    text = "Ada Quill met donors. Quill said the Quill campaign would win. Quill allies cheered."
    rows = _rows(
        text,
        ("Ada Quill", "PERSON"),
        ("Quill", "ORG"),
        ("Quill", "ORG"),
        ("Quill", "NORP"),
    )
    assert [(r["label"], r["model_label"], r["canonical"]) for r in rows[1:]] == [
        ("PERSON", "ORG", "Ada Quill"),
        ("PERSON", "ORG", "Ada Quill"),
        ("PERSON", "NORP", "Ada Quill"),
    ]
    assert len({r["entity_id"] for r in rows}) == 1


def test_a_place_after_a_preposition_of_place_stays_a_place():
    text = "Rosa Lindqvist flew in. In Lindqvist, the town hall was full. Lindqvist spoke."
    rows = _rows(text, ("Rosa Lindqvist", "PERSON"), ("Lindqvist", "GPE"), ("Lindqvist", "GPE"))
    assert [r["label"] for r in rows] == ["PERSON", "GPE", "PERSON"]


def test_a_personal_title_makes_a_person_whatever_the_label():
    rows = _rows("Sen. Quill voted no.", ("Sen. Quill", "ORG"))
    assert [(r["label"], r["canonical"], r["title"]) for r in rows] == [("PERSON", "Quill", "Sen.")]
    # "General" opens organisations too: no title rule for it.
    assert _rows("General Motors fell.", ("General Motors", "ORG"))[0]["label"] == "ORG"


def test_a_person_ending_in_an_organisation_of_the_article_is_that_organisation():
    text = "The Ostvale DLP met. The DLP said no. Ada Quill of the Ostvale DLP agreed."
    rows = _rows(text, ("Ostvale DLP", "PERSON"), ("DLP", "ORG"), ("Ada Quill", "PERSON"))
    assert [r["label"] for r in rows] == ["ORG", "ORG", "PERSON"]


def test_a_name_with_several_labels_takes_the_commonest():
    text = "The Harbour Board met. Harbour Board members and the Harbour Board agreed."
    rows = _rows(
        text, ("Harbour Board", "PERSON"), ("Harbour Board", "ORG"), ("Harbour Board", "ORG")
    )
    assert [r["label"] for r in rows] == ["ORG", "ORG", "ORG"]
    assert [r["model_label"] for r in rows] == ["PERSON", "ORG", "ORG"]


def test_platforms_are_organisations():
    rows = _rows("She wrote on Twitter.", ("Twitter", "PERSON"))
    assert [(r["label"], r["model_label"]) for r in rows] == [("ORG", "PERSON")]


def test_user_aliases_with_a_label():
    aliases = read_aliases(
        ["alias,canonical,label", "# comment", "", "the Gaffer,Ada Quill,PERSON", "Beeb,BBC,"]
    )
    assert aliases == {"the Gaffer": ("Ada Quill", "PERSON"), "Beeb": ("BBC", None)}
    text = "The Gaffer spoke to the Beeb."
    mentions = [
        Mention("The Gaffer", "ORG", 0, 10, 0),
        Mention("Beeb", "ORG", text.index("Beeb"), text.index("Beeb") + 4, 0),
    ]
    rows = rows_from_mentions(text, mentions, aliases=aliases)
    assert [(r["canonical"], r["label"]) for r in rows] == [("Ada Quill", "PERSON"), ("BBC", "ORG")]
    assert rows[0]["entity_id"] == entity_id("person", "Ada Quill")


@pytest.mark.parametrize(
    "lines", [["Quill"], [",Ada Quill,PERSON"], ["Quill,Ada Quill,person name"]]
)
def test_bad_alias_lines(lines):
    with pytest.raises(AliasFileError, match="line 1"):
        read_aliases(lines)


def test_the_whitfield_seed_gives_one_id(nlp):
    texts = [
        "Councillor Dana Whitfield said the change responds to requests from students.",
        '"This line will connect thirty thousand people to the waterfront," said Councillor '
        "Dana Whitfield, who chairs the transport committee. Dana Whitfield is a councillor.",
    ]
    ids = {
        (row["canonical"], row["entity_id"])
        for text in texts
        for row in entity_rows(nlp(text))
        if row["label"] == "PERSON"
    }
    assert ids == {("Dana Whitfield", entity_id("person", "Dana Whitfield"))}
