"""Bylines to author names: whole names, agencies recognised, publishers and URLs left out.

Pure functions, no Beam. ``author_names`` is the one entry point; the
vocabulary (agencies, role words, conjunctions) is data, kept here.
"""

import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "AGENCIES",
    "author_names",
    "choose_authors",
    "is_agency",
    "looks_like_person",
    "split_byline",
]

# News agencies, as bylines write them. A byline naming one is an agency byline:
# kept (it is who wrote the story) and split from the reporters it is listed with.
_AGENCY_NAMES = (
    "dpa",
    "Deutsche Presse-Agentur",
    "dpa-AFX",
    "AFP",
    "Agence France-Presse",
    "Agence France Presse",
    "Reuters",
    "Thomson Reuters",
    "AP",
    "Associated Press",
    "The Associated Press",
    "UPI",
    "Bloomberg",
    "SDA",
    "Keystone-SDA",
    "ATS",
    "APA",
    "KNA",
    "epd",
    "dts",
    "SID",
    "ANSA",
    "AGI",
    "Adnkronos",
    "EFE",
    "Europa Press",
    "Lusa",
    "ANP",
    "Belga",
    "NTB",
    "TT",
    "Ritzau",
    "STT",
    "PAP",
    "ČTK",
    "CTK",
    "TASR",
    "MTI",
    "STA",
    "HINA",
    "Tanjug",
    "BTA",
    "Agerpres",
    "Anadolu Ajansı",
    "Anadolu Agency",
    "AA",
    "DHA",
    "İHA",
    "IHA",
    "Xinhua",
    "Kyodo",
    "Jiji",
    "Yonhap",
    "PTI",
    "IANS",
    "ANI",
    "Bernama",
    "Antara",
    "AAP",
    "PA",
    "PA Media",
    "Press Association",
    "Canadian Press",
    "The Canadian Press",
    "Interfax",
    "TASS",
    "Ukrinform",
    "MENA",
    "KUNA",
    "WAM",
    "SPA",
    "MAP",
    "TAP",
    "APS",
    "LETA",
    "BNS",
    "ELTA",
    "Agencias",
    "Agenturen",
    "Agencies",
)
# Words that introduce a byline, or name a role rather than a person.
_LEAD_WORDS = re.compile(
    r"^(?:by|von|from|par|por|av|af|door|autor(?:in)?|author|text(?:e)?|texto|reportage"
    r"|written\s+by|story\s+by|words\s+by|reporter|correspondent)\s*[:.\-–—]?\s+",
    re.IGNORECASE,
)
# "Capital Von Jemima Kelly": a capitalised byline word inside, after a section or magazine name.
_INNER_LEAD = re.compile(r"^\S.*?\s(?:By|Von|Par|Por|Door)\s+(?=\S)")
_ROLES = frozenset(
    word.casefold()
    for word in (
        "journalist",
        "reporter",
        "redakteur",
        "redakteurin",
        "korrespondent",
        "korrespondentin",
        "correspondent",
        "editor",
        "staff",
        "staff writer",
        "autor",
        "autorin",
        "author",
        "photographer",
        "fotograf",
        "fotografin",
        "foto",
        "photo",
        "fotos",
        "photos",
        "video",
        "grafik",
        "graphics",
        "illustration",
        "admin",
        "administrator",
        "guest",
        "gastautor",
        "gastautorin",
        "contributor",
        "anonymous",
        "unknown",
    )
)
# Words joining two names in a byline, in the languages of the news newsbeam reads.
_CONJUNCTION = re.compile(
    r"\s+(?:and|und|og|och|ja|et|en|y|e|i|ve|dan|na|és|a|und\s+von|with|mit|avec|con|com)\s+"
    r"|\s*[&;|]\s*|\s+/\s+|/(?=\s*[A-Z])|\s+[+•·]\s+",
    re.IGNORECASE,
)
# "Sweidah 05.01.2025": a date or time after the name, in a visible byline.
_TRAILING_TIME = re.compile(r"(?:\s+[\d.:/-]*\d[\d.:/-]*(?:\s*(?:Uhr|h|am|pm))?)+$", re.IGNORECASE)
_PARENTHESES = re.compile(r"\s*[(\[][^)\]]{0,40}[)\]]\s*")
_URL = re.compile(r"^(?:https?:|www\.|//)|/|\S@\S", re.IGNORECASE)
_WHOLE_URL = re.compile(r"^(?:https?:|www\.|//)\S*$|^\S+@\S+$", re.IGNORECASE)
_DOMAIN = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}$", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_LONGEST_NAME_WORDS = 5
# Lower-case words inside personal names: "Ursula von der Leyen", "Chus del Pino".
_PARTICLES = frozenset(
    [
        "von",
        "van",
        "der",
        "den",
        "de",
        "da",
        "di",
        "del",
        "della",
        "dela",
        "la",
        "le",
        "du",
        "des",
        "dos",
        "das",
        "do",
        "zu",
        "ter",
        "ten",
        "bin",
        "ibn",
        "al",
        "el",
        "y",
        "e",
    ]
)
_LONGEST_NAME_CHARS = 80


