"""Safe, polite HTTP GET for feeds and article pages. Pure Python, no Beam.

Safety: only http and https; every address a host name resolves to is
checked, the connection goes to the checked address (no second lookup a
DNS rebinding could change), the connected peer is checked again, and each
redirect hop is checked the same way. Loopback, private, link-local (cloud
metadata included), multicast and reserved addresses are refused unless
``FetchPolicy.allow_private_hosts`` is set. Bodies are capped after
decompression, which is done here, incrementally, so a gzip bomb costs at
most the cap; a total time limit stops servers that drip bytes.

Politeness: a ``User-Agent`` naming newsbeam, at most one request per host
per ``min_host_interval`` seconds *per worker process* (``HostThrottle``),
and robots.txt for page fetches (``RobotsCache``).

Failures raise ``Rejected`` with a short ``error_type``: ``invalid_url``,
``unsupported_scheme``, ``dns``, ``blocked_address``, ``connection_refused``,
``connection``, ``timeout``, ``tls``, ``bad_response``, ``http_<status>``,
``too_many_redirects``, ``redirect_loop``, ``too_large``, ``bad_encoding``,
``unsupported_encoding``, ``robots_disallowed``.
"""

import codecs
import concurrent.futures
import dataclasses
import http.client
import io
import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Mapping
from urllib.parse import quote, urljoin, urlsplit

import protego

from transforms.lib.formats import decode_bytes
from transforms.lib.records import Rejected

__all__ = [
    "DEFAULT_USER_AGENT",
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
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"

_REDIRECTS = frozenset([301, 302, 303, 307, 308])
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CHUNK_BYTES = 64 * 1024
# Characters left as they are when quoting a request path (RFC 3986 pchar, "/", "?", "%").
_PATH_SAFE = "/%:@!$&'()*+,;=-._~?"
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
# A crawl-delay in robots.txt slows us down, but never below one request per this many seconds.
_MAX_CRAWL_DELAY = 10.0
# RFC 9309: crawlers must parse at least 500 KiB of robots.txt.
_ROBOTS_MAX_BYTES = 512 * 1024


@dataclasses.dataclass(frozen=True)
class FetchPolicy:
    """Limits and manners of every request; timeouts are in seconds."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 60.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 5
    allow_private_hosts: bool = False
    min_host_interval: float = 1.0


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
            "blocked_address",
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
    conditional ``headers``) with an empty body. Raises ``Rejected`` for
    everything else: see the module docstring for the error types.
    """
    throttle = throttle or _PROCESS_THROTTLE
    deadline = time.monotonic() + policy.total_timeout
    visited: list[str] = []
    current = url
    while True:
        parts = _checked_url(current)
        # Waiting for our own turn at a host does not count against the time limit.
        deadline += throttle.wait(parts.hostname.lower(), policy.min_host_interval)
        visited.append(current)
        connection, answer = _request(parts, policy, headers or {}, accept, deadline)
        try:
            location = answer.getheader("Location")
            if answer.status in _REDIRECTS and location:
                target = urljoin(current, location.strip())
                if target in visited:
                    raise Rejected("redirect_loop", f"{url} redirects in a loop via {target}")
                if len(visited) > policy.max_redirects:
                    raise Rejected(
                        "too_many_redirects",
                        f"{url} redirects more than {policy.max_redirects} times",
                    )
                current = target
                continue
            response_headers = {name.lower(): value for name, value in answer.getheaders()}
            if answer.status == 304:
                return Response(current, 304, response_headers, b"", tuple(visited[:-1]))
            if not 200 <= answer.status < 300:
                raise Rejected(
                    f"http_{answer.status}",
                    f"{current} answered HTTP {answer.status} {answer.reason}".rstrip(),
                )
            body = _read_body(answer, response_headers, policy, deadline, current)
            return Response(current, answer.status, response_headers, body, tuple(visited[:-1]))
        except TimeoutError:
            raise Rejected("timeout", f"{current} did not answer within the time limit") from None
        except http.client.HTTPException as exc:
            raise Rejected("bad_response", f"{current} sent a broken response: {exc!r}") from None
        except OSError as exc:
            raise Rejected("connection", f"reading from {current} failed: {exc}") from None
        finally:
            answer.close()
            connection.close()


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
        self._policy = dataclasses.replace(policy, max_bytes=_ROBOTS_MAX_BYTES)
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
            raise Rejected(rules.error_type, rules.message)
        if rules is None:
            return None
        if not rules.can_fetch(url, self._policy.user_agent):
            raise Rejected("robots_disallowed", f"robots.txt of {site} disallows {url}")
        return rules.crawl_delay(self._policy.user_agent)

    def _load(self, site: str) -> protego.Protego | Rejected | None:
        robots_url = f"{site}/robots.txt"
        try:
            response = fetch(
                robots_url, policy=self._policy, accept="text/plain", throttle=self._throttle
            )
        except Rejected as reject:
            status = reject.error_type.removeprefix("http_")
            if status.isdigit() and 400 <= int(status) < 500:
                return None
            if status.isdigit():
                return Rejected(
                    "robots_disallowed",
                    f"{robots_url} answered HTTP {status}; the site is treated as disallowed",
                )
            return Rejected(reject.error_type, f"robots.txt: {reject.message}")
        return protego.Protego.parse(response.body.decode("utf-8", "replace"))


def crawl_policy(policy: FetchPolicy, crawl_delay: float | None) -> FetchPolicy:
    """``policy`` slowed to a site's robots.txt crawl delay (at most 10 s between requests)."""
    if not crawl_delay or crawl_delay <= policy.min_host_interval:
        return policy
    return dataclasses.replace(
        policy, min_host_interval=min(crawl_delay, max(_MAX_CRAWL_DELAY, policy.min_host_interval))
    )


def _checked_url(url: str):
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except (ValueError, AttributeError):
        raise Rejected("invalid_url", f"not a valid URL: {url!r}") from None
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        raise Rejected("unsupported_scheme", f"only http and https are fetched, not {url!r}")
    if not parts.hostname:
        raise Rejected("invalid_url", f"the URL has no host: {url!r}")
    if port == 0:
        raise Rejected("invalid_url", f"the URL has port 0: {url!r}")
    return parts


def _request(parts, policy: FetchPolicy, headers, accept: str, deadline: float):
    """Connection and response for one GET, before its body is read."""
    scheme = parts.scheme.lower()
    port = parts.port or _DEFAULT_PORTS[scheme]
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise Rejected("invalid_url", f"the host name {parts.hostname!r} is not valid") from None
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_PATH_SAFE + "=")
    addresses = _resolve(host, port, policy, deadline)
    connection = _PinnedConnection(
        host, port, addresses=addresses, tls=scheme == "https", policy=policy, deadline=deadline
    )
    request_headers = {
        "User-Agent": policy.user_agent,
        "Accept": accept,
        "Accept-Encoding": "gzip, deflate",
        "Connection": "close",
        **headers,
    }
    try:
        connection.request("GET", path, headers=request_headers)
        return connection, connection.getresponse()
    except Rejected:
        connection.close()
        raise
    except Exception as exc:
        connection.close()
        raise _connection_error(exc, host) from None


