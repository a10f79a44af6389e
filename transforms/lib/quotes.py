"""Quotations in a parsed news article: who said what, verbatim or reported.

``find_quotes`` is pure logic over a spaCy ``Doc`` (tagger, parser and NER,
no lemmatizer) and the article's entity rows; it imports nothing from Beam.
It finds three kinds of quotes:

* ``direct``: a quoted sentence or more (``"We move on," Brandt said.``);
* ``partial``: a quoted fragment inside reported speech
  (``described the plan as "a step backwards"``);
* ``indirect``: reported speech without marks (``Fox said that ...``,
  ``according to the BBC, ...``).

Quoted names, titles and scare quotes are not speech and are not returned.
Odd, unbalanced or unusual quote marks never raise: the sound parts are kept.
"""

import bisect
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["DEFAULT_CUES", "find_quotes"]

# Base verbs of attribution in newswire, one concern per line. Forms are
# generated below because the lemmatizer is excluded from the pipeline for speed.
_CUE_VERBS = (
    "say tell add note state write warn argue insist explain claim reply ask predict describe",
    "call announce acknowledge admit agree allege answer assert believe boast caution charge",
    "comment complain concede conclude confirm contend continue declare deny emphasize",
    "estimate joke lament maintain mention observe promise recall remark report respond",
    "reveal scoff shout stress suggest testify tweet urge vow wonder worry quip counter retort",
)
# Past forms the regular rules below would get wrong.
_IRREGULAR_PAST = {"say": ("said",), "tell": ("told",), "write": ("wrote", "written")}
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
    return {verb, third, ing, *_IRREGULAR_PAST.get(verb, (past,))}


DEFAULT_CUES: frozenset[str] = frozenset(
    {form for line in _CUE_VERBS for verb in line.split() for form in _inflections(verb)}
    | {"according to"}
)

# Double-family and single-family marks. Guillemets count as double marks.
_DOUBLE_MARKS = re.compile(r"[\"“”„«»‟]")
_SINGLE_MARKS = re.compile(r"['‘’‹›‚‛]")
_ALWAYS_OPEN = set("“„«‟‘‹‚‛")
_ALWAYS_CLOSE = set("”»’›")
_ALL_MARKS = set("\"“”„«»‟'‘’‹›‚‛")
_PARAGRAPHS = re.compile(r"[^\n]+")
# Chars that may sit before an opening mark / after a closing mark.
_OPEN_LEFT = set("([{—–-/")
_CLOSE_RIGHT = set(".,;:!?)]}—–-…/")
# '90s, 'em, 'til: apostrophes at a word start that open no quote.
_ELISION = re.compile(r"'(?:\d0s|em\b|til\b|cause\b|n\b|tis\b)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…][\"”’»']?\s+\S")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

# Words before a quoted span that make it a name, title or label rather than speech.
_NAMING_WORDS = frozenset(
    [
        "so-called",
        "dubbed",
        "titled",
        "entitled",
        "named",
        "nicknamed",
        "labelled",
        "labeled",
        "hashtag",
        "slogan",
        "headline",
        "headlined",
        "motto",
        "theme",
        "book",
        "film",
        "movie",
        "song",
        "album",
        "show",
        "program",
        "programme",
        "campaign",
        "operation",
    ]
)
_NAMING_PHRASES = re.compile(
    r"(?:so-?\s*called|known\s+as|refer(?:s|red)?\s+to\s+(?:it\s+|them\s+)?as|"
    r"referring\s+to\s+(?:it\s+)?as|(?:its|his|her|their)\s+(?:slogan|motto|name))"
    r"\s+(?:the\s+|a\s+|an\s+)?$",
    re.IGNORECASE,
)
# Small words that stay lower-case inside a title ("War of Resistance Against ...").
_TITLE_SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "against",
        "de",
        "la",
        "du",
        "der",
        "von",
        "van",
        "'s",
    ]
)
_PERSON_PRONOUNS = frozenset({"he", "she", "him", "her"})
_THING_PRONOUNS = frozenset({"it"})
_SPEAKER_DEPS = frozenset({"nsubj", "nsubjpass"})
_CLIMB_DEPS = frozenset({"advcl", "conj", "xcomp", "ccomp", "pcomp", "prep"})
_NP_LEFT_DEPS = frozenset({"det", "poss", "compound", "amod", "nmod", "nummod", "case", "punct"})
_LEADING_DETERMINERS = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_SPEAKER_LABELS = ("PERSON", "ORG", "NORP", "GPE", "FAC")
_FRAME_TOKENS = 30  # how far a cue may sit from the quote it introduces or closes
_CUE_GAP = 10  # tokens allowed between a cue and the opening mark (said on Monday in a statement:)