def is_agency(name: str) -> bool:
    """True when ``name`` is a news agency's byline (``dpa``, ``AFP``, ``Reuters`` ...)."""
    return _key(name) in AGENCIES


def split_byline(byline: str) -> list[str]:
    """The names in one byline string, in order: ``"A und B, dpa"`` -> ``[A, B, dpa]``.

    ``"Last, First"`` (one word each side, neither an agency) becomes
    ``"First Last"``. Lead words (``By``, ``Von``, ``Autor:``), short
    parenthesised codes (``(obe)``) and role words are removed.
    """
    byline = " ".join(byline.split())
    byline = _PARENTHESES.sub(" ", byline).strip(" ,;:-–—")
    byline = _INNER_LEAD.sub("", byline)
    byline = _LEAD_WORDS.sub("", byline)
    parts = [p.strip() for p in byline.split(",")]
    if len(parts) == 2 and _is_inverted(parts[0], parts[1]):
        return [f"{parts[1]} {parts[0]}"]
    names = []
    for part in parts:
        for name in _CONJUNCTION.split(part):
            name = _TRAILING_TIME.sub("", _LEAD_WORDS.sub("", name.strip(" .:-–—")))
            if name and name.casefold() not in _ROLES:
                names.append(name)
    return names


def choose_authors(
    *,
    declared: Iterable[str],
    meta: Iterable[str],
    visible: Iterable[str],
    found: Iterable[str] = (),
    publishers: Iterable[str] = (),
) -> list[str]:
    """The article's authors from its bylines by source, most trusted first.

    ``declared`` (JSON-LD) or else ``meta`` (meta tags) when they name a
    person or an agency; else the persons named by the ``visible`` byline
    elements; else what JSON-LD or meta tags say (the publisher alone, as
    its own byline, or names too short to judge); else ``found``
    (trafilatura's guess).
    """
    publishers = list(publishers)
    keys = _publisher_keys(publishers)
    declared_names = author_names(declared, publishers=publishers)
    meta_names = author_names(meta, publishers=publishers)
    for names in (declared_names, meta_names):
        if any(
            (is_agency(n) or looks_like_person(n)) and not _is_publisher(n, keys) for n in names
        ):
            return names
    visible_names: list[str] = []
    for byline in visible:  # the first byline element that names a person, whole
        names = [
            n
            for n in author_names([byline], publishers=publishers)
            if not _is_publisher(n, keys) and not any(c.isdigit() for c in n)
        ]
        if any(looks_like_person(n) for n in names):
            visible_names = names
            break
    return (
        visible_names or declared_names or meta_names or author_names(found, publishers=publishers)
    )


def looks_like_person(name: str) -> bool:
    """True for two to five words, each capitalised or a name particle, no digits."""
    words = name.split()
    if not 2 <= len(words) <= _LONGEST_NAME_WORDS or any(c.isdigit() for c in name):
        return False
    capitalised = sum(1 for w in words if w[:1].isupper())
    return capitalised >= 2 and all(w[:1].isupper() or w in _PARTICLES for w in words)


def author_names(bylines: Iterable[str], *, publishers: Iterable[str] = ()) -> list[str]:
    """Whole author names from raw bylines, without repeats.

    URLs, e-mail addresses, role words and strings too long to be a name are
    left out. A name that is the publisher (one of ``publishers``, compared
    without case, spaces or punctuation, or a domain name) is left out when
    a person or agency is also named: it is the site, not the writer; alone,
    it is the byline the page shows and is kept.
    """
    names = []
    for byline in bylines:
        if not isinstance(byline, str) or _WHOLE_URL.match(byline.strip()):
            continue
        for name in split_byline(byline):
            if _is_name(name):
                names.append(name)
    names = list({_key(n): n for n in reversed(names)}.values())[::-1]  # first spelling wins
    publisher_keys = _publisher_keys(publishers)
    others = [n for n in names if not _is_publisher(n, publisher_keys)]
    return others if others else names


def _publisher_keys(publishers: Iterable[str]) -> set[str]:
    return {key for key in (_key(p) for p in publishers if p) if key}


def _is_inverted(last: str, first: str) -> bool:
    last_words, first_words = last.split(), first.split()
    return (
        len(last_words) == 1
        and 1 <= len(first_words) <= 2
        and not is_agency(last)
        and not is_agency(first)
        and first.casefold() not in _ROLES
        and all(w[:1].isupper() for w in last_words + first_words)
        and not _DOMAIN.match(first)
    )


def _is_name(name: str) -> bool:
    return (
        bool(_LETTER.search(name))
        and len(name) <= _LONGEST_NAME_CHARS
        and len(name.split()) <= _LONGEST_NAME_WORDS
        and not _URL.search(name)
    )


def _is_publisher(name: str, publisher_keys: set[str]) -> bool:
    if is_agency(name):
        return False
    key = _key(name)
    if _DOMAIN.match(name.strip()):
        return True
    return any(key == p or (len(p) >= 3 and (p in key or key in p)) for p in publisher_keys)


def _key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(c for c in folded if c.isalnum())


AGENCIES = frozenset(_key(name) for name in _AGENCY_NAMES)
