"""Publication dates to UTC. Pure functions, no Beam."""

import datetime as dt
import email.utils

import dateutil.parser

EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
# Clocks and time zones disagree; a date a day or two ahead is plausible, a year is not.
FUTURE_SLACK = dt.timedelta(days=2)


class ImplausibleDate(ValueError):
    """A date that parsed but cannot be a publication date (before 1900, or in the future)."""


def parse_published(value: object, *, now: dt.datetime) -> dt.datetime | None:
    """A publication date as an aware UTC datetime, or None when there is none.

    Accepts datetimes, Unix seconds (or milliseconds), ISO 8601, RFC 2822 and
    the free forms dateutil reads. A date without a time zone is taken as
    UTC. Raises ``ValueError`` when the value cannot be read and
    ``ImplausibleDate`` when it is before 1900 or after ``now`` (plus two days).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = _parse(value)
    parsed = parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
    if parsed < EARLIEST or parsed > now + FUTURE_SLACK:
        raise ImplausibleDate(f"publication date {parsed.isoformat()} is not plausible")
    return parsed


def _parse(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a date: {value!r}")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise ImplausibleDate(f"timestamp {value!r} is out of range") from None
    text = str(value).strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return dateutil.parser.parse(text)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"unreadable date {text[:60]!r}: {exc}") from None
