"""Attribution rules pinned on hand-built parses: ``spacy.tokens.Doc`` with heads, deps, tags
and entities set by hand, so each rule is tested without a model (and without its mistakes).

Each token is ``(word, head, dep, pos, entity)``: ``head`` is the absolute index of the
token's head (its own index for the root), ``entity`` an IOB tag such as ``B-PERSON``.
Sentence boundaries follow from the parse, one root per sentence.
"""

import pytest
from spacy.lang.en import English
from spacy.tokens import Doc

from tests.helpers import parsed
from transforms.lib.quotes import find_quotes

# English lexical attributes (lower case, punctuation flags) that the rules read; a bare
# Vocab() leaves them empty. Still no trained pipeline.
VOCAB = English().vocab


def entity_rows(doc: Doc) -> list[dict]:
    """Entity rows as the pipeline shapes them, with canonical = the mention text."""
    return [
        {
            "text": ent.text,
            "canonical": ent.text,
            "label": ent.label_,
            "start_char": ent.start_char,
            "end_char": ent.end_char,
            "entity_id": f"{ent.label_}:{ent.text}",
        }
        for ent in doc.ents
    ]


def only_quote(doc: Doc) -> dict:
    [quote] = find_quotes(doc, entity_rows(doc))
    return quote


def speaker_of(quote: dict) -> tuple:
    keys = ("speaker", "speaker_mention", "speaker_entity_id", "cue", "kind")
    return tuple(quote[key] for key in keys)


def we_will_win(cue: int) -> list[tuple[str, int, str, str, str]]:
    """``"We will win,`` as tokens 0-4, its clause hanging from the cue verb at ``cue``."""
    return [
        ('"', 3, "punct", "PUNCT", "O"),
        ("We", 3, "nsubj", "PRON", "O"),
        ("will", 3, "aux", "AUX", "O"),
        ("win", cue, "ccomp", "VERB", "O"),
        (",", 3, "punct", "PUNCT", "O"),
    ]


# "We will win," Lena Fox said.
QUOTE_THEN_CUE = [
    *we_will_win(cue=8),
    ('"', 8, "punct", "PUNCT", "O"),
    ("Lena", 7, "compound", "PROPN", "B-PERSON"),
    ("Fox", 8, "nsubj", "PROPN", "I-PERSON"),
    ("said", 8, "ROOT", "VERB", "O"),
    (".", 8, "punct", "PUNCT", "O"),
]


def test_cue_after_the_quote_names_the_speaker():
    text = '"We will win," Lena Fox said.'
    quote = only_quote(parsed(text, QUOTE_THEN_CUE))
    assert quote["text"] == "We will win,"
    assert speaker_of(quote) == ("Lena Fox", "Lena Fox", "PERSON:Lena Fox", "said", "direct")
    assert (quote["speaker_start"], quote["speaker_end"]) == (15, 23)
    assert quote["sentence_index"] == 0


def test_without_a_cue_verb_the_quote_has_no_speaker():
    text = '"We will win," Lena Fox sang.'
    tokens = [*QUOTE_THEN_CUE[:8], ("sang", 8, "ROOT", "VERB", "O"), QUOTE_THEN_CUE[9]]
    quote = only_quote(parsed(text, tokens))
    assert speaker_of(quote) == (None, None, None, None, "direct")


def test_custom_cues_replace_the_defaults():
    doc = parsed('"We will win," Lena Fox said.', QUOTE_THEN_CUE)
    [quote] = find_quotes(doc, entity_rows(doc), cues={"sang"})
    assert quote["cue"] is None


# Lena Fox met the nurses. "We will win," she said.
PRONOUN_AFTER_A_NAME = [
    ("Lena", 1, "compound", "PROPN", "B-PERSON"),
    ("Fox", 2, "nsubj", "PROPN", "I-PERSON"),
    ("met", 2, "ROOT", "VERB", "O"),
    ("the", 4, "det", "DET", "O"),
    ("nurses", 2, "dobj", "NOUN", "O"),
    (".", 2, "punct", "PUNCT", "O"),
    ('"', 9, "punct", "PUNCT", "O"),
    ("We", 9, "nsubj", "PRON", "O"),
    ("will", 9, "aux", "AUX", "O"),
    ("win", 13, "ccomp", "VERB", "O"),
    (",", 9, "punct", "PUNCT", "O"),
    ('"', 13, "punct", "PUNCT", "O"),
    ("she", 13, "nsubj", "PRON", "O"),
    ("said", 13, "ROOT", "VERB", "O"),
    (".", 13, "punct", "PUNCT", "O"),
]


