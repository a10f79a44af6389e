"""Canonical article URLs, for deduplication and joins, and which URLs newsbeam fetches.

Pure functions, no Beam.
"""

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

# Query parameters that identify a click or campaign, never the article.
_TRACKING_PARAMETER = re.compile(
    r"""^(?:utm_\w+|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|yclid|twclid|igshid
    |mc_cid|mc_eid|_ga|_gl|_hsenc|_hsmi|mkt_tok|oly_enc_id|oly_anon_id|vero_id|rb_clickid
    |s_cid|cmpid|ncid|ocid|smid|sr_share|ito|xtor|at_medium|at_campaign|at_custom\d*
    |guccounter|guce_referrer(?:_sig)?|__twitter_impression|ref_src|ref_url|spm|wt_mc|wt\.mc_id
    |cid|icid|sh|rss|ref)$""",
    re.IGNORECASE | re.VERBOSE,
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# Never literal in a URL path; a browser sends them percent-encoded. Left as they
# are, a trailing one would be stripped on a second pass and change the URL.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_HTTP_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)


def is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL, the only kind newsbeam fetches."""
    return bool(_HTTP_URL.match(value.strip()))


def canonical_url(url: str | None) -> str | None:
    """The URL that names the article: http(s) only, no fragment, no tracking parameters.

    Scheme and host are lower-cased, default ports and empty queries removed,
    remaining query parameters sorted, spaces and control characters in the
    path percent-encoded. Idempotent. Returns None for anything that is not
    an absolute http(s) URL, or is not valid Unicode (a lone surrogate).
    """
    if not url or not isinstance(url, str):
        return None
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and str(port) != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING_PARAMETER.match(key)
    )
    path = _SPACE_OR_CONTROL.sub(lambda m: quote(m.group(), safe=""), parts.path)
    return urlunsplit((scheme, host, path or "/", urlencode(query), ""))


def site_of(url: str | None) -> str | None:
    """The host of ``url`` without ``www.``, as a fallback source name."""
    canonical = canonical_url(url)
    if canonical is None:
        return None
    host = urlsplit(canonical).hostname or ""
    return host.removeprefix("www.") or None
