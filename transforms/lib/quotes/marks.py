"""Quote marks in plain text: which marks open or close, how they pair, what they enclose.

Pure string logic, no spaCy. ``quote_segments`` returns the outermost quoted
stretches in order, never crossing a line break; it never raises, and drops
marks it cannot pair soundly rather than guess.
"""

import re
from dataclasses import dataclass

from transforms.lib.vocabulary import (
    CLOSING_MARKS,
    DOUBLE_QUOTE_MARKS,
    OPENING_MARKS,
    SINGLE_QUOTE_MARKS,
)

__all__ = [
    "QUOTE_MARKS",
    "WORD",
    "Segment",
    "content_bounds",
    "mark_role",
    "outermost",
    "pair_marks",
    "quote_segments",
    "reads_as_sentence",
]

# Each family pairs on its own: a ’ never closes a “.
_DOUBLE_MARK_PATTERN = re.compile(f"[{re.escape(DOUBLE_QUOTE_MARKS)}]")
_SINGLE_MARKS = frozenset(SINGLE_QUOTE_MARKS)
_ALWAYS_OPEN = frozenset(OPENING_MARKS)
_ALWAYS_CLOSE = frozenset(CLOSING_MARKS)
QUOTE_MARKS = frozenset(DOUBLE_QUOTE_MARKS + SINGLE_QUOTE_MARKS)
_SINGLE_MARK_PATTERN = re.compile(f"[{re.escape(SINGLE_QUOTE_MARKS)}]")
# The marks newswire reopens each paragraph of a long quote with.
_PARAGRAPH_REOPENERS = frozenset("\"“„«‘'")
_PARAGRAPHS = re.compile(r"[^\n]+")
# Chars that may sit before an opening mark / after a closing mark.
_OPEN_LEFT = frozenset("([{—–-/")
_CLOSE_RIGHT = frozenset(".,;:!?)]}—–-…/")
# '90s, 'em, 'til: apostrophes at a word start that open no quote.
_ELISION = re.compile(r"'(?:\d0s|em\b|til\b|cause\b|n\b|tis\b)", re.IGNORECASE)
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass(slots=True)
class Segment:
    """One quoted stretch: content offsets, its marks and its multi-paragraph group.

    ``text[start:end]`` is the content without marks or edge spaces;
    ``close_at`` is None when the stretch runs to the paragraph end unclosed.
    """

    start: int
    end: int
    open_at: int
    close_at: int | None
    paragraph: int
    group: int


def quote_segments(text: str) -> list[Segment]:
    """Quoted stretches of ``text`` in order, outermost only, never crossing a line break.

    A quote left open at the end of a paragraph continues when the next
    paragraph opens with a quote mark (newswire style for long quotes); any
    other unclosed quote is kept only when it reads as a whole sentence.
    """
    paragraphs = [(m.start(), m.end()) for m in _PARAGRAPHS.finditer(text)]
    segments: list[Segment] = []
    group = 0
    carried: int | None = None  # group of a quote continuing from the previous paragraph
    for index, (p_start, p_end) in enumerate(paragraphs):
        found = pair_marks(text, p_start, p_end, _DOUBLE_MARK_PATTERN) + pair_marks(
            text, p_start, p_end, _SINGLE_MARK_PATTERN
        )
        found = outermost(found)
        next_opens = index + 1 < len(paragraphs) and _opens_with_mark(text, paragraphs[index + 1])
        for open_at, close_at in found:
            start, end = content_bounds(text, open_at + 1, close_at if close_at else p_end)
            if start >= end:
                continue
            if close_at is None and not (next_opens or reads_as_sentence(text[start:end])):
                continue
            continues = carried is not None and open_at == _first_char(text, p_start)
            if not continues:
                group += 1
            seg_group = carried if continues else group
            segments.append(Segment(start, end, open_at, close_at, index, seg_group))
        last = segments[-1] if segments else None
        left_open = last is not None and last.paragraph == index and last.close_at is None
        carried = last.group if left_open and next_opens else None
    return segments


def pair_marks(text: str, start: int, end: int, marks: re.Pattern) -> list[tuple[int, int | None]]:
    """``(open, close)`` mark positions of one family within one paragraph; close None if open."""
    pairs: list[tuple[int, int | None]] = []
    open_at: int | None = None
    for m in marks.finditer(text, start, end):
        role = mark_role(text, m.start(), start, end)
        if role == "open" or (role == "either" and open_at is None):
            open_at = m.start()  # a second opener drops the first, which was unbalanced
        elif role in ("close", "either") and open_at is not None:
            pairs.append((open_at, m.start()))
            open_at = None
    if open_at is not None:
        pairs.append((open_at, None))
    return pairs


def mark_role(text: str, i: int, start: int, end: int) -> str | None:
    """``open``, ``close``, ``either`` or None (an apostrophe) for the mark at ``i``.

    ``start`` and ``end`` bound the paragraph: beyond them counts as a space.
    """
    mark = text[i]
    before = text[i - 1] if i > start else " "
    after = text[i + 1] if i + 1 < end else " "
    left_free = before.isspace() or before in _OPEN_LEFT or before in QUOTE_MARKS
    right_free = after.isspace() or after in _CLOSE_RIGHT or after in QUOTE_MARKS
    if mark in _SINGLE_MARKS:
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


def outermost(pairs: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    """Drops nested and crossing stretches (a quote inside a quote belongs to the outer one)."""
    kept: list[tuple[int, int | None]] = []
    for open_at, close_at in sorted(pairs, key=lambda p: (p[0], -(p[1] or 10**12))):
        if kept:
            k_close = kept[-1][1]
            if k_close is None or open_at < k_close:
                continue
        kept.append((open_at, close_at))
    return kept


def content_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` moved inwards past spaces; ``start >= end`` when nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def reads_as_sentence(content: str) -> bool:
    """A capitalised run of several words ending in sentence punctuation."""
    words = WORD.findall(content)
    return len(words) >= 4 and content[:1].isupper() and content.rstrip()[-1:] in ".!?…"


def _first_char(text: str, start: int) -> int:
    while start < len(text) and text[start].isspace():
        start += 1
    return start


def _opens_with_mark(text: str, paragraph: tuple[int, int]) -> bool:
    first = _first_char(text, paragraph[0])
    return first < paragraph[1] and text[first] in _PARAGRAPH_REOPENERS
