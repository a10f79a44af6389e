"""Property tests for two parsers of untrusted input: publication dates and article URLs.

Whatever a feed or file holds, ``parse_published`` gives None, a plausible
aware UTC datetime or one of its documented ``ValueError``s, and
``canonical_url``/``site_of`` give None or clean text, never an exception.
"""

import datetime as dt
import email.utils
from urllib.parse import parse_qsl, urlsplit

from hypothesis import example, given, settings
from hypothesis import strategies as st

from transforms.lib import dates, urls

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
LATEST = NOW + dates.FUTURE_SLACK
DOCUMENTED = (dates.UnreadableDate, dates.ImplausibleDate)

# Whole minutes, as every real zone and every text form of an offset has.
offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
zoned_datetimes = st.datetimes(timezones=offsets)
# Any character, lone surrogates included: JSON input can carry them ("\ud800").
any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=80)
date_like_text = st.one_of(
    zoned_datetimes.map(dt.datetime.isoformat),
    zoned_datetimes.map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S %z")),
    st.tuples(
        st.datetimes().map(lambda d: d.strftime("%d %B %Y %H:%M")),
        st.sampled_from(["PST", "CET", "XYZ", "IST", "GMT+3", "UTC-05:00", "Z", "-0000", ""]),
    ).map(" ".join),
    st.from_regex(r"\A[0-9 :,+\-TZA-Za-z]{1,40}\Z"),
)


def _check(value) -> None:
    try:
        parsed = dates.parse_published(value, now=NOW)
    except DOCUMENTED:
        return
    if parsed is not None:
        assert parsed.utcoffset() == dt.timedelta(0)
        assert dates.EARLIEST <= parsed <= LATEST


@settings(deadline=None)
@given(st.one_of(any_text, date_like_text))
@example("9999-12-31T23:59:59-01:00")
@example("0001-01-01T00:00:00+01:00")
@example("Fri, 31 Dec 9999 23:00:00 -0500")
def test_any_text_gives_none_a_plausible_utc_date_or_a_documented_error(text):
    _check(text)


@given(st.one_of(st.integers(), st.integers(min_value=-(10**400), max_value=10**400)))
@example(10**400)
@example(-(10**30))
def test_any_integer_gives_a_plausible_utc_date_or_a_documented_error(number):
    _check(number)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_gives_a_plausible_utc_date_or_a_documented_error(number):
    _check(number)


@given(st.one_of(zoned_datetimes, st.datetimes()))
@example(dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=23))))
@example(dt.datetime.max.replace(tzinfo=dt.timezone(dt.timedelta(hours=-23))))
def test_any_datetime_gives_a_plausible_utc_date_or_a_documented_error(when):
    _check(when)


plausible = st.datetimes(
    min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2026, 11, 27), timezones=offsets
)


@given(plausible)
def test_plausible_dates_survive_iso_and_rfc_2822_text(when):
    assert dates.parse_published(when.isoformat(), now=NOW) == when
    whole_seconds = when.replace(microsecond=0)
    assert dates.parse_published(email.utils.format_datetime(whole_seconds), now=NOW) == (
        whole_seconds
    )


# ---------------------------------------------------------------- URLs

TRACKING = ["utm_source", "utm_medium", "UTM_Campaign", "fbclid", "gclid", "mc_cid", "ref"]
label = st.from_regex(r"\A[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?\Z")
hosts = st.lists(label, min_size=1, max_size=4).map(".".join) | st.just("[::1]")
url_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="#?&=/"), max_size=12)
params = st.lists(
    st.tuples(st.sampled_from(TRACKING) | url_text.filter(bool), url_text), max_size=5
)


@st.composite
def generated_urls(draw):
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https", "ftp", "mailto"]))
    host = draw(hosts)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "".join("/" + s for s in draw(st.lists(url_text, max_size=4)))
    query = "&".join(f"{k}={v}" for k, v in draw(params))
    fragment = draw(st.sampled_from(["", "#", "#top", "#utm_source=x"]))
    return f"{scheme}://{host}{port}{path}{'?' + query if query else ''}{fragment}"


def _clean(result) -> None:
    assert result is None or (isinstance(result, str) and result.encode("utf-8"))


@given(st.one_of(any_text, generated_urls()))
@example("http://[::1")
@example("https://example.com:99999/")
@example("https://exa\udc80mple.com/")
@example("https://example.com/\ud800?x=\udfff")
@example("http://example.com/page #top")  # a trailing space, once stripped, changed the URL
@example("http://example.com/a\u3000b")
def test_url_functions_never_raise_and_give_none_or_utf8_text(text):
    canonical = urls.canonical_url(text)
    _clean(canonical)
    _clean(urls.site_of(text))
    if canonical is not None:
        assert urls.canonical_url(canonical) == canonical


@given(generated_urls())
def test_canonical_urls_are_http_without_fragment_or_tracking(url):
    canonical = urls.canonical_url(url)
    if canonical is None:
        assert not url.lower().startswith(("http://", "https://"))
        return
    parts = urlsplit(canonical)
    assert parts.scheme in ("http", "https")
    assert parts.fragment == "" and "#" not in canonical
    assert parts.netloc == parts.netloc.lower()
    assert not parts.netloc.endswith({"http": ":80", "https": ":443"}[parts.scheme])
    keys = [key for key, _ in parse_qsl(parts.query, keep_blank_values=True)]
    assert not any(key.lower() in {t.lower() for t in TRACKING} for key in keys)
    assert keys == sorted(keys)
    assert urls.canonical_url(canonical) == canonical
    site = urls.site_of(url)
    assert site and not site.startswith("www.") and site == site.lower()
