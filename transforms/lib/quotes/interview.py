"""Question-and-answer interviews: each ``A:`` paragraph is the interviewee's direct quote.

Interviews printed as ``Q: ...`` / ``A: ...`` paragraphs carry no quote marks
and no cue; the answers are still the interviewee's words. The interviewee is
the person the article names most outside the questions and answers.
"""

import re
from collections import Counter

from transforms.lib.quotes.attribution import Attribution, quote_row
from transforms.lib.quotes.context import Context

__all__ = ["interview_answers"]

_QUESTION = re.compile(r"^[ \t]*(?:Q|Question)[:.][ \t]+", re.MULTILINE)
_ANSWER = re.compile(r"^[ \t]*(?:A|Answer)[:.][ \t]+(\S.*)$", re.MULTILINE)


def interview_answers(ctx: Context) -> list[dict]:
    """One ``direct`` row per answer paragraph of a Q&A interview, attributed to the
    interviewee (rule ``interview``); none when the text has no question and answer lines,
    and answers without a speaker when it names no person outside them."""
    questions = list(_QUESTION.finditer(ctx.text))
    answers = list(_ANSWER.finditer(ctx.text))
    if not questions or not answers:
        return []
    inside = [(m.start(), ctx.text.find("\n", m.start())) for m in [*questions, *answers]]
    inside = [(start, end if end >= 0 else len(ctx.text)) for start, end in inside]
    persons = [
        e
        for e in ctx.entities
        if e.get("label") == "PERSON"
        and not any(start <= e["start_char"] < end for start, end in inside)
    ]
    counts = Counter(e.get("entity_id") for e in persons)
    attribution = Attribution(cue=None)
    if counts:
        top = max(counts, key=lambda entity: (counts[entity], -_first(persons, entity)))
        first = next(e for e in persons if e.get("entity_id") == top)
        attribution = Attribution(
            cue=None,
            speaker=first.get("canonical"),
            mention=ctx.text[first["start_char"] : first["end_char"]],
            mention_start=first["start_char"],
            mention_end=first["end_char"],
            entity_id=top,
            rule="interview",
        )
    rows = []
    for answer in answers:
        start, end = answer.start(1), answer.end(1)
        end = len(ctx.text[:end].rstrip())
        if end > start:
            rows.append(quote_row(ctx, start, end, "direct", attribution))
    return rows


def _first(persons, entity_id) -> int:
    return next(i for i, e in enumerate(persons) if e.get("entity_id") == entity_id)
