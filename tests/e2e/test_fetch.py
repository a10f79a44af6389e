"""The safe fetcher against a real HTTP server on 127.0.0.1: limits, retries, redirects, robots."""

import dataclasses
import datetime as dt
import ipaddress
import socket
import time
import tracemalloc
import zlib

import pytest

from tests.httpserver import LOCAL_POLICY as LOCAL
from tests.httpserver import LoopbackServer, Route
from transforms.lib import fetch as fetch_module
from transforms.lib.fetch import (
    FetchPolicy,
    HostThrottle,
    Response,
    RobotsCache,
    check_address,
    conditional_headers,
    crawl_policy,
    fetch,
    response_text,
)
from transforms.lib.records import ErrorType, Rejected


def _rejected(url, policy=LOCAL, **kwargs) -> Rejected:
    with pytest.raises(Rejected) as caught:
        fetch(url, policy=policy, **kwargs)
    return caught.value


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running


def test_fetch_returns_body_headers_and_sends_a_newsbeam_user_agent(server):
    server.routes["/feed.xml"] = Route(body=b"<rss/>", content_type="application/rss+xml")
    response = fetch(server.url("/feed.xml"), policy=LOCAL)
    assert (response.status, response.body, response.url) == (
        200,
        b"<rss/>",
        server.url("/feed.xml"),
    )
    assert response.headers["content-type"] == "application/rss+xml"
    _path, headers = server.requests[0]
    assert headers["user-agent"].startswith("newsbeam/")
    assert "gzip" in headers["accept-encoding"]


def test_conditional_get_answers_304_with_no_body(server):
    server.routes["/feed.xml"] = Route(
        body=b"<rss/>", etag='"v1"', last_modified="Tue, 14 Jan 2025 07:30:00 GMT"
    )
    first = fetch(server.url("/feed.xml"), policy=LOCAL)
    validators = conditional_headers(
        etag=first.headers["etag"], last_modified=first.headers["last-modified"]
    )
    second = fetch(server.url("/feed.xml"), policy=LOCAL, headers=validators)
    assert (first.status, second.status, second.body) == (200, 304, b"")
    assert server.not_modified["/feed.xml"] == 1
    assert server.requests[1][1]["if-none-match"] == '"v1"'


def test_redirects_are_followed_up_to_five(server):
    server.routes.update(
        {f"/hop{n}": Route(status=301, redirect_to=f"/hop{n + 1}") for n in range(5)}
    )
    server.routes["/hop5"] = Route(body=b"arrived")
    response = fetch(server.url("/hop0"), policy=LOCAL)
    assert (response.body, response.url) == (b"arrived", server.url("/hop5"))
    assert len(response.redirects) == 5


def test_more_than_five_redirects_and_loops_are_errors(server):
    server.routes.update({f"/hop{n}": Route(redirect_to=f"/hop{n + 1}") for n in range(7)})
    server.routes["/loop-a"] = Route(status=307, redirect_to="/loop-b")
    server.routes["/loop-b"] = Route(status=308, redirect_to=server.url("/loop-a"))
    assert _rejected(server.url("/hop0")).error_type == "too_many_redirects"
    assert server.hits["/hop6"] == 0
    assert _rejected(server.url("/loop-a")).error_type == "redirect_loop"


def test_a_redirect_to_another_scheme_is_refused(server):
    server.routes["/to-file"] = Route(redirect_to="file:///etc/passwd")
    assert _rejected(server.url("/to-file")).error_type == "unsupported_scheme"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed", "gopher://x/"])
def test_only_http_and_https_are_fetched(url):
    assert _rejected(url).error_type == "unsupported_scheme"


def test_a_server_that_drips_bytes_hits_the_total_time_limit(server):
    server.routes["/drip"] = Route(body=b"x" * 200, drip_seconds=0.05)
    started = time.monotonic()
    reject = _rejected(server.url("/drip"))
    assert reject.error_type == "timeout"
    assert time.monotonic() - started < 1.5


def test_a_server_that_never_answers_hits_the_read_timeout(server):
    server.routes["/silent"] = Route(body=b"late", delay_seconds=3)
    started = time.monotonic()
    assert _rejected(server.url("/silent")).error_type == "timeout"
    assert time.monotonic() - started < 1.5
    assert server.hits["/silent"] == 1  # a request that may have reached the server is not repeated


