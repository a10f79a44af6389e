"""What a news page says about itself: JSON-LD, meta tags, ``<h1>`` and ``<title>``.

Pure functions on an lxml tree, no Beam. ``page_metadata`` gathers the
candidates; ``transforms.lib.byline`` and ``transforms.lib.headline`` turn
them into the title and authors a reader sees. The article's own objects
(``NewsArticle``, ``Article`` and their kin, ``@graph`` included) are read
before any other object on the page, so an image's or a video's
``datePublished`` never becomes the article's.
"""

import html as htmlmod
import json
import re
from collections.abc import Iterator

from transforms.lib.settings import DEFAULT_LIMITS

__all__ = ["ARTICLE_TYPES", "PageMetadata", "json_ld_objects", "page_metadata"]

# schema.org types whose object describes the article itself.
ARTICLE_TYPES = frozenset(
    t.casefold()
    for t in (
        "Article",
        "NewsArticle",
        "AnalysisNewsArticle",
        "AskPublicNewsArticle",
        "BackgroundNewsArticle",
        "OpinionNewsArticle",
        "ReportageNewsArticle",
        "ReviewNewsArticle",
        "LiveBlogPosting",
        "BlogPosting",
        "SocialMediaPosting",
        "Report",
        "ScholarlyArticle",
        "TechArticle",
        "SatiricalArticle",
    )
)
_PAGE_TYPES = frozenset(t.casefold() for t in ("WebPage", "ItemPage", "ProfilePage"))
_SITE_TYPES = frozenset(t.casefold() for t in ("WebSite", "NewsMediaOrganization", "Organization"))
_JSON_LD_NESTING = 12
_TRAILING_COMMA = re.compile(r",\s*([\]}])")
_HTML_COMMENT = re.compile(
    r"^\s*(?:<!--|/\*\s*<!\[CDATA\[\s*\*/|<!\[CDATA\[)|(?:-->|/\*\s*\]\]>\s*\*/|\]\]>)\s*$"
)

# Meta tags, by the lower-cased value of their name, property or itemprop.
_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "article:published",
    "datepublished",
    "citation_publication_date",
    "citation_date",
    "citation_online_date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date.created",
    "dcterms.created",
    "dc.date",
    "dcterms.date",
    "parsely-pub-date",
    "sailthru.date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "publication_date",
    "date",
    "article.published",
    "og:published_time",
)
_MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dc.date.modified",
    "dcterms.modified",
    "last-modified",
    "lastmod",
)
_AUTHOR_META = (
    "citation_author",
    "dc.creator",
    "dcterms.creator",
    "article:author",
    "parsely-author",
    "sailthru.author",
    "author",
    "articleauthor",
    "byl",
)
_TITLE_META = ("og:title", "twitter:title", "citation_title", "dc.title", "dcterms.title", "title")
_DESCRIPTION_META = ("og:description", "description", "twitter:description", "dc.description")
_IMAGE_META = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "image")
_SITE_META = ("og:site_name", "application-name", "apple-mobile-web-app-title", "publisher")


class PageMetadata(dict):
    """A dict of the candidates; keys listed in ``page_metadata``."""


