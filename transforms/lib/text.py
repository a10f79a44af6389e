"""Article text clean-up and the facts derived from text. Pure functions, no Beam.

Each function does one thing, takes keyword-only options and is safe on any
string, including the empty one.
"""

import hashlib
import re
import unicodedata

import ftfy
import py3langid

# Whole paragraphs that are page furniture, not article text. Each line names
# one kind, in the languages of the news newsbeam reads; a paragraph is
# furniture only when it is nothing but one of these.
_BOILERPLATE = re.compile(
    r"""^(?:
        log\s?in|log\s?out|sign\s?in|sign\s?up|register|my\s+account
      | subscribe(?:\s+(?:now|today|here))?|subscribe\s+to\s+.{1,60}|subscribers?\s+only
      | advertisements?|advert|sponsored(?:\s+content)?|ad|paid\s+content|promoted
      | anzeige|werbung|publicité|passer\s+la\s+publicité|publicidad|pubblicità|annonse|reklame
      | share(?:\s+this(?:\s+(?:article|story|page))?)?|share\s+(?:on|via)\s+\w+(?:\s+\w+)?
      | (?:facebook|twitter|x|linkedin|whatsapp|email|e-mail|print|reddit|pinterest)
      | tweet(?:\s+this)?|copy\s+link|comments?(?:\s+\(\d+\))?|\d+\s+comments?
      | read\s+more|read\s+next|related(?:\s+(?:articles|stories|content|coverage|news))?
      | more\s+(?:on\s+this\s+story|stories|news)|recommended(?:\s+for\s+you)?
      | you\s+(?:might|may)\s+also\s+(?:like|be\s+interested\s+in)|trending(?:\s+now)?|most\s+read
      | (?:auch\s+interessant|lesen\s+sie\s+(?:auch|mehr)|mehr\s+zum\s+thema|meistgelesen
        |ähnliche(?:\s+artikel)?|das\s+könnte\s+sie\s+(?:auch\s+)?interessieren|weiterführende\s+links
        |(?:à\s+)?lire\s+aussi|noticias?\s+relacionadas?|lee\s+también|leer\s+más|leggi\s+anche
        |czytaj\s+(?:więcej|też|także)|les\s+også|läs\s+också|lees\s+ook)
        (?:\s*[:|].{0,150})?
      | click\s+here\s+.{1,60}|follow\s+us\s+on\s+.{1,60}|skip\s+to\s+(?:main\s+)?content
      | hauptinhalt|zum\s+inhalt\s+springen
      | (?:we|this\s+(?:web)?site)\s+uses?\s+cookies.{0,300}|accept(?:\s+all)?\s+cookies
      | cookie\s+(?:settings|policy|preferences)|manage\s+(?:cookies|preferences)
      | (?:sign\s+up\s+for|get)\s+our\s+(?:free\s+)?newsletters?.{0,100}
      | sign\s+up\s+(?:for|to)\s+(?:our\s+)?(?:breaking\s+news|newsletter|alerts).{0,200}
      | newsletter\s*:.{0,80}
      | join\s+(?:our|the)\s+(?:commenting\s+forum|conversation|discussion).{0,100}
      | you\s+must\s+(?:confirm\s+your\s+public\s+display\s+name|be\s+logged\s+in).{0,100}
      | (?:leave|post|add|show|view)\s+(?:a\s+)?comments?|comments\s+are\s+closed
      | kommentar\s+(?:abgeben|schreiben)|du\s+musst\s+dich\s+einloggen.{0,80}
      | end\s+of\s+(?:the\s+)?article|ende\s+des\s+artikels|fin\s+de\s+l[’']article
      | externer\s+inhalt(?:\s+nicht\s+verfügbar)?|empfohlener\s+redaktioneller\s+inhalt
      | embed
      | fehler\s+gefunden\s*\?\s*jetzt\s+melden|(?:report|spotted)\s+an?\s+(?:error|mistake|typo)
      | rate\s+this\s+(?:article|story)
      | (?:lesedauer|lesezeit|reading\s+time|temps\s+de\s+lecture|tiempo\s+de\s+lectura)\s*:?\s*
        (?:ca\.\s*)?\d+\s*(?:min(?:\.|uten?|utes?|utos|uti)?)?
      | (?:ca\.\s*)?\d+\s*(?:min(?:\.|uten?|utes?|utos|uti)?)\s*
        (?:read|lesezeit|lesedauer|de\s+lecture|de\s+lectura|di\s+lettura)
      | (?:image|photo|picture|foto|fotos|bild|credit|bildquelle)\s*:\s*.{1,100}
      | .{1,80}\s(?:via\s+)?getty\s+images|©.{0,120}|copyright\b.{0,120}
      | \(?(?:quelle|source|fuente|fonte|kilde|källa)\s*:\s*.{1,60}?\)?
      | \(?(?:mit|with|avec|con)\s+(?:material\s+(?:von|der)\s+)?
        (?:dpa|afp|reuters|ap|apa|kna|epd|sda|agenturmaterial|agenturen|agencies)(?:\s*(?:,|und|and)\s*\w+)*\)?
      | \((?:[^\W\d_]{2,6})(?:\s*[/,]\s*[^\W\d_]{2,6})*\)
      | back\s+to\s+top|top\s+of\s+page|image\s+(?:source|caption)
      | (?:zur\s+anzeige|um\s+(?:diesen|den)\s+(?:inhalt|beitrag)|to\s+(?:view|see|display)\s+this
        |(?:this|the)\s+(?:content|video|embed)\s+(?:is|cannot|can\s*not))
        .{0,150}(?:cookies?|consent|einstellungen|privacy|datenschutz|zustimm\w*|enable\w*
        |aktivier\w*|accept\w*|akzeptier\w*|available)
      | .{1,300}\((?:archiv|symbol)(?:bild|foto)\)
      | .{1,300}\((?:foto|photo|bild|image)\s*:[^)]{1,80}\)
    )[\s.!:|»›>…-]*$""",
    re.IGNORECASE | re.VERBOSE,
)
# A paragraph of dates and times only: "Stand: 22.04.2024, 06:00 Uhr", "30. Januar 2024".
_DATE_WORDS = frozenset(
    str.split("""
    am at on um le el il den der die des de du à a las los del ore um h uhr stand updated update
    published publicado publié pubblicato veröffentlicht aktualisiert uppdaterad publicerad
    oppdatert publisert güncelleme mis à jour actualizado aggiornato modified last
    jan feb mar apr may jun jul aug sep sept oct nov dec januar februar märz april mai juni juli
    august september oktober november dezember january february march june july october december
    janvier février mars avril juin juillet août septembre octobre novembre décembre enero
    febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre gennaio
    febbraio aprile maggio giugno luglio settembre ottobre dicembre januari februari maart mei
    augustus oktober ocak şubat mart nisan mayıs haziran temmuz ağustos eylül ekim kasım aralık
    monday tuesday wednesday thursday friday saturday sunday montag dienstag mittwoch donnerstag
    freitag samstag sonntag lundi mardi mercredi jeudi vendredi samedi dimanche lunes martes
    miércoles jueves viernes sábado domingo am pm gmt utc cet cest min
    """)
)
_TOKEN = re.compile(r"[^\W_]+")
_BOILERPLATE_MAX_CHARS = 400
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff\ufffe\uffff]")
_INLINE_SPACE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_WORD = re.compile(r"\w+(?:['’.-]\w+)*")
# langid's cost is linear in the characters it reads; 600 (about 100 words) name
# the language of every PolNeAR article the same as 1,500 did, in 45% of the time.
_LANGUAGE_SAMPLE_CHARS = 600
# Mojibake is UTF-8 read as Windows-1252 or Latin-1: a Latin-1 letter followed by
# a C1 or Latin-1 punctuation character ("â€™", "Ã©", "Â "). Only texts with such a
# pair go through ftfy, which costs more than everything else newsbeam does to a text.
_MOJIBAKE_HINT = re.compile(
    "[\u00c2-\u00ff][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_LANGUAGE_MIN_WORDS = 5
_MAX_EXTRA_PASSES = 2
# A surrogate code point alone is not a character and cannot be written as UTF-8;
# JSON's "\ud83d" escape (half an emoji, cut by JavaScript) decodes to one.
_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_lone_surrogates(text: str) -> str:
    """``text`` made encodable as UTF-8: each lone surrogate becomes U+FFFD.

    A high and a low surrogate in a row are joined into the character they
    encode, so only the broken half of an emoji is lost, never its
    neighbours; ``text`` without surrogates is returned as it is.
    """
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def repair_text(text: str) -> str:
    """Mojibake repaired (``â€™`` -> ``’``), NFC, control characters, NULs and lone
    surrogates (as U+FFFD) removed."""
    text = replace_lone_surrogates(text)
    text = _nfc(_CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))
    # NFC first: composing "A" and U+0302 makes "Â", which can start a mojibake pair.
    if _MOJIBAKE_HINT.search(text):
        # A literal "&amp;" in plain text is text, and curly quotes are kept as written.
        text = ftfy.fix_text(text, unescape_html=False, uncurl_quotes=False, normalization="NFC")
        text = _nfc(_CONTROL.sub("", text))  # "â€‹" is repaired to a zero-width space
    return text


