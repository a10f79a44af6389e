"""RSS and Atom feeds to raw article records, and feed state merging. Pure functions, no Beam.

Feeds are parsed from bytes only, through feedparser (RSS 0.9x, 1.0, 2.0,
Atom 0.3 and 1.0). A feed's state (its HTTP validators and the ids of the
entries already ingested) is merged here and kept by ``transforms.store``
in ``DIR/_state/feeds.json``, saved only after the run's output is committed.
"""

import calendar
import datetime as dt
import hashlib
import io
import re
from collections.abc import Collection, Iterable, Mapping
from urllib.parse import urljoin, urlsplit

import feedparser

from transforms.lib import dates
from transforms.lib.formats import raw_record
from transforms.lib.html import fragment_to_text
from transforms.lib.normalize import FEED_TITLE
from transforms.lib.records import ErrorType, Rejected
from transforms.lib.settings import DEFAULT_LIMITS
from transforms.lib.urls import canonical_url, site_of

__all__ = [
    "FEED_TITLE",
    "XML_BOMS",
    "entry_identity_keys",
    "entry_key",
    "merge_feed_state",
    "page_text_wins",
    "parse_feed",
    "settle_updates",
    "state_update",
    "with_page",
]

# An entity declared in the internal DTD subset, with its replacement text or external id.
_ENTITY_DECLARATION = re.compile(
    r"<!ENTITY\s+(%\s+)?[\w.:-]+\s+(\"[^\"]*\"|'[^']*'|SYSTEM|PUBLIC)", re.IGNORECASE
)
_INTERNAL_SUBSET = re.compile(r"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
# A character reference, or a short literal: at most a tenfold expansion per reference.
_SAFE_ENTITY_VALUE = re.compile(r"^[\"'](?:&#(?:\d+|x[0-9a-fA-F]+);|[^&<%\"']{0,32})[\"']$")
# A numeric character reference (as sgmllib reads one: the semicolon is required).
_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")
_REPLACEMENT_REFERENCE = "&#xFFFD;"
_LANGUAGE_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]|$)")
_DATE_FIELDS = ("published", "updated", "created")
_PLAIN_TYPES = frozenset(["text/plain", "text"])
# Byte-order marks, and the first bytes of an undeclared UTF-16/32 document.
XML_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
# Fields of a raw record a fetched page may fill (keys of html.extract_article's dict).
_PAGE_FIELDS = (
    "title",
    "authors",
    "published",
    "modified",
    "description",
    "image_url",
    "site_name",
)
# Page text replaces feed text when it is this much longer: a summary is a teaser.
_PAGE_GAIN = 1.2


# ---------------------------------------------------------------- feeds


