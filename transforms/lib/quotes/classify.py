"""Is a quoted stretch speech? ``direct``, ``partial``, ``name`` or not speech at all.

Pure string logic over the text and a ``Segment``, no spaCy: the decision
reads only the quoted words and the punctuation and words around the marks.
"""

import re

from transforms.lib.quotes.marks import QUOTE_MARKS, WORD, Segment, reads_as_sentence
from transforms.lib.vocabulary import SENTENCE_END, TITLE_SMALL_WORDS

__all__ = ["classify"]

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


def classify(text: str, seg: Segment) -> str | None:
    """``direct`` for quoted sentences, ``partial`` for fragments, ``name`` for names and titles.

    None for a stretch with no words or one a naming word introduces
    (``so-called``, ``dubbed``). A ``name`` is speech only when a cue sits
    right beside it (``"Never Again," Fox said``); the caller decides that.
    """
    content = text[seg.start : seg.end]
    words = WORD.findall(content)
    if not words:
        return None
    if _named_by_context(text, seg):
        return None
    if _is_title(words):
        return "name"
    if _punctuation_framed(text, seg) or reads_as_sentence(content) or SENTENCE_END.search(content):
        return "direct"
    if content[:1].isupper() and len(words) >= 6:
        return "direct"
    return "partial"


def _punctuation_framed(text: str, seg: Segment) -> bool:
    """True when punctuation ties the quote to an attribution: ``said: "``, ``," said``."""
    before = text[max(seg.open_at - 3, 0) : seg.open_at].rstrip()
    paragraph_start = seg.open_at == 0 or text[seg.open_at - 1] == "\n"
    sentence_start = before[-1:] in (".", "!", "?") or (
        before[-1:] in QUOTE_MARKS and before[-2:-1] in (".", "!", "?")
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
    content_words = [w for w in words if w.lower() not in TITLE_SMALL_WORDS]
    return bool(content_words) and all(w[:1].isupper() or w[:1].isdigit() for w in content_words)


def _named_by_context(text: str, seg: Segment) -> bool:
    """True after ``so-called``, ``dubbed``, ``known as`` and similar naming words."""
    before = text[max(seg.open_at - 40, 0) : seg.open_at]
    if _NAMING_PHRASES.search(before):
        return True
    words = before.lower().split()
    return bool(words) and words[-1].strip(",") in _NAMING_WORDS
