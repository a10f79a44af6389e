"""What every stage shares: the stages, the error types, the reject exception and the errors row.

``Stage`` and ``ErrorType`` are every value the ``errors`` table's ``stage``
and ``error_type`` columns can hold; README.md lists them from here (and
``tests/unit/test_names.py`` checks that it does).
"""

import datetime as dt
import re
from enum import StrEnum

from schemas.rows import ErrorRow
from transforms.lib.settings import DEFAULT_LIMITS

_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class Stage(StrEnum):
    """The ``stage`` of an errors row: where the input was refused."""

    READ = "read"
    FEED = "feed"
    FETCH = "fetch"
    NORMALIZE = "normalize"
    DEDUPE = "dedupe"
    ENRICH = "enrich"


_R, _FD, _FT, _N, _E = Stage.READ, Stage.FEED, Stage.FETCH, Stage.NORMALIZE, Stage.ENRICH
_D = Stage.DEDUPE
_HTTP = (_FD, _FT)  # what ``transforms.lib.fetch`` raises, for feeds and for pages

HTTP_PREFIX = "http_"
UNEXPECTED_PREFIX = "unexpected:"


class ErrorType(StrEnum):
    """Every ``error_type`` newsbeam writes, with what it means and the stages that write it.

    Two members are patterns: ``HTTP_STATUS`` is written ``http_<status>``
    with the status code (``http_error_type``), and ``UNEXPECTED`` is written
    ``unexpected:<Exception>`` with the exception's class name
    (``unexpected_error_type``, for ``crash_row`` only).
    """

    def __new__(cls, value: str, description: str, stages: tuple[Stage, ...]):
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        member.stages = stages
        return member

    # Input files and their records
    UNSUPPORTED_FORMAT = (
        "unsupported_format",
        "the file name has no known suffix (.txt, .html, .json, .jsonl, .xml, ...)",
        (_R,),
    )
    BINARY_FILE = "binary_file", "the file or page holds binary data, not text", (_R, _FT)
    MALFORMED_JSON = "malformed_json", "invalid JSON, or JSON that is not an object", (_R,)
    INVALID_FIELD = "invalid_field", "a JSON field has the wrong type", (_R,)
    TOO_LARGE = (
        "too_large",
        "a file, .jsonl line, feed or page is larger than its byte limit",
        (_R, _FD, _FT),
    )
    UNREADABLE_FILE = "unreadable_file", "the feed file cannot be read", (_FD,)
    CORRUPT_OUTPUT_FILE = (
        "corrupt_output_file",
        "a committed Parquet file of the output cannot be read (a warning: it is skipped)",
        (_D,),
    )
    NOT_A_REGULAR_FILE = (
        "not_a_regular_file",
        "the path is a folder, FIFO, socket or device (also through a link): not opened",
        (_R,),
    )
    # Feeds
    MALFORMED_FEED = "malformed_feed", "not a readable RSS or Atom feed", (_R, _FD)
    EMPTY_FEED = "empty_feed", "the feed has no entries", (_R, _FD)
    UNSAFE_XML = (
        "unsafe_xml",
        "the feed declares an external or long XML entity, or a sitemap any DOCTYPE (refused)",
        (_R, _FD, _FT),
    )
    EMPTY_ENTRY = "empty_entry", "a feed entry has neither text, title nor a link", (_R, _FD)
    MALFORMED_SITEMAP = (
        "malformed_sitemap",
        "not a readable sitemap (urlset or sitemapindex, plain or gzipped)",
        (_FT,),
    )
    # HTTP
    INVALID_URL = "invalid_url", "the URL, or a redirect's target, is not a valid URL", _HTTP
    UNSUPPORTED_SCHEME = "unsupported_scheme", "the URL is not http or https", _HTTP
    DNS = "dns", "the host name cannot be resolved (in time)", _HTTP
    BLOCKED_ADDRESS = (
        "blocked_address",
        "the host is a loopback, private, link-local or reserved address "
        "(see --allow-private-hosts)",
        _HTTP,
    )
    CONNECTION_REFUSED = "connection_refused", "the server refused the connection", _HTTP
    CONNECTION = "connection", "the connection failed for another reason", _HTTP
    TIMEOUT = "timeout", "the server did not answer within the fetch time limits", _HTTP
    TLS = "tls", "the TLS handshake or certificate check failed", _HTTP
    BAD_RESPONSE = "bad_response", "the server sent a broken HTTP response", _HTTP
    HTTP_STATUS = (
        f"{HTTP_PREFIX}<status>",
        "the server answered with this HTTP status (429 and 5xx after retries)",
        _HTTP,
    )
    TOO_MANY_REDIRECTS = "too_many_redirects", "more redirects than the limit", _HTTP
    REDIRECT_LOOP = "redirect_loop", "the redirects go round in a loop", _HTTP
    INCOMPLETE_BODY = "incomplete_body", "the connection ended before the body did", _HTTP
    BAD_ENCODING = "bad_encoding", "a corrupt gzip or deflate body", _HTTP
    UNSUPPORTED_ENCODING = (
        "unsupported_encoding",
        "a body compressed in an encoding that was not asked for",
        _HTTP,
    )
    # Article pages
    ROBOTS_DISALLOWED = (
        "robots_disallowed",
        "robots.txt forbids the page, or answered with a server error",
        (_FT,),
    )
    NOT_HTML = "not_html", "the page's content type is not HTML", (_FT,)
    UNPARSABLE_HTML = "unparsable_html", "the HTML cannot be parsed", (_FT, _N)
    NO_MAIN_TEXT = "no_main_text", "no main text found in the HTML page", (_FT, _N)
    # Articles
    TIME_LIMIT = (
        "time_limit",
        "HTML extraction or NLP took longer than --time-limit",
        (_FT, _N, _E),
    )
    EMPTY_TEXT = "empty_text", "no text is left after clean-up", (_N,)
    INVALID_DATE = (
        "invalid_date",
        "the date cannot be read or is implausible (a warning: the article is kept "
        "without its date)",
        (_N,),
    )
    # Anything else
    UNEXPECTED = (
        f"{UNEXPECTED_PREFIX}<Exception>",
        "a library failure or a bug, with the exception's class name",
        tuple(Stage),
    )