def parse_feed(
    data: bytes,
    *,
    feed_url: str | None,
    origin: str,
    response_headers: Mapping[str, str] | None = None,
    seen_ids: Collection[str] = (),
) -> tuple[list[dict | Rejected], dict]:
    """Raw records of a feed's entries, and what the feed says about itself.

    ``feed_url`` (the final URL, or None for a local file) resolves relative
    links; ``origin`` prefixes each record's origin, ``#`` and the entry id
    (or its index). Entries whose ``entry_key`` is in ``seen_ids`` are
    skipped. An entry with a link but no text gets ``text=""`` (for
    ``FetchArticlePages`` to fill); one with neither is a ``Rejected``
    (``empty_entry``) in the list. The returned dict holds ``title``,
    ``source``, ``version``, ``entry_ids`` (every entry's key, in order),
    ``new_entries`` ((origin, key) of each entry not skipped, whether it
    became a record or a ``Rejected``) and ``skipped`` (how many were seen
    before).

    Raises ``Rejected`` for the whole feed: ``unsafe_xml`` (entity
    declarations, the billion-laughs family), ``malformed_feed`` (nothing
    readable as RSS or Atom) and ``empty_feed`` (a valid feed, no entries).
    """
    _refuse_entity_declarations(data)
    data = _valid_character_references(data)
    headers = {name.lower(): value for name, value in (response_headers or {}).items()}
    if feed_url:  # the base for relative links, as feedparser would have had fetching it
        headers["content-location"] = urljoin(feed_url, headers.get("content-location", ""))
    # A file object, never bytes or str: feedparser opens a str as a URL and bytes as a path.
    # No sanitising or rewriting of entry HTML: it halves feedparser's time, and newsbeam
    # keeps only the text (fragment_to_text drops scripts, styles and applets itself).
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not parsed.entries:
        if parsed.get("bozo") or not parsed.get("version"):
            problem = parsed.get("bozo_exception")
            raise Rejected(
                ErrorType.MALFORMED_FEED,
                "not a readable RSS or Atom feed" + (f": {problem}" if problem else ""),
                excerpt=data,
            )
        raise Rejected(ErrorType.EMPTY_FEED, "the feed has no entries")
    feed = parsed.feed
    title = _detail_text(feed.get("title_detail"), feed.get("title"))
    source = title or site_of(feed.get("link")) or site_of(feed_url)
    context = {
        "origin": origin,
        "source": source,
        "language": feed.get("language"),
        "authors": _authors(feed),
    }
    seen = frozenset(seen_ids)
    outcomes: list[dict | Rejected] = []
    entry_ids, new_entries = [], []
    # Over every entry, seen or not, so an entry's key is the same in every run.
    identity_keys = entry_identity_keys(parsed.entries)
    for index, entry in enumerate(parsed.entries):
        key = entry_key(entry)
        entry_ids.append(key)
        if key in seen:
            continue
        entry_origin = f"{origin}#{entry.get('id') or index}"
        new_entries.append((entry_origin, key))
        try:
            record = _entry_record(entry, entry_origin, context)
            record["identity_key"] = identity_keys.get(index)
            outcomes.append(record)
        except Rejected as reject:
            reject.origin = entry_origin
            outcomes.append(reject)
    info = {
        "title": title,
        "source": source,
        "version": parsed.get("version") or None,
        "entry_ids": entry_ids,
        "new_entries": new_entries,
        "skipped": len(entry_ids) - len(outcomes),
    }
    return outcomes, info


def entry_identity_keys(entries) -> dict[int, str]:
    """What keeps apart different entries of one feed that link to the same page.

    Link-list, "now" and comment feeds point many entries at one page, often
    at ``page#anchor``. Among entries whose links share a canonical URL but
    whose title or text differ, each gets a key: its link's fragment when
    the fragments differ, else its guid (else a hash of what it says), the
    same for copies of one entry. Entries alone behind their URL, and a
    URL's copies of one entry, get none: a true duplicate keeps the URL's
    id. Returns index -> key.
    """
    groups: dict[str, list[int]] = {}
    for index, entry in enumerate(entries):
        canonical = canonical_url(entry.get("link") or None)
        if canonical:
            groups.setdefault(canonical, []).append(index)
    keys: dict[int, str] = {}
    for indexes in groups.values():
        digests = {index: _content_digest(entries[index]) for index in indexes}
        if len(indexes) < 2 or len(set(digests.values())) < 2:
            continue  # alone behind its URL, or copies of one entry
        fragments = {i: urlsplit(entries[i].get("link") or "").fragment for i in indexes}
        if len(set(fragments.values())) > 1:
            keys.update({i: f"#{fragments[i]}" for i in indexes if fragments[i]})
            continue
        by_digest: dict[str, str] = {}  # copies of one entry share the first copy's key
        for index in indexes:
            guid = entries[index].get("id")
            own = guid.strip() if isinstance(guid, str) and guid.strip() else digests[index]
            keys[index] = by_digest.setdefault(digests[index], own)
    return keys


def _content_digest(entry: Mapping) -> str:
    """A hash of an entry's title and text: equal for copies of one entry."""
    words = "\x1f".join(str(entry.get(f) or "") for f in ("title", "summary"))
    return "sha256:" + hashlib.sha256(words.encode("utf-8")).hexdigest()[:32]


def entry_key(entry: Mapping) -> str:
    """A stable id for a feed entry: its id, else its link, else a hash of what it says."""
    for field in ("id", "link"):
        value = entry.get(field)
        if isinstance(value, str) and value.strip():
            return value.strip()
    words = "\x1f".join(str(entry.get(f) or "") for f in ("title", "published", "summary"))
    return "sha256:" + hashlib.sha256(words.encode("utf-8")).hexdigest()[:32]


