"""Reported speech: ``X said that ...`` and ``according to X, ...`` outside quote marks.

Needs the parse; an unparsed doc gives none. A reported clause that a direct
quote opens is left to that quote.
"""

import bisect

from transforms.lib.quotes.attribution import cue_attribution, is_according_to, quote_row
from transforms.lib.quotes.context import Context, inside_segment
from transforms.lib.quotes.marks import QUOTE_MARKS

QUOTE_MARK_CHARS = "".join(QUOTE_MARKS)

__all__ = ["indirect_quotes", "reported_clause_around"]

# What a cue verb says or calls something, to its right: objects, complements, phrases.
_COMPLEMENT_DEPS = frozenset(
    {
        "dobj",
        "obj",
        "ccomp",
        "xcomp",
        "oprd",
        "attr",
        "dative",
        "prep",
        "acomp",
        "npadvmod",
    }
)


def indirect_quotes(ctx: Context) -> list[dict]:
    """``X said that ...`` and ``according to X, ...`` outside quote marks, plus partials in them.

    A reported clause that is itself (mostly) a direct quote is skipped: the
    direct quote already stands for it.
    """
    if not ctx.parsed:
        return []
    rows = []
    for token in ctx.doc:
        clause = _reported_clause(ctx, token)
        if clause is None or inside_segment(ctx, token.idx):
            continue
        start, end = clause
        if _covered_by_direct_quote(ctx, start, end):
            continue
        attribution = cue_attribution(ctx, token)
        if attribution is None:
            continue
        rows.append(quote_row(ctx, start, end, "indirect", attribution))
    return rows


def _reported_clause(ctx: Context, token) -> tuple[int, int] | None:
    """Character span of what a cue reports: its clausal complement, or the rest of the sentence."""
    if is_according_to(ctx, token):
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


def _trimmed_span(ctx: Context, left, right) -> tuple[int, int] | None:
    """The span from ``left`` to ``right`` without punctuation or spaces at either end."""
    tokens = [t for t in ctx.doc[left.i : right.i + 1]]
    while tokens and (tokens[0].is_space or tokens[0].is_punct):
        tokens.pop(0)
    while tokens and (tokens[-1].is_space or (tokens[-1].is_punct and tokens[-1].text != "”")):
        tokens.pop()
    if len(tokens) < 2:
        return None
    return tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)


def _covered_by_direct_quote(ctx: Context, start: int, end: int) -> bool:
    """True when a quote opens the clause (``said "We ..."``): that is a direct quote."""
    i = bisect.bisect_right(ctx.segment_opens, end) - 1
    while i >= 0 and ctx.segments[i].end > start:
        seg = ctx.segments[i]
        lead = ctx.text[start : seg.open_at].strip().lower()
        if seg.open_at <= start or lead in ("", "that", ":", ","):
            return True
        i -= 1
    return False


def reported_clause_around(ctx: Context, cue_index: int, start: int, end: int):
    """The character span of what the cue at ``cue_index`` reports, when it holds the quoted
    fragment ``[start, end)``: the cue's complements to its right (``calling him, among other
    things, "a failed candidate."``), else None."""
    cue = ctx.doc[cue_index]
    parts = [c for c in cue.rights if c.dep_ in _COMPLEMENT_DEPS]
    if not parts:
        return None
    span = _trimmed_span(ctx, parts[0].left_edge, parts[-1].right_edge)
    if span is None:
        return None
    clause_start, clause_end = span
    # The closing mark of a fragment that ends the clause belongs with it.
    while clause_end < len(ctx.text) and ctx.text[clause_end] in QUOTE_MARK_CHARS:
        clause_end += 1
    if not (clause_start <= start and end <= clause_end) or (clause_start, clause_end) == (
        start,
        end,
    ):
        return None
    return clause_start, clause_end
