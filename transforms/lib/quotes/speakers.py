"""After the quotes are found: speakers as entities, and partial quotes in their clauses.

``link_speakers`` makes every named speaker join a row of ``entities`` (adding
the mention as an entity row when the model missed it); ``nested_in`` tells
which reported clause each partial quote sits in, so a speech event is
counted once.
"""

from collections.abc import Mapping, Sequence

from transforms.lib.entities import entity_id, kind_of, split_title
from transforms.lib.vocabulary import ORG_ROLE_NOUNS

__all__ = ["link_speakers", "nested_in"]

# Capitalised words that make a name an organisation's, not a person's.
_ORG_WORDS = frozenset(
    {
        "news", "times", "post", "journal", "press", "party", "inc", "corp", "ltd", "group",
        "institute", "university", "college", "foundation", "association", "network", "media",
        "tv", "radio", "magazine", "daily", "herald", "tribune", "gazette", "center", "centre",
        "bank", "house", "office", "service", "council", "court", "agency", "department",
    }
)  # fmt: skip


def link_speakers(
    quotes: Sequence[dict], entities: Sequence[Mapping], *, sentence_starts: Sequence[int] = (0,)
) -> tuple[list[dict], list[dict]]:
    """``(quotes, added)``: quotes whose named speaker had no entity now point at an entity
    row of ``added`` (the mention, ``detected_by`` ``speaker``), one row per mention.

    ``sentence_starts`` (character offsets) give the added rows their sentence index.
    Speakers found another way (pronouns, roles, descriptions) are left as they are.
    """
    known = {(e["start_char"], e["end_char"]): e for e in entities}
    added: dict[tuple[int, int], dict] = {}
    linked = []
    for quote in quotes:
        span = (quote.get("speaker_start"), quote.get("speaker_end"))
        if quote.get("speaker_entity_id") or quote.get("speaker_rule") != "name" or None in span:
            linked.append(quote)
            continue
        entity = known.get(span) or added.get(span)
        if entity is None:
            entity = added[span] = _speaker_entity(quote, sentence_starts)
        linked.append(
            {**quote, "speaker": entity["canonical"], "speaker_entity_id": entity["entity_id"]}
        )
    return linked, list(added.values())


def _speaker_entity(quote: Mapping, sentence_starts: Sequence[int]) -> dict:
    title, name = split_title(quote["speaker"])
    words = name.replace(".", " ").split()
    is_org = any(w.casefold() in _ORG_WORDS | ORG_ROLE_NOUNS for w in words) or (
        len(words) == 1 and words[0].isupper() and len(words[0]) > 1
    )
    label = "ORG" if is_org else "PERSON"
    start = quote["speaker_start"]
    sentence = sum(1 for s in sentence_starts if s <= start) - 1
    return {
        "text": quote["speaker_mention"],
        "canonical": name,
        "label": label,
        "model_label": None,
        "title": None if is_org else title,
        "start_char": start,
        "end_char": quote["speaker_end"],
        "sentence_index": max(sentence, 0),
        "entity_id": entity_id(kind_of(label), name),
        "detected_by": "speaker",
    }


def nested_in(quotes: Sequence[Mapping]) -> list[int | None]:
    """For each quote, the index of the ``indirect`` quote whose span holds it (the smallest),
    when it is a ``partial`` quote inside a reported clause; else None."""
    clauses = [
        (q["start_char"], q["end_char"], i) for i, q in enumerate(quotes) if q["kind"] == "indirect"
    ]
    parents: list[int | None] = []
    for quote in quotes:
        if quote["kind"] != "partial":
            parents.append(None)
            continue
        holding = [
            (end - start, i)
            for start, end, i in clauses
            if start <= quote["start_char"] and quote["end_char"] <= end
        ]
        parents.append(min(holding)[1] if holding else None)
    return parents
