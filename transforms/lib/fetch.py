"""Safe, polite HTTP GET for feeds and article pages, on urllib3. Pure Python, no Beam.

urllib3 does the HTTP, retries 429 and 5xx answers (backing off, obeying
``Retry-After``) and decompresses a chunk at a time. newsbeam adds:

Safety: only http and https; every address a host name resolves to is
checked, the connection goes to the checked address (no second lookup a
DNS rebinding could change), the connected peer is checked again, and each
redirect hop (followed here, not by urllib3) is checked the same way.
Loopback, private, link-local (cloud metadata included), multicast and
reserved addresses are refused unless ``FetchPolicy.allow_private_hosts``
is set. Bodies are capped after decompression, so a gzip bomb costs at
most the cap; a total time limit on every socket call stops servers that
drip bytes, and no retry waits past it.

Politeness: a ``User-Agent`` naming newsbeam, at most one request per host
per ``min_host_interval`` seconds *per worker process* (``HostThrottle``),
and robots.txt for page fetches (``RobotsCache``).

Failures raise ``Rejected`` with an ``ErrorType``: ``invalid_url``,
``unsupported_scheme``, ``dns``, ``blocked_address``, ``connection_refused``,
``connection``, ``timeout``, ``tls``, ``bad_response``, ``http_<status>``
(after the retries, for 429 and 5xx), ``too_many_redirects``,
``redirect_loop``, ``too_large``, ``incomplete_body`` (the connection ended
before the body did), ``bad_encoding``, ``unsupported_encoding``,
``robots_disallowed``.
"""

import codecs
import concurrent.futures
import contextlib
import dataclasses
import functools
import http.client
import io
import ipaddress
import re
import socket
import threading
import time
from collections.abc import Mapping
from urllib.parse import quote, urljoin, urlsplit

