"""Entity mentions analysts can count: cleaned names, article-level canonicals, stable ids.

``entity_rows(doc)`` is the only function that touches spaCy; ``rows_from_mentions`` applies
every rule to plain mentions, so each rule is tested without the model. The rules, in order
(span extension, clean-up, aliases, short names, ids), and their known limits are in
``docs/ENTITIES.md``.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from transforms.lib.vocabulary import (
    ACRONYM_SKIPPED_WORDS,
    APOSTROPHE_LIKE,
    DETERMINERS,
    DOUBLE_QUOTE_MARKS,
    LEADING_DETERMINER,
    ORG_ROLE_NOUNS,
    PERSON_EPITHETS,
    PERSON_TITLES,
    ROLE_NOUNS,
    TITLE_QUALIFIERS,
)

if TYPE_CHECKING:  # spaCy is only needed by callers that already have a Doc
    from spacy.tokens import Doc

DEFAULT_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}
)

# Keys are written as they appear in text; they are cleaned and normalised on
# use, so "the U.S." and "US" are the same key. Values are display names.
DEFAULT_ALIASES: dict[str, str] = {
    "US": "United States",
    "USA": "United States",
    "United States of America": "United States",
    "UK": "United Kingdom",
    "Britain": "United Kingdom",
    "Great Britain": "United Kingdom",
    "United Kingdom of Great Britain and Northern Ireland": "United Kingdom",
    "UN": "United Nations",
    "EU": "European Union",
    "DPRK": "North Korea",
    "Democratic People's Republic of Korea": "North Korea",
    "Republic of Korea": "South Korea",
    "PRC": "China",
    "People's Republic of China": "China",
    "USSR": "Soviet Union",
    "UAE": "United Arab Emirates",
    "NATO": "NATO",
    "North Atlantic Treaty Organization": "NATO",
    "WWII": "World War II",
    "WW2": "World War II",
    "Second World War": "World War II",
    "World War Two": "World War II",
    "World War 2": "World War II",
    "WWI": "World War I",
    "WW1": "World War I",
    "First World War": "World War I",
    "World War One": "World War I",
    "World War 1": "World War I",
}

# Labels the small model gives names of people by mistake; such a mention may become a PERSON.
RELABELLED = frozenset({"ORG", "GPE", "NORP", "LOC", "FAC", "PRODUCT", "WORK_OF_ART", "EVENT"})
_NAME_LABELS = RELABELLED | {"PERSON"}
# Titles that make a mention a person's whatever label the model gave ("Sen. Corker" ORG);
# words like "General" or "Justice" are left out: they open organisations too.
PERSONAL_TITLES = frozenset(
    {
        "mr", "mrs", "ms", "miss", "dr", "sen", "senator", "rep", "representative", "gov",
        "governor", "president", "minister", "mayor", "councillor", "councilor", "congressman",
        "congresswoman", "councilman", "councilwoman", "secretary", "ambassador", "chancellor",
    }
)  # fmt: skip
# Name-part suffixes that distinguish people (Donald Trump Jr. is not Donald Trump).
NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})

# Names the small model takes for people's that are always something else, with the label
# they get (platforms it reads as first names: "on Twitter" comes out PERSON).
DEFAULT_LABELLED_ALIASES: dict[str, tuple[str, str]] = {
    name: (name, "ORG")
    for name in (
        "Twitter", "Facebook", "Instagram", "YouTube", "Snapchat", "Reddit", "TikTok",
        "LinkedIn", "WhatsApp", "Telegram", "Tumblr", "Periscope", "Google", "Breitbart",
    )
}  # fmt: skip

_KINDS = {
    "PERSON": "person",
    "ORG": "org",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "group",
}

# --- regexes, compiled once -------------------------------------------------
_DOUBLE_QUOTES = re.compile(f"[{re.escape(DOUBLE_QUOTE_MARKS)}]")
_SINGLE_QUOTE_CHARS = re.escape(APOSTROPHE_LIKE)
# An apostrophe between two word characters is part of the name (O'Brien, People's).
_INNER_APOSTROPHE = re.compile(rf"(?<=[^\W_])[{_SINGLE_QUOTE_CHARS}](?=[^\W_])")
_OTHER_SINGLE_QUOTES = re.compile(rf"[{_SINGLE_QUOTE_CHARS}]")
_WHITESPACE = re.compile(r"\s+")
# Names whose "The" is part of the name, so "the Hague" and "The Hague" stay whole.
_KEEP_ARTICLE = frozenset({"hague", "gambia"})
# ", the city's planning chief": an apposition ending in its role noun (group 1).
_ROLE_APPOSITION = re.compile(
    r",\s+(?:the|a|an|its|his|her|their)\s+(?:[\w'’-]+\s+){0,3}?([a-z]+)\b(?=[,.;]|\s+(?:of|for|at|in)\b)"
)
PERSON_ROLE_NOUNS = ROLE_NOUNS - ORG_ROLE_NOUNS
_PLACE_PREPOSITION = re.compile(
    r"\b(?:in|at|from|to|into|near|across|outside|inside|throughout|around|toward|towards)"
    r"\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_POSSESSIVE = re.compile(r"(?<=[^\W_])'s$", re.IGNORECASE)
# A final "." that belongs to the name: after an initial/acronym letter or an abbreviation.
_KEEP_FINAL_DOT = re.compile(
    r"(?:(?<![^\W_])[^\W\d_]|\b(?:jr|sr|inc|co|corp|ltd|bros|st|mt|no))\.$", re.IGNORECASE
)
# Single letters followed by a dot, not inside a word: initials and acronym letters.
_INITIAL_DOT = re.compile(r"(?<![^\W_])([^\W\d_])\.")
_HYPHENS = "-‐‑"
_FORWARD_HYPHEN = re.compile(rf"[{_HYPHENS}]([^\W_]+)")
_FORWARD_APOSTROPHE = re.compile(r"['’]([^\W\d_]+)")
_BACKWARD_HYPHEN = re.compile(rf"([^\W_]+)[{_HYPHENS}]$")
_WORD_SPLIT = re.compile(r"[\s]+")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]+$")

# Lower-case pieces after a hyphen that make a compound word, not a longer name.
_HYPHEN_SUFFIX_STOP = frozenset(
    {
        "led", "based", "backed", "born", "made", "owned", "style", "era", "like", "run",
        "held", "free", "only", "type", "wide", "area", "level", "bound", "front",
        "old", "year", "day", "week", "month", "time", "ruled", "sized", "proof",
        "lite", "esque", "ish", "ism", "ist", "ists", "ian", "ians", "ese", "ite", "ites",
        "war", "state", "city", "side", "news",
    }
)  # fmt: skip
# Capitalised prefixes before a hyphen that make compounds (pro-Russia, Sino-Japanese).
_HYPHEN_PREFIX_STOP = frozenset(
    {
        "pro", "anti", "ex", "non", "post", "pre", "neo", "mid", "pan", "trans", "inter",
        "sino", "euro", "afro", "anglo", "franco", "indo", "judeo", "austro", "russo",
        "ultra", "super", "semi", "multi", "co", "all", "self", "vice", "then", "former",
    }
)  # fmt: skip
# Contractions/possessives after an apostrophe: never part of a name.
_APOSTROPHE_SUFFIX_STOP = frozenset({"s", "ll", "re", "ve", "d", "t", "m"})
# Names that own their trailing 's (compared casefolded, without the 's).
_KEEP_POSSESSIVE = frozenset({"mcdonald", "macy", "sotheby", "christie", "moody", "lloyd"})


class Mention(NamedTuple):
    """One entity span as the model found it: surface ``text`` is ``doc_text[start:end]``."""

    text: str
    label: str
    start_char: int
    end_char: int
    sentence_index: int


# --- the model-facing part ---------------------------------------------------
def mentions_from_doc(doc: Doc) -> list[Mention]:
    """Every ``doc.ents`` span (all labels) as a ``Mention``, in text order.

    ``sentence_index`` is the index in ``list(doc.sents)``; a doc without
    sentence boundaries puts everything in sentence 0 rather than raising.
    """
    sentence_of_token: list[int] = []
    try:
        for index, sent in enumerate(doc.sents):
            sentence_of_token.extend([index] * len(sent))
    except ValueError:  # no parser / sentencizer ran: no boundaries to read
        sentence_of_token = []
    mentions = []
    for ent in doc.ents:
        index = sentence_of_token[ent.start] if ent.start < len(sentence_of_token) else 0
        mentions.append(Mention(ent.text, ent.label_, ent.start_char, ent.end_char, index))
    return mentions


def entity_rows(
    doc: Doc,
    *,
    labels: Collection[str] = DEFAULT_LABELS,
    aliases: Mapping[str, str] | None = None,
) -> list[dict]:
    """One row dict per kept entity mention of ``doc``, in text order.

    Keys: ``text, canonical, label, start_char, end_char, sentence_index,
    entity_id``. Only mentions whose label is in ``labels`` are kept (numbers
    and dates are out by default); ``aliases`` are merged over
    ``DEFAULT_ALIASES``. Never raises on a well-formed Doc.
    """
    return rows_from_mentions(doc.text, mentions_from_doc(doc), labels=labels, aliases=aliases)


# --- pure functions ------------------------------------------------------------
def rows_from_mentions(
    text: str,
    mentions: Sequence[Mention],
    *,
    labels: Collection[str] = DEFAULT_LABELS,
    aliases: Mapping[str, str | tuple[str, str | None]] | None = None,
) -> list[dict]:
    """The rows of ``entity_rows`` from plain mentions over ``text`` (no model needed).

    ``mentions`` should cover all labels, even those not kept: they stop a
    name from being extended into a neighbouring entity, and a mention the
    model labelled ORG may turn out to be a person the caller keeps.
    """
    alias_map = alias_table(aliases)
    spans = [(m.start_char, m.end_char) for m in mentions]
    found: list[tuple[Mention, str, str | None]] = []  # (extended mention, cleaned name, title)
    for i, mention in enumerate(mentions):
        if mention.label not in labels and mention.label not in _NAME_LABELS:
            continue
        others = spans[:i] + spans[i + 1 :]
        start, end = extend_span(text, mention.start_char, mention.end_char, blocked=others)
        surface = text[start:end]
        name = clean_name(surface)
        title = None
        if mention.label == "PERSON":
            title, name = split_title(name)
        if not name:
            continue
        found.append((mention._replace(text=surface, start_char=start, end_char=end), name, title))

    kept: list[tuple[Mention, str, str, str | None, str]] = []
    for mention, name, title, label in labels_from_article(text, found):
        alias = alias_map.get(normalise(name))
        if alias is not None:
            name, label = alias[0], alias[1] or label
        if label not in labels:
            continue
        kept.append((mention._replace(label=label), kind_of(label), name, title, mention.label))

    canonicals = resolve_short_names([(kind, name) for _, kind, name, _, _ in kept])
    return [
        {
            "text": mention.text,
            "canonical": canonical,
            "label": mention.label,
            "model_label": model_label,
            "title": title,
            "start_char": mention.start_char,
            "end_char": mention.end_char,
            "sentence_index": mention.sentence_index,
            "entity_id": entity_id(kind, canonical),
            "detected_by": "model",
        }
        for (mention, kind, _, title, model_label), canonical in zip(kept, canonicals, strict=True)
    ]


def labels_from_article(
    text: str, found: Sequence[tuple[Mention, str, str | None]]
) -> list[tuple[Mention, str, str | None, str]]:
    """``(mention, name, title, label)`` for each ``(mention, cleaned name, title)``: the
    model's label fixed from the article (docs/ENTITIES.md, step 3).

    A PERSON ending in a name the article gives another label (``Obama White
    House``) takes that label; a name with several labels takes its commonest
    (PERSON on a tie); then a mention with another label is a PERSON when a
    personal title opens it, the text gives it a person's role, or it is (a
    short form of) a person's name of the article. A mention made a PERSON
    loses its title from the name, as PERSON mentions do.
    """
    other_names = {
        normalise(name): mention.label for mention, name, _ in found if mention.label in RELABELLED
    }
    labelled = [
        (mention, name, title, _organisation_named(name, other_names) or mention.label)
        if mention.label == "PERSON" and title is None
        else (mention, name, title, mention.label)
        for mention, name, title in found
    ]
    votes: dict[str, Counter] = {}
    for _, name, _, label in labelled:
        votes.setdefault(normalise(name), Counter())[label] += 1
    persons = list(
        dict.fromkeys(
            name for _, name, _, label in labelled if _majority(votes[normalise(name)]) == "PERSON"
        )
    )
    fixed = []
    for mention, name, title, label in labelled:
        if label in _NAME_LABELS:
            label = _majority(votes[normalise(name)])
        if label in RELABELLED:
            person_title, person_name = split_title(name)
            if person_name and _is_person_here(text, mention, person_name, person_title, persons):
                label, name, title = "PERSON", person_name, person_title
        fixed.append((mention, name, title, label))
    return fixed


def _is_person_here(
    text: str, mention: Mention, name: str, title: str | None, persons: Sequence[str]
) -> bool:
    """Whether a mention the model gave another label names a person of the article.

    Yes when a personal title opens it (``Sen. Corker``), or when its name is a
    person's name of the same article or a short form of one (``Trump`` beside
    ``Donald Trump``), unless a place label follows a preposition of place
    (``in Washington`` stays a place even beside ``George Washington``).
    """
    if title is not None and _title_word(title.split()[-1]) in PERSONAL_TITLES:
        return _looks_like_name(name)
    if _looks_like_name(name) and " " in name and _in_a_persons_role(text, mention):
        return True
    if not any(same_person(name, person) or fits_words(name, person) for person in persons):
        return False
    if kind_of(mention.label) == "place":
        before = text[max(0, mention.start_char - 24) : mention.start_char]
        return not _PLACE_PREPOSITION.search(before)
    return True


def _majority(votes: Counter) -> str:
    """The commonest label of a name in an article; PERSON wins a tie."""
    return max(votes, key=lambda label: (votes[label], label == "PERSON"))


def _organisation_named(name: str, other_names: Mapping[str, str]) -> str | None:
    """The label of a PERSON mention that ends in a name the article gives another label:
    ``Obama White House`` (``White House`` is ORG), ``Indiana GOP``; else None. The
    end must be two words or an acronym, so ``Paul Ryan`` beside a stray ``Ryan`` ORG
    stays a person."""
    words = name.split()
    for i in range(1, len(words)):
        tail = words[i:]
        if len(tail) >= 2 or _ACRONYM.match(tail[0]):
            label = other_names.get(normalise(" ".join(tail)))
            if label is not None:
                return label
    return None


def _in_a_persons_role(text: str, mention: Mention) -> bool:
    """Whether the text gives the mention a person's role: ``Helen Park, the city's planning
    chief,`` or ``spokeswoman Helen Park``."""
    after = _ROLE_APPOSITION.match(text, mention.end_char)
    if after and after.group(1).casefold() in PERSON_ROLE_NOUNS:
        return True
    before = text[max(0, mention.start_char - 20) : mention.start_char].split()
    return bool(before) and before[-1] in PERSON_ROLE_NOUNS


def _looks_like_name(name: str) -> bool:
    words = name.split()
    return 1 <= len(words) <= 4 and all(w[:1].isupper() for w in words)


def kind_of(label: str) -> str:
    """The id kind of a spaCy label: person, org, place (GPE/LOC/FAC), group (NORP), else the
    label in lower case."""
    return _KINDS.get(label, label.lower())


def _overlaps(start: int, end: int, blocked: Sequence[tuple[int, int]]) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in blocked)


def _name_like_suffix(piece: str) -> bool:
    if piece.isdigit():
        return True  # Covid-19, F-16
    if piece[0].isupper():
        # Il, Pierre: yes; US, EU: another name (China-US talks), not the rest of this one.
        return len(piece) == 1 or not piece.isupper()
    return len(piece) <= 5 and piece.isalpha() and piece.casefold() not in _HYPHEN_SUFFIX_STOP


def extend_span(
    text: str, start: int, end: int, *, blocked: Sequence[tuple[int, int]] = ()
) -> tuple[int, int]:
    """``(start, end)`` widened over name pieces attached by a hyphen or apostrophe.

    Forward: ``-mook`` after ``Moon Seong``; ``'Brien`` after ``O``. Backward:
    ``Jean-`` before ``Pierre``. Rejects compound-word pieces (``-led``,
    ``pro-``), possessives and contractions (``'s``, ``'ll``), and any piece
    overlapping a span in ``blocked``. Invalid offsets come back unchanged.
    """
    if not (0 <= start < end <= len(text)):
        return start, end
    while text[end - 1].isalpha():
        match = _FORWARD_HYPHEN.match(text, end)
        if match and _name_like_suffix(match.group(1)):
            new_end = match.end()
        else:
            match = _FORWARD_APOSTROPHE.match(text, end)
            piece = match.group(1) if match else ""
            if not piece or piece.casefold() in _APOSTROPHE_SUFFIX_STOP or not piece[0].isupper():
                break
            new_end = match.end()
        if _overlaps(end, new_end, blocked):
            break
        end = new_end
    while text[start].isalpha():
        match = _BACKWARD_HYPHEN.search(text, max(0, start - 40), start)
        if not match or match.end() != start:
            break
        piece = match.group(1)
        if not piece[0].isupper() or piece.casefold() in _HYPHEN_PREFIX_STOP:
            break
        if _overlaps(match.start(), start, blocked):
            break
        start = match.start()
    return start, end


def _strip_edges(name: str) -> str:
    """One pass of edge clean-up: unbalanced brackets, punctuation, determiner, possessive."""
    name = name.strip()
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1].strip()
    while name and _is_punct(name[0]) and not (name[0] in "([" and _closes(name)):
        name = name[1:].lstrip()
    while name and _is_punct(name[-1]):
        last = name[-1]
        if last in ")]" and _opens(name):
            break
        if last == "." and _KEEP_FINAL_DOT.search(name):
            break
        name = name[:-1].rstrip()
    if name.casefold() in DETERMINERS:
        return ""
    match = LEADING_DETERMINER.match(name)
    if match and name[match.end() :].casefold() not in _KEEP_ARTICLE:
        name = name[match.end() :]
    match = _POSSESSIVE.search(name)
    if match and name[: match.start()].casefold() not in _KEEP_POSSESSIVE:
        name = name[: match.start()]
    return name


def _is_punct(char: str) -> bool:
    # Symbols (currency, %, #) can belong to a mention; only punctuation is stray.
    return unicodedata.category(char).startswith("P") and char != "%"


def _closes(name: str) -> bool:
    return (name[0] == "(" and ")" in name) or (name[0] == "[" and "]" in name)


def _opens(name: str) -> bool:
    return (name[-1] == ")" and "(" in name) or (name[-1] == "]" and "[" in name)


def clean_name(text: str, *, person: bool = False) -> str:
    """The display name in a mention's surface text, or ``""`` when nothing is left.

    Drops every double quote mark, single quote marks that are not
    apostrophes inside a word, leading ``the/a/an`` (and, with ``person``,
    titles and epithets: see ``split_title``), a trailing possessive ``'s``, surrounding or
    unbalanced punctuation; collapses whitespace; curly apostrophes become
    ``'``. Keeps case and a final ``.`` of ``U.S.``/``Jr.``.
    """
    name = unicodedata.normalize("NFKC", text)
    name = _DOUBLE_QUOTES.sub(" ", name)
    name = _INNER_APOSTROPHE.sub("'", name)
    # Keep a possessive's apostrophe for the possessive rule; it sits between word chars.
    name = _OTHER_SINGLE_QUOTES.sub(
        lambda m: m.group(0) if m.group(0) == "'" and _is_inner(name, m.start()) else " ", name
    )
    name = _WHITESPACE.sub(" ", name).strip()
    previous = None
    while name != previous:
        previous = name
        name = _strip_edges(name)
    if person:
        name = split_title(name)[1]
    if not any(ch.isalnum() for ch in name):
        return ""
    return name


_LONGEST_TITLE = max(len(title.split()) for title in PERSON_TITLES)


def _title_word(word: str) -> str:
    return word.casefold().replace(".", "").replace("’", "'")


def split_title(name: str) -> tuple[str | None, str]:
    """``(title, name)``: the titles, honorifics and epithets that open a person's name, apart.

    ``Sen. Bob Corker`` gives ``("Sen.", "Bob Corker")``, ``former Secretary of
    State Hillary Clinton`` gives ``("former Secretary of State", "Hillary
    Clinton")``, ``Crooked Hillary Clinton`` gives ``(None, "Hillary Clinton")``
    (an epithet is dropped, not kept as a title). Qualifiers (``former``,
    ``Democratic``) go only with a title after them. Nothing is taken off when
    no capitalised word would be left: ``Major`` alone stays a name.
    """
    words = name.split(" ")
    titles: list[str] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and _title_word(words[j]).rstrip("-") in TITLE_QUALIFIERS:
            j += 1
        parts = words[j].split("-", 1) if j < len(words) else []
        if len(parts) == 2 and _title_word(parts[0]) in ("then", "ex", "former"):
            words = [*words[:j], parts[0] + "-", parts[1], *words[j + 1 :]]
            j += 1
        size = next(
            (
                n
                for n in range(min(_LONGEST_TITLE, len(words) - j - 1), 0, -1)
                if " ".join(_title_word(w) for w in words[j : j + n]) in PERSON_TITLES
            ),
            0,
        )
        if size:
            titles.extend(words[i : j + size])
            i = j + size
        elif j == i and _title_word(words[i]).rstrip("'") in PERSON_EPITHETS and i + 1 < len(words):
            i += 1
        else:
            break
    if i == 0 or not any(w[:1].isupper() for w in words[i:]):
        return None, name
    rest = " ".join(words[i:])
    title = " ".join(titles).replace("- ", "-") or None
    return title, rest


def name_parts(name: str) -> tuple[str, tuple[str, ...], str]:
    """``(first, middles, last)`` of a person's name, normalised; a suffix (``Jr.``) stays on
    the last part. ``Donald J. Trump`` gives ``("donald", ("j",), "trump")``."""
    words = list(_words(name))
    if len(words) > 2 and words[-1].rstrip(".") in NAME_SUFFIXES:
        words = [*words[:-2], words[-2] + " " + words[-1]]
    if len(words) < 2:
        return (words[0] if words else "", (), "")
    return words[0], tuple(words[1:-1]), words[-1]


def same_person(short: str, full: str) -> bool:
    """Whether two person names are one name with middle names or initials left out.

    ``Donald Trump`` and ``Donald J. Trump``, ``Hillary Clinton`` and ``Hillary
    Rodham Clinton``; equal names too. A suffix must agree (``Jr.``).
    """
    a, b = name_parts(short), name_parts(full)
    if not a[2] or not b[2]:
        return normalise(short) == normalise(full)
    return a[0] == b[0] and a[2] == b[2] and (not a[1] or not b[1] or middles_agree(a[1], b[1]))


def middles_agree(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether two runs of middle names are the same, an initial matching a name it starts
    (``J`` and ``Jane``): ``("j",)`` agrees with ``("jane",)``, not with ``("h", "w")``."""
    return len(a) == len(b) and all(
        x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y))
        for x, y in zip(a, b, strict=True)
    )


def _is_inner(name: str, index: int) -> bool:
    return 0 < index < len(name) - 1 and name[index - 1].isalnum() and name[index + 1].isalnum()


@functools.lru_cache(maxsize=1 << 16)  # the same names come back in every article
def normalise(name: str) -> str:
    """The comparison form of a name: NFKC, straight apostrophes, acronym/initial dots removed,
    casefolded, whitespace collapsed. ``U.S.`` and ``US`` give ``us``."""
    name = unicodedata.normalize("NFKC", name)
    name = _OTHER_SINGLE_QUOTES.sub("'", name)
    name = _INITIAL_DOT.sub(r"\1", name)
    return _WHITESPACE.sub(" ", name.casefold()).strip()


def _alias_key(alias: str) -> str:
    return normalise(clean_name(alias))


_DEFAULT_ALIAS_MAP = {
    **{_alias_key(key): (value, None) for key, value in DEFAULT_ALIASES.items()},
    **{_alias_key(key): value for key, value in DEFAULT_LABELLED_ALIASES.items()},
}


def alias_table(
    aliases: Mapping[str, str | tuple[str, str | None]] | None = None,
) -> dict[str, tuple[str, str | None]]:
    """Normalised alias key -> ``(canonical name, label or None)``: ``DEFAULT_ALIASES`` with
    ``aliases`` over it.

    Keys of ``aliases`` may be written as in text (``"the U.S."``); a value is
    a canonical name or a ``(canonical, label)`` pair, whose label (when not
    None) the mention takes. A caller's key replaces a default one with the
    same normal form.
    """
    table = dict(_DEFAULT_ALIAS_MAP)
    for key, value in (aliases or {}).items():
        normal = _alias_key(key)
        if normal:
            table[normal] = (value, None) if isinstance(value, str) else (value[0], value[1])
    return table


