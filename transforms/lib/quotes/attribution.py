"""Who said a quote, and by which cue: the attribution rules over a parsed ``Doc``.

A cue verb's subject (through participles and clauses), a named apposition
for an unnamed subject, a pronoun's antecedent among earlier entities,
``according to X``, ``X:`` before a quote, and the previous speaker for a
follow-on quote. Each rule returns None rather than guess.
"""

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from transforms.lib.quotes.context import Context, inside_segment, sentence_index, token_at
from transforms.lib.quotes.marks import QUOTE_MARKS, Segment
from transforms.lib.vocabulary import (
    FEMALE_WORDS,
    LEADING_DETERMINER,
    MALE_WORDS,
    ORG_ROLE_NOUNS,
    ROLE_NOUNS,
)

__all__ = [
    "DEFAULT_CUES",
    "Attribution",
    "cue_attribution",
    "follow_on",
    "frame_attribution",
    "is_according_to",
    "next_sentence_attribution",
    "quote_row",
    "signature_attribution",
]

# Base verbs of attribution in newswire, one concern per line. Forms are
# generated below because the lemmatizer is excluded from the pipeline for speed.
_CUE_VERBS = (
    "say tell add note state write warn argue insist explain claim reply ask predict describe",
    "call announce acknowledge admit agree allege answer assert believe boast caution charge",
    "comment complain concede conclude confirm contend continue declare deny emphasize",
    "estimate joke lament maintain mention observe promise recall remark report respond",
    "reveal scoff shout stress suggest testify tweet urge vow wonder worry quip counter retort",
    "post read chide quote recount blast slam exclaim muse plead proclaim snap mock taunt tout",
    "criticize criticise praise condemn reject dismiss accuse cite hail decry demand",
    "denounce defend applaud lambast ridicule characterize",
    "react bark sing remember regret",
)
# Past forms the regular rules below would get wrong.
_IRREGULAR_PAST = {
    "say": ("said",),
    "tell": ("told",),
    "write": ("wrote", "written"),
    "read": ("read",),
}
# Verbs whose last consonant doubles before -ed and -ing.
_DOUBLED_FINAL = frozenset({"admit", "quip", "snap", "regret", "commit", "submit"})
# Verbs that are cues only with their particle ("shot back", "went on").
_PHRASAL_CUES = {
    "back": frozenset({"shot", "shoots", "shoot", "fired", "fires", "fire", "hit", "hits"}),
    "on": frozenset({"went", "goes", "go"}),
    "it": frozenset({"put", "puts"}),  # "as Quill put it, ..."
}
# Nouns for people that are not roles: they may speak, unlike a statement or a notion.
_PEOPLE_NOUNS = frozenset(
    {
        "person", "people", "man", "woman", "men", "women", "source", "sources", "voter",
        "voters", "supporter", "supporters", "critic", "critics", "resident", "residents",
        "member", "members", "friend", "colleague", "witness", "expert", "experts", "staff",
        "staffer", "aides", "officials", "spokesperson", "protester", "protesters", "activist",
        "activists", "student", "students", "worker", "workers", "reporter", "reporters",
    }
)  # fmt: skip
_ORG_LABELS = ("ORG", "NORP", "GPE")
_PRONOUN_GENDER = {"she": "female", "her": "female", "he": "male", "him": "male", "his": "male"}
# After a name, the apposition that gives its role: ", the judge", ", a spokeswoman for".
_ROLE_AFTER = re.compile(r"^,?\s+(?:the|a|an|its|his|her|their|who is the)\s+(?:[\w’'-]+\s+){0,3}")
# Entity types that never speak: a date or a number before "said" is not its subject.
_MUTE_ENTITY_TYPES = frozenset(
    {"DATE", "TIME", "CARDINAL", "ORDINAL", "MONEY", "PERCENT", "QUANTITY"}
)
_VOWELS = frozenset("aeiou")