def test_pronoun_speaker_resolves_to_the_earlier_subject():
    text = 'Lena Fox met the nurses. "We will win," she said.'
    doc = parsed(text, PRONOUN_AFTER_A_NAME)
    assert [s.start for s in doc.sents] == [0, 6]
    quote = only_quote(doc)
    assert speaker_of(quote) == ("Lena Fox", "she", "PERSON:Lena Fox", "said", "direct")
    assert text[quote["speaker_start"] : quote["speaker_end"]] == "she"
    assert quote["sentence_index"] == 1


def test_pronoun_without_an_antecedent_stays_unresolved():
    text = 'The vote came late. "We will win," she said.'
    tokens = [
        ("The", 1, "det", "DET", "O"),
        ("vote", 2, "nsubj", "NOUN", "O"),
        ("came", 2, "ROOT", "VERB", "O"),
        ("late", 2, "advmod", "ADV", "O"),
        *PRONOUN_AFTER_A_NAME[5:],
    ]
    quote = only_quote(parsed(text, tokens))
    assert speaker_of(quote) == (None, "she", None, "said", "direct")


# Lena Fox said: "We will win the league."
COLON_AFTER_CUE = [
    ("Lena", 1, "compound", "PROPN", "B-PERSON"),
    ("Fox", 2, "nsubj", "PROPN", "I-PERSON"),
    ("said", 2, "ROOT", "VERB", "O"),
    (":", 2, "punct", "PUNCT", "O"),
    ('"', 7, "punct", "PUNCT", "O"),
    ("We", 7, "nsubj", "PRON", "O"),
    ("will", 7, "aux", "AUX", "O"),
    ("win", 2, "ccomp", "VERB", "O"),
    ("the", 9, "det", "DET", "O"),
    ("league", 7, "dobj", "NOUN", "O"),
    (".", 7, "punct", "PUNCT", "O"),
    ('"', 7, "punct", "PUNCT", "O"),
]


def test_cue_and_colon_before_the_quote():
    text = 'Lena Fox said: "We will win the league."'
    doc = parsed(text, COLON_AFTER_CUE)
    quote = only_quote(doc)  # the reported clause is the direct quote: no indirect row
    assert quote["text"] == "We will win the league."
    assert speaker_of(quote) == ("Lena Fox", "Lena Fox", "PERSON:Lena Fox", "said", "direct")


def test_colon_after_a_subject_and_any_verb():
    text = 'Lena Fox went further: "We will win the league."'
    tokens = [
        ("Lena", 1, "compound", "PROPN", "B-PERSON"),
        ("Fox", 2, "nsubj", "PROPN", "I-PERSON"),
        ("went", 2, "ROOT", "VERB", "O"),
        ("further", 2, "advmod", "ADV", "O"),
        (":", 2, "punct", "PUNCT", "O"),
        ('"', 8, "punct", "PUNCT", "O"),
        ("We", 8, "nsubj", "PRON", "O"),
        ("will", 8, "aux", "AUX", "O"),
        ("win", 2, "ccomp", "VERB", "O"),
        ("the", 10, "det", "DET", "O"),
        ("league", 8, "dobj", "NOUN", "O"),
        (".", 8, "punct", "PUNCT", "O"),
        ('"', 8, "punct", "PUNCT", "O"),
    ]
    quote = only_quote(parsed(text, tokens))
    # the speaker comes from the colon frame, not from a cue verb: cue stays None
    assert speaker_of(quote) == ("Lena Fox", "Lena Fox", "PERSON:Lena Fox", None, "direct")