def apply_alias(name: str, table: Mapping[str, tuple[str, str | None]]) -> str:
    """``name``'s canonical name from a table of ``alias_table``, or ``name`` itself."""
    alias = table.get(normalise(name))
    return alias[0] if alias else name


class AliasFileError(ValueError):
    """An aliases file that cannot be read; the message says which line and why."""


def read_aliases(
    lines: Iterable[str], *, source: str = "aliases"
) -> dict[str, tuple[str, str | None]]:
    """The aliases of a CSV text (``alias,canonical,label``; label may be empty), in order.

    A first line ``alias,canonical,label`` is a header and skipped; blank lines
    and lines starting with ``#`` are ignored. Raises ``AliasFileError`` for a
    line without an alias or a canonical name, or with an unknown label.
    """
    aliases: dict[str, tuple[str, str | None]] = {}
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in row] + ["", ""]
        alias, canonical, label = cells[0], cells[1], cells[2].upper() or None
        if number == 1 and (alias.lower(), canonical.lower()) == ("alias", "canonical"):
            continue
        if not alias or not canonical:
            raise AliasFileError(f"{source} line {number}: want alias,canonical[,label]")
        if label is not None and not re.fullmatch(r"[A-Z_]+", label):
            raise AliasFileError(
                f"{source} line {number}: {label!r} is not a label (PERSON, ORG...)"
            )
        aliases[alias] = (canonical, label)
    return aliases