@pytest.mark.parametrize("send_length", [True, False])
def test_an_oversized_body_hits_the_cap(server, send_length):
    server.routes["/big"] = Route(body=b"y" * 200_000, send_length=send_length)
    reject = _rejected(server.url("/big"))
    assert reject.error_type == "too_large"


def test_gzip_bodies_are_decompressed(server):
    server.routes["/feed.xml"] = Route(body=b"<rss>" + b"z" * 5000 + b"</rss>", gzip=True)
    response = fetch(server.url("/feed.xml"), policy=LOCAL)
    assert response.body == b"<rss>" + b"z" * 5000 + b"</rss>"


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS])
def test_deflate_bodies_zlib_wrapped_or_raw_are_decompressed(server, wbits):
    compressor = zlib.compressobj(wbits=wbits)
    body = compressor.compress(b"deflated text " * 100) + compressor.flush()
    server.routes["/page"] = Route(body=body, headers={"Content-Encoding": "deflate"})
    assert fetch(server.url("/page"), policy=LOCAL).body == b"deflated text " * 100


def test_a_gzip_bomb_is_cut_off_with_bounded_memory(server):
    compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    bomb = b"".join(compressor.compress(zeros) for _ in range(64)) + compressor.flush()
    assert len(bomb) < 100_000  # 64 MiB once inflated
    server.routes["/bomb.xml"] = Route(body=bomb, headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        reject = _rejected(server.url("/bomb.xml"))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reject.error_type == "too_large"
    assert peak < 2_000_000  # the 100 kB cap, a chunk and zlib's window; never the 64 MiB


def test_a_corrupt_gzip_body_is_an_error(server):
    server.routes["/bad"] = Route(body=b"not gzip at all", headers={"Content-Encoding": "gzip"})
    assert _rejected(server.url("/bad")).error_type == "bad_encoding"


def test_an_encoding_that_was_not_asked_for_is_an_error(server):
    server.routes["/br"] = Route(body=b"\x00\x01", headers={"Content-Encoding": "br"})
    assert _rejected(server.url("/br")).error_type == "unsupported_encoding"


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_http_errors_name_their_status(server, status):
    server.routes["/gone"] = Route(status=status, body=b"no")
    assert _rejected(server.url("/gone")).error_type == f"http_{status}"


def test_a_503_is_asked_again_and_the_second_answer_is_used(server):
    server.routes["/feed.xml"] = [Route(status=503, body=b"busy"), Route(body=b"<rss/>")]
    response = fetch(server.url("/feed.xml"), policy=LOCAL)
    assert (response.status, response.body) == (200, b"<rss/>")
    assert server.hits["/feed.xml"] == 2


def test_a_429_is_asked_again_after_its_retry_after(server):
    server.routes["/feed.xml"] = [
        Route(status=429, headers={"Retry-After": "1"}),
        Route(body=b"<rss/>"),
    ]
    patient = dataclasses.replace(LOCAL, total_timeout=3.0)
    started = time.monotonic()
    assert fetch(server.url("/feed.xml"), policy=patient).body == b"<rss/>"
    assert 0.9 <= time.monotonic() - started < 2.0
    assert server.hits["/feed.xml"] == 2


def test_a_retry_waits_its_turn_at_the_host(server):
    server.routes["/feed.xml"] = [Route(status=503), Route(body=b"<rss/>")]
    polite = dataclasses.replace(LOCAL, min_host_interval=0.4, total_timeout=3.0)
    started = time.monotonic()
    fetch(server.url("/feed.xml"), policy=polite, throttle=HostThrottle())
    assert time.monotonic() - started >= 0.4
    assert server.hits["/feed.xml"] == 2


def test_a_server_that_stays_down_is_an_error_once_the_retries_end(server):
    server.routes["/down"] = Route(status=503, body=b"down")
    policy = dataclasses.replace(LOCAL, total_timeout=2.5)
    started = time.monotonic()
    assert _rejected(server.url("/down"), policy).error_type == "http_503"
    # Asked at once, again at once, then after 1 s; waiting 2 s more would pass the deadline.
    assert server.hits["/down"] == 3
    assert time.monotonic() - started < 2.5


def test_a_retry_after_beyond_the_deadline_is_not_waited_for(server):
    server.routes["/feed.xml"] = [
        Route(status=503, headers={"Retry-After": "120"}),
        Route(body=b"<rss/>"),
    ]
    started = time.monotonic()
    assert _rejected(server.url("/feed.xml")).error_type == "http_503"
    assert time.monotonic() - started < 0.5
    assert server.hits["/feed.xml"] == 1


def test_client_errors_and_broken_connections_are_not_retried(server):
    server.routes["/gone"] = Route(status=404)
    server.routes["/cut"] = Route(body=b"x" * 1000, truncate_at=10)
    assert _rejected(server.url("/gone")).error_type == "http_404"
    assert _rejected(server.url("/cut")).error_type == "incomplete_body"
    assert (server.hits["/gone"], server.hits["/cut"]) == (1, 1)


@pytest.mark.parametrize(
    ("chunked", "gzip"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_a_body_cut_short_is_an_error_never_a_shorter_feed(server, chunked, gzip):
    feed = b"<rss>" + b"<item>news</item>" * 100 + b"</rss>"
    server.routes["/feed.xml"] = Route(body=feed, chunked=chunked, gzip=gzip, truncate_at=40)
    reject = _rejected(server.url("/feed.xml"))
    assert reject.error_type == "incomplete_body"


@pytest.mark.parametrize("gzip", [False, True])
def test_chunked_bodies_are_read_whole(server, gzip):
    feed = b"<rss>" + b"<item>news</item>" * 100 + b"</rss>"
    server.routes["/feed.xml"] = Route(body=feed, chunked=True, gzip=gzip)
    assert fetch(server.url("/feed.xml"), policy=LOCAL).body == feed


def test_loopback_is_blocked_by_default_before_any_request(server):
    server.routes["/feed.xml"] = Route(body=b"<rss/>")
    no_private = FetchPolicy(min_host_interval=0)
    assert _rejected(server.url("/feed.xml"), no_private).error_type == "blocked_address"
    localhost = server.url("/feed.xml").replace("127.0.0.1", "localhost")
    assert _rejected(localhost, no_private).error_type == "blocked_address"
    assert server.hits["/feed.xml"] == 0


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
    ],
)
def test_non_public_addresses_are_blocked(address):
    with pytest.raises(Rejected) as caught:
        check_address(address)
    assert caught.value.error_type == "blocked_address"
    check_address(address, allow_private_hosts=True)


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    check_address(address)


def _only_127_0_0_1(address, *, allow_private_hosts=False):
    """A stand-in address check for tests: 127.0.0.1 plays the public internet."""
    if address != "127.0.0.1":
        raise Rejected(ErrorType.BLOCKED_ADDRESS, f"refused {address}")


def test_every_redirect_hop_is_checked(monkeypatch):
    inner = LoopbackServer({"/secret": Route(body=b"secret")}, host="127.0.0.2")
    with inner, LoopbackServer() as outer:
        outer.routes["/feed.xml"] = Route(redirect_to=inner.url("/secret"))
        monkeypatch.setattr(fetch_module, "check_address", _only_127_0_0_1)
        policy = FetchPolicy(min_host_interval=0, total_timeout=2.0)
        assert _rejected(outer.url("/feed.xml"), policy).error_type == "blocked_address"
        assert outer.hits["/feed.xml"] == 1
        assert inner.hits["/secret"] == 0


def test_any_blocked_address_among_those_resolved_blocks_the_host(monkeypatch):
    def resolve(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port)),
        ]

    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", resolve)
    reject = _rejected("http://metadata.example/", FetchPolicy(min_host_interval=0))
    assert reject.error_type == "blocked_address"


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(server, monkeypatch):
    """DNS rebinding: a later lookup would answer 127.0.0.2, but there is no later lookup."""
    server.routes["/feed.xml"] = Route(body=b"<rss/>")
    port = int(server.base_url.rsplit(":", 1)[1])
    answers = iter(["127.0.0.1", "127.0.0.2", "127.0.0.2"])
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(fetch_module, "check_address", _only_127_0_0_1)
    response = fetch(
        f"http://feeds.example:{port}/feed.xml", policy=FetchPolicy(min_host_interval=0)
    )
    assert response.body == b"<rss/>"
    assert lookups == ["feeds.example"]
    assert server.requests[0][1]["host"] == f"feeds.example:{port}"