def page_metadata(tree) -> PageMetadata:
    """The metadata candidates of the page ``tree`` (an lxml HTML element).

    Keys: ``article`` (the article's JSON-LD object merged from every such
    object, or {}), ``sites`` (site names from JSON-LD and meta tags, best
    first), ``meta`` (lower-cased meta name to its values, in page order),
    ``title`` (``<title>``), ``h1`` (texts of the ``<h1>`` elements) and
    ``canonical`` (``<link rel=canonical>`` or ``og:url``). Never raises on
    odd markup; what cannot be read is absent.
    """
    meta: dict[str, list[str]] = {}
    for element in tree.iter("meta"):
        key = element.get("property") or element.get("name") or element.get("itemprop")
        value = element.get("content")
        if key and value and value.strip():
            meta.setdefault(key.strip().lower(), []).append(_unescape(value))
    articles, sites = [], []
    for obj in json_ld_objects(tree):
        kinds = _types(obj)
        if kinds & ARTICLE_TYPES:
            articles.append(obj)
        elif kinds & _SITE_TYPES and isinstance(obj.get("name"), str):
            sites.append(obj["name"])
        elif kinds & _PAGE_TYPES:
            main = obj.get("mainEntity")
            if isinstance(main, dict) and _types(main) & ARTICLE_TYPES:
                articles.append(main)
    article: dict = {}
    for obj in articles:  # the first article object wins; later ones fill its gaps
        for key, value in obj.items():
            if key not in article or article[key] in (None, "", [], {}):
                article[key] = value
    publisher = article.get("publisher")
    names = [_name_of(p) for p in (publisher if isinstance(publisher, list) else [publisher])]
    site_names = [*meta.get("og:site_name", []), *(n for n in names if n), *sites]
    site_names += meta.get("application-name", []) + meta.get("publisher", [])
    title_element = tree.find(".//title")
    canonical = None
    for link in tree.iter("link"):
        if (link.get("rel") or "").strip().lower() == "canonical" and link.get("href"):
            canonical = link.get("href").strip()
            break
    return PageMetadata(
        bylines=visible_bylines(tree),
        article=article,
        sites=list(dict.fromkeys(_clean(s) for s in site_names if _clean(s))),
        meta=meta,
        title=_clean(title_element.text_content()) if title_element is not None else None,
        h1=[t for t in (_clean(h.text_content()) for h in tree.iter("h1")) if t],
        canonical=canonical or _first(meta, ("og:url",)),
    )


def json_ld_objects(tree) -> Iterator[dict]:
    """Every JSON-LD object of the page, top-level and in ``@graph`` lists, in page order.

    Blocks that are not JSON (or too large) are skipped; trailing commas and
    HTML comment or CDATA wrappers, common in hand-written blocks, are tolerated.
    """
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        source = script.text or ""
        if not source.strip() or len(source) > DEFAULT_LIMITS.max_json_ld_chars:
            continue
        document = _loads(source)
        if document is not None:
            yield from _objects(document, 0)


def _loads(source: str):
    for attempt in (source, _TRAILING_COMMA.sub(r"\1", _HTML_COMMENT.sub("", source))):
        try:
            return json.loads(attempt, strict=False)
        except (ValueError, RecursionError):
            continue
    return None


def _objects(node, depth: int) -> Iterator[dict]:
    if depth > _JSON_LD_NESTING:
        return
    if isinstance(node, list):
        for item in node:
            yield from _objects(item, depth + 1)
    elif isinstance(node, dict):
        graph = node.get("@graph")
        if isinstance(graph, list | dict):
            yield from _objects(graph, depth + 1)
        if "@type" in node:
            yield node


def _types(obj: dict) -> frozenset[str]:
    kinds = obj.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return frozenset(k.rsplit("/", 1)[-1].casefold() for k in kinds if isinstance(k, str))


