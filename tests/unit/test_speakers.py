"""Speaker identity (issue 15): resolved names, pronouns by gender and salience, roles,
the sentence after a quote, Q&A interviews, one source per speaker, speakers as entities,
partial quotes nested in their clauses.

Rules that need a particular parse are pinned on hand-built Docs; the rest run the real
model (the ``nlp`` fixture) on invented sentences, as the pipeline would.
"""

from tests.helpers import parsed
from transforms.lib.entities import entity_id, entity_rows
from transforms.lib.quotes import find_quotes, link_speakers, nested_in


def quotes_of(nlp, text: str) -> tuple[list[dict], list[dict]]:
    doc = nlp(text)
    entities = entity_rows(doc)
    return find_quotes(doc, entities), entities


def by_cue(quotes: list[dict], cue: str) -> dict:
    (quote,) = [q for q in quotes if q["cue"] == cue]
    return quote


def test_the_speaker_span_is_one_source_never_a_list():
    # As reported by Breitbart, state media revealed that the test failed.
    text = "As reported by Breitbart, state media revealed that the test failed."
    tokens = [
        ("As", 1, "mark", "SCONJ", "O"),
        ("reported", 7, "advcl", "VERB", "O"),
        ("by", 1, "agent", "ADP", "O"),
        ("Breitbart", 6, "nmod", "PROPN", "B-ORG"),
        (",", 6, "punct", "PUNCT", "O"),
        ("state", 6, "compound", "NOUN", "O"),
        ("media", 7, "nsubj", "NOUN", "O"),
        ("revealed", 7, "ROOT", "VERB", "O"),
        ("that", 11, "mark", "SCONJ", "O"),
        ("the", 10, "det", "DET", "O"),
        ("test", 11, "nsubj", "NOUN", "O"),
        ("failed", 7, "ccomp", "VERB", "O"),
        (".", 7, "punct", "PUNCT", "O"),
    ]
    # A parse that hangs the source and the comma off the subject, as the small model may.
    doc = parsed(text, tokens)
    [quote] = find_quotes(doc, [])
    assert (quote["speaker"], quote["speaker_mention"]) == ("state media", "state media")
    assert quote["speaker_rule"] == "anonymous"


def test_breitbart_style_sentence(nlp):
    quotes, _ = quotes_of(
        nlp,
        "As reported by Breitbart, North Korean state media revealed that the missile test "
        "had been a success.",
    )
    quote = by_cue(quotes, "revealed")
    assert quote["speaker"] == "North Korean state media"
    assert "," not in quote["speaker_mention"]


def test_port_strike_pronoun_goes_to_the_subject_of_the_previous_sentence(nlp):
    text = (
        '"This agreement gives our members the safety rules they asked for," union leader '
        "Rafael Duarte said after the vote. The deal raises wages by 6 percent over two years.\n"
        "The port authority's director, Helen Brandt, said cargo would move normally again by "
        "Sunday. She warned that clearing the backlog could take two weeks."
    )
    quotes, entities = quotes_of(nlp, text)
    warned = by_cue(quotes, "warned")
    brandt = next(e for e in entities if e["canonical"] == "Helen Brandt")
    assert (warned["speaker"], warned["speaker_entity_id"]) == ("Helen Brandt", brandt["entity_id"])
    assert (warned["speaker_mention"], warned["speaker_rule"]) == ("She", "pronoun")


def test_a_pronoun_skips_a_person_of_the_other_gender(nlp):
    text = (
        "Ada Quill chairs the board. Tomas Berg said his staff were ready. "
        "She said the budget would pass."
    )
    quotes, _ = quotes_of(nlp, text)
    she = [q for q in quotes if q["speaker_mention"] == "She"]
    assert [q["speaker"] for q in she] == ["Ada Quill"]


def test_a_surname_speaker_takes_the_full_name_introduced_earlier(nlp):
    text = (
        "Helen Park, the city's planning chief, opened the meeting. Residents asked about the "
        "road. Park said the plan would go ahead in spring."
    )
    quotes, entities = quotes_of(nlp, text)
    quote = by_cue(quotes, "said")
    assert quote["speaker"] == "Helen Park"
    assert quote["speaker_entity_id"] == entity_id("person", "Helen Park")
    assert quote["speaker_entity_id"] in {e["entity_id"] for e in entities}


