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

The steps live in submodules: ``marks`` (pairing quote marks, no model),
``classify`` (speech or name, no model), ``attribution`` (cues and
speakers), ``reported`` (indirect speech); ``context`` holds the
per-document lookups they share.
"""

from collections.abc import Collection, Mapping, Sequence

from transforms.lib.quotes.attribution import (
    DEFAULT_CUES,
    Attribution,
    follow_on,
    frame_attribution,
    next_sentence_attribution,
    quote_row,
    signature_attribution,
)
from transforms.lib.quotes.classify import classify
from transforms.lib.quotes.context import build_context
from transforms.lib.quotes.interview import interview_answers
from transforms.lib.quotes.marks import quote_segments
from transforms.lib.quotes.reported import indirect_quotes, reported_clause_around
from transforms.lib.quotes.speakers import link_speakers, nested_in

__all__ = ["DEFAULT_CUES", "find_quotes", "link_speakers", "nested_in"]


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
    ctx = build_context(doc, text, entities, cues, quote_segments(text))
    rows: list[dict] = []
    partial_attributions: list[Attribution | None] = []
    previous: tuple[Attribution, int] | None = None  # last attributed quote and its paragraph
    group_attr: dict[int, Attribution] = {}
    for seg in ctx.segments:
        kind = classify(text, seg)
        if kind is None:
            continue
        attribution = group_attr.get(seg.group) or frame_attribution(ctx, seg, kind)
        if kind == "name":
            if attribution is None:
                continue
            kind = "direct"
        if attribution is None and kind == "direct":
            attribution = (
                next_sentence_attribution(ctx, seg)
                or signature_attribution(ctx, seg)
                or follow_on(previous, seg)
            )
        if attribution is None and kind == "partial":
            continue  # an unattributed fragment is a scare quote, not speech
        if attribution is not None and attribution.cue is not None:
            group_attr.setdefault(seg.group, attribution)
        if attribution is not None:
            previous = (attribution, seg.paragraph)
        rows.append(quote_row(ctx, seg.start, seg.end, kind, attribution))
        partial_attributions.append(attribution if kind == "partial" else None)
    rows.extend(_clauses_of_partials(ctx, rows, partial_attributions))
    rows.extend(indirect_quotes(ctx))
    rows.extend(interview_answers(ctx))
    rows = _unique_spans(rows)
    rows.sort(key=lambda row: (row["start_char"], row["end_char"]))
    return rows


def _clauses_of_partials(ctx, rows, attributions) -> list[dict]:
    """An ``indirect`` row for the reported clause around each partial quote (``calling him
    "a loser"``), when its cue verb's complements hold it; the partial is nested in it."""
    clauses = {}
    for row, attribution in zip(rows, attributions, strict=True):
        if attribution is None or attribution.cue_index is None:
            continue
        span = reported_clause_around(
            ctx, attribution.cue_index, row["start_char"], row["end_char"]
        )
        if span is not None and span not in clauses:
            clauses[span] = quote_row(ctx, *span, "indirect", attribution)
    return list(clauses.values())


def _unique_spans(rows: list[dict]) -> list[dict]:
    """One row per ``(start_char, end_char)``: the first, which is a quote in marks if any."""
    seen: dict[tuple[int, int], dict] = {}
    for row in rows:
        seen.setdefault((row["start_char"], row["end_char"]), row)
    return list(seen.values())
