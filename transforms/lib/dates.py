"""Publication dates to UTC. Pure functions, no Beam."""

import datetime as dt
import email.utils
import math
import re

import dateutil.parser

from transforms.lib.settings import DEFAULT_LIMITS

EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
# Clocks and time zones disagree; a date a day or two ahead is plausible, a year is not.
FUTURE_SLACK = dt.timedelta(days=2)


def _hours(hours: float) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours))


# Zone names read as fixed offsets. RFC 822/2822 §4.3 defines UT, GMT, Z and the
# North American ones; the others are common in news and name one offset only.
# A name that means several offsets (IST: India, Ireland or Israel; AST:
# Atlantic or Arabia; CST is RFC 822's US Central, not China) or none at all
# (RFC 2822 says military letters other than Z are unreliable) is unknown:
# the date is refused, never guessed to be UTC.
ZONES = {
    "UT": _hours(0),
    "UTC": _hours(0),
    "GMT": _hours(0),
    "Z": _hours(0),
    "EST": _hours(-5),
    "EDT": _hours(-4),
    "CST": _hours(-6),
    "CDT": _hours(-5),
    "MST": _hours(-7),
    "MDT": _hours(-6),
    "PST": _hours(-8),
    "PDT": _hours(-7),
    "AKST": _hours(-9),
    "AKDT": _hours(-8),
    "HST": _hours(-10),
    "WET": _hours(0),
    "WEST": _hours(1),
    "BST": _hours(1),
    "CET": _hours(1),
    "CEST": _hours(2),
    "EET": _hours(2),
    "EEST": _hours(3),
    "HKT": _hours(8),
    "SGT": _hours(8),
    "AWST": _hours(8),
    "JST": _hours(9),
    "KST": _hours(9),
    "ACST": _hours(9.5),
    "ACDT": _hours(10.5),
    "AEST": _hours(10),
    "AEDT": _hours(11),
    "NZST": _hours(12),
    "NZDT": _hours(13),
}
# "GMT+3" and "UTC-05:00" in news mean three hours ahead of and five behind UTC;
# dateutil reads them the POSIX way round, so they become plain offsets first.
# RFC 2822 with a zone email.utils and ZONES read alike: a numeric offset, GMT, UT or Z.
_RFC_2822 = re.compile(
    r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"\s+(?:[+-](?!0000)\d{4}|GMT|UT|Z)$"
)
_UTC_PLUS = re.compile(r"(?<![A-Za-z])(?:UTC|GMT|UT)\s*([+-])(\d{1,2})(?::?(\d{2}))?\b")


class UnreadableDate(ValueError):
    """A value that is not a date in any form this module reads."""


class UnknownTimeZone(UnreadableDate):
    """A date whose zone name is not in ``ZONES``: its offset from UTC is unknown."""


class ImplausibleDate(ValueError):
    """A date that cannot be a publication date: before 1900, in the future, or out of range."""


def parse_published(value: object, *, now: dt.datetime) -> dt.datetime | None:
    """A publication date as an aware UTC datetime, or None when there is none.

    Reads what ``to_utc`` reads. Raises ``UnreadableDate`` (a ``ValueError``)
    when the value cannot be read or names an unknown zone, and
    ``ImplausibleDate`` (also a ``ValueError``) when it is out of range,
    before 1900 or after ``now`` (plus two days). Never raises anything else.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = to_utc(value)
    if parsed < EARLIEST or parsed > now + FUTURE_SLACK:
        raise ImplausibleDate(f"publication date {parsed.isoformat()} is not plausible")
    return parsed


def to_utc(value: object) -> dt.datetime:
    """``value`` as an aware UTC datetime, with no judgement of plausibility.

    Accepts datetimes, Unix seconds (or milliseconds), ISO 8601, RFC 2822 and
    the free forms dateutil reads; a zone is a numeric offset or a name in
    ``ZONES``, and a date with no zone (or RFC 2822's ``-0000``) is UTC.
    Raises ``UnknownTimeZone`` for any other zone name, ``UnreadableDate``
    for what is not a date and ``ImplausibleDate`` for a date or offset that
    leaves the range of ``datetime`` (years 1 to 9999) in UTC.
    """
    parsed = _parse(value)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # year 1 east of UTC, or 9999 west of it
        raise ImplausibleDate(f"date {parsed.isoformat()} is out of range in UTC") from None
    except ValueError as exc:  # an offset of a day or more
        raise UnreadableDate(f"date {parsed!r} has an impossible offset: {exc}") from None


def _parse(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, bool):
        raise UnreadableDate(f"not a date: {value!r}")
    if isinstance(value, float) and math.isnan(value):
        raise UnreadableDate(f"not a date: {value!r}")
    if isinstance(value, int | float):
        try:
            seconds = value / 1000 if abs(value) > 1e11 else value
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise ImplausibleDate(f"timestamp {value!r} is out of range") from None
    text = str(value).strip()
    if len(text) > DEFAULT_LIMITS.max_date_chars:  # not worth reading as a date
        raise UnreadableDate(f"not a date: {len(text)} characters of text")
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    if _RFC_2822.match(text):  # every feed's pubDate: read without dateutil's cost
        try:
            return email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    try:
        return dateutil.parser.parse(_UTC_PLUS.sub(_plain_offset, text), tzinfos=_zone)
    except UnreadableDate:  # an unknown zone or offset: email.utils would read it as UTC
        raise
    except (ValueError, OverflowError) as exc:
        reason = exc
    # email.utils reads RFC 2822 forms dateutil does not ("pst", "+0000 GMT"), but
    # it reads any zone name it does not know as UTC: only an aware result counts.
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is not None and parsed.tzinfo is not None:
        return parsed
    raise UnreadableDate(f"unreadable date {text[:60]!r}: {reason}")


def _plain_offset(match: re.Match) -> str:
    sign, hours, minutes = match.groups()
    return f"{sign}{int(hours):02d}{minutes or '00'}"


def _zone(name: str | None, offset: int | None) -> dt.tzinfo | None:
    """dateutil's ``tzinfos`` hook: every zone it finds comes here, known or not.

    A numeric offset wins over a name ("-0500 (EST)"); no zone at all is None
    (naive, read as UTC). Called for every parse, so the machine's own zone
    names never change the result.
    """
    if offset is not None:
        if abs(offset) >= 86400:
            raise UnreadableDate(f"offset of {offset} seconds from UTC is not a time zone")
        return dt.timezone(dt.timedelta(seconds=offset))
    if name is None:
        return None
    zone = ZONES.get(name.upper())
    if zone is None:
        raise UnknownTimeZone(f"unknown time zone {name[:10]!r}: its offset from UTC is not known")
    return zone
