"""A raw record to an ``articles`` row: the normalisation rules, as pure functions.

``normalize_article`` is the whole of the Normalize stage's logic; the Beam
composite in ``transforms.normalize`` only carries it.
"""

import datetime as dt
import hashlib

from schemas import SCHEMA_VERSION
from schemas.rows import ArticleRow, RawRecord
from transforms.lib import dates, html, text, urls
from transforms.lib.limits import WorkerProcess, call_with_time_limit, scaled_limit
from transforms.lib.records import ErrorType, Rejected

ID_HEX_DIGITS = 16
# The text_source of a feed entry that had only its headline, which is then its text.
FEED_TITLE = "feed_title"
# Fields a raw record may leave empty for its HTML page to fill.
_PAGE_FIELDS = (
    "url",
    "title",
    "authors",
    "published",
    "source",
    "modified",
    "description",
    "image_url",
    "site_name",
)


def article_id(
    *,
    canonical_url: str | None,
    content_hash: str,
    title: str | None = None,
    identity_key: str | None = None,
) -> str:
    """A stable id: from the canonical URL when there is one, else from the title and text.

    The same article read twice, in any run or on any runner, gets the same
    id; two URLs that differ only by tracking parameters or a fragment too.
    ``identity_key`` (a feed entry's fragment or guid, set only when its feed
    lists different entries behind one URL) keeps such entries apart. Without
    a URL, the title is part of the key: two entries of one template text
    under different titles are two articles.
    """
    if canonical_url:
        key = f"url\x1f{canonical_url}"
        if identity_key:
            key += f"\x1fentry\x1f{identity_key}"
    elif title:
        key = f"text\x1f{' '.join(title.casefold().split())}\x1f{content_hash}"
    else:
        key = f"text\x1f{content_hash}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:ID_HEX_DIGITS]


def partition_date(*, published_at: dt.datetime | None, ingested_at: dt.datetime) -> str:
    """The ``date=`` partition value: the UTC date of publication, else of ingestion.

    Built from a datetime, never from input text, so it is always
    ``YYYY-MM-DD`` and cannot name another folder.
    """
    return (published_at or ingested_at).astimezone(dt.UTC).strftime("%Y-%m-%d")


# A page that sets up what trafilatura loads at its first extraction (stop
# lists, domain lists: about a second), so that no article's time pays for it.
_WARM_UP_PAGE = (
    "<html><head><title>Warm-up</title></head><body><article><p>"
    + "The council met on Monday to agree the budget for the coming year. " * 3
    + "</p></article></body></html>"
)


def warm_up_extraction() -> None:
    """Extracts a small page once, for a worker process about to extract pages under a limit."""
    html.extract_article(_WARM_UP_PAGE, "https://news.example/warm-up")


def extract_html(
    page: str, url: str | None, *, time_limit: float | None, worker: WorkerProcess | None = None
) -> dict:
    """``html.extract_article`` of an HTML page, given at most ``time_limit`` seconds
    per 100,000 characters of HTML (``scaled_limit``).

    Raises what the extraction raises (``no_main_text``, ``unparsable_html``),
    and ``time_limit`` when it takes longer: the extraction runs in ``worker``
    (a killable process), so one pathological page is stopped, not abandoned.
    HTML files and fetched pages both go through here.
    """
    return call_with_time_limit(
        html.extract_article,
        page,
        url,
        seconds=scaled_limit(time_limit, len(page)) if time_limit else None,
        what="HTML extraction",
        worker=worker,
    )


def normalize_article(
    raw: RawRecord,
    *,
    ingested_at: dt.datetime,
    time_limit: float | None = None,
    worker: WorkerProcess | None = None,
) -> tuple[ArticleRow, list[Rejected]]:
    """The articles row for a raw record, and the problems it was kept despite.

    Raises ``Rejected`` when no article text remains (``empty_text``), or when
    extracting an HTML page takes longer than ``time_limit`` seconds per
    100,000 characters of HTML; the extraction runs in ``worker`` (by default
    the calling thread's) and is stopped then. A date
    that cannot be read, or is implausible, is left out of the row and
    reported in the returned list (``invalid_date``); the article is kept.
    """
    fields = {key: raw.get(key) for key in _PAGE_FIELDS}
    body = raw.get("text")
    if body is None and raw.get("html") is not None:
        page = extract_html(raw["html"], raw.get("url"), time_limit=time_limit, worker=worker)
        body = page.pop("text")
        fields = {key: fields[key] or page.get(key) for key in fields}
    body = text.clean_text(body or "")
    if raw.get("text_source") != FEED_TITLE:
        body = text.without_leading_headline(body, fields["title"])
    if not body:
        raise Rejected(
            ErrorType.EMPTY_TEXT, "the article has no text after clean-up", excerpt=raw.get("text")
        )

    problems = []
    try:
        published_at = dates.parse_published(fields["published"], now=ingested_at)
    except ValueError as exc:
        published_at = None
        problems.append(Rejected(ErrorType.INVALID_DATE, f"kept without a date: {exc}"))

    try:
        modified_at = dates.parse_published(fields["modified"], now=ingested_at)
    except ValueError:  # a secondary date: left out, not reported
        modified_at = None

    url = text.clean_line(fields["url"])
    canonical = urls.canonical_url(url)
    digest = text.content_hash(body)
    title = text.clean_line(fields["title"])
    authors = [a for a in (text.clean_line(a) for a in fields["authors"] or []) if a]
    identity_key = raw.get("identity_key")
    row: ArticleRow = {
        "article_id": article_id(
            canonical_url=canonical, content_hash=digest, title=title, identity_key=identity_key
        ),
        "url": url,
        "canonical_url": canonical,
        "source": text.clean_line(fields["source"]) or urls.site_of(url),
        "origin": raw["origin"],
        "title": title,
        "authors": list(dict.fromkeys(authors)),
        "published_at": published_at,
        "ingested_at": ingested_at,
        "language": (raw.get("language") or "").strip().lower() or text.detect_language(body),
        "text": body,
        "word_count": text.count_words(body),
        "content_hash": digest,
        "schema_version": SCHEMA_VERSION,
        "text_source": raw.get("text_source"),
        "nlp_model": None,  # set by enrichment when a model annotates the article
        "modified_at": modified_at,
        "description": text.clean_line(fields["description"]),
        "image_url": _http_url(fields["image_url"]),
        "site_name": text.clean_line(fields["site_name"]),
        "nlp_version": None,  # set with nlp_model
        "run_id": None,  # the writer's: the run that commits the row
        "date": partition_date(published_at=published_at, ingested_at=ingested_at),
    }
    return row, problems


def _http_url(value: str | None) -> str | None:
    """``value`` when it is an absolute http(s) URL (an image link), else None."""
    value = text.clean_line(value)
    return value if value and urls.canonical_url(value) else None