def _inflections(verb: str) -> set[str]:
    """The base, third-person, -ing and past forms of an English verb."""
    consonant_y = verb.endswith("y") and verb[-2:-1] not in _VOWELS
    if consonant_y:
        third, past = verb[:-1] + "ies", verb[:-1] + "ied"
    elif verb.endswith(("s", "sh", "ch", "x")):
        third, past = verb + "es", verb + "ed"
    else:
        third, past = verb + "s", verb + ("d" if verb.endswith("e") else "ed")
    ing = (verb[:-1] if verb.endswith("e") and not verb.endswith("ee") else verb) + "ing"
    if verb in _DOUBLED_FINAL:  # admit, admitted, admitting
        past, ing = verb + verb[-1] + "ed", verb + verb[-1] + "ing"
    return {verb, third, ing, *_IRREGULAR_PAST.get(verb, (past,))}


DEFAULT_CUES: frozenset[str] = frozenset(
    {form for line in _CUE_VERBS for verb in line.split() for form in _inflections(verb)}
    | {"according to"}
)


_PERSON_PRONOUNS = frozenset({"he", "she", "him", "her"})
_THING_PRONOUNS = frozenset({"it"})
_SPEAKER_DEPS = frozenset({"nsubj", "nsubjpass"})
_CLIMB_DEPS = frozenset({"advcl", "conj", "xcomp", "ccomp", "pcomp", "prep", "acomp"})
_NP_LEFT_DEPS = frozenset({"det", "poss", "compound", "amod", "nmod", "nummod", "case", "punct"})
_SPEAKER_LABELS = ("PERSON", "ORG", "NORP", "GPE", "FAC")
_FRAME_TOKENS = 30  # how far a cue may sit from the quote it introduces or closes
_CUE_GAP = 10  # tokens allowed between a cue and the opening mark (said on Monday in a statement:)


@dataclass(slots=True)
class Attribution:
    """Who a quote is attributed to, and by which cue."""

    cue: str | None
    speaker: str | None = None
    mention: str | None = None
    mention_start: int | None = None
    mention_end: int | None = None
    entity_id: str | None = None
    cue_index: int | None = None  # the cue's token in the Doc, when a verb is the cue
    rule: str | None = None  # how the speaker was found: see quote_row


# --- the words around a quote ----------------------------------------------------------------


def frame_attribution(ctx: Context, seg: Segment, kind: str) -> Attribution | None:
    """The cue and speaker next to a quote: after it (``," X said``) or before it."""
    if not ctx.parsed:
        return None
    first = token_at(ctx, seg.start)
    # A nested quote may close with the outer one (``... 'brain,' "``): its mark is not the end.
    content = ctx.text[seg.start : seg.end].rstrip().rstrip("".join(QUOTE_MARKS)).rstrip()
    may_close = seg.close_at is not None and (
        content[-1:] in ",?!—–-…" or ctx.text[seg.close_at + 1 : seg.close_at + 2] == ","
    )
    right = _right_frame(ctx, seg) if seg.close_at is not None else []
    adjacent = kind in ("direct", "name")
    ends_sentence = content[-1:] == "."
    # A full stop before the mark closes the quote's sentence, but a short ``Trump said.``
    # after it is still its attribution (newswire often writes ``... missing." Trump said.``).
    short_tail = kind == "direct" and len(right) <= 4 and _ends_sentence_after(ctx, right)
    if may_close or (kind == "direct" and len(right) <= 6 and not ends_sentence) or short_tail:
        for token in right:
            attribution = cue_attribution(ctx, token)
            if attribution is not None:
                return attribution
    left = _left_frame(ctx, seg)
    for distance, token in enumerate(reversed(left)):
        if adjacent and distance > (_CUE_GAP if kind == "direct" else 1):
            break
        if kind == "name" and left[-1].text not in (":", ","):
            break
        if not adjacent and not _is_ancestor(token, first):
            continue
        attribution = cue_attribution(ctx, token)
        if attribution is not None:
            return attribution
    if kind == "direct":
        attribution = _colon_attribution(ctx, left)
        if attribution is not None:
            return attribution
    if kind == "partial" or (kind == "direct" and seg.close_at is not None):
        for token in _ancestors_in_sentence(first):
            if inside_segment(ctx, token.idx):
                continue
            attribution = cue_attribution(ctx, token)
            if attribution is not None:
                return attribution
    return None