import protego
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, Timeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import (
    DecodeError,
    HTTPError,
    InvalidHeader,
    MaxRetryError,
    ProtocolError,
    ResponseError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util import Retry

from transforms.lib.formats import decode_bytes
from transforms.lib.records import ErrorType, Rejected
from transforms.lib.settings import DEFAULT_LIMITS, Limits

__all__ = [
    "DEFAULT_USER_AGENT",
    "FEED_ACCEPT",
    "PAGE_ACCEPT",
    "FetchPolicy",
    "HostThrottle",
    "Response",
    "RobotsCache",
    "check_address",
    "conditional_headers",
    "crawl_policy",
    "fetch",
    "response_text",
]

DEFAULT_USER_AGENT = "newsbeam/0.1 (+https://github.com/newsbeam/newsbeam)"
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"

_REDIRECTS = frozenset([301, 302, 303, 307, 308])
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CHUNK_BYTES = 64 * 1024
# The encodings we ask for; urllib3 would also decode br or zstd, which we never asked for.
_ACCEPT_ENCODING = "gzip, deflate"
_ENCODINGS = frozenset(["", "identity", "gzip", "x-gzip", "deflate"])
# Characters left as they are when quoting a request path (RFC 3986 pchar, "/", "?", "%").
_PATH_SAFE = "/%:@!$&'()*+,;=-._~?"
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class FetchPolicy:
    """Limits and manners of every request; timeouts are in seconds.

    The limits' defaults are ``DEFAULT_LIMITS``'; ``from_limits`` takes them
    from a run's ``Limits``.
    """

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = DEFAULT_LIMITS.connect_timeout
    read_timeout: float = DEFAULT_LIMITS.read_timeout
    total_timeout: float = DEFAULT_LIMITS.total_timeout
    max_bytes: int = DEFAULT_LIMITS.max_fetch_bytes
    max_redirects: int = DEFAULT_LIMITS.max_redirects
    allow_private_hosts: bool = False
    min_host_interval: float = DEFAULT_LIMITS.min_host_interval

    @classmethod
    def from_limits(cls, limits: Limits, **manners) -> "FetchPolicy":
        """The policy with the numbers of ``limits`` and the given manners
        (``user_agent``, ``allow_private_hosts``)."""
        return cls(
            connect_timeout=limits.connect_timeout,
            read_timeout=limits.read_timeout,
            total_timeout=limits.total_timeout,
            max_bytes=limits.max_fetch_bytes,
            max_redirects=limits.max_redirects,
            min_host_interval=limits.min_host_interval,
            **manners,
        )


@dataclasses.dataclass(frozen=True)
class Response:
    """A successful answer: 2xx with its decompressed body, or 304 with none.

    ``url`` is the final URL after redirects; ``headers`` have lower-case names.
    """

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    redirects: tuple[str, ...] = ()


class HostThrottle:
    """At most one request per host per interval, shared by the threads of one process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next_slot: dict[str, float] = {}

    def wait(self, host: str, interval: float) -> float:
        """Sleeps until ``host`` may be asked again, books its next slot; returns seconds slept."""
        if interval <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            if len(self._next_slot) > 10_000:  # forget hosts whose slot has passed
                self._next_slot = {h: t for h, t in self._next_slot.items() if t > now}
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + interval
        if slot <= now:
            return 0.0
        time.sleep(slot - now)
        return slot - now


# One per worker process, so every DoFn instance in it shares the host slots.
_PROCESS_THROTTLE = HostThrottle()
# getaddrinfo has no timeout of its own; lookups wait on these threads instead.
_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="newsbeam-dns")


def conditional_headers(*, etag: str | None, last_modified: str | None) -> dict[str, str]:
    """``If-None-Match``/``If-Modified-Since`` for the validators a feed last sent."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def check_address(address: str, *, allow_private_hosts: bool = False) -> None:
    """Returns when ``address`` (an IP) may be contacted, else raises ``blocked_address``.

    Only globally routable unicast addresses pass; IPv4 addresses mapped
    into IPv6 are judged as IPv4.
    """
    if allow_private_hosts:
        return
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if (
        not ip.is_global
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_unspecified
    ):
        raise Rejected(
            ErrorType.BLOCKED_ADDRESS,
            f"refused to connect to {ip}: not a public address "
            "(use --allow-private-hosts for intranet feeds)",
        )


def fetch(
    url: str,
    *,
    policy: FetchPolicy,
    headers: Mapping[str, str] | None = None,
    accept: str = FEED_ACCEPT,
    throttle: HostThrottle | None = None,
) -> Response:
    """GET ``url`` under ``policy``, following up to ``policy.max_redirects`` redirects.

    Returns a 2xx response with its decompressed body, or a 304 (for
    conditional ``headers``) with an empty body. A 429 or 5xx answer is
    asked again a few times first. Raises ``Rejected`` for everything
    else: see the module docstring for the error types.
    """
    throttle = throttle or _PROCESS_THROTTLE
    deadline = time.monotonic() + policy.total_timeout
    request_headers = {
        "User-Agent": policy.user_agent,
        "Accept": accept,
        "Accept-Encoding": _ACCEPT_ENCODING,
        "Connection": "close",
        **(headers or {}),
    }
    visited: list[str] = []
    current = url
    while True:
        parts = _checked_url(current)
        pace = functools.partial(throttle.wait, parts.hostname.lower(), policy.min_host_interval)
        # Waiting for our own turn at a host does not count against the time limit.
        deadline += pace()
        visited.append(current)
        with _get(parts, current, policy, request_headers, deadline, pace) as answer:
            location = answer.headers.get("location")
            if answer.status in _REDIRECTS and location:
                target = urljoin(current, location.strip())
                if target in visited:
                    raise Rejected(
                        ErrorType.REDIRECT_LOOP, f"{url} redirects in a loop via {target}"
                    )
                if len(visited) > policy.max_redirects:
                    raise Rejected(
                        ErrorType.TOO_MANY_REDIRECTS,
                        f"{url} redirects more than {policy.max_redirects} times",
                    )
                current = target
                continue
            response_headers = {name.lower(): value for name, value in answer.headers.items()}
            if answer.status == 304:
                return Response(current, 304, response_headers, b"", tuple(visited[:-1]))
            if not 200 <= answer.status < 300:
                raise Rejected(
                    ErrorType.HTTP_STATUS,
                    f"{current} answered HTTP {answer.status} {answer.reason or ''}".rstrip(),
                    status=answer.status,
                )
            body = _read_body(answer, response_headers, policy.max_bytes, current)
            return Response(current, answer.status, response_headers, body, tuple(visited[:-1]))


def response_text(response: Response) -> str:
    """The body as text: the charset the server declared, else ``decode_bytes``'s guess.

    Rejects binary bodies (``binary_file``) as ``decode_bytes`` does.
    """
    match = _CHARSET.search(response.headers.get("content-type", ""))
    if match:
        try:
            return response.body.decode(codecs.lookup(match.group(1)).name, "replace")
        except LookupError:
            pass
    return decode_bytes(response.body)


class RobotsCache:
    """robots.txt of each site, fetched once through ``fetch`` and kept for the run.

    Follows RFC 9309: a 4xx robots.txt allows everything; a 5xx one, or one
    that cannot be fetched, disallows everything.
    """

    def __init__(self, *, policy: FetchPolicy, throttle: HostThrottle | None = None):
        self._policy = dataclasses.replace(policy, max_bytes=DEFAULT_LIMITS.max_robots_bytes)
        self._throttle = throttle
        self._rules: dict[str, protego.Protego | Rejected | None] = {}

    def check(self, url: str) -> float | None:
        """Returns the site's crawl delay (or None) when ``url`` may be fetched.

        Raises ``robots_disallowed`` when robots.txt forbids it, and the
        fetch's own ``Rejected`` when robots.txt could not be fetched.
        """
        parts = _checked_url(url)
        site = f"{parts.scheme}://{parts.netloc.lower()}"
        if site not in self._rules:
            if len(self._rules) > 10_000:
                self._rules.clear()
            self._rules[site] = self._load(site)
        rules = self._rules[site]
        if isinstance(rules, Rejected):
            raise Rejected(rules.kind, rules.message, status=rules.status)
        if rules is None:
            return None
        if not rules.can_fetch(url, self._policy.user_agent):
            raise Rejected(ErrorType.ROBOTS_DISALLOWED, f"robots.txt of {site} disallows {url}")
        return rules.crawl_delay(self._policy.user_agent)

    def _load(self, site: str) -> protego.Protego | Rejected | None:
        robots_url = f"{site}/robots.txt"
        try:
            response = fetch(
                robots_url, policy=self._policy, accept="text/plain", throttle=self._throttle
            )
        except Rejected as reject:
            status = reject.status
            if status is not None and 400 <= status < 500:
                return None
            if status is not None:
                return Rejected(
                    ErrorType.ROBOTS_DISALLOWED,
                    f"{robots_url} answered HTTP {status}; the site is treated as disallowed",
                )
            return Rejected(reject.kind, f"robots.txt: {reject.message}")
        return protego.Protego.parse(response.body.decode("utf-8", "replace"))


def crawl_policy(policy: FetchPolicy, crawl_delay: float | None) -> FetchPolicy:
    """``policy`` slowed to a site's robots.txt crawl delay (at most ``Limits.max_crawl_delay``)."""
    if not crawl_delay or crawl_delay <= policy.min_host_interval:
        return policy
    return dataclasses.replace(
        policy,
        min_host_interval=min(
            crawl_delay, max(DEFAULT_LIMITS.max_crawl_delay, policy.min_host_interval)
        ),
    )


def _checked_url(url: str):
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except (ValueError, AttributeError):
        raise Rejected(ErrorType.INVALID_URL, f"not a valid URL: {url!r}") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        raise Rejected(
            ErrorType.UNSUPPORTED_SCHEME, f"only http and https are fetched, not {url!r}"
        )
    if not parts.hostname:
        raise Rejected(ErrorType.INVALID_URL, f"the URL has no host: {url!r}")
    if port == 0:
        raise Rejected(ErrorType.INVALID_URL, f"the URL has port 0: {url!r}")
    return parts


@contextlib.contextmanager
def _get(parts, url: str, policy: FetchPolicy, headers: dict, deadline: float, pace):
    """urllib3's answer to one GET, its body still to read; its errors become ``Rejected``."""
    tls = parts.scheme.lower() == "https"
    port = parts.port or _DEFAULT_PORTS[parts.scheme.lower()]
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise Rejected(
            ErrorType.INVALID_URL, f"the host name {parts.hostname!r} is not valid"
        ) from None
    target = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_PATH_SAFE + "=")
    pool = (_PinnedHTTPSPool if tls else _PinnedHTTPPool)(
        host,
        port,
        timeout=Timeout(connect=policy.connect_timeout, read=policy.read_timeout),
        addresses=_resolve(host, port, policy, deadline),
        allow_private_hosts=policy.allow_private_hosts,
        deadline=deadline,
    )
    with pool:
        try:
            answer = pool.urlopen(
                "GET",
                target,
                headers=headers,
                retries=_RETRY.new(deadline=deadline, pace=pace),
                redirect=False,  # followed by fetch(), so each hop is checked
                preload_content=False,
                decode_content=True,
            )
        except (HTTPError, OSError, ValueError) as exc:  # ValueError: http.client's bad header
            raise _rejection(exc, url) from None
        try:
            yield answer
        except ProtocolError as exc:
            raise Rejected(
                ErrorType.INCOMPLETE_BODY,
                f"the body from {url} ended before it was complete: {exc}",
            ) from None
        except (HTTPError, OSError) as exc:
            raise _rejection(exc, url) from None
        finally:
            answer.close()


