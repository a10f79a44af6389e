"""Article pages named directly: URL lists and sitemaps. Pure functions, no Beam.

``--urls FILE`` lists article URLs one per line; ``--sitemap URL`` names a
sitemap (``urlset``), a sitemap index (``sitemapindex``, whose sitemaps are
read in turn) or a Google News sitemap (``news:news`` with title, date and
language). Each URL becomes a raw record with no text yet
(``text_source="url"``) for ``transforms.pages.ReadArticlePages`` to fetch.
"""

import gzip
import io
import zlib

import lxml.etree

from transforms.lib.formats import raw_record
from transforms.lib.records import ErrorType, Rejected
from transforms.lib.settings import DEFAULT_LIMITS
from transforms.lib.urls import canonical_url

__all__ = [
    "PENDING",
    "UrlListError",
    "parse_sitemap",
    "read_url_list",
    "url_record",
]

# The text_source of a record whose page is still to be fetched.
PENDING = "url"
_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
_GZIP_MAGIC = b"\x1f\x8b"


class UrlListError(ValueError):
    """A ``--urls`` file that cannot be read or holds a line that is not an http(s) URL."""


def read_url_list(data: bytes, name: str) -> list[str]:
    """The URLs of a ``--urls`` file, in order, without repeats.

    One URL per line; blank lines and ``#`` comments are skipped. Raises
    ``UrlListError`` naming the line of anything that is not an absolute
    http(s) URL, and for a file larger than 10 MB.
    """
    if len(data) > DEFAULT_LIMITS.max_url_list_bytes:
        raise UrlListError(f"{name}: larger than {DEFAULT_LIMITS.max_url_list_bytes} bytes")
    urls = []
    for number, line in enumerate(data.decode("utf-8-sig", "replace").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if canonical_url(line) is None:
            raise UrlListError(f"{name} line {number}: {line[:80]!r} is not an http(s) URL")
        urls.append(line)
    return list(dict.fromkeys(urls))


def url_record(url: str, **fields) -> dict:
    """The raw record of an article page still to be fetched (origin: its URL)."""
    return raw_record(url, url=url, text_source=PENDING, **fields)


def parse_sitemap(data: bytes, *, sitemap_url: str, max_bytes: int) -> tuple[list[dict], list[str]]:
    """The page records and the child sitemaps a sitemap lists.

    ``data`` may be gzipped (``sitemap.xml.gz``); it is decompressed up to
    ``max_bytes``. Google News entries give the record its title, date and
    language; a plain entry its ``lastmod`` as the modification date.
    URLs that are not http(s) are skipped. Raises ``Rejected``:
    ``too_large``, ``unsafe_xml`` (a DOCTYPE: sitemaps have none, and
    entities are the billion-laughs family) and ``malformed_sitemap``.
    """
    data = _decompressed(data, max_bytes)
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise Rejected(ErrorType.UNSAFE_XML, "the sitemap declares a DOCTYPE or entities (refused)")
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
    )
    try:
        root = lxml.etree.fromstring(data, parser)
    except lxml.etree.XMLSyntaxError as exc:
        raise Rejected(
            ErrorType.MALFORMED_SITEMAP,
            f"{sitemap_url} is not a readable sitemap: {exc}",
            excerpt=data,
        ) from None
    kind = lxml.etree.QName(root).localname
    if kind == "sitemapindex":
        children = [_text(s, "loc") for s in root.iter("{*}sitemap")]
        return [], [c for c in children if c and canonical_url(c)][
            : DEFAULT_LIMITS.max_sitemap_urls
        ]
    if kind != "urlset":
        raise Rejected(
            ErrorType.MALFORMED_SITEMAP,
            f"{sitemap_url} is neither a urlset nor a sitemapindex ({kind})",
        )
    records = []
    for entry in root.iter("{*}url"):
        url = _text(entry, "loc")
        if not url or canonical_url(url) is None:
            continue
        news = entry.find(f"{{{_NEWS}}}news")
        fields = {"modified": _text(entry, "lastmod")}
        if news is not None:
            fields["title"] = _text(news, "title")
            fields["published"] = _text(news, "publication_date")
            fields["language"] = _text(news, "publication", "language")
            fields["site_name"] = _text(news, "publication", "name")
        records.append(url_record(url, **{k: v for k, v in fields.items() if v}))
        if len(records) >= DEFAULT_LIMITS.max_sitemap_urls:
            break
    return records, []


def _text(element, *names: str) -> str | None:
    """The text of the child at ``names`` (any namespace), or None."""
    for name in names:
        element = element.find("{*}" + name) if element is not None else None
    text = (element.text or "").strip() if element is not None else ""
    return text or None


def _decompressed(data: bytes, max_bytes: int) -> bytes:
    if not data.startswith(_GZIP_MAGIC):
        if len(data) > max_bytes:
            raise Rejected(ErrorType.TOO_LARGE, f"the sitemap is larger than {max_bytes} bytes")
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            out = handle.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise Rejected(
            ErrorType.MALFORMED_SITEMAP, f"the gzipped sitemap cannot be read: {exc}"
        ) from None
    if len(out) > max_bytes:
        raise Rejected(
            ErrorType.TOO_LARGE, f"the sitemap is larger than {max_bytes} bytes decompressed"
        )
    return out