def _ends_sentence_after(ctx: Context, tokens: list) -> bool:
    """Whether a full stop follows ``tokens`` straight away (they make a sentence's end)."""
    if not tokens:
        return False
    after = tokens[-1].i + 1
    return after < len(ctx.doc) and ctx.doc[after].text == "."


def _right_frame(ctx: Context, seg: Segment) -> list:
    """Tokens after the closing mark up to the sentence end, a line break or the next quote."""
    token = token_at(ctx, seg.close_at)
    tokens = []
    limit = _next_open(ctx, seg)
    for t in ctx.doc[token.i + 1 : token.i + 1 + _FRAME_TOKENS]:
        if t.idx >= limit or "\n" in t.text or t.text in (".", "?", "!", ";"):
            break
        tokens.append(t)
    return tokens


def _left_frame(ctx: Context, seg: Segment) -> list:
    """Tokens before the opening mark back to the sentence start, a line break or a quote.

    A quote opening a paragraph gets the previous paragraph's last sentence
    when that ends in a colon (``Brandt told the meeting:``).
    """
    token = token_at(ctx, seg.open_at)
    i = token.i
    while i > 0 and ctx.doc[i - 1].is_space:
        i -= 1
    if i < token.i and not (i > 0 and ctx.doc[i - 1].text == ":"):
        return []
    floor = _previous_close(ctx, seg)
    tokens = []
    for t in reversed(ctx.doc[max(i - _FRAME_TOKENS, 0) : i]):
        if t.idx <= floor or "\n" in t.text or t.text in (".", "?", "!", ";"):
            break
        tokens.append(t)
    tokens.reverse()
    return tokens


def _colon_attribution(ctx: Context, left: list) -> Attribution | None:
    """``Brandt, in his first interview:`` or ``Brandt went further:`` before a quote."""
    if len(left) < 2 or left[-1].text != ":":
        return None
    before = left[:-1]
    if before[-1].text == ")" and "(" in [t.text for t in before]:
        # "Rep. Ada Quill (D-Wash.):": the name is before the bracket.
        opening = max(i for i, t in enumerate(before) if t.text == "(")
        before = before[:opening] or before
    verbs = [t for t in before if t.pos_ == "VERB" and not inside_segment(ctx, t.idx)]
    for verb in reversed(verbs):
        speaker = next((c for c in verb.children if c.dep_ in _SPEAKER_DEPS), None)
        if speaker is not None and not inside_segment(ctx, speaker.idx):
            return _attribution(ctx, speaker, None)
    last = before[-1]
    if not verbs and last.pos_ in ("PROPN", "NOUN") and not inside_segment(ctx, last.idx):
        return _attribution(ctx, last, None)
    return None


def _next_open(ctx: Context, seg: Segment) -> int:
    i = bisect.bisect_right(ctx.segment_opens, seg.open_at)
    return ctx.segment_opens[i] if i < len(ctx.segment_opens) else len(ctx.text)


def _previous_close(ctx: Context, seg: Segment) -> int:
    i = bisect.bisect_left(ctx.segment_opens, seg.open_at) - 1
    if i < 0:
        return -1
    earlier = ctx.segments[i]
    return earlier.close_at if earlier.close_at is not None else earlier.end


def _is_ancestor(token, descendant) -> bool:
    return descendant is not None and token.is_ancestor(descendant)


def _ancestors_in_sentence(token) -> Iterable:
    if token is None:
        return []
    return list(token.ancestors)


# --- cues and speakers -----------------------------------------------------------------------