def test_dns_failures_and_refused_connections_are_errors(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert _rejected(f"http://127.0.0.1:{port}/").error_type == "connection_refused"
    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", no_such_host)
    assert _rejected("http://no-such-host.example/feed").error_type == "dns"


def test_a_resolver_that_never_answers_hits_the_time_limit(monkeypatch):
    def hanging(*args, **kwargs):
        time.sleep(2)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(fetch_module.socket, "getaddrinfo", hanging)
    started = time.monotonic()
    assert _rejected("http://slow-dns.example/feed").error_type == "dns"
    assert time.monotonic() - started < 1.5


def test_invalid_urls_are_errors():
    assert _rejected("http:///no-host").error_type == "invalid_url"
    assert _rejected("http://example.com:99999/").error_type == "invalid_url"


def test_the_throttle_spaces_requests_to_one_host_only():
    throttle = HostThrottle()
    started = time.monotonic()
    for _ in range(3):
        throttle.wait("a.example", 0.1)
    throttle.wait("b.example", 0.1)
    elapsed = time.monotonic() - started
    assert 0.2 <= elapsed < 0.35


def test_fetches_to_one_host_are_spaced_by_the_policy_interval(server):
    server.routes["/feed.xml"] = Route(body=b"<rss/>")
    polite = FetchPolicy(allow_private_hosts=True, min_host_interval=0.2)
    throttle = HostThrottle()
    started = time.monotonic()
    for _ in range(3):
        fetch(server.url("/feed.xml"), policy=polite, throttle=throttle)
    assert time.monotonic() - started >= 0.4


def test_robots_txt_is_fetched_once_per_site_and_obeyed(server):
    server.routes["/robots.txt"] = Route(
        body=b"User-agent: *\nDisallow: /private/\n\nUser-agent: newsbeam\nDisallow: /no-bots/\n",
        content_type="text/plain",
    )
    robots = RobotsCache(policy=LOCAL)
    assert robots.check(server.url("/news/1")) is None
    with pytest.raises(Rejected) as caught:
        robots.check(server.url("/no-bots/1"))
    assert caught.value.error_type == "robots_disallowed"
    robots.check(server.url("/private/1"))  # our own group replaces the * group
    assert server.hits["/robots.txt"] == 1


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (403, True), (503, False)])
def test_robots_txt_errors_follow_rfc_9309(server, status, allowed):
    server.routes["/robots.txt"] = Route(status=status, body=b"")
    robots = RobotsCache(policy=LOCAL)
    if allowed:
        robots.check(server.url("/news/1"))
    else:
        with pytest.raises(Rejected) as caught:
            robots.check(server.url("/news/1"))
        assert caught.value.error_type == "robots_disallowed"


def test_crawl_delay_slows_the_policy_down_within_bounds():
    assert crawl_policy(LOCAL, None) is LOCAL
    assert crawl_policy(LOCAL, 3).min_host_interval == 3
    assert crawl_policy(LOCAL, 3600).min_host_interval == 10


def test_response_text_uses_the_declared_charset_else_a_guess():
    latin = Response(
        "u", 200, {"content-type": "text/html; charset=ISO-8859-1"}, "café".encode("latin-1")
    )
    unknown = Response("u", 200, {"content-type": "text/html; charset=nonsense"}, "café".encode())
    assert response_text(latin) == "café"
    assert response_text(unknown) == "café"


def _self_signed_certificate(folder) -> tuple[str, str]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


def test_https_certificates_are_verified(tmp_path):
    certificate = _self_signed_certificate(tmp_path)
    with LoopbackServer({"/feed.xml": Route(body=b"<rss/>")}, tls_cert=certificate) as server:
        assert server.base_url.startswith("https://")
        assert _rejected(server.url("/feed.xml")).error_type == "tls"
        assert server.hits["/feed.xml"] == 0
