"""The ``--feeds`` values: feed URLs, local feed files, URL lists and OPML subscriptions.

Read once, when the command starts, from local files; a value that cannot
be used stops the command before anything runs.
"""

import os
import re
from collections.abc import Iterable

import lxml.etree

from transforms.lib.feeds import XML_BOMS
from transforms.lib.settings import DEFAULT_LIMITS
from transforms.lib.urls import is_http_url

__all__ = ["FeedListError", "expand_feed_sources"]

# The first element of an XML document, after the prolog, comments and doctype.
_ROOT_ELEMENT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_PROLOG = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.DOTALL)


class FeedListError(ValueError):
    """A ``--feeds`` value that is neither a URL nor a readable feed, list or OPML file."""


def expand_feed_sources(values: Iterable[str]) -> list[str]:
    """Feed URLs and local feed files from ``--feeds`` values, in order, without repeats.

    A value is an http(s) URL, a local feed file (kept as its path), a text
    file of feed URLs one per line (blank lines and ``#`` comments skipped),
    or an OPML subscription list (every ``outline`` with an ``xmlUrl``).
    Raises ``FeedListError`` for anything else, naming the value or line.
    """
    sources: list[str] = []
    for value in values:
        value = value.strip()
        if is_http_url(value):
            sources.append(value)
            continue
        if os.path.exists(value) and not os.path.isfile(value):  # a FIFO would hang open()
            raise FeedListError(f"{value}: not an http(s) URL or a regular file")
        try:
            with open(value, "rb") as handle:
                data = handle.read(DEFAULT_LIMITS.max_feed_list_bytes + 1)
        except OSError as exc:
            raise FeedListError(f"{value}: not an http(s) URL or a readable file ({exc})") from None
        if len(data) > DEFAULT_LIMITS.max_feed_list_bytes:
            raise FeedListError(f"{value}: larger than {DEFAULT_LIMITS.max_feed_list_bytes} bytes")
        root = _root_name(data)
        if root == "opml":
            sources.extend(_opml_feed_urls(data, value))
        elif root is not None:
            sources.append(value)
        else:
            sources.extend(_listed_feed_urls(data, value))
    return list(dict.fromkeys(sources))


def _root_name(data: bytes) -> str | None:
    """Local name of the root element when ``data`` looks like XML, else None."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    for bom, encoding in XML_BOMS:
        if head.startswith(bom):
            head = head.decode(encoding, "replace").lstrip("\ufeff").encode("utf-8", "replace")
            break
    if not head.startswith(b"<"):
        return None
    match = _ROOT_ELEMENT.search(_PROLOG.sub(b"", head))
    return match.group(1).decode("ascii", "replace").rsplit(":", 1)[-1].lower() if match else ""


def _opml_feed_urls(data: bytes, name: str) -> list[str]:
    parser = lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = lxml.etree.fromstring(data, parser)
    except lxml.etree.XMLSyntaxError as exc:
        raise FeedListError(f"{name}: not a well-formed OPML file ({exc})") from None
    urls = []
    for outline in root.iter("{*}outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            continue
        if not is_http_url(url):
            raise FeedListError(f"{name}: the outline feed {url!r} is not an http(s) URL")
        urls.append(url)
    return urls


def _listed_feed_urls(data: bytes, name: str) -> list[str]:
    urls = []
    text = data.decode("utf-8-sig", "replace")
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not is_http_url(line):
            raise FeedListError(f"{name} line {number}: {line[:80]!r} is not an http(s) URL")
        urls.append(line)
    return urls
