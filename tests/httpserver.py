"""A threaded HTTP server on 127.0.0.1 for tests: routes to canned answers, with counts.

    with LoopbackServer({"/feed.xml": Route(body=b"<rss .../>", etag='"v1"')}) as server:
        fetch(server.url("/feed.xml"), ...)
        assert server.not_modified["/feed.xml"] == 0

A route answers with its status, headers and body, and can instead redirect,
answer 304 to a matching conditional request, gzip its body, wait before
answering, drip its body one byte at a time, send it chunked, or close the
connection part way through it. A path can also map to a list of routes,
answered in turn (the last one repeats), as for a server that answers 503
once and then 200. Nothing leaves the machine.
"""

import collections
import contextlib
import dataclasses
import gzip
import http.server
import ssl
import threading
from urllib.parse import urlsplit

from transforms.lib.fetch import FetchPolicy

# How tests fetch from this server: private hosts allowed (it is on 127.0.0.1), no
# throttling, and short limits so that timeout tests stay fast.
LOCAL_POLICY = FetchPolicy(
    allow_private_hosts=True,
    min_host_interval=0,
    connect_timeout=1.0,
    read_timeout=0.5,
    total_timeout=1.0,
    max_bytes=100_000,
)


@dataclasses.dataclass
class Route:
    """One canned answer. ``body`` is sent as is unless ``gzip`` is set.

    ``truncate_at`` sends only that many bytes of the body, though the
    Content-Length (or the chunk size) announces all of it, then closes.
    """

    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    redirect_to: str | None = None
    delay_seconds: float = 0.0
    drip_seconds: float = 0.0
    send_length: bool = True
    chunked: bool = False
    truncate_at: int | None = None


class LoopbackServer:
    """Serves ``routes`` (path -> ``Route``) on an ephemeral port of ``host`` (a loopback IP).

    ``hits`` counts requests per path, ``not_modified`` the 304s answered to
    conditional requests, and ``requests`` keeps (path, headers) of each one.
    """

    def __init__(
        self,
        routes: dict[str, Route | list[Route]] | None = None,
        *,
        host: str = "127.0.0.1",
        tls_cert: tuple[str, str] | None = None,
    ):
        self.routes: dict[str, Route | list[Route]] = dict(routes or {})
        self.hits: collections.Counter = collections.Counter()
        self.not_modified: collections.Counter = collections.Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = http.server.ThreadingHTTPServer((host, 0), _handler_for(self))
        self._scheme = "http"
        if tls_cert is not None:  # (certificate file, key file)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls_cert)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        path = handler.path
        headers = {name.lower(): value for name, value in handler.headers.items()}
        with self._lock:
            self.hits[path] += 1
            self.requests.append((path, headers))
            hit = self.hits[path]
        route = self.routes.get(path) or self.routes.get(urlsplit(path).path)
        if route is None:
            route = Route(body=b"not found", status=404, content_type="text/plain")
        if isinstance(route, list):
            route = route[min(hit, len(route)) - 1]
        if route.delay_seconds:
            self._stopping.wait(route.delay_seconds)
        if route.redirect_to is not None:
            handler.send_response(route.status if 300 <= route.status < 400 else 302)
            handler.send_header("Location", route.redirect_to)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if _matches(route, headers):
            with self._lock:
                self.not_modified[path] += 1
            handler.send_response(304)
            _send_validators(handler, route)
            handler.end_headers()
            return
        body = gzip.compress(route.body) if route.gzip else route.body
        handler.send_response(route.status)
        handler.send_header("Content-Type", route.content_type)
        if route.gzip:
            handler.send_header("Content-Encoding", "gzip")
        if route.chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        elif route.send_length:
            handler.send_header("Content-Length", str(len(body)))
        _send_validators(handler, route)
        for name, value in route.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if route.chunked:
            handler.wfile.write(f"{len(body):x}\r\n".encode())
        if route.truncate_at is not None:
            handler.wfile.write(body[: route.truncate_at])
            handler.close_connection = True
            return
        if route.drip_seconds:
            self._drip(handler, body, route.drip_seconds)
        else:
            handler.wfile.write(body)
        if route.chunked:
            handler.wfile.write(b"\r\n0\r\n\r\n")

    def _drip(self, handler, body: bytes, pause: float) -> None:
        for index in range(len(body)):
            if self._stopping.wait(pause):
                return
            handler.wfile.write(body[index : index + 1])
            handler.wfile.flush()


def _matches(route: Route, headers: dict[str, str]) -> bool:
    if route.etag and headers.get("if-none-match") == route.etag:
        return True
    return bool(route.last_modified and headers.get("if-modified-since") == route.last_modified)


def _send_validators(handler, route: Route) -> None:
    if route.etag:
        handler.send_header("ETag", route.etag)
    if route.last_modified:
        handler.send_header("Last-Modified", route.last_modified)


def _handler_for(server: LoopbackServer):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            # The client may give up, as the fetcher under test is meant to.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
                server._answer(self)

        def log_message(self, format, *args):
            pass

    return Handler