def page_text_wins(feed_text: str | None, page_text: str | None) -> bool:
    """True when a fetched page's main text should replace the feed's text.

    The page wins when it has text and the feed has none, or when it is
    clearly longer (by a fifth): a feed summary is usually a teaser.
    """
    if not page_text or not page_text.strip():
        return False
    feed_length = len((feed_text or "").strip())
    return len(page_text.strip()) > feed_length * _PAGE_GAIN


def with_page(record: dict, page: Mapping) -> dict:
    """``record`` improved by its fetched page (``transforms.lib.html.extract_article``'s dict).

    The page's text replaces the feed's when ``page_text_wins`` (always, for
    a headline-only entry), with ``text_source="page"``; the page's title,
    authors, dates, standfirst, image and site name fill only fields the
    feed left empty.
    """
    improved = dict(record)
    feed_text = "" if record.get("text_source") == FEED_TITLE else record.get("text")
    if page_text_wins(feed_text, page.get("text")):
        improved["text"] = page["text"]
        improved["text_source"] = "page"
    for field in _PAGE_FIELDS:
        if not improved.get(field) and page.get(field):
            improved[field] = page[field]
    return improved


def _refuse_entity_declarations(data: bytes) -> None:
    """Rejects DTD entities other than character references and short literals.

    feedparser keeps literal entities of any length (the quadratic blowup),
    and expat's amplification limit still lets a 10 MB feed grow a
    hundredfold; external entities (SYSTEM, PUBLIC) are refused outright.
    Entities can only be declared in a DOCTYPE's internal subset, so a
    document without one is never scanned.
    """
    text = _decoded(data)
    subset = _INTERNAL_SUBSET.search(text)
    if subset is None:
        return
    for match in _ENTITY_DECLARATION.finditer(text, subset.start()):
        if not _SAFE_ENTITY_VALUE.match(match.group(2)):
            raise Rejected(
                ErrorType.UNSAFE_XML,
                "the feed declares an external or long XML entity (refused: entity expansion "
                "and external entity attacks)",
                excerpt=match.group(0),
            )


def _valid_character_references(data: bytes) -> bytes:
    """``data`` with each reference to a character XML forbids made ``&#xFFFD;``.

    XML allows tab, newline, carriage return and U+0020..U+10FFFF except
    surrogates, U+FFFE and U+FFFF. expat refuses a feed with any other
    reference (``&#xD800;``, ``&#0;``, ``&#x110000;``), feedparser then
    re-reads it with its loose parser, and that one raises on a surrogate or
    a number past U+10FFFF: the whole feed was lost for one character. A high
    and a low surrogate in a row (UTF-16 written as references) become the one
    character they encode. A UTF-16/32 feed is decoded to be rewritten, and
    kept as it is if it does not decode.
    """
    for bom, encoding in XML_BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return data
            fixed = _fixed_references(text)
            return data if fixed == text else fixed.encode(encoding)
    if b"&#" not in data:
        return data
    # Latin-1 maps bytes to characters one to one: any ASCII-compatible encoding survives.
    return _fixed_references(data.decode("latin-1")).encode("latin-1")