@functools.lru_cache(maxsize=1 << 16)
def _words(name: str) -> tuple[str, ...]:
    return tuple(_WORD_SPLIT.split(normalise(name)))


def fits_words(short: str, full: str) -> bool:
    """Whether ``short``'s words are a contiguous, shorter run of ``full``'s words (normalised).

    ``Kim`` fits ``Kim Jong-un`` and ``Soo Kim``; ``Jong`` does not fit
    ``Kim Jong-un`` (hyphenated words are whole words).
    """
    small, big = _words(short), _words(full)
    if not small or len(small) >= len(big):
        return False
    return any(big[i : i + len(small)] == small for i in range(len(big) - len(small) + 1))


def fits_acronym(short: str, full: str) -> bool:
    """Whether ``short`` (all capitals, dots ignored, 2+ letters) spells the initials of the
    capitalised words of ``full``: ``ICC`` fits ``International Criminal Court``,
    ``CPC`` fits ``Communist Party of China``."""
    letters = _INITIAL_DOT.sub(r"\1", short).replace(" ", "")
    if not _ACRONYM.match(letters):
        return False
    words = [w for w in full.split() if w.casefold() not in ACRONYM_SKIPPED_WORDS]
    if len(words) < 2 or not all(w[0].isupper() or w[0].isdigit() for w in words):
        return False
    return "".join(w[0] for w in words).upper() == letters