def next_sentence_attribution(ctx: Context, seg: Segment) -> Attribution | None:
    """The speaker a direct quote's next sentence names, when the quote names none: ``"We
    will not back down." The words came from Ada Quill.`` or ``... Quill said on Monday.``

    Only in the same paragraph, only a named speaker, and only a cue that reports nothing
    of its own (no clause after it), so ``Quill said the vote...`` is not taken.
    """
    if not ctx.parsed or seg.close_at is None:
        return None
    content = ctx.text[seg.start : seg.end].rstrip().rstrip("".join(QUOTE_MARKS))
    if content[-1:] not in ".!?":
        return None
    close = token_at(ctx, seg.close_at)
    limit = _next_open(ctx, seg)
    sentence = []
    for token in ctx.doc[close.i + 1 : close.i + 1 + _FRAME_TOKENS]:
        if token.idx >= limit or "\n" in token.text:
            break
        sentence.append(token)
        if token.text in (".", "?", "!"):
            break
    for token in sentence:
        if token.lower_ == "from" and sentence[0].lower_ in ("the", "those", "these", "that"):
            source = next((c for c in token.children if c.dep_ == "pobj"), None)
            if source is not None and _is_named(ctx, source):
                return _attribution(ctx, source, None)
        attribution = cue_attribution(ctx, token)
        if attribution is None or attribution.rule != "name":
            continue
        if any(c.dep_ in ("ccomp", "dobj", "xcomp") for c in token.children):
            return None
        return attribution
    return None


_SIGNATURE = re.compile(r"[ \t]*\n\s*[-—–][ \t]*(?=[A-Z])")


def signature_attribution(ctx: Context, seg: Segment) -> Attribution | None:
    """``"..."`` then a paragraph ``- Ada Quill, at the rally.``: the name signs the quote."""
    if not ctx.parsed or seg.close_at is None:
        return None
    match = _SIGNATURE.match(ctx.text, seg.close_at + 1)
    if match is None:
        return None
    token = token_at(ctx, match.end())
    if token is None or token.pos_ != "PROPN":
        return None
    while token.i + 1 < len(ctx.doc) and ctx.doc[token.i + 1].pos_ == "PROPN":
        token = ctx.doc[token.i + 1]
    attribution = _attribution(ctx, token, None)
    return attribution if attribution.rule == "name" else None


def _is_named(ctx: Context, token) -> bool:
    return (
        token.pos_ == "PROPN" or _entity_at(ctx, token.idx, token.idx + len(token.text)) is not None
    )


def follow_on(previous: tuple[Attribution, int] | None, seg: Segment) -> Attribution | None:
    """The previous quote's speaker for an unattributed quote in the same or next paragraph."""
    if previous is None or seg.paragraph - previous[1] > 1 or previous[0].mention is None:
        return None
    attribution = previous[0]
    return Attribution(
        cue=None,
        speaker=attribution.speaker,
        mention=attribution.mention,
        mention_start=attribution.mention_start,
        mention_end=attribution.mention_end,
        entity_id=attribution.entity_id,
        rule="follow_on",
    )


def cue_attribution(ctx: Context, token) -> Attribution | None:
    """The attribution when ``token`` is a cue with a speaker; None for other tokens."""
    if is_according_to(ctx, token):
        source = _according_to_source(token)
        return _attribution(ctx, source, "according to") if source is not None else None
    if token.pos_ not in ("VERB", "AUX") or not (token.lower_ in ctx.cues or is_phrasal_cue(token)):
        return None
    speaker = _speaker_token(ctx, token)
    if speaker is None or inside_segment(ctx, speaker.idx):
        return None
    if speaker.ent_type_ in _MUTE_ENTITY_TYPES:
        return None
    if _is_dateline(speaker) and speaker.i < token.i:
        # "LONDON (Reuters) - Donald Trump said": the parser took the dateline for the subject.
        names = [t for t in token.doc[speaker.i + 1 : token.i] if t.pos_ == "PROPN"]
        names = [t for t in names if not _is_dateline(t) and t.text.upper() != t.text]
        if not names:
            return None
        speaker = names[-1]
    attribution = _attribution(ctx, speaker, token.lower_)
    attribution.cue_index = token.i
    return attribution


def is_phrasal_cue(token) -> bool:
    """``shot back``, ``went on``: a verb that is a cue with the particle after it."""
    doc = token.doc
    if token.i + 1 >= len(doc):
        return False
    verbs = _PHRASAL_CUES.get(doc[token.i + 1].lower_)
    return verbs is not None and token.lower_ in verbs


def is_according_to(ctx: Context, token) -> bool:
    return (
        token.lower_ == "according"
        and "according to" in ctx.cues
        and token.i + 1 < len(token.doc)
        and token.doc[token.i + 1].lower_ == "to"
    )