# According to Lena Fox, the hospital will close in March.
ACCORDING_TO = [
    ("According", 8, "prep", "VERB", "O"),
    ("to", 0, "prep", "ADP", "O"),
    ("Lena", 3, "compound", "PROPN", "B-PERSON"),
    ("Fox", 1, "pobj", "PROPN", "I-PERSON"),
    (",", 8, "punct", "PUNCT", "O"),
    ("the", 6, "det", "DET", "O"),
    ("hospital", 8, "nsubj", "NOUN", "O"),
    ("will", 8, "aux", "AUX", "O"),
    ("close", 8, "ROOT", "VERB", "O"),
    ("in", 8, "prep", "ADP", "O"),
    ("March", 9, "pobj", "PROPN", "B-DATE"),
    (".", 8, "punct", "PUNCT", "O"),
]


def test_according_to_reports_the_rest_of_the_sentence():
    text = "According to Lena Fox, the hospital will close in March."
    quote = only_quote(parsed(text, ACCORDING_TO))
    assert quote["text"] == "the hospital will close in March"
    assert speaker_of(quote) == (
        "Lena Fox",
        "Lena Fox",
        "PERSON:Lena Fox",
        "according to",
        "indirect",
    )


def test_according_to_is_a_cue_only_when_listed():
    doc = parsed("According to Lena Fox, the hospital will close in March.", ACCORDING_TO)
    assert find_quotes(doc, entity_rows(doc), cues={"said"}) == []


# "We will win," the club's chairman, Ivo Brandt, said.
APPOSITION = [
    *we_will_win(cue=14),
    ('"', 14, "punct", "PUNCT", "O"),
    ("the", 7, "det", "DET", "O"),
    ("club", 9, "poss", "NOUN", "O"),
    ("'s", 7, "case", "PART", "O"),
    ("chairman", 14, "nsubj", "NOUN", "O"),
    (",", 9, "punct", "PUNCT", "O"),
    ("Ivo", 12, "compound", "PROPN", "B-PERSON"),
    ("Brandt", 9, "appos", "PROPN", "I-PERSON"),
    (",", 9, "punct", "PUNCT", "O"),
    ("said", 14, "ROOT", "VERB", "O"),
    (".", 14, "punct", "PUNCT", "O"),
]


def test_named_apposition_names_an_unnamed_subject():
    text = '"We will win," the club\'s chairman, Ivo Brandt, said.'
    quote = only_quote(parsed(text, APPOSITION))
    assert speaker_of(quote) == ("Ivo Brandt", "Ivo Brandt", "PERSON:Ivo Brandt", "said", "direct")


def test_unnamed_subject_is_its_noun_phrase_without_the_article():
    text = '"We will win," the club\'s chairman said.'
    tokens = [
        *we_will_win(cue=10),
        ('"', 10, "punct", "PUNCT", "O"),
        ("the", 7, "det", "DET", "O"),
        ("club", 9, "poss", "NOUN", "O"),
        ("'s", 7, "case", "PART", "O"),
        ("chairman", 10, "nsubj", "NOUN", "O"),
        ("said", 10, "ROOT", "VERB", "O"),
        (".", 10, "punct", "PUNCT", "O"),
    ]
    quote = only_quote(parsed(text, tokens))
    assert speaker_of(quote) == ("club's chairman", "the club's chairman", None, "said", "direct")


@pytest.mark.parametrize("rows", [[], [{"start_char": None, "end_char": 3}]])
def test_unusable_entity_rows_leave_the_noun_as_speaker(rows):
    doc = parsed('"We will win," Lena Fox said.', QUOTE_THEN_CUE)
    [quote] = find_quotes(doc, rows)
    assert (quote["speaker"], quote["speaker_mention"]) == ("Lena Fox", "Lena Fox")
    assert quote["speaker_entity_id"] is None


def test_unparsed_doc_gives_quotes_without_speakers():
    words = ['"', "We", "will", "win", ",", '"', "Fox", "said", "."]
    spaces = [False, True, True, False, False, True, True, False, False]
    doc = Doc(VOCAB, words=words, spaces=spaces)
    [quote] = find_quotes(doc, [])
    assert quote["text"] == "We will win,"
    assert speaker_of(quote) == (None, None, None, None, "direct")