def resolve_short_names(mentions: Sequence[tuple[str, str]]) -> list[str]:
    """The within-article canonical name of each ``(kind, cleaned name)`` mention, in order.

    Persons: a short form takes the longest name of the same kind it fits by
    words; other kinds except places: an acronym takes the name it spells.
    Several candidates: those introduced before this mention first, then the
    most mentioned, then the first introduced (see the module docstring).
    Mentions with no candidate keep their name, spelled as where it first appears.
    """
    normals = [normalise(name) for _, name in mentions]
    first_seen: dict[tuple[str, str], int] = {}
    display: dict[tuple[str, str], str] = {}
    for index, ((kind, name), normal) in enumerate(zip(mentions, normals, strict=True)):
        first_seen.setdefault((kind, normal), index)
        display.setdefault((kind, normal), name)

    def fits(kind: str, short: str, full: str) -> bool:
        if kind == "person":
            # "Trump" fits "Donald Trump"; "Donald Trump" fits "Donald J. Trump".
            shorter = len(_words(short)) < len(_words(full))
            return fits_words(short, full) or (shorter and same_person(short, full))
        if kind == "place":
            return False
        return fits_acronym(short, full)

    # Longer names each distinct name could stand for (only maximal ones).
    candidates: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key in first_seen:
        kind, _ = key
        longer = [
            other
            for other in first_seen
            if other[0] == kind and other != key and fits(kind, display[key], display[other])
        ]
        maximal = [c for c in longer if not any(fits(kind, display[c], display[o]) for o in longer)]
        candidates[key] = maximal

    # Mentions per referent: its own full mentions plus short forms that fit only it.
    weight: Counter[tuple[str, str]] = Counter()
    for (kind, _), normal in zip(mentions, normals, strict=True):
        options = candidates[(kind, normal)]
        if not options:
            weight[(kind, normal)] += 1
        elif len(options) == 1:
            weight[options[0]] += 1

    resolved = []
    for index, ((kind, _), normal) in enumerate(zip(mentions, normals, strict=True)):
        options = candidates[(kind, normal)]
        if not options:
            resolved.append(display[(kind, normal)])  # one spelling per name in an article
            continue
        introduced = [c for c in options if first_seen[c] < index] or options
        best = min(introduced, key=lambda c: (-weight[c], first_seen[c]))
        resolved.append(display[best])
    return resolved


def entity_id(kind: str, canonical: str) -> str:
    """16 hex digits of SHA-256 over ``kind``, 0x1F and the normalised canonical name:
    the same everywhere and in every run."""
    digest = hashlib.sha256(f"{kind}\x1f{normalise(canonical)}".encode()).hexdigest()
    return digest[:16]