def _according_to_source(token):
    to = token.doc[token.i + 1]
    objects = [c for c in to.children if c.dep_ == "pobj"]
    if objects:
        return _author_of(objects[0]) or objects[0]
    following = token.doc[to.i + 1] if to.i + 1 < len(token.doc) else None
    return following if following is not None and following.pos_ in ("PROPN", "NOUN") else None


def _author_of(thing):
    """Who made a document a source names: ``calculations by Amy Glasmeier``, ``a court
    document filed by the state attorney``, ``audio provided by Wyoming Public Radio``."""
    if thing.pos_ != "NOUN":
        return None
    for child in thing.children:
        if child.dep_ == "acl":  # "filed by", "provided by"
            child = next((c for c in child.children if c.dep_ == "agent"), child)
        if child.dep_ in ("prep", "agent") and child.lower_ in ("by", "from"):
            author = next((c for c in child.children if c.dep_ == "pobj"), None)
            if author is not None and author.pos_ == "PROPN":
                return author
    return None


def _speaker_token(ctx: Context, cue):
    """The subject of a cue verb, inherited through participles and clauses (``X, stating``).

    Subjects inside quote marks are the speaker's words (``they`` in a quote the
    parser hung from ``said``), not the speaker; one outside them comes first.
    """
    verb = cue
    # "..., adding" or "and called him" after a reported clause: the parser often hangs these
    # on the clause's verb, but they go with whoever reported it.
    participle = cue.tag_ == "VBG" or cue.dep_ == "conj"
    for _ in range(5):
        subjects = [c for c in verb.children if c.dep_ in _SPEAKER_DEPS]
        outside = [c for c in subjects if not inside_segment(ctx, c.idx)]
        subjects = outside or subjects
        if subjects and participle and verb is not cue and _reported_by_cue(ctx, verb):
            # "Trump told Newsmax that Romney had ..., adding": the teller, not Romney.
            verb = verb.head
            continue
        if subjects:
            subject = subjects[0]
            if subject.lower_ in ("who", "which", "that") and verb.dep_ == "relcl":
                if _can_speak(ctx, verb.head) or verb.head.head is verb.head:
                    return verb.head
                verb = verb.head.head  # "released a video that said": whoever released it
                continue
            if subject.pos_ == "PRON" and subject.lower_ == "it" and verb.dep_ == "ccomp":
                return None  # "it is said": no speaker
            return subject
        if verb.dep_ in ("acl", "relcl") and verb.head.pos_ in ("NOUN", "PROPN"):
            if _can_speak(ctx, verb.head):
                return verb.head  # "Hong Lei, stating ...", "a spokeswoman, saying ..."
            # "released a statement saying", "rejected the notion, saying": the thing is not
            # the speaker; whoever released or rejected it is.
            if verb.head.head is verb.head:
                break
            verb = verb.head.head
            continue
        if verb.dep_ not in _CLIMB_DEPS or verb.head is verb:
            break
        verb = verb.head
    return _adjacent_noun(ctx, cue)


def _reported_by_cue(ctx: Context, verb) -> bool:
    """Whether ``verb`` heads the clause a cue verb reports (``told ... that X had``)."""
    return verb.dep_ == "ccomp" and verb.head.lower_ in ctx.cues and verb.head.pos_ == "VERB"


def _is_dateline(token) -> bool:
    """``WASHINGTON`` in ``WASHINGTON (AP) —``: a place in capitals before a bracket or dash."""
    doc = token.doc
    following = doc[token.i + 1].text if token.i + 1 < len(doc) else ""
    return token.text.isupper() and len(token.text) > 2 and following in ("(", "-", "—", "–")


def _can_speak(ctx: Context, token) -> bool:
    """A name, an entity, or a noun for people or bodies (``spokeswoman``, ``company``)."""
    if token.pos_ == "PROPN" or token.lower_ in ROLE_NOUNS or token.lower_ in _PEOPLE_NOUNS:
        return True
    return _entity_at(ctx, token.idx, token.idx + len(token.text)) is not None