@dataclass(slots=True)
class _Segment:
    """One quoted stretch: content offsets, its marks and its multi-paragraph group."""

    start: int
    end: int
    open_at: int
    close_at: int | None
    paragraph: int
    group: int


@dataclass(slots=True)
class _Attribution:
    """Who a quote is attributed to, and by which cue."""

    cue: str | None
    speaker: str | None = None
    mention: str | None = None
    mention_start: int | None = None
    mention_end: int | None = None
    entity_id: str | None = None


@dataclass(slots=True)
class _Context:
    """Per-document lookups computed once: token starts, sentences, entities, quotes."""

    doc: object
    text: str  # Doc.text rebuilds the string on every access
    cues: frozenset[str]
    token_starts: list[int]
    sentence_starts: list[int]
    parsed: bool
    entities: list[Mapping]
    entity_starts: list[int]
    segments: list[_Segment] = field(default_factory=list)
    segment_opens: list[int] = field(default_factory=list)


def find_quotes(
    doc, entities: Sequence[Mapping], *, cues: Collection[str] = DEFAULT_CUES
) -> list[dict]:
    """One dict per quote in ``doc`` (see the module docstring for the kinds).

    Keys: ``text, start_char, end_char`` (content without marks, so
    ``doc.text[start_char:end_char] == text``), ``speaker, speaker_mention,
    speaker_start, speaker_end, speaker_entity_id, cue, kind, sentence_index``.
    Never raises on odd text; quotes it cannot place soundly are left out.
    """
    text = doc.text
    if not text.strip():
        return []
    ctx = _context(doc, text, entities, cues)
    ctx.segments = _quote_segments(text)
    ctx.segment_opens = [seg.open_at for seg in ctx.segments]
    rows: list[dict] = []
    previous: tuple[_Attribution, int] | None = None  # last attributed quote and its paragraph
    group_attr: dict[int, _Attribution] = {}
    for seg in ctx.segments:
        kind = _direct_or_fragment(ctx, seg)
        if kind is None:
            continue
        attribution = group_attr.get(seg.group) or _frame_attribution(ctx, seg, kind)
        if kind == "name":
            if attribution is None:
                continue
            kind = "direct"
        if attribution is None and kind == "direct":
            attribution = _follow_on(previous, seg)
        if attribution is None and kind == "partial":
            continue  # an unattributed fragment is a scare quote, not speech
        if attribution is not None and attribution.cue is not None:
            group_attr.setdefault(seg.group, attribution)
        if attribution is not None:
            previous = (attribution, seg.paragraph)
        rows.append(_row(ctx, seg.start, seg.end, kind, attribution))
    rows.extend(_indirect_quotes(ctx))
    rows.sort(key=lambda row: (row["start_char"], row["end_char"]))
    return rows


# --- document lookups -------------------------------------------------------------------------


def _context(doc, text: str, entities: Sequence[Mapping], cues: Collection[str]) -> _Context:
    parsed = bool(len(doc)) and doc.has_annotation("DEP")
    sentence_starts = [s.start_char for s in doc.sents] if parsed else [0]
    usable = sorted(
        (e for e in entities if _valid_entity(e, len(text))), key=lambda e: e["start_char"]
    )
    return _Context(
        doc=doc,
        text=text,
        cues=frozenset(c.lower() for c in cues),
        token_starts=[t.idx for t in doc],
        sentence_starts=sentence_starts,
        parsed=parsed,
        entities=usable,
        entity_starts=[e["start_char"] for e in usable],
    )


def _valid_entity(entity: Mapping, n_chars: int) -> bool:
    """Rejects entity rows whose offsets are missing or outside the text."""
    start, end = entity.get("start_char"), entity.get("end_char")
    return isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= n_chars