def http_error_type(status: int) -> str:
    """The ``error_type`` written for an ``ErrorType.HTTP_STATUS`` answer: ``http_404``."""
    return f"{HTTP_PREFIX}{status}"


def unexpected_error_type(exc: BaseException) -> str:
    """The ``error_type`` written for an unexpected exception: ``unexpected:ValueError``."""
    return f"{UNEXPECTED_PREFIX}{type(exc).__name__}"


class Rejected(Exception):
    """An input that cannot become an article, with a reason for the errors table.

    ``kind`` is the ``ErrorType`` given (anything else raises ``TypeError``);
    ``status``, the HTTP status, is given with ``ErrorType.HTTP_STATUS`` and
    only then. ``error_type`` is the tag written (``too_large``,
    ``http_404`` ...); ``message`` says what was wrong in words a user can
    act on. ``ErrorType.UNEXPECTED`` is refused: ``crash_row`` writes it.
    """

    def __init__(
        self,
        error_type: ErrorType,
        message: str,
        *,
        excerpt: str | bytes | None = None,
        origin: str | None = None,
        status: int | None = None,
    ):
        if not isinstance(error_type, ErrorType):
            raise TypeError(f"Rejected takes an ErrorType, not {error_type!r}")
        kind = error_type
        if kind is ErrorType.UNEXPECTED:
            raise ValueError("ErrorType.UNEXPECTED is written by crash_row, never rejected")
        if (kind is ErrorType.HTTP_STATUS) != (status is not None):
            raise ValueError("an HTTP status goes with ErrorType.HTTP_STATUS, and only with it")
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.error_type = kind.value if status is None else http_error_type(status)
        self.message = message
        self.excerpt = excerpt
        self.origin = origin


def excerpt_of(
    value: str | bytes | None, *, limit: int = DEFAULT_LIMITS.excerpt_chars
) -> str | None:
    """The first ``limit`` characters of a bad input, printable and on one line."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value[: limit * 4].decode("utf-8", "replace")
    value = _UNPRINTABLE.sub("\N{REPLACEMENT CHARACTER}", value[:limit])
    return value.replace("\n", " ").replace("\r", " ")


def _writable(value: str | None) -> str | None:
    """``value`` with any lone surrogate written ``\\udXXX``: Parquet needs UTF-8."""
    if value is None:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def error_row(
    *,
    stage: str,
    origin: str,
    error_type: str,
    message: str,
    ingested_at: dt.datetime,
    excerpt: str | bytes | None = None,
) -> ErrorRow:
    """A row of the errors table, partitioned by the UTC date of ``ingested_at``.

    Its strings can always be written: a lone surrogate in an input value
    quoted by a message or an excerpt is written as its escape.
    """
    return {  # str(): plain strings for the row, even from a ``Stage`` or an ``ErrorType``
        "stage": str(stage),
        "origin": _writable(origin),
        "error_type": str(error_type),
        "message": _writable(message),
        "excerpt": _writable(excerpt_of(excerpt)),
        "ingested_at": ingested_at,
        "run_id": None,  # the writer's: the run that commits the row
        "date": ingested_at.astimezone(dt.UTC).strftime("%Y-%m-%d"),
    }


def error_key(row: ErrorRow) -> tuple[str, str, str]:
    """What makes two errors rows the same failure: origin, stage and error type.

    The message is left out: it may hold what differs between two runs
    failing the same way (a timeout's seconds, a server's words).
    """
    return (row["origin"], row["stage"], row["error_type"])


def is_article_warning(row: ErrorRow) -> bool:
    """True for a row that warns about an article kept despite it (an ``invalid_date``)."""
    return row["stage"] == Stage.NORMALIZE and row["error_type"] == ErrorType.INVALID_DATE


def reject_row(reject: Rejected, *, stage: str, origin: str, ingested_at: dt.datetime) -> ErrorRow:
    """The errors-table row for a ``Rejected`` raised at ``stage`` (its own origin wins)."""
    return error_row(
        stage=stage,
        origin=reject.origin or origin,
        error_type=reject.error_type,
        message=reject.message,
        excerpt=reject.excerpt,
        ingested_at=ingested_at,
    )


def crash_row(exc: BaseException, *, stage: str, origin: str, ingested_at: dt.datetime) -> ErrorRow:
    """The errors-table row for an unexpected exception: a bug or a library failure.

    The record is kept as an error instead of failing the whole run; the type
    name says which library or check raised.
    """
    return error_row(
        stage=stage,
        origin=origin,
        error_type=unexpected_error_type(exc),
        message=str(exc)[:1000] or type(exc).__name__,
        ingested_at=ingested_at,
    )