def _rejection(exc: Exception, url: str) -> Rejected:
    """The ``Rejected`` for an error urllib3 raised while asking ``url``."""
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    if isinstance(exc, ProtocolError) and len(exc.args) > 1:
        exc = exc.args[1]  # what broke the exchange, as urllib3 wraps it
    if isinstance(exc, Urllib3Timeout | TimeoutError):
        return Rejected(ErrorType.TIMEOUT, f"{url} did not answer within the time limit")
    if isinstance(exc, SSLError):
        return Rejected(ErrorType.TLS, f"TLS with {url} failed: {exc}")
    if isinstance(exc, DecodeError):
        return Rejected(ErrorType.BAD_ENCODING, f"{url} sent a corrupt compressed body: {exc}")
    if isinstance(exc, ValueError):
        return Rejected(ErrorType.INVALID_URL, f"the request to {url} is invalid: {exc}")
    if isinstance(exc, http.client.HTTPException | ProtocolError):
        return Rejected(ErrorType.BAD_RESPONSE, f"{url} sent a broken response: {exc!r}")
    return Rejected(ErrorType.CONNECTION, f"asking {url} failed: {exc}")


def _read_body(answer, headers: dict, limit: int, url: str) -> bytes:
    """The body, decompressed by urllib3 a chunk at a time, refused past ``limit`` bytes."""
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding not in _ENCODINGS:
        raise Rejected(
            ErrorType.UNSUPPORTED_ENCODING,
            f"{url} sent a body in {encoding!r}, which was not asked for",
        )
    declared = headers.get("content-length", "")
    if encoding in ("", "identity") and declared.isdigit() and int(declared) > limit:
        raise _too_large(url, limit)
    body = bytearray()
    # decode_content is explicit: for a chunked body urllib3 2.8 reads None as False.
    for chunk in answer.stream(_CHUNK_BYTES, decode_content=True):
        body += chunk
        if len(body) > limit:
            raise _too_large(url, limit)
    return bytes(body)