def _token_at(ctx: _Context, char: int):
    """The token covering (or just before) character offset ``char``, or None in an empty doc."""
    i = bisect.bisect_right(ctx.token_starts, char) - 1
    return ctx.doc[max(i, 0)] if ctx.token_starts else None


def _sentence_index(ctx: _Context, char: int) -> int:
    return max(bisect.bisect_right(ctx.sentence_starts, char) - 1, 0)


def _inside_segment(ctx: _Context, char: int) -> bool:
    """True when ``char`` lies in any quoted stretch, marks included."""
    i = bisect.bisect_right(ctx.segment_opens, char) - 1
    if i < 0:
        return False
    seg = ctx.segments[i]  # segments are outermost and in order, so only the last may hold it
    return char < (seg.close_at + 1 if seg.close_at is not None else seg.end)


# --- finding quoted stretches -----------------------------------------------------------------


def _quote_segments(text: str) -> list[_Segment]:
    """Quoted stretches of ``text`` in order, outermost only, never crossing a line break.

    A quote left open at the end of a paragraph continues when the next
    paragraph opens with a quote mark (newswire style for long quotes); any
    other unclosed quote is kept only when it reads as a whole sentence.
    """
    paragraphs = [(m.start(), m.end()) for m in _PARAGRAPHS.finditer(text)]
    segments: list[_Segment] = []
    group = 0
    carried: int | None = None  # group of a quote continuing from the previous paragraph
    for index, (p_start, p_end) in enumerate(paragraphs):
        found = _pair_marks(text, p_start, p_end, _DOUBLE_MARKS) + _pair_marks(
            text, p_start, p_end, _SINGLE_MARKS
        )
        found = _outermost(found)
        next_opens = index + 1 < len(paragraphs) and _opens_with_mark(text, paragraphs[index + 1])
        for open_at, close_at in found:
            start, end = _content_bounds(text, open_at + 1, close_at if close_at else p_end)
            if start >= end:
                continue
            if close_at is None and not (next_opens or _reads_as_sentence(text[start:end])):
                continue
            continues = carried is not None and open_at == _first_char(text, p_start)
            if not continues:
                group += 1
            seg_group = carried if continues else group
            segments.append(_Segment(start, end, open_at, close_at, index, seg_group))
        last = segments[-1] if segments else None
        left_open = last is not None and last.paragraph == index and last.close_at is None
        carried = last.group if left_open and next_opens else None
    return segments


def _pair_marks(text: str, start: int, end: int, marks: re.Pattern) -> list[tuple[int, int | None]]:
    """``(open, close)`` mark positions of one family within one paragraph; close None if open."""
    pairs: list[tuple[int, int | None]] = []
    open_at: int | None = None
    for m in marks.finditer(text, start, end):
        role = _mark_role(text, m.start(), start, end)
        if role == "open" or (role == "either" and open_at is None):
            open_at = m.start()  # a second opener drops the first, which was unbalanced
        elif role in ("close", "either") and open_at is not None:
            pairs.append((open_at, m.start()))
            open_at = None
    if open_at is not None:
        pairs.append((open_at, None))
    return pairs


def _mark_role(text: str, i: int, start: int, end: int) -> str | None:
    """``open``, ``close``, ``either`` or None (an apostrophe) for the mark at ``i``."""
    mark = text[i]
    before = text[i - 1] if i > start else " "
    after = text[i + 1] if i + 1 < end else " "
    left_free = before.isspace() or before in _OPEN_LEFT or before in _ALL_MARKS
    right_free = after.isspace() or after in _CLOSE_RIGHT or after in _ALL_MARKS
    single = _SINGLE_MARKS.match(mark) is not None
    if single:
        if before.isalnum() and after.isalnum():
            return None  # don't, O'Brien
        if left_free and not right_free:
            return None if _ELISION.match(text, i) or (mark == "’" and after.isdigit()) else "open"
        if right_free and not before.isspace():
            # a plural possessive (players' wages) closes nothing unless a quote is open
            return "close"
        return None
    if mark in _ALWAYS_OPEN and not (right_free and not before.isspace()):
        return "open"  # but „…“ closes with “
    if mark in _ALWAYS_CLOSE and not (left_free and not right_free):
        return "close"
    if left_free and not right_free:
        return "open"
    if right_free and not left_free:
        return "close"
    return "either"


