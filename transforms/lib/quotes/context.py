"""Per-document lookups the quote rules share, computed once per ``Doc``.

Token, sentence, entity and quoted-stretch positions, searched by bisection.
Entity rows with missing or out-of-range offsets are left out here, so no
rule downstream has to check them.
"""

import bisect
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from transforms.lib.quotes.marks import Segment

__all__ = ["Context", "build_context", "inside_segment", "sentence_index", "token_at"]


@dataclass(slots=True)
class Context:
    """Per-document lookups computed once: token starts, sentences, entities, quotes."""

    doc: object
    text: str  # Doc.text rebuilds the string on every access
    cues: frozenset[str]
    token_starts: list[int]
    sentence_starts: list[int]
    parsed: bool
    entities: list[Mapping]
    entity_starts: list[int]
    segments: list[Segment] = field(default_factory=list)
    segment_opens: list[int] = field(default_factory=list)
    genders: dict[str, str] | None = None  # entity id -> "female"/"male", filled when needed


def build_context(
    doc, text: str, entities: Sequence[Mapping], cues: Collection[str], segments: list[Segment]
) -> Context:
    """The lookups for ``doc``; a doc without a parse gets one sentence and ``parsed=False``."""
    parsed = bool(len(doc)) and doc.has_annotation("DEP")
    sentence_starts = [s.start_char for s in doc.sents] if parsed else [0]
    usable = sorted(
        (e for e in entities if _valid_entity(e, len(text))), key=lambda e: e["start_char"]
    )
    return Context(
        doc=doc,
        text=text,
        cues=frozenset(c.lower() for c in cues),
        token_starts=[t.idx for t in doc],
        sentence_starts=sentence_starts,
        parsed=parsed,
        entities=usable,
        entity_starts=[e["start_char"] for e in usable],
        segments=segments,
        segment_opens=[seg.open_at for seg in segments],
    )


def _valid_entity(entity: Mapping, n_chars: int) -> bool:
    """Rejects entity rows whose offsets are missing or outside the text."""
    start, end = entity.get("start_char"), entity.get("end_char")
    return isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= n_chars


def token_at(ctx: Context, char: int):
    """The token covering (or just before) character offset ``char``, or None in an empty doc."""
    i = bisect.bisect_right(ctx.token_starts, char) - 1
    return ctx.doc[max(i, 0)] if ctx.token_starts else None


def sentence_index(ctx: Context, char: int) -> int:
    """Index of the sentence holding character offset ``char`` (0 before the first)."""
    return max(bisect.bisect_right(ctx.sentence_starts, char) - 1, 0)


def inside_segment(ctx: Context, char: int) -> bool:
    """True when ``char`` lies in any quoted stretch, marks included."""
    i = bisect.bisect_right(ctx.segment_opens, char) - 1
    if i < 0:
        return False
    seg = ctx.segments[i]  # segments are outermost and in order, so only the last may hold it
    return char < (seg.close_at + 1 if seg.close_at is not None else seg.end)
