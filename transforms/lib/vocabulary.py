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
    "FEMALE_WORDS",
    "LEADING_DETERMINER",
    "MALE_WORDS",
    "OPENING_MARKS",
    "ORG_ROLE_NOUNS",
    "PERSON_EPITHETS",
    "PERSON_TITLES",
    "ROLE_NOUNS",
    "SENTENCE_END",
    "SINGLE_QUOTE_MARKS",
    "TITLE_QUALIFIERS",
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

# Titles and honorifics that may open a person's name in text but are not part of it
# ("Sen. Bob Corker", "Prime Minister Theresa May"). Compared casefolded without dots, longest
# first; a title is only taken off when a name is left after it.
PERSON_TITLES = frozenset(
    {
        "mr", "mrs", "ms", "mx", "miss", "dr", "doctor", "prof", "professor", "sir", "dame",
        "lord", "lady", "hon", "honorable", "honourable", "the honorable", "the honourable",
        "president", "vice president", "president-elect", "prime minister", "premier",
        "chancellor", "minister", "foreign minister", "defense minister", "defence minister",
        "finance minister", "interior minister", "secretary", "secretary of state",
        "secretary-general", "secretary general", "attorney general", "ag", "treasury secretary",
        "defense secretary", "press secretary", "ambassador", "amb", "envoy",
        "senator", "sen", "sens", "representative", "rep", "reps", "congressman",
        "congresswoman", "congressmember", "assemblyman", "assemblywoman", "delegate",
        "governor", "gov", "lt gov", "lieutenant governor", "mayor", "deputy mayor",
        "councillor", "councilor", "councilman", "councilwoman", "council member",
        "alderman", "commissioner", "speaker", "house speaker", "leader", "majority leader",
        "minority leader", "whip", "majority whip", "minority whip", "chairman", "chairwoman",
        "chair", "chief", "chief justice", "justice", "judge", "magistrate", "sheriff",
        "detective", "det", "inspector", "officer", "sergeant", "sgt", "corporal", "cpl",
        "private", "pvt", "lieutenant", "lt", "captain", "capt", "major", "maj", "colonel",
        "col", "lt col", "general", "gen", "lt gen", "maj gen", "brig gen", "admiral", "adm",
        "vice admiral", "rear admiral", "commander", "cmdr", "cdr", "marshal", "field marshal",
        "king", "queen", "prince", "princess", "crown prince", "emperor", "empress", "sultan",
        "emir", "sheikh", "shaikh", "pope", "cardinal", "archbishop", "bishop", "reverend",
        "rev", "pastor", "father", "fr", "rabbi", "imam", "ayatollah", "grand ayatollah",
        "supreme leader", "chief executive", "ceo", "founder", "candidate", "nominee",
        "spokesman", "spokeswoman", "spokesperson",
    }
)  # fmt: skip
# Words that may stand before a title and go with it ("former Sen.", "Democratic Rep.",
# "Senate Majority Leader"): taken off only together with a title that follows them.
TITLE_QUALIFIERS = frozenset(
    {
        "former", "then", "ex", "acting", "deputy", "vice", "assistant", "associate", "senior",
        "junior", "interim", "incoming", "outgoing", "late", "us", "u.s", "state", "federal",
        "democratic", "republican", "gop", "dem", "senate", "house", "white", "white house",
        "presidential", "top", "then-", "retired", "ret", "current",
    }
)  # fmt: skip
# Epithets that open a name in quoted nicknames ("Crooked Hillary Clinton"): words, not names.
PERSON_EPITHETS = frozenset(
    {
        "crooked", "lyin", "lyin'", "lying", "sleepy", "crazy", "little", "liddle", "low-energy",
        "cryin", "cryin'", "crying", "goofy", "phony", "failing", "sloppy", "shifty", "dumb",
        "nasty", "mini", "tiny", "slippery", "lazy", "weak", "dopey", "sneaky", "wacky",
        "corrupt", "disgraced", "deranged", "dishonest", "psycho", "sleazy", "lightweight",
    }
)  # fmt: skip
# Nouns that name a speaker by role rather than by name ("the judge said"); a quote's speaker
# named this way is resolved to the person or organisation the article introduced in the role.
ROLE_NOUNS = frozenset(
    {
        "president", "senator", "congressman", "congresswoman", "governor", "mayor", "judge",
        "justice", "councillor", "councilor", "councilman", "councilwoman", "minister",
        "secretary", "ambassador", "chairman", "chairwoman", "chair", "spokesman",
        "spokeswoman", "spokesperson", "director", "leader", "official", "candidate", "nominee",
        "prosecutor", "lawyer", "attorney", "commissioner", "chancellor", "premier", "speaker",
        "sheriff", "chief", "ceo", "executive", "founder", "professor", "representative",
        "lawmaker", "general", "king", "queen", "prince", "pope", "diplomat", "envoy",
        "company", "firm", "agency", "ministry", "department", "government", "administration",
        "campaign", "committee", "group", "union", "organisation", "organization", "party",
        "network", "newspaper", "paper", "court", "council", "board", "bank", "office",
        "aide", "adviser", "advisor", "analyst", "economist", "researcher",
        "author", "actor", "star", "billionaire", "businessman", "businesswoman", "mogul",
        "republican", "democrat", "politician", "player", "coach", "manager", "owner",
    }
)  # fmt: skip
# The roles of ROLE_NOUNS that organisations, not people, speak in.
ORG_ROLE_NOUNS = frozenset(
    {
        "company", "firm", "agency", "ministry", "department", "government", "administration",
        "campaign", "committee", "group", "union", "organisation", "organization", "party",
        "network", "newspaper", "paper", "court", "council", "board", "bank", "office",
    }
)  # fmt: skip
# Words that give a person's gender away: titles, roles and the pronouns that refer back.
FEMALE_WORDS = frozenset(
    {
        "mrs", "ms", "miss", "madam", "dame", "lady", "queen", "princess", "empress",
        "congresswoman", "councilwoman", "chairwoman", "spokeswoman", "businesswoman",
        "assemblywoman", "she", "her", "hers", "herself", "wife", "mother", "daughter",
        "sister", "widow", "grandmother", "woman",
    }
)  # fmt: skip
MALE_WORDS = frozenset(
    {
        "mr", "sir", "lord", "king", "prince", "emperor", "congressman", "councilman",
        "chairman", "spokesman", "businessman", "assemblyman", "he", "him", "his", "himself",
        "husband", "father", "son", "brother", "widower", "grandfather", "man",
    }
)  # fmt: skip
