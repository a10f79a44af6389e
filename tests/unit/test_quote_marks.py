"""Quote-mark pairing and speech-or-name decisions on plain strings: no model needed."""

import re

import pytest

from transforms.lib.quotes.classify import classify
from transforms.lib.quotes.marks import mark_role, quote_segments
from transforms.lib.vocabulary import (
    APOSTROPHE_LIKE,
    CLOSING_MARKS,
    DOUBLE_QUOTE_MARKS,
    OPENING_MARKS,
    SINGLE_QUOTE_MARKS,
)


def contents(text: str) -> list[str]:
    return [text[seg.start : seg.end] for seg in quote_segments(text)]


@pytest.mark.parametrize(
    ("opening", "closing"),
    [
        ('"', '"'),
        ("“", "”"),
        ("„", "“"),  # German: the closing mark is shaped like an English opener
        ("«", "»"),
        ("〝", "〞"),
        ("＂", "＂"),
        ("'", "'"),
        ("‘", "’"),
    ],
)
def test_straight_and_curly_marks_pair(opening, closing):
    text = f"{opening}We will win the league,{closing} Ivo Brandt said."
    [seg] = quote_segments(text)
    assert (seg.open_at, seg.close_at) == (0, len(opening) + 23)
    assert text[seg.start : seg.end] == "We will win the league,"


def test_content_leaves_out_the_marks_and_edge_spaces():
    text = 'He said: " We will win. " Then he left.'
    [seg] = quote_segments(text)
    assert text[seg.open_at] == text[seg.close_at] == '"'
    assert text[seg.start : seg.end] == "We will win."


def test_single_quote_nested_in_double_belongs_to_the_outer_quote():
    text = "“When the referee told me ‘that was no foul’ I could not believe it,” Brandt said."
    assert contents(text) == ["When the referee told me ‘that was no foul’ I could not believe it,"]


def test_double_quote_nested_in_single_belongs_to_the_outer_quote():
    text = "‘He called it “a disgrace” and walked off,’ the coach said."
    assert contents(text) == ["He called it “a disgrace” and walked off,"]


@pytest.mark.parametrize(
    "text",
    [
        "The players' wages rose in the '90s and the club didn't pay O'Brien.",
        "They play rock 'n' roll till dawn, rockin' and rollin'.",
        "Tell 'em it's over 'til Monday, 'cause the ’90s are gone.",
        "He stood 5′11″ tall in the Smiths’ garden.",
    ],
)
def test_apostrophes_and_elisions_open_no_quote(text):
    assert quote_segments(text) == []


def test_mark_roles():
    text = "O'Brien said 'no' in the '90s."
    assert mark_role(text, text.index("'"), 0, len(text)) is None  # inside a word
    assert mark_role(text, text.index("'no"), 0, len(text)) == "open"
    assert mark_role(text, text.index("' in"), 0, len(text)) == "close"
    assert mark_role(text, text.index("'90s"), 0, len(text)) is None  # an elision


def test_unbalanced_marks_keep_the_sound_quote():
    text = 'He left." Then Brandt said: "We need a new coach before the winter break." "Odd'
    assert contents(text) == ["We need a new coach before the winter break."]


def test_unclosed_quote_is_kept_only_when_it_reads_as_a_sentence():
    assert contents("Brandt said: “We will win the league this year.") == [
        "We will win the league this year."
    ]
    assert contents("Brandt said “we will") == []


def test_quote_never_crosses_a_line_break():
    text = "He said “we will\n\nwin it all” and left."
    assert contents(text) == []


def test_quote_over_paragraphs_reopens_each_paragraph():
    text = (
        "Lena Fox told the nurses' union:\n\n"
        "“We have listened to every one of you this year.\n\n"
        "“We will pay for the night shifts.\n\n"
        "“And we will start in January.”\n\n"
        "The union welcomed the “plan”."
    )
    segments = quote_segments(text)
    assert [text[s.start : s.end] for s in segments] == [
        "We have listened to every one of you this year.",
        "We will pay for the night shifts.",
        "And we will start in January.",
        "plan",
    ]
    assert [s.paragraph for s in segments] == [1, 2, 3, 4]
    assert [s.close_at is None for s in segments] == [True, True, False, False]
    assert len({s.group for s in segments[:3]}) == 1  # one quote in three paragraphs
    assert segments[3].group != segments[0].group


@pytest.mark.parametrize(
    "text", ["", "\n\n", '"', '""', "“”", "«", "'''", '" " "', "“Open", "close”", "a\x00b “c"]
)
def test_odd_texts_never_raise(text):
    for seg in quote_segments(text):
        assert 0 <= seg.start < seg.end <= len(text)


# --- speech or name ---------------------------------------------------------------------------


def kind_of(text: str) -> str | None:
    [seg] = quote_segments(text)
    return classify(text, seg)


def test_quoted_sentence_is_direct():
    assert kind_of('"We will win the league," Brandt said.') == "direct"
    assert kind_of("Brandt said: “we will win.”") == "direct"


def test_quoted_fragment_is_partial():
    assert kind_of("She described the plan as “a step backwards” on Monday.") == "partial"


def test_capitalised_short_run_is_a_name():
    assert kind_of("The club plays in the “Northern Premier League” this year.") == "name"
    assert kind_of("The fans sang “War of the Roses” all night.") == "name"


def test_naming_words_make_a_quote_no_speech():
    assert kind_of("Critics of the so-called “harbor tax” say it hurts fishermen.") is None
    assert kind_of("The operation, dubbed “a walk in the park”, failed.") is None
    assert kind_of("Brandt's book, “A Season in the Rain,” sold well.") is None


# --- the shared vocabulary --------------------------------------------------------------------


def test_mark_sets_are_consistent():
    assert set(OPENING_MARKS) | set(CLOSING_MARKS) <= set(DOUBLE_QUOTE_MARKS + SINGLE_QUOTE_MARKS)
    assert not set(OPENING_MARKS) & set(CLOSING_MARKS)
    assert not set(DOUBLE_QUOTE_MARKS) & set(SINGLE_QUOTE_MARKS)
    assert set(SINGLE_QUOTE_MARKS) - set(APOSTROPHE_LIKE) == set("‹›")
    for marks in (DOUBLE_QUOTE_MARKS, SINGLE_QUOTE_MARKS, APOSTROPHE_LIKE):
        assert len(re.findall(f"[{re.escape(marks)}]", marks)) == len(marks)