def test_a_role_resolves_to_whoever_the_article_introduced_in_it(nlp):
    text = (
        "Judge Ada Quill heard the case on Monday. The defence asked for more time. "
        "The judge said the trial would start in June."
    )
    quotes, _ = quotes_of(nlp, text)
    quote = by_cue(quotes, "said")
    assert (quote["speaker"], quote["speaker_mention"]) == ("Ada Quill", "The judge")
    assert (quote["speaker_entity_id"], quote["speaker_rule"]) == (
        entity_id("person", "Ada Quill"),
        "role",
    )


def test_a_description_no_one_was_introduced_in_stays_anonymous(nlp):
    quotes, _ = quotes_of(nlp, "A spokeswoman for the ministry said the talks would resume.")
    quote = by_cue(quotes, "said")
    assert quote["speaker_entity_id"] is None
    assert quote["speaker_rule"] == "anonymous"
    assert "spokeswoman" in quote["speaker"]


def test_the_sentence_after_a_quote_may_name_its_speaker(nlp):
    quotes, _ = quotes_of(
        nlp, '"We will not back down." The words came from Senator Ada Quill on Monday.'
    )
    [quote] = quotes
    assert (quote["speaker"], quote["speaker_rule"]) == ("Ada Quill", "name")
    # A next sentence that reports something of its own is not the quote's attribution.
    quotes, _ = quotes_of(nlp, '"We will not back down." Ada Quill said the vote would be close.')
    direct = next(q for q in quotes if q["kind"] == "direct")
    assert direct["speaker"] is None


def test_interview_answers_go_to_the_interviewee(nlp):
    text = (
        "Ada Quill has led the harbour board since 2019. We spoke to Quill in her office.\n\n"
        "Q: Will the port reopen?\n\nA: Yes, by Sunday at the latest.\n\n"
        "Q: And the backlog?\n\nA: That will take two weeks."
    )
    quotes, _ = quotes_of(nlp, text)
    answers = [q for q in quotes if q["speaker_rule"] == "interview"]
    assert [q["text"] for q in answers] == [
        "Yes, by Sunday at the latest.",
        "That will take two weeks.",
    ]
    assert {q["speaker"] for q in answers} == {"Ada Quill"}
    assert not any(q["text"].startswith("Will the port") for q in quotes)


def test_a_partial_quote_nests_in_its_reported_clause(nlp):
    quotes, _ = quotes_of(nlp, 'Ada Quill called the plan "a step backwards" on Monday.')
    kinds = [(q["kind"], q["text"]) for q in quotes]
    assert ("partial", "a step backwards") in kinds
    parents = nested_in(quotes)
    partial = next(i for i, q in enumerate(quotes) if q["kind"] == "partial")
    parent = quotes[parents[partial]]
    assert parent["kind"] == "indirect" and "a step backwards" in parent["text"]
    assert parent["speaker"] == quotes[partial]["speaker"] == "Ada Quill"
    assert [p for i, p in enumerate(parents) if i != partial] == [None] * (len(quotes) - 1)


def test_nested_in_without_a_model():
    quotes = [
        {"kind": "indirect", "start_char": 0, "end_char": 50},
        {"kind": "partial", "start_char": 10, "end_char": 20},
        {"kind": "indirect", "start_char": 5, "end_char": 30},
        {"kind": "partial", "start_char": 60, "end_char": 70},
        {"kind": "direct", "start_char": 12, "end_char": 18},
    ]
    assert nested_in(quotes) == [None, 2, None, None, None]


def test_a_named_speaker_the_model_missed_becomes_an_entity_row():
    quote = {
        "speaker": "Sen. Ada Quill",
        "speaker_mention": "Sen. Ada Quill",
        "speaker_start": 30,
        "speaker_end": 44,
        "speaker_entity_id": None,
        "speaker_rule": "name",
        "sentence_index": 1,
    }
    anonymous = {**quote, "speaker": "officials", "speaker_rule": "anonymous"}
    linked, added = link_speakers([quote, dict(quote), anonymous], [], sentence_starts=[0, 25])
    assert len(added) == 1
    [row] = added
    assert (row["canonical"], row["label"], row["title"], row["detected_by"]) == (
        "Ada Quill",
        "PERSON",
        "Sen.",
        "speaker",
    )
    assert (row["start_char"], row["end_char"], row["sentence_index"]) == (30, 44, 1)
    assert [q["speaker_entity_id"] for q in linked] == [row["entity_id"]] * 2 + [None]
    assert linked[0]["speaker"] == "Ada Quill"
    # A speaker mention that is an entity already keeps that entity.
    entity = {"start_char": 30, "end_char": 44, "entity_id": "x", "canonical": "Ada Quill"}
    linked, added = link_speakers([quote], [entity])
    assert (added, linked[0]["speaker_entity_id"]) == ([], "x")