def _adjacent_noun(ctx: Context, cue):
    """A noun right beside a cue the parser left without a subject: before it (``Jake
    Sullivan, said``), never across a quote mark, or after it (``said former executive
    Carly Fiorina``, ``said a person close to ...``): the last name of the first run of names,
    else the first plain noun."""
    doc = cue.doc
    for i in range(cue.i - 1, max(cue.i - 4, -1), -1):
        token = doc[i]
        if inside_segment(ctx, token.idx) or token.text in QUOTE_MARKS:
            break
        if token.pos_ in ("PROPN", "NOUN") or token.lower_ in _PERSON_PRONOUNS:
            return token
        if not (token.is_punct or token.pos_ in ("ADV", "AUX", "PART")):
            break
    noun = None
    for token in doc[cue.i + 1 : cue.i + 7]:
        if token.pos_ == "PROPN":
            following = doc[token.i + 1] if token.i + 1 < len(doc) else None
            if following is None or following.pos_ != "PROPN":
                return token
        elif token.pos_ == "NOUN":
            noun = noun or token
            if token.dep_ != "compound":
                return noun if noun is token else token
        elif not (token.pos_ in ("DET", "ADJ", "NUM") or token.text == "-"):
            break
    return noun


# --- speaker names and entities --------------------------------------------------------------


def _attribution(ctx: Context, speaker, cue: str | None) -> Attribution:
    """Mention offsets, resolved name, entity id and rule for a speaker token.

    A pronoun takes its antecedent's name (rule ``pronoun``); a name or entity
    its entity's canonical name (``name``); a role the article gave someone
    earlier (``the judge``) that entity (``role``); any other description
    stays as written, without an id (``anonymous``).
    """
    if speaker.lower_ in _PERSON_PRONOUNS | _THING_PRONOUNS or speaker.pos_ == "PRON":
        entity = _antecedent(ctx, speaker)
        start, end = speaker.idx, speaker.idx + len(speaker.text)
        return Attribution(
            cue=cue,
            speaker=_entity_name(entity) if entity else None,
            mention=speaker.text,
            mention_start=start,
            mention_end=end,
            entity_id=entity.get("entity_id") if entity else None,
            rule="pronoun" if entity else None,
        )
    head = _appositive_name(ctx, speaker) or speaker
    entity = _entity_at(ctx, head.idx, head.idx + len(head.text))
    if entity is not None:
        start, end = entity["start_char"], entity["end_char"]
        return Attribution(
            cue=cue,
            speaker=_entity_name(entity),
            mention=ctx.text[start:end],
            mention_start=start,
            mention_end=end,
            entity_id=entity.get("entity_id"),
            rule="name",
        )
    start, end = _noun_phrase(head)
    mention = ctx.text[start:end]
    described = LEADING_DETERMINER.sub("", mention) or mention
    attribution = Attribution(
        cue=cue, speaker=described, mention=mention, mention_start=start, mention_end=end
    )
    if head.pos_ == "PROPN":
        person = _person_named(ctx, described)  # "Park" when the model found only "Helen Park"
        if person is not None:
            attribution.speaker = _entity_name(person)
            attribution.entity_id = person.get("entity_id")
        attribution.rule = "name"
        return attribution
    role = _introduced_in_role(ctx, head) if _definite(head) else None
    if role is not None:
        attribution.speaker = _entity_name(role)
        attribution.entity_id = role.get("entity_id")
        attribution.rule = "role"
    else:
        attribution.rule = "anonymous"
    return attribution


def _role_after(text: str) -> str:
    match = _ROLE_AFTER.match(text)
    return match.group(0) if match else ""


def _definite(head) -> bool:
    """``the judge``, ``the company's``: a role the reader is meant to know already."""
    return any(c.dep_ == "det" and c.lower_ in ("the", "this", "that") for c in head.lefts)


def _person_named(ctx: Context, name: str) -> Mapping | None:
    """The article's person whose name ``name`` is or is a short form of, when only one fits."""
    from transforms.lib.entities import fits_words, normalise  # no cycle at import time

    fitting = {
        e.get("entity_id"): e
        for e in ctx.entities
        if e.get("label") == "PERSON"
        and (normalise(e["canonical"]) == normalise(name) or fits_words(name, e["canonical"]))
    }
    return next(iter(fitting.values())) if len(fitting) == 1 else None