def _nfc(text: str) -> str:
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of ``text``, each on one line, with inline whitespace collapsed.

    When the text has blank lines, they separate paragraphs and single line
    breaks inside a paragraph are hard wraps; otherwise each line is a
    paragraph (the common one-paragraph-per-line export).
    """
    text = text.strip()
    if _BLANK_LINE.search(text):
        blocks = [block.replace("\n", " ") for block in _BLANK_LINE.split(text)]
    else:
        blocks = text.split("\n")
    # str.split() collapses every inline space _INLINE_SPACE names (and NEL, U+2028/9)
    # at a fraction of a regex's cost per paragraph.
    paragraphs = (" ".join(block.split()) for block in blocks)
    return [paragraph for paragraph in paragraphs if paragraph]


def is_boilerplate(paragraph: str) -> bool:
    """True for a paragraph that is page furniture: login, share, cookie, ad, comment,
    newsletter and "related" lines, credits, reading times and lone dates."""
    if len(paragraph) > _BOILERPLATE_MAX_CHARS:
        return False
    return bool(_BOILERPLATE.match(paragraph)) or is_dateline(paragraph)


def is_dateline(paragraph: str) -> bool:
    """True for a short paragraph of dates and times only (``Stand: 22.04.2024, 06:00 Uhr``)."""
    if len(paragraph) > 80 or not any(c.isdigit() for c in paragraph):
        return False
    tokens = _TOKEN.findall(paragraph.casefold())
    return all(t.isdigit() or t in _DATE_WORDS for t in tokens)


def clean_text(text: str) -> str:
    """Article text ready for NLP: repaired, one blank line between paragraphs, no furniture.

    Cleaning clean text changes nothing (``clean_text`` is idempotent).
    """
    cleaned = _clean_once(text)
    # ftfy judges mojibake by its neighbours: "€\xa0â€™" stays as it is, "€ â€™" is
    # repaired. Once the spaces are collapsed, a pair left over gets a second look.
    for _ in range(_MAX_EXTRA_PASSES):
        if not _MOJIBAKE_HINT.search(cleaned) or (again := _clean_once(cleaned)) == cleaned:
            break
        cleaned = again
    return cleaned


def _clean_once(text: str) -> str:
    paragraphs = split_paragraphs(repair_text(text))
    return "\n\n".join(p for p in paragraphs if not is_boilerplate(p))


def without_leading_headline(body: str, title: str | None) -> str:
    """``body`` without a first paragraph that only repeats ``title`` (case and
    punctuation aside), unless nothing else would remain."""
    if not title or "\n\n" not in body:
        return body
    first, rest = body.split("\n\n", 1)
    if _TOKEN.findall(first.casefold()) == _TOKEN.findall(title.casefold()):
        return rest
    return body


def clean_line(value: str | None) -> str | None:
    """A one-line field (title, author, source): repaired and collapsed; None if empty."""
    if value is None:
        return None
    value = _INLINE_SPACE.sub(" ", repair_text(value).replace("\n", " ")).strip()
    return value or None


def count_words(text: str) -> int:
    """Number of words (runs of letters and digits, keeping ``don't`` and ``U.S`` whole)."""
    return len(_WORD.findall(text))


def content_hash(text: str) -> str:
    """A hash of the text that ignores case and whitespace: 32 hex digits of SHA-256."""
    folded = " ".join(text.casefold().split())
    # surrogatepass: a lone surrogate (which clean_text never leaves) hashes, not raises.
    return hashlib.sha256(folded.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language (py3langid's bundled model), or None if too short."""
    sample = text[:_LANGUAGE_SAMPLE_CHARS]
    if count_words(sample) < _LANGUAGE_MIN_WORDS:
        return None
    language, _score = py3langid.classify(sample)
    return language
