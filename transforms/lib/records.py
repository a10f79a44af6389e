"""What every stage shares: the reject exception and the errors-table row."""

import datetime as dt
import re

from schemas.rows import ErrorRow

EXCERPT_CHARS = 200

_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class Rejected(Exception):
    """An input that cannot become an article, with a reason for the errors table.

    ``error_type`` is a short machine-readable tag (``binary_file``,
    ``empty_text``, ``malformed_json`` ...); ``message`` says what was wrong
    in words a user can act on.
    """

    def __init__(
        self,
        error_type: str,
        message: str,
        *,
        excerpt: str | bytes | None = None,
        origin: str | None = None,
    ):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.excerpt = excerpt
        self.origin = origin


def excerpt_of(value: str | bytes | None, *, limit: int = EXCERPT_CHARS) -> str | None:
    """The first ``limit`` characters of a bad input, printable and on one line."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value[: limit * 4].decode("utf-8", "replace")
    value = _UNPRINTABLE.sub("\N{REPLACEMENT CHARACTER}", value[:limit])
    return value.replace("\n", " ").replace("\r", " ")


def error_row(
    *,
    stage: str,
    origin: str,
    error_type: str,
    message: str,
    ingested_at: dt.datetime,
    excerpt: str | bytes | None = None,
) -> ErrorRow:
    """A row of the errors table, partitioned by the UTC date of ``ingested_at``."""
    return {
        "stage": stage,
        "origin": origin,
        "error_type": error_type,
        "message": message,
        "excerpt": excerpt_of(excerpt),
        "ingested_at": ingested_at,
        "date": ingested_at.astimezone(dt.UTC).strftime("%Y-%m-%d"),
    }


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
        error_type=f"unexpected:{type(exc).__name__}",
        message=str(exc)[:1000] or type(exc).__name__,
        ingested_at=ingested_at,
    )