def _too_large(url: str, limit: int) -> Rejected:
    return Rejected(ErrorType.TOO_LARGE, f"{url} sent more than the limit of {limit} bytes")


def _resolve(host: str, port: int, policy: FetchPolicy, deadline: float) -> list[tuple]:
    """Every address of ``host``, each checked; blocked if any one is not allowed.

    The lookup runs on a small thread pool so that a resolver that never
    answers costs the fetch its time limit, not the worker forever.
    """
    timeout = min(policy.connect_timeout, deadline - time.monotonic())
    lookup = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=max(timeout, 0))
    except concurrent.futures.TimeoutError:
        lookup.cancel()
        raise Rejected(
            ErrorType.DNS, f"looking up {host} took longer than {timeout:.1f} s"
        ) from None
    except (socket.gaierror, UnicodeError) as exc:
        raise Rejected(
            ErrorType.DNS, f"the host name {host} could not be resolved: {exc}"
        ) from None
    addresses = []
    for family, _type, _proto, _name, sockaddr in infos:
        check_address(sockaddr[0], allow_private_hosts=policy.allow_private_hosts)
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise Rejected(ErrorType.DNS, f"the host name {host} has no address")
    return addresses


class _Retry(Retry):
    """urllib3's ``Retry`` that gives up rather than wait past ``deadline``,
    obeys ``Retry-After`` up to ``Limits.max_retry_after``, and then calls ``pace`` (the host
    throttle) so a retry waits its turn at the host like any request."""

    def __init__(self, *args, deadline: float = float("inf"), pace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.deadline = deadline
        self.pace = pace

    def new(self, **params) -> "_Retry":
        return super().new(**{"deadline": self.deadline, "pace": self.pace, **params})

    def sleep(self, response=None) -> None:
        super().sleep(response)
        if self.pace is not None:
            self.pace()

    def increment(self, method=None, url=None, response=None, error=None, **kwargs):
        retry = super().increment(method, url, response, error, **kwargs)
        wait = response is not None and retry.get_retry_after(response)
        if time.monotonic() + (wait or retry.get_backoff_time()) >= self.deadline:
            raise MaxRetryError(kwargs.get("_pool"), url, ResponseError("no time left to retry"))
        return retry

    def get_retry_after(self, response) -> float | None:
        try:
            seconds = super().get_retry_after(response)
        except InvalidHeader:  # a garbled Retry-After: back off as if there were none
            return None
        return None if seconds is None else min(seconds, DEFAULT_LIMITS.max_retry_after)


# 429 and 5xx answers to a GET are asked again (``Limits.fetch_retries`` times): at the
# host's next turn, then after 1 s and 2 s more, or as Retry-After says. Errors are
# not: the server may have seen the request.
_RETRY = _Retry(
    total=DEFAULT_LIMITS.fetch_retries,
    connect=0,
    read=0,
    other=0,
    status_forcelist=(429, 500, 502, 503, 504),
    allowed_methods=frozenset(["GET"]),
    backoff_factor=0.5,
    raise_on_status=False,  # the last answer comes back, to become http_<status>
)


class _Pinned:
    """What newsbeam adds to urllib3's connections: connect only to addresses
    checked in advance (never to a fresh lookup), check the connected peer,
    and keep every later read and write within the fetch's deadline.
    The host name still goes into the Host header and TLS (SNI and the
    certificate check)."""

    def __init__(self, *args, addresses, allow_private_hosts, deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self._addresses = addresses
        self._allow_private_hosts = allow_private_hosts
        self._deadline = deadline

    def _new_conn(self) -> socket.socket:
        error: OSError | None = None
        for family, sockaddr in self._addresses:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                break
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(min(self.timeout, remaining))
            try:
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            try:
                check_address(sock.getpeername()[0], allow_private_hosts=self._allow_private_hosts)
            except Rejected:
                sock.close()
                raise
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        # Rejected passes through urllib3 untouched, as connection errors are never retried.
        if isinstance(error, ConnectionRefusedError):
            raise Rejected(ErrorType.CONNECTION_REFUSED, f"{self.host} refused the connection")
        if error is None or isinstance(error, TimeoutError):
            raise Rejected(ErrorType.TIMEOUT, f"connecting to {self.host} took too long")
        raise Rejected(ErrorType.CONNECTION, f"connecting to {self.host} failed: {error}")

    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self._deadline)


class _PinnedHTTPConnection(_Pinned, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_Pinned, HTTPSConnection):
    pass


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _DeadlineSocket:
    """A connected (TLS or plain) socket whose every send and receive ends by
    the deadline: urllib3's timeouts bound one call each, which a server
    sending a byte per call never reaches."""

    def __init__(self, sock, deadline: float):
        self._sock = sock
        self._deadline = deadline
        self._timeout: float | None = None

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout

    def _arm(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the total time limit ran out")
        self._sock.settimeout(remaining if self._timeout is None else min(self._timeout, remaining))

    def sendall(self, data, *args) -> None:
        self._arm()
        self._sock.sendall(data, *args)

    def recv_into(self, buffer, *args) -> int:
        self._arm()
        return self._sock.recv_into(buffer, *args)

    def makefile(self, *args, **kwargs):
        # As socket.makefile does: the socket's close() waits for this reader, since
        # http.client closes the connection and leaves the response reading.
        self._sock._io_refs += 1
        return io.BufferedReader(socket.SocketIO(self, "rb"), _CHUNK_BYTES)

    def __getattr__(self, name):  # close, _decref_socketios, fileno...: the socket's own
        return getattr(self._sock, name)