def _introduced_in_role(ctx: Context, role) -> Mapping | None:
    """The latest entity before ``role`` that the article named in that role: ``Judge Ada
    Quill``, ``Ada Quill, the judge``, ``the judge, Ada Quill``, ``Harbour Ltd, the company``."""
    word = role.lower_
    labels = _ORG_LABELS if word in ORG_ROLE_NOUNS else ("PERSON",)
    i = bisect.bisect_left(ctx.entity_starts, role.idx)
    pattern = re.compile(rf"\b{re.escape(word)}s?\b", re.IGNORECASE)
    for entity in reversed(ctx.entities[:i]):
        if entity.get("label") not in labels or inside_segment(ctx, entity["start_char"]):
            continue
        start, end = entity["start_char"], entity["end_char"]
        before = ctx.text[max(0, start - 30) : start]
        after = ctx.text[end : end + 40]
        title = entity.get("title") or ""
        if (
            pattern.search(title)
            or pattern.search(before.rsplit(".", 1)[-1])
            or pattern.search(_role_after(after))
        ):
            return entity
    return None


def _appositive_name(ctx: Context, head):
    """``the club's chairman, Ivo Brandt,``: the named appositive when the head is unnamed."""
    if _entity_at(ctx, head.idx, head.idx + len(head.text)) is not None:
        return None
    for child in head.children:
        if child.dep_ != "appos":
            continue
        if child.pos_ == "PROPN" or _entity_at(ctx, child.idx, child.idx + len(child.text)):
            return child
    return None


def _noun_phrase(head) -> tuple[int, int]:
    """Character span of a head noun with its determiners, possessors, compounds, adjectives.

    Never across a comma: one source, not a list (``As reported by Breitbart, North Korean
    state media revealed`` gives ``North Korean state media``).
    """
    left = head
    for child in head.lefts:
        if child.dep_ in _NP_LEFT_DEPS and child.dep_ != "punct":
            left = min(left, child.left_edge, key=lambda t: t.i)
            break
    for token in head.doc[left.i : head.i]:
        if token.text in (",", ";", "(", ")") or token.lower_ in ("and", "or"):
            left = token.doc[token.i + 1]
    right = head
    for child in head.rights:
        if child.dep_ in ("compound", "flat"):
            right = child
    return left.idx, right.idx + len(right.text)


def _entity_at(ctx: Context, start: int, end: int) -> Mapping | None:
    """The speaker-like entity row overlapping ``[start, end)``, if any."""
    i = bisect.bisect_left(ctx.entity_starts, end)
    for entity in reversed(ctx.entities[max(i - 8, 0) : i]):
        if entity["end_char"] > start and entity.get("label") in _SPEAKER_LABELS:
            return entity
    return None


def _entity_name(entity: Mapping) -> str | None:
    return entity.get("canonical") or entity.get("text")


def _antecedent(ctx: Context, pronoun) -> Mapping | None:
    """The entity a pronoun most likely refers to: the latest fitting subject before it.

    Mentions inside quotes are skipped (they are the speaker's words); a person
    whose gender the article gives away (``Mrs``, ``spokeswoman``, a ``his``
    that refers back) and disagrees with ``he``/``she`` is skipped; subjects
    come first, a name in apposition to a subject counting as one (``The
    director, Helen Brandt, said``); the search stays within the last few
    sentences.
    """
    labels = ("PERSON",) if pronoun.lower_ in _PERSON_PRONOUNS else ("ORG", "NORP", "GPE")
    if pronoun.lower_ not in _PERSON_PRONOUNS | _THING_PRONOUNS:
        return None
    wanted = _PRONOUN_GENDER.get(pronoun.lower_)
    genders = _genders(ctx) if wanted else {}
    sentence = sentence_index(ctx, pronoun.idx)
    floor = ctx.sentence_starts[max(sentence - 4, 0)]
    i = bisect.bisect_left(ctx.entity_starts, pronoun.idx)
    fallback = None
    subject_of_other_label = None  # the small model often tags an unknown name ORG
    for entity in reversed(ctx.entities[:i]):
        if entity["start_char"] < floor:
            break
        if inside_segment(ctx, entity["start_char"]):
            continue
        root = ctx.doc[_entity_root_index(ctx, entity)]
        is_subject = _is_subject(root)
        if entity.get("label") not in labels:
            if is_subject and root.pos_ == "PROPN" and entity.get("label") in _SPEAKER_LABELS:
                subject_of_other_label = subject_of_other_label or entity
            continue
        if wanted and genders.get(entity.get("entity_id"), wanted) != wanted:
            continue
        if is_subject:
            return entity
        fallback = fallback or entity
    return fallback or subject_of_other_label