def _fixed_references(text: str) -> str:
    parts, done = [], 0
    references = list(_CHARACTER_REFERENCE.finditer(text))
    i = 0
    while i < len(references):
        reference = references[i]
        code = _code_point(*reference.groups())
        parts.append(text[done : reference.start()])
        after = references[i + 1] if i + 1 < len(references) else None
        if 0xD800 <= code < 0xDC00 and after is not None and after.start() == reference.end():
            low = _code_point(*after.groups())
            if 0xDC00 <= low <= 0xDFFF:
                parts.append("&#x%X;" % (0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                done, i = after.end(), i + 2
                continue
        parts.append(reference.group(0) if _allowed_in_xml(code) else _REPLACEMENT_REFERENCE)
        done, i = reference.end(), i + 1
    parts.append(text[done:])
    return "".join(parts)


def _code_point(hexadecimal: str | None, decimal: str | None) -> int:
    digits = (hexadecimal or decimal or "").lstrip("0")
    if len(digits) > 8:  # past U+10FFFF whatever the digits; int() of a million digits is slow
        return 0x110000
    return int(digits or "0", 16 if hexadecimal else 10)


def _allowed_in_xml(code: int) -> bool:
    return code in (0x9, 0xA, 0xD) or (
        0x20 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF and code not in (0xFFFE, 0xFFFF)
    )


def _decoded(data: bytes) -> str:
    """Enough of a decoding to find markup: UTF-16/32 by BOM or NULs, else Latin-1."""
    for bom, encoding in XML_BOMS:
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    return data.decode("latin-1")


def _entry_record(entry: Mapping, origin: str, context: dict) -> dict:
    text, text_source, language = _entry_text(entry)
    link = entry.get("link") or None
    title = _detail_text(entry.get("title_detail"), entry.get("title")) or None
    if not text and title:  # a headline-only entry is an article about its headline
        text, text_source = title, FEED_TITLE
    if not text and not link:
        raise Rejected(
            ErrorType.EMPTY_ENTRY,
            "the feed entry has neither text, title nor a link",
            excerpt=entry.get("id"),
        )
    return raw_record(
        origin,
        text=text,
        url=link,
        title=title,
        authors=_authors(entry) or context["authors"],
        published=_published(entry),
        source=context["source"],
        language=_language(language or context["language"]),
        text_source=text_source,
        modified=_modified(entry),
        image_url=_image_url(entry),
        site_name=context["source"],
    )


def _modified(entry: Mapping) -> str | None:
    """The entry's update date, when it says one apart from its publication date
    (feedparser repeats an RSS pubDate as ``updated``)."""
    updated = entry.get("updated")
    if not isinstance(updated, str) or not updated.strip() or updated == entry.get("published"):
        return None
    return updated.strip()


def _image_url(entry: Mapping) -> str | None:
    """The entry's image: media:content or media:thumbnail, else an image enclosure."""
    for media in [*(entry.get("media_content") or []), *(entry.get("media_thumbnail") or [])]:
        url = media.get("url") if isinstance(media, Mapping) else None
        kind = (media.get("type") or media.get("medium") or "image") if url else ""
        if url and "image" in kind:
            return url
    for link in entry.get("links") or []:
        if (
            isinstance(link, Mapping)
            and link.get("rel") == "enclosure"
            and (link.get("type") or "").startswith("image/")
            and link.get("href")
        ):
            return link["href"]
    return None


def _entry_text(entry: Mapping) -> tuple[str, str, str | None]:
    """The entry's text, where it came from, and its declared language."""
    contents = [c for c in entry.get("content") or [] if (c.get("value") or "").strip()]
    if contents:
        content = max(contents, key=lambda c: len(c.get("value") or ""))
        text = _detail_text(content, content.get("value"))
        if text:
            return text, "feed_content", content.get("language")
    detail = entry.get("summary_detail") or {}
    text = _detail_text(detail, entry.get("summary"))
    return text, "feed_summary", detail.get("language")


def _detail_text(detail: Mapping | None, value: str | None) -> str:
    """Plain text of a feedparser text construct: HTML types through ``fragment_to_text``."""
    value = value if value is not None else (detail or {}).get("value")
    if not value:
        return ""
    kind = ((detail or {}).get("type") or "text/html").lower()
    if kind in _PLAIN_TYPES:
        return value.strip()
    return fragment_to_text(value)


def _authors(item: Mapping) -> list[str]:
    names = [
        (author.get("name") or author.get("email") or "").strip()
        for author in item.get("authors") or []
        if isinstance(author, Mapping)
    ]
    names = [name for name in names if name]
    if not names and isinstance(item.get("author"), str) and item["author"].strip():
        names = [item["author"].strip()]
    return list(dict.fromkeys(names))


def _published(entry: Mapping) -> dt.datetime | str | None:
    """The entry's first readable date as an aware UTC datetime, else its raw text, else None.

    Our own reader goes first: feedparser reads a zone name it does not know
    as UTC. feedparser's reading is used only for text ours cannot read at
    all (its Korean, Greek, ... formats). A date with an unknown zone or out
    of range is passed on as text, for normalize to report as ``invalid_date``.
    """
    for field in _DATE_FIELDS:
        raw = entry.get(field)
        raw = raw.strip() if isinstance(raw, str) else ""
        if raw:
            try:
                return dates.to_utc(raw)
            except (dates.UnknownTimeZone, dates.ImplausibleDate):
                continue  # feedparser's reading would be wrong, not just different
            except ValueError:
                pass
        parsed = entry.get(f"{field}_parsed")
        if parsed:
            try:
                return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC)
            except (OverflowError, OSError, ValueError, TypeError):
                pass
    for field in _DATE_FIELDS:
        raw = entry.get(field)
        if isinstance(raw, str) and raw.strip():
            return raw.strip()
    return None


def _language(tag: str | None) -> str | None:
    match = _LANGUAGE_TAG.match((tag or "").strip())
    return match.group(1).lower() if match else None


# ---------------------------------------------------------------- state


def state_update(
    feed: str,
    *,
    etag: str | None,
    last_modified: str | None,
    seen_ids: Iterable[str],
    checked_at: dt.datetime,
    new_entries: Iterable[tuple[str, str]] = (),
) -> dict:
    """One feed's new state, as ``ReadFeeds`` emits it: ``seen_ids`` are entries seen
    before and skipped, ``new_entries`` the (origin, key) of entries read this time,
    for ``settle_updates`` to sort into ingested and failed once the run committed."""
    return {
        "feed": feed,
        "etag": etag,
        "last_modified": last_modified,
        "seen_ids": list(seen_ids),
        "new_entries": [list(entry) for entry in new_entries],
        "checked_at": checked_at.astimezone(dt.UTC).isoformat(),
    }


def settle_updates(updates: Iterable[dict], ingested: Iterable[tuple[str, str]]) -> list[dict]:
    """``updates`` with each new entry moved to ``seen_ids`` when it was ingested, else to
    ``failed_ids``.

    ``ingested`` holds the (feed, key) of entries that became an article or a
    declared duplicate in the committed run; every other new entry failed
    somewhere (empty text, a page that gave none, the model) and is read again.
    """
    done: dict[str, set[str]] = {}
    for feed, key in ingested:
        done.setdefault(feed, set()).add(key)
    settled = []
    for update in updates:
        feed_done = done.get(update["feed"], set())
        keys = list(dict.fromkeys(key for _origin, key in update.get("new_entries", [])))
        settled.append(
            {
                **{k: v for k, v in update.items() if k != "new_entries"},
                "seen_ids": [*update.get("seen_ids", []), *(k for k in keys if k in feed_done)],
                "failed_ids": [k for k in keys if k not in feed_done],
            }
        )
    return settled


def merge_feed_state(
    state: Mapping[str, dict],
    updates: Iterable[dict],
    *,
    max_seen_ids: int = DEFAULT_LIMITS.max_seen_ids,
    max_attempts: int = DEFAULT_LIMITS.max_entry_attempts,
) -> dict[str, dict]:
    """``state`` with ``updates`` (settled by ``settle_updates``) applied.

    Seen ids are appended, and only the last ``max_seen_ids`` of each feed
    kept, most recent last. A failed entry's attempts are counted in
    ``failing`` (key -> attempts); at ``max_attempts`` it is given up and
    marked seen. While a feed has failing entries its validators are not
    kept, so the next poll reads the whole feed instead of getting a 304.
    """
    merged = {feed: dict(entry) for feed, entry in state.items()}
    for update in updates:
        previous = merged.get(update["feed"], {})
        seen = dict.fromkeys(previous.get("seen_ids", []))
        attempts = previous.get("failing") or {}
        if "failed_ids" in update:  # only entries failing now: one that left the feed is forgotten
            failing = {key: attempts.get(key, 0) + 1 for key in update["failed_ids"]}
        else:  # a 304, or an update never settled: nothing was tried again
            failing = dict(attempts)
        given_up = [key for key, count in failing.items() if count >= max_attempts]
        for key in [*update.get("seen_ids", []), *given_up]:
            failing.pop(key, None)
            seen.pop(key, None)
            seen[key] = None
        merged[update["feed"]] = {
            "etag": None if failing else update.get("etag"),
            "last_modified": None if failing else update.get("last_modified"),
            "seen_ids": list(seen)[-max_seen_ids:],
            "failing": failing,
            "checked_at": update.get("checked_at"),
        }
    return merged