def _name_of(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return value["name"]
    return None


def meta_values(page: PageMetadata, names) -> list[str]:
    """The values of the meta tags ``names``, in the order of ``names``."""
    return [value for name in names for value in page["meta"].get(name, [])]


def _first(meta: dict, names) -> str | None:
    for name in names:
        for value in meta.get(name, []):
            return value
    return None


def _unescape(value: str) -> str:
    # Publishers double-escape ("&amp;uuml;"); unescaping twice is harmless on clean text.
    value = htmlmod.unescape(value)
    return htmlmod.unescape(value) if "&" in value else value


def _clean(value: str | None) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(_unescape(value).split())
    return value or None


_TITLE_SEPARATOR = re.compile(r"\s+(?:[|\-–—·•»›~]|::)\s+")
_DATE_SEGMENT = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_WORD = re.compile(r"\w+")
_ALNUM = re.compile(r"[\W_]+")


def _folded(value: str) -> str:
    return _ALNUM.sub("", value.casefold())


def _is_site(segment: str, sites, host: str | None) -> bool:
    folded = _folded(segment)
    if not folded:
        return True
    if _DATE_SEGMENT.match(segment.strip()):
        return True
    names = [_folded(s) for s in sites if _folded(s)]
    if host:
        labels = host.removeprefix("www.").split(".")
        names += [_folded(host.removeprefix("www.")), *(_folded(label) for label in labels[:-1])]
    return any(
        folded == name or (len(name) >= 3 and (name in folded or folded in name))
        for name in names
        if len(name) >= 2
    )


def strip_site_name(title: str | None, sites, host: str | None = None) -> str | None:
    """``title`` without a leading or trailing site name (``… | Site``, ``Site - …``).

    A segment is cut when it names the site: one of ``sites`` or ``host``
    (or one of its labels), compared without case, spaces or punctuation;
    a date segment (``– DW – 13.06.2023``) goes with it. The headline
    itself is never cut to nothing.
    """
    if not title:
        return title
    segments = _TITLE_SEPARATOR.split(title)
    separators = _TITLE_SEPARATOR.findall(title)
    start, end = 0, len(segments)
    while end - start > 1 and _is_site(segments[end - 1], sites, host):
        end -= 1
    while end - start > 1 and _is_site(segments[start], sites, host):
        start += 1
    if (start, end) == (0, len(segments)):
        return title.strip()
    kept = segments[start]
    for index in range(start + 1, end):
        kept += separators[index - 1] + segments[index]
    return kept.strip()


# A kicker (overline) before the headline: "Kicker: Headline", "Kicker - Headline".
_KICKER = re.compile(r"^(.{2,80}?)(?::|\s[-–—|]|\s/)\s+(\S.*)$")


def _title_prefixes(title: str) -> list[str]:
    """``title`` cut after each separator, shortest first."""
    segments = _TITLE_SEPARATOR.split(title)
    separators = _TITLE_SEPARATOR.findall(title)
    prefixes = [segments[0]]
    for separator, segment in zip(separators, segments[1:], strict=True):
        prefixes.append(prefixes[-1] + separator + segment)
    return prefixes


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b) and " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def headline(page: PageMetadata, *, host: str | None = None) -> str | None:
    """The article's headline, without site name, section suffix or kicker.

    The article's JSON-LD ``headline`` comes first, then ``og:title``,
    ``twitter:title``, ``<title>`` and the first ``<h1>``, each without the
    site name (``strip_site_name``). A trailing ``| Section`` is cut when
    another source gives the headline without it; a leading ``Kicker:`` is
    cut when ``og:title`` or ``twitter:title`` gives it without one.
    """
    sites = page["sites"]

    def stripped(value) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return None
        return strip_site_name(" ".join(_unescape(value).split()), sites, host)

    article = page["article"]
    declared = stripped(article.get("headline")) or stripped(article.get("name"))
    social = [stripped(v) for v in meta_values(page, ("og:title", "twitter:title"))[:2]]
    document = stripped(page["title"])
    h1s = [stripped(h) for h in page["h1"][:5]]
    candidates = [c for c in (declared, *social, document, *h1s) if c]
    if not candidates:
        return None
    best = candidates[0]
    others = [c for c in candidates[1:] if not _same(c, best)]
    for prefix in _title_prefixes(best)[:-1]:
        if any(_same(prefix, other) for other in others):
            return prefix
    kicker = _KICKER.match(best)
    if kicker and any(_same(kicker.group(2), s) for s in social if s):
        return kicker.group(2)
    return best


def headline_variants(page: PageMetadata, *, host: str | None = None) -> list[str]:
    """Every form of the headline the page gives (JSON-LD, og:, twitter:, ``<title>``,
    ``<h1>``), site names removed: text repeating one of them is not article text."""
    values = [page["article"].get("headline"), page["title"], *page["h1"][:5]]
    values += meta_values(page, ("og:title", "twitter:title"))[:2]
    variants = []
    for value in values:
        if isinstance(value, str) and value.strip():
            value = " ".join(_unescape(value).split())
            variants.append(strip_site_name(value, page["sites"], host))
    return list(dict.fromkeys(v for v in variants if v))