def _outermost(pairs: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    """Drops nested and crossing stretches (a quote inside a quote belongs to the outer one)."""
    kept: list[tuple[int, int | None]] = []
    for open_at, close_at in sorted(pairs, key=lambda p: (p[0], -(p[1] or 10**12))):
        if kept:
            k_close = kept[-1][1]
            if k_close is None or open_at < k_close:
                continue
        kept.append((open_at, close_at))
    return kept


def _content_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _first_char(text: str, start: int) -> int:
    while start < len(text) and text[start].isspace():
        start += 1
    return start


def _opens_with_mark(text: str, paragraph: tuple[int, int]) -> bool:
    first = _first_char(text, paragraph[0])
    return first < paragraph[1] and text[first] in "\"“„«‘'"


def _reads_as_sentence(content: str) -> bool:
    """A capitalised run of several words ending in sentence punctuation."""
    words = _WORD.findall(content)
    return len(words) >= 4 and content[:1].isupper() and content.rstrip()[-1:] in ".!?…"


# --- is a quoted stretch speech? --------------------------------------------------------------


def _direct_or_fragment(ctx: _Context, seg: _Segment) -> str | None:
    """``direct`` for quoted sentences, ``partial`` for fragments, ``name`` for names and titles.

    A name is speech only when a cue sits right beside it (``"Never Again," Fox said``).
    """
    text = ctx.text
    content = text[seg.start : seg.end]
    words = _WORD.findall(content)
    if not words:
        return None
    if _named_by_context(text, seg):
        return None
    if _is_title(words):
        return "name"
    if (
        _punctuation_framed(text, seg)
        or _reads_as_sentence(content)
        or _SENTENCE_END.search(content)
    ):
        return "direct"
    if content[:1].isupper() and len(words) >= 6:
        return "direct"
    return "partial"


def _punctuation_framed(text: str, seg: _Segment) -> bool:
    """True when punctuation ties the quote to an attribution: ``said: "``, ``," said``."""
    before = text[max(seg.open_at - 3, 0) : seg.open_at].rstrip()
    paragraph_start = seg.open_at == 0 or text[seg.open_at - 1] == "\n"
    sentence_start = before[-1:] in (".", "!", "?") or (
        before[-1:] in _ALL_MARKS and before[-2:-1] in (".", "!", "?")
    )
    content = text[seg.start : seg.end]
    ends_open = content.rstrip()[-1:] in ",?!—–-…" and seg.close_at is not None
    after = text[seg.close_at + 1 : seg.close_at + 3] if seg.close_at is not None else ""
    return (
        paragraph_start
        or (sentence_start and content[:1].isupper() and content.rstrip()[-1:] in ".!?…")
        or before[-1:] in (":", ",")
        or (ends_open and content[:1].isupper())
        or (after[:1] == "," and content[:1].isupper())
    )


def _is_title(words: list[str]) -> bool:
    """A short run of capitalised words: a name or title (``Axis of Upheaval``)."""
    if len(words) > 10:
        return False
    content_words = [w for w in words if w.lower() not in _TITLE_SMALL_WORDS]
    return bool(content_words) and all(w[:1].isupper() or w[:1].isdigit() for w in content_words)


def _named_by_context(text: str, seg: _Segment) -> bool:
    """True after ``so-called``, ``dubbed``, ``known as`` and similar naming words."""
    before = text[max(seg.open_at - 40, 0) : seg.open_at]
    if _NAMING_PHRASES.search(before):
        return True
    words = before.lower().split()
    return bool(words) and words[-1].strip(",") in _NAMING_WORDS


# --- attribution ------------------------------------------------------------------------------


def _frame_attribution(ctx: _Context, seg: _Segment, kind: str) -> _Attribution | None:
    """The cue and speaker next to a quote: after it (``," X said``) or before it."""
    if not ctx.parsed:
        return None
    first = _token_at(ctx, seg.start)
    content = ctx.text[seg.start : seg.end]
    may_close = seg.close_at is not None and (
        content.rstrip()[-1:] in ",?!—–-…" or ctx.text[seg.close_at + 1 : seg.close_at + 2] == ","
    )
    right = _right_frame(ctx, seg) if seg.close_at is not None else []
    adjacent = kind in ("direct", "name")
    ends_sentence = content.rstrip()[-1:] == "."
    if may_close or (kind == "direct" and len(right) <= 6 and not ends_sentence):
        for token in right:
            attribution = _cue_attribution(ctx, token)
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
        attribution = _cue_attribution(ctx, token)
        if attribution is not None:
            return attribution
    if kind == "direct":
        attribution = _colon_attribution(ctx, left)
        if attribution is not None:
            return attribution
    if kind == "partial" or (kind == "direct" and seg.close_at is not None):
        for token in _ancestors_in_sentence(first):
            if _inside_segment(ctx, token.idx):
                continue
            attribution = _cue_attribution(ctx, token)
            if attribution is not None:
                return attribution
    return None


def _right_frame(ctx: _Context, seg: _Segment) -> list:
    """Tokens after the closing mark up to the sentence end, a line break or the next quote."""
    token = _token_at(ctx, seg.close_at)
    tokens = []
    limit = _next_open(ctx, seg)
    for t in ctx.doc[token.i + 1 : token.i + 1 + _FRAME_TOKENS]:
        if t.idx >= limit or "\n" in t.text or t.text in (".", "?", "!", ";"):
            break
        tokens.append(t)
    return tokens


def _left_frame(ctx: _Context, seg: _Segment) -> list:
    """Tokens before the opening mark back to the sentence start, a line break or a quote.

    A quote opening a paragraph gets the previous paragraph's last sentence
    when that ends in a colon (``Brandt told the meeting:``).
    """
    token = _token_at(ctx, seg.open_at)
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


def _colon_attribution(ctx: _Context, left: list) -> _Attribution | None:
    """``Brandt, in his first interview:`` or ``Brandt went further:`` before a quote."""
    if len(left) < 2 or left[-1].text != ":":
        return None
    before = left[:-1]
    verbs = [t for t in before if t.pos_ == "VERB" and not _inside_segment(ctx, t.idx)]
    for verb in reversed(verbs):
        speaker = next((c for c in verb.children if c.dep_ in _SPEAKER_DEPS), None)
        if speaker is not None and not _inside_segment(ctx, speaker.idx):
            return _attribution(ctx, speaker, None)
    last = before[-1]
    if not verbs and last.pos_ in ("PROPN", "NOUN") and not _inside_segment(ctx, last.idx):
        return _attribution(ctx, last, None)
    return None


def _next_open(ctx: _Context, seg: _Segment) -> int:
    i = bisect.bisect_right(ctx.segment_opens, seg.open_at)
    return ctx.segment_opens[i] if i < len(ctx.segment_opens) else len(ctx.text)


def _previous_close(ctx: _Context, seg: _Segment) -> int:
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


def _follow_on(previous: tuple[_Attribution, int] | None, seg: _Segment) -> _Attribution | None:
    """The previous quote's speaker for an unattributed quote in the same or next paragraph."""
    if previous is None or seg.paragraph - previous[1] > 1 or previous[0].mention is None:
        return None
    attribution = previous[0]
    return _Attribution(
        cue=None,
        speaker=attribution.speaker,
        mention=attribution.mention,
        mention_start=attribution.mention_start,
        mention_end=attribution.mention_end,
        entity_id=attribution.entity_id,
    )


def _cue_attribution(ctx: _Context, token) -> _Attribution | None:
    """The attribution when ``token`` is a cue with a speaker; None for other tokens."""
    if _is_according_to(ctx, token):
        source = _according_to_source(token)
        return _attribution(ctx, source, "according to") if source is not None else None
    if token.lower_ not in ctx.cues or token.pos_ not in ("VERB", "AUX"):
        return None
    speaker = _speaker_token(token)
    if speaker is None or _inside_segment(ctx, speaker.idx):
        return None
    return _attribution(ctx, speaker, token.lower_)


def _is_according_to(ctx: _Context, token) -> bool:
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
        return objects[0]
    following = token.doc[to.i + 1] if to.i + 1 < len(token.doc) else None
    return following if following is not None and following.pos_ in ("PROPN", "NOUN") else None


def _speaker_token(cue):
    """The subject of a cue verb, inherited through participles and clauses (``X, stating``)."""
    verb = cue
    for _ in range(4):
        subjects = [c for c in verb.children if c.dep_ in _SPEAKER_DEPS]
        if subjects:
            subject = subjects[0]
            if subject.lower_ in ("who", "which", "that") and verb.dep_ == "relcl":
                return verb.head
            if subject.pos_ == "PRON" and subject.lower_ == "it" and verb.dep_ == "ccomp":
                return None  # "it is said": no speaker
            return subject
        if verb.dep_ in ("acl", "relcl") and verb.head.pos_ in ("NOUN", "PROPN"):
            return verb.head  # "Hong Lei, stating ..."
        if verb.dep_ not in _CLIMB_DEPS or verb.head is verb:
            break
        verb = verb.head
    return _adjacent_noun(cue)


def _adjacent_noun(cue):
    """A noun right beside a cue the parser left without a subject (``Jake Sullivan, said``)."""
    doc = cue.doc
    for i in range(cue.i - 1, max(cue.i - 4, -1), -1):
        token = doc[i]
        if token.pos_ in ("PROPN", "NOUN") or token.lower_ in _PERSON_PRONOUNS:
            return token
        if not (token.is_punct or token.pos_ in ("ADV", "AUX", "PART")):
            break
    for token in doc[cue.i + 1 : cue.i + 3]:
        if token.pos_ == "PROPN":
            return token
    return None


def _attribution(ctx: _Context, speaker, cue: str | None) -> _Attribution:
    """Mention offsets, resolved name and entity id for a speaker token."""
    if speaker.lower_ in _PERSON_PRONOUNS | _THING_PRONOUNS or speaker.pos_ == "PRON":
        entity = _antecedent(ctx, speaker)
        start, end = speaker.idx, speaker.idx + len(speaker.text)
        return _Attribution(
            cue=cue,
            speaker=_entity_name(entity) if entity else None,
            mention=speaker.text,
            mention_start=start,
            mention_end=end,
            entity_id=entity.get("entity_id") if entity else None,
        )
    head = _appositive_name(ctx, speaker) or speaker
    entity = _entity_at(ctx, head.idx, head.idx + len(head.text))
    if entity is not None:
        start, end = entity["start_char"], entity["end_char"]
        return _Attribution(
            cue=cue,
            speaker=_entity_name(entity),
            mention=ctx.text[start:end],
            mention_start=start,
            mention_end=end,
            entity_id=entity.get("entity_id"),
        )
    start, end = _noun_phrase(head)
    mention = ctx.text[start:end]
    return _Attribution(
        cue=cue,
        speaker=_LEADING_DETERMINERS.sub("", mention) or mention,
        mention=mention,
        mention_start=start,
        mention_end=end,
    )


def _appositive_name(ctx: _Context, head):
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
    """Character span of a head noun with its determiners, possessors, compounds, adjectives."""
    left = head
    for child in head.lefts:
        if child.dep_ in _NP_LEFT_DEPS and child.dep_ != "punct":
            left = min(left, child.left_edge, key=lambda t: t.i)
            break
    right = head
    for child in head.rights:
        if child.dep_ in ("compound", "flat"):
            right = child
    return left.idx, right.idx + len(right.text)


def _entity_at(ctx: _Context, start: int, end: int) -> Mapping | None:
    """The speaker-like entity row overlapping ``[start, end)``, if any."""
    i = bisect.bisect_left(ctx.entity_starts, end)
    for entity in reversed(ctx.entities[max(i - 8, 0) : i]):
        if entity["end_char"] > start and entity.get("label") in _SPEAKER_LABELS:
            return entity
    return None


def _entity_name(entity: Mapping) -> str | None:
    return entity.get("canonical") or entity.get("text")


def _antecedent(ctx: _Context, pronoun) -> Mapping | None:
    """The entity a pronoun most likely refers to: the latest fitting mention before it.

    Mentions inside quotes are skipped (they are the speaker's words), subjects
    are preferred, and the search stays within the last few sentences.
    """
    labels = ("PERSON",) if pronoun.lower_ in _PERSON_PRONOUNS else ("ORG", "NORP", "GPE")
    if pronoun.lower_ not in _PERSON_PRONOUNS | _THING_PRONOUNS:
        return None
    sentence = _sentence_index(ctx, pronoun.idx)
    floor = ctx.sentence_starts[max(sentence - 4, 0)]
    i = bisect.bisect_left(ctx.entity_starts, pronoun.idx)
    fallback = None
    subject_of_other_label = None  # the small model often tags an unknown name ORG
    for entity in reversed(ctx.entities[:i]):
        if entity["start_char"] < floor:
            break
        if _inside_segment(ctx, entity["start_char"]):
            continue
        root = ctx.doc[_entity_root_index(ctx, entity)]
        is_subject = root.dep_ in _SPEAKER_DEPS and root.pos_ == "PROPN"
        if entity.get("label") not in labels:
            if is_subject and entity.get("label") in _SPEAKER_LABELS:
                subject_of_other_label = subject_of_other_label or entity
            continue
        if is_subject or root.dep_ in _SPEAKER_DEPS:
            return entity
        fallback = fallback or entity
    return fallback or subject_of_other_label


def _entity_root_index(ctx: _Context, entity: Mapping) -> int:
    first = bisect.bisect_right(ctx.token_starts, entity["start_char"]) - 1
    last = bisect.bisect_left(ctx.token_starts, entity["end_char"]) - 1
    span = ctx.doc[max(first, 0) : max(last, first) + 1]
    return span.root.i if len(span) else max(first, 0)


# --- reported speech --------------------------------------------------------------------------


def _indirect_quotes(ctx: _Context) -> list[dict]:
    """``X said that ...`` and ``according to X, ...`` outside quote marks, plus partials in them.

    A reported clause that is itself (mostly) a direct quote is skipped: the
    direct quote already stands for it.
    """
    if not ctx.parsed:
        return []
    rows = []
    for token in ctx.doc:
        clause = _reported_clause(ctx, token)
        if clause is None or _inside_segment(ctx, token.idx):
            continue
        start, end = clause
        if _covered_by_direct_quote(ctx, start, end):
            continue
        attribution = _cue_attribution(ctx, token)
        if attribution is None:
            continue
        rows.append(_row(ctx, start, end, "indirect", attribution))
    return rows


def _reported_clause(ctx: _Context, token) -> tuple[int, int] | None:
    """Character span of what a cue reports: its clausal complement, or the rest of the sentence."""
    if _is_according_to(ctx, token):
        return _according_to_clause(token)
    if token.lower_ not in ctx.cues or token.pos_ != "VERB":
        return None
    for child in token.rights:
        if child.dep_ == "ccomp":
            return _trimmed_span(ctx, child.left_edge, child.right_edge)
    return None


def _according_to_clause(token) -> tuple[int, int] | None:
    """The sentence around ``according to X`` without that phrase and its commas."""
    sentence = token.sent
    phrase_start = token.i
    phrase_end = token.doc[token.i + 1].right_edge.i
    before = token.doc[sentence.start : phrase_start]
    after = token.doc[phrase_end + 1 : sentence.end]
    side = before if len(before) >= len(after) else after
    words = [t for t in side if not t.is_punct and not t.is_space]
    if len(words) < 3:
        return None
    return words[0].idx, words[-1].idx + len(words[-1].text)


def _trimmed_span(ctx: _Context, left, right) -> tuple[int, int] | None:
    """The span from ``left`` to ``right`` without punctuation or spaces at either end."""
    tokens = [t for t in ctx.doc[left.i : right.i + 1]]
    while tokens and (tokens[0].is_space or tokens[0].is_punct):
        tokens.pop(0)
    while tokens and (tokens[-1].is_space or (tokens[-1].is_punct and tokens[-1].text != "”")):
        tokens.pop()
    if len(tokens) < 2:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)


def _covered_by_direct_quote(ctx: _Context, start: int, end: int) -> bool:
    """True when a quote opens the clause (``said "We ..."``): that is a direct quote."""
    i = bisect.bisect_right(ctx.segment_opens, end) - 1
    while i >= 0 and ctx.segments[i].end > start:
        seg = ctx.segments[i]
        lead = ctx.text[start : seg.open_at].strip().lower()
        if seg.open_at <= start or lead in ("", "that", ":", ","):
            return True
        i -= 1
    return False


def _row(ctx: _Context, start: int, end: int, kind: str, attribution: _Attribution | None) -> dict:
    attribution = attribution or _Attribution(cue=None)
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
        "sentence_index": _sentence_index(ctx, start),
    }
