"""Reported speech: ``X said that ...`` and ``according to X, ...`` outside quote marks.

Needs the parse; an unparsed doc gives none. A reported clause that a direct
quote opens is left to that quote.
"""

import bisect

from transforms.lib.quotes.attribution import cue_attribution, is_according_to, quote_row
from transforms.lib.quotes.context import Context, inside_segment

__all__ = ["indirect_quotes"]


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