def author_bylines(page: PageMetadata) -> list[list[str]]:
    """Raw bylines of the article by source, most trusted first: its JSON-LD ``author``
    (or ``creator``), its meta tags, its visible byline elements."""
    article = page["article"]
    declared = []
    for key in ("author", "creator"):
        value = article.get(key)
        for item in value if isinstance(value, list) else [value]:
            name = _person_name(item)
            if name:
                declared.append(_unescape(name))
        if declared:
            break
    return [declared, meta_values(page, _AUTHOR_META), page["bylines"]]


# Elements that hold a visible byline, by their class, rel or itemprop.
_BYLINE_XPATH = (
    "//*[self::a or self::span or self::p or self::div or self::li or self::address]"
    "[@rel='author' or contains(@itemprop, 'author') or contains(@href, '/author')"
    " or contains(@href, '/autor')"
    " or contains(translate(@class, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'),"
    " 'author') or contains(translate(@class, 'BYLINE', 'byline'), 'byline')]"
)
_LONGEST_BYLINE_CHARS = 120


def visible_bylines(tree, *, limit: int = 3) -> list[str]:
    """Texts of the page's first few byline elements (``class="author"``, ``rel=author`` ...).

    Elements holding more than a byline's worth of text (an author box with
    a biography, a comment) are skipped, as are their ancestors.
    """
    bylines = []
    for element in tree.xpath(_BYLINE_XPATH):
        text = " ".join(element.text_content().split())
        if text and len(text) <= _LONGEST_BYLINE_CHARS and text not in bylines:
            bylines.append(text)
            if len(bylines) >= limit:
                break
    return bylines


def _person_name(value) -> str | None:
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        return None
    name = value.get("name")
    if isinstance(name, list):
        name = next((n for n in name if isinstance(n, str)), None)
    if isinstance(name, str) and name.strip():
        return name
    given, family = value.get("givenName"), value.get("familyName")
    parts = [p for p in (given, family) if isinstance(p, str) and p.strip()]
    return " ".join(parts) or None


def published(page: PageMetadata) -> str | None:
    """The article's publication date as the page writes it: JSON-LD, then meta tags."""
    return _date_of(page, "datePublished", _PUBLISHED_META) or _date_of(page, "dateCreated", ())


def modified(page: PageMetadata) -> str | None:
    """The article's last modification date as the page writes it: JSON-LD, then meta tags."""
    return _date_of(page, "dateModified", _MODIFIED_META)


def _date_of(page: PageMetadata, key: str, names) -> str | None:
    value = page["article"].get(key)
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    if isinstance(value, str) and value.strip():
        return value.strip()
    for value in meta_values(page, names):
        return value.strip()
    return None


def description(page: PageMetadata) -> str | None:
    """The standfirst the page declares: JSON-LD ``description``, then ``og:description``..."""
    value = page["article"].get("description")
    if isinstance(value, str) and value.strip():
        return _clean(value)
    for value in meta_values(page, _DESCRIPTION_META):
        return _clean(value)
    return None


def image_url(page: PageMetadata) -> str | None:
    """The article's lead image: its JSON-LD ``image`` (a URL, ImageObject or list), og:image."""
    value = page["article"].get("image") or page["article"].get("thumbnailUrl")
    for _ in range(3):  # a list of ImageObjects whose url is a list...
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            value = value.get("url") or value.get("contentUrl") or value.get("@id")
    if isinstance(value, str) and value.strip():
        return value.strip()
    for value in meta_values(page, _IMAGE_META):
        return value.strip()
    return None


def site_name(page: PageMetadata) -> str | None:
    """The site's name: ``og:site_name``, the JSON-LD publisher or WebSite, ``application-name``."""
    return page["sites"][0] if page["sites"] else None


def visible_text(tree) -> str:
    """The words of the page's ``<body>``, folded to lower case and single spaces,
    scripts and styles left out: for checking that a string is shown on the page."""
    body = tree.find(".//body")
    if body is None:
        return ""
    words = []
    for element in body.iter():
        if element.tag in ("script", "style", "noscript", "template") or not isinstance(
            element.tag, str
        ):
            if element.tail:
                words.append(element.tail)
            continue
        if element.text:
            words.append(element.text)
        if element.tail:
            words.append(element.tail)
    return " ".join(_WORD.findall(" ".join(words).casefold()))