def _connection_error(exc: Exception, host: str) -> Exception:
    if isinstance(exc, TimeoutError):
        return Rejected("timeout", f"{host} did not answer within the time limit")
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return Rejected("tls", f"TLS with {host} failed: {exc}")
    if isinstance(exc, ConnectionRefusedError):
        return Rejected("connection_refused", f"{host} refused the connection")
    if isinstance(exc, http.client.InvalidURL | ValueError):
        return Rejected("invalid_url", f"the request to {host} is invalid: {exc}")
    if isinstance(exc, http.client.HTTPException):
        return Rejected("bad_response", f"{host} sent a broken response: {exc!r}")
    if isinstance(exc, OSError):
        return Rejected("connection", f"connecting to {host} failed: {exc}")
    return exc


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
        raise Rejected("dns", f"looking up {host} took longer than {timeout:.1f} s") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise Rejected("dns", f"the host name {host} could not be resolved: {exc}") from None
    addresses = []
    for family, _type, _proto, _name, sockaddr in infos:
        check_address(sockaddr[0], allow_private_hosts=policy.allow_private_hosts)
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise Rejected("dns", f"the host name {host} has no address")
    return addresses


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to addresses checked in advance, never to a fresh lookup."""

    def __init__(self, host, port, *, addresses, tls, policy, deadline):
        super().__init__(host, port)
        self.default_port = 443 if tls else 80  # so the Host header omits the usual port
        self._addresses = addresses
        self._tls = tls
        self._policy = policy
        self._deadline = deadline

    def connect(self):
        sock = None
        error: BaseException | None = None
        for family, sockaddr in self._addresses:
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the total time limit ran out")
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(min(self._policy.connect_timeout, remaining))
            try:
                sock.connect(sockaddr)
                break
            except OSError as exc:
                sock.close()
                sock, error = None, exc
        if sock is None:
            raise error or OSError("no address to connect to")
        try:
            # The address actually connected to is checked, whatever resolved it.
            check_address(
                sock.getpeername()[0], allow_private_hosts=self._policy.allow_private_hosts
            )
            if self._tls:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = _DeadlineSocket(sock, deadline=self._deadline, policy=self._policy)


class _DeadlineSocket:
    """A socket whose reads and writes stop at the fetch's deadline.

    Like ``socket.socket``, it stays open until its last reader is closed:
    http.client closes the connection and leaves the response reading.
    """

    def __init__(self, sock, *, deadline: float, policy: FetchPolicy):
        self._sock = sock
        self._deadline = deadline
        self._read_timeout = policy.read_timeout
        self._readers = 0
        self._closed = False

    def settimeout_for_next_call(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the total time limit ran out")
        self._sock.settimeout(min(self._read_timeout, remaining))

    def sendall(self, data) -> None:
        self.settimeout_for_next_call()
        self._sock.sendall(data)

    def makefile(self, mode="rb", *args, **kwargs):
        self._readers += 1
        return io.BufferedReader(_DeadlineReader(self), buffer_size=_CHUNK_BYTES)

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closed and self._readers == 0:
            self._sock.close()

    def recv_into(self, buffer) -> int:
        self.settimeout_for_next_call()
        return self._sock.recv_into(buffer)

    def close(self) -> None:
        self._closed = True
        if self._readers == 0:
            self._sock.close()

    def __getattr__(self, name):
        return getattr(self._sock, name)


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket):
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._sock.reader_closed()
        super().close()


def _read_body(answer, headers: dict, policy: FetchPolicy, deadline: float, url: str) -> bytes:
    """The body, decompressed here, cut off at ``policy.max_bytes`` or the deadline."""
    limit = policy.max_bytes
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        decoder = None
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(url, limit)
    elif encoding in ("gzip", "x-gzip", "deflate"):
        decoder = _Decompressor(encoding)
    else:
        raise Rejected(
            "unsupported_encoding", f"{url} sent a body in {encoding!r}, which was not asked for"
        )
    body = bytearray()
    received = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("the total time limit ran out")
        chunk = answer.read1(_CHUNK_BYTES)
        if not chunk:
            break
        received += len(chunk)
        if received > limit:
            raise _too_large(url, limit)
        body += decoder.decompress(chunk, limit - len(body), url) if decoder else chunk
        if len(body) > limit:
            raise _too_large(url, limit)
        if decoder and decoder.finished:
            break
    if decoder:
        body += decoder.flush(url)
        if len(body) > limit:
            raise _too_large(url, limit)
    return bytes(body)


def _too_large(url: str, limit: int) -> Rejected:
    return Rejected("too_large", f"{url} sent more than the limit of {limit} bytes")


class _Decompressor:
    """gzip or deflate, never producing more than one byte past the room it is given."""

    def __init__(self, encoding: str):
        self._encoding = encoding
        self._zlib = None

    @property
    def finished(self) -> bool:
        return self._zlib is not None and self._zlib.eof

    def decompress(self, data: bytes, room: int, url: str) -> bytes:
        if self._zlib is None:
            self._zlib = zlib.decompressobj(self._wbits(data))
        out = bytearray()
        try:
            while data and not self._zlib.eof:
                out += self._zlib.decompress(data, room - len(out) + 1)
                if len(out) > room:
                    break
                data = self._zlib.unconsumed_tail
        except zlib.error as exc:
            raise Rejected(
                "bad_encoding", f"{url} sent a corrupt {self._encoding} body: {exc}"
            ) from None
        return bytes(out)

    def flush(self, url: str) -> bytes:
        """What zlib still holds once all input is consumed: at most its 32 KiB window."""
        if self._zlib is None:
            return b""
        try:
            return self._zlib.flush()
        except zlib.error as exc:
            raise Rejected(
                "bad_encoding", f"{url} sent a corrupt {self._encoding} body: {exc}"
            ) from None

    def _wbits(self, first: bytes) -> int:
        if self._encoding != "deflate":
            return 16 + zlib.MAX_WBITS
        # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
        wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
        return zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS
