"""Marks and words that more than one text rule reads, defined once.

Plain strings, sets and compiled patterns; no spaCy, no Beam. Where two rules
need different lists, both live here under names that say what each is for.
Mark sets are strings so they fit in a regex character class; test membership
of a possibly empty string against a ``frozenset`` of them (``"" in "abc"`` is True).
"""

import re

__all__ = [
    "ACRONYM_SKIPPED_WORDS",
    "APOSTROPHE_LIKE",
    "CLOSING_MARKS",
    "DETERMINERS",
    "DOUBLE_QUOTE_MARKS",
    "LEADING_DETERMINER",
    "OPENING_MARKS",
    "SENTENCE_END",
    "SINGLE_QUOTE_MARKS",
    "TITLE_SMALL_WORDS",
]

# Double quotation marks: straight, curly (“ ”), German (low „ and reversed ‟), guillemets
# (double marks across much of Europe), the CJK pair 〝 〞 and the fullwidth ＂. The union of
# what entities and quotes each used to list, minus the primes ″ ‶: a prime is not a quotation
# mark (5′11″), and names, which are NFKC-normalised first, already see ″ and ‶ as ′′ and ‵‵.
DOUBLE_QUOTE_MARKS = '"“”„‟«»〝〞＂'
# Single quotation marks, straight and curly, low and angled. They double as apostrophes
# (don't, '90s); the quote rules tell the two apart by what stands around them.
SINGLE_QUOTE_MARKS = "'‘’‚‛‹›"
# Marks whose shape says they open, or close, a quote; straight marks say neither. Context may
# still overrule the shape: German „…“ closes with an opening-shaped “.
OPENING_MARKS = "“„«‟‘‹‚‛〝"
CLOSING_MARKS = "”»’›〞"
# What may stand for an apostrophe in a name: the single marks except the angled ‹ ›, plus what
# people type for one (backtick, acute, modifier letter apostrophe, prime). Names fold these to
# "'"; quote pairing ignores the extra four, which never quote (ʼ is a letter, ′ a prime).
APOSTROPHE_LIKE = "'‘’‚‛`´ʼ′"

DETERMINERS = frozenset({"the", "a", "an"})
LEADING_DETERMINER = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)

# Two lists of small words, for two jobs. A title leaves these lower-case between capitalised
# words ("War of Resistance Against ..."), so they do not stop a quoted run reading as a title.
TITLE_SMALL_WORDS = frozenset(
    {
        "a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "of", "on", "or",
        "the", "to", "with", "against", "de", "la", "du", "der", "von", "van", "'s",
    }
)  # fmt: skip
# An acronym spells a name without these ("CPC" is the Communist Party of China). Kept apart
# from the title list because merging the two would change which acronyms resolve to which name.
ACRONYM_SKIPPED_WORDS = frozenset(
    {"of", "for", "the", "and", "de", "la", "du", "del", "on", "in", "&"}
)

# A sentence end with more text after it: end punctuation, perhaps a closing mark, then space.
SENTENCE_END = re.compile(r"[.!?…][\"”’»']?\s+\S")