def _is_subject(root) -> bool:
    """A subject, or a name in apposition to one, or the possessor of one (``Brandt's aide``
    is not, but ``Brandt, the director,`` and ``the director, Brandt,`` are)."""
    if root.dep_ in _SPEAKER_DEPS:
        return True
    return root.dep_ == "appos" and root.head.dep_ in _SPEAKER_DEPS


def _genders(ctx: Context) -> dict[str, str]:
    """``entity_id -> "female" | "male"`` for the people the article gives a gender: a title
    or role word next to their name (``Mrs``, ``spokeswoman``), or the first he/she/his/her
    after their name in the same sentence with no other person between. Ties tell nothing."""
    if ctx.genders is not None:
        return ctx.genders
    votes: dict[str, list[int]] = {}
    persons = [e for e in ctx.entities if e.get("label") == "PERSON" and e.get("entity_id")]
    for n, entity in enumerate(persons):
        tally = votes.setdefault(entity["entity_id"], [0, 0])
        words = [w.lower().strip(".,") for w in (entity.get("title") or "").split()]
        before = ctx.text[max(0, entity["start_char"] - 25) : entity["start_char"]].lower().split()
        after = _role_after(ctx.text[entity["end_char"] : entity["end_char"] + 40]).lower()
        for word in [*words, *before[-1:], *after.split()]:
            word = word.strip(".,")
            tally[0] += word in FEMALE_WORDS
            tally[1] += word in MALE_WORDS
        limit = persons[n + 1]["start_char"] if n + 1 < len(persons) else len(ctx.text)
        sentence_end = _sentence_end(ctx, entity["end_char"])
        for token in ctx.doc[_token_index(ctx, entity["end_char"]) :]:
            if token.idx >= min(limit, sentence_end):
                break
            if inside_segment(ctx, token.idx):
                continue
            if token.lower_ in _PRONOUN_GENDER:
                tally[_PRONOUN_GENDER[token.lower_] == "male"] += 1
                break
    ctx.genders = {
        entity: ("female" if f > m else "male") for entity, (f, m) in votes.items() if f != m
    }
    return ctx.genders


def _sentence_end(ctx: Context, char: int) -> int:
    i = bisect.bisect_right(ctx.sentence_starts, char)
    return ctx.sentence_starts[i] if i < len(ctx.sentence_starts) else len(ctx.text)


def _token_index(ctx: Context, char: int) -> int:
    return min(bisect.bisect_left(ctx.token_starts, char), len(ctx.doc))


def _entity_root_index(ctx: Context, entity: Mapping) -> int:
    first = bisect.bisect_right(ctx.token_starts, entity["start_char"]) - 1
    last = bisect.bisect_left(ctx.token_starts, entity["end_char"]) - 1
    span = ctx.doc[max(first, 0) : max(last, first) + 1]
    return span.root.i if len(span) else max(first, 0)


def quote_row(
    ctx: Context, start: int, end: int, kind: str, attribution: Attribution | None
) -> dict:
    """The output row of one quote; ``text`` is ``ctx.text[start:end]``, speaker keys None
    when ``attribution`` is None."""
    attribution = attribution or Attribution(cue=None)
    return {
        "text": ctx.text[start:end],
        "start_char": start,
        "end_char": end,
        "speaker": attribution.speaker,
        "speaker_mention": attribution.mention,
        "speaker_start": attribution.mention_start,
        "speaker_end": attribution.mention_end,
        "speaker_entity_id": attribution.entity_id,
        "cue": attribution.cue,
        "kind": kind,
        "sentence_index": sentence_index(ctx, start),
        "parent_quote_id": None,  # set where quote ids are made (see nested_in)
        "speaker_rule": attribution.rule if attribution.mention is not None else None,
    }
