"""Feeds through the real command: a loopback server, Parquet read back, watch and XML attacks."""

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import SEEDS, evaldata, newsbeam, table, wait_for
from tests.httpserver import LoopbackServer, Route

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Harbour Gazette</title><link>{base}/</link>
{items}
</channel></rss>"""
ITEM = """<item><title>{title}</title><link>{base}/story/{n}</link><guid>{base}/story/{n}</guid>
<pubDate>Mon, 13 Jan 2025 {hour:02d}:30:00 +0100</pubDate>
<author>desk@example.com (Ann Desk)</author>
<description>{title}: a short teaser.</description></item>"""
PAGE = """<html><head><title>{title}</title></head><body><nav>Home Login</nav><article>
<h1>{title}</h1><p>{title}. The harbour master said the work on the north pier would take three
weeks and cost the port authority about two million euros in total.</p>
<p>"We will keep one lane open for the ferries at all times," said Marta Lind, the harbour
master, on Monday. Fishing boats will use the south quay until the end of the month.</p>
</article></body></html>"""


def _feed(base, stories):
    items = "\n".join(
        ITEM.format(base=base, n=n, title=title, hour=8 + n) for n, title in enumerate(stories)
    )
    return RSS.format(base=base, items=items).encode()


def _routes(server, stories):
    server.routes["/feed.xml"] = Route(
        body=_feed(server.base_url, stories),
        content_type="application/rss+xml",
        etag=f'"v{len(stories)}"',
    )
    for n, title in enumerate(stories):
        server.routes[f"/story/{n}"] = Route(body=PAGE.format(title=title).encode())


def test_feed_with_pages_end_to_end_then_304(tmp_path):
    with LoopbackServer() as server:
        _routes(server, ["Pier closes", "Ferry returns"])
        listing = tmp_path / "feeds.txt"
        listing.write_text(f"# our feeds\n{server.url('/feed.xml')}\n")
        output = tmp_path / "out"
        args = ["ingest", "--feeds", listing, "--output", output, "--allow-private-hosts"]
        first = newsbeam(*args, "--fetch-articles", "--user-agent", "newsbeam-test/1.0")
        second = newsbeam(*args, "--fetch-articles")
        agents = {
            v for _path, h in server.requests for k, v in h.items() if k.lower() == "user-agent"
        }
    assert "feeds polled          1 (0 not modified" in first.stdout
    assert "articles written      2" in first.stdout
    articles = sorted(table(output, "articles").to_pylist(), key=lambda a: a["url"])
    assert [a["title"] for a in articles] == ["Pier closes", "Ferry returns"]
    assert all(a["text_source"] == "page" for a in articles)
    assert "keep one lane open" in articles[0]["text"]
    assert articles[0]["published_at"].isoformat() == "2025-01-13T07:30:00+00:00"
    assert articles[0]["source"] == "Harbour Gazette"
    assert articles[0]["origin"].startswith(server.url("/feed.xml"))
    quotes = table(output, "quotes").to_pylist()
    assert any(q["speaker"] == "Marta Lind" for q in quotes)
    # The second run sends the ETag back and gets a 304: nothing new, nothing fetched.
    assert "1 not modified" in second.stdout
    assert "articles written      0" in second.stdout
    assert server.not_modified["/feed.xml"] == 1
    assert server.hits["/story/0"] == 1
    assert "newsbeam-test/1.0" in agents
    [feed_state] = json.loads((output / "_state" / "feeds.json").read_text())["feeds"].values()
    assert feed_state["etag"] == '"v2"'
    assert len(feed_state["seen_ids"]) == 2


def test_loopback_feeds_are_refused_without_allow_private_hosts(tmp_path):
    with LoopbackServer() as server:
        _routes(server, ["Pier closes"])
        output = tmp_path / "out"
        result = newsbeam(
            "ingest", "--feeds", server.url("/feed.xml"), "--output", output, check=False
        )
        assert server.hits["/feed.xml"] == 0
    assert result.returncode == 4  # the only feed failed: nothing could be ingested
    errors = table(output, "errors").to_pylist()
    assert [(e["stage"], e["error_type"]) for e in errors] == [("feed", "blocked_address")]
    assert "errors                1" in result.stdout


def test_local_feed_files_as_inputs_and_a_bad_feed_list(tmp_path):
    output = tmp_path / "out"
    newsbeam("ingest", "--input", SEEDS / "00[5-7]_*.xml", "--output", output, "--no-nlp")
    assert table(output, "articles").num_rows == 6
    bad = newsbeam("ingest", "--feeds", tmp_path / "missing.opml", "--output", output, check=False)
    assert bad.returncode == 2 and "--feeds" in bad.stderr


def test_a_50_mb_feed_file_is_refused_by_the_feed_cap(tmp_path):
    big = tmp_path / "big.xml"
    item = b"<item><title>t</title><description>" + b"x" * 10_000 + b"</description></item>\n"
    with big.open("wb") as handle:
        handle.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>\n')
        for _ in range(5_000):
            handle.write(item)
        handle.write(b"</channel></rss>")
    assert big.stat().st_size > 50_000_000
    output = tmp_path / "out"
    result = newsbeam("ingest", "--input", big, "--output", output, "--no-nlp", check=False)
    assert result.returncode == 4  # the only input failed
    [error] = table(output, "errors").to_pylist()
    assert error["error_type"] == "too_large" and "10485760" in error["message"]


# VmHWM is the peak RSS of this process image; ru_maxrss would include the forked parent's.
ATTACK_PROBE = """
import re, sys, time
from transforms.lib.feeds import parse_feed
from transforms.lib.records import Rejected

def peak_mb():
    status = open("/proc/self/status").read()
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024

baseline = peak_mb()
data = open(sys.argv[1], "rb").read()
started = time.perf_counter()
try:
    records, _ = parse_feed(data, feed_url=None, origin=sys.argv[1])
    outcome = f"{len(records)} records"
except Rejected as reject:
    outcome = reject.error_type
seconds = time.perf_counter() - started
print(f"{seconds:.3f} {peak_mb():.1f} {peak_mb() - baseline:.1f} {outcome}")
"""


def test_xml_attacks_stay_under_200_mb_and_5_s():
    attacks = sorted(evaldata("xml_attacks", "xmltestdata").glob("*.xml"))
    assert attacks
    for attack in attacks:
        probe = subprocess.run(
            [sys.executable, "-c", ATTACK_PROBE, str(attack)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert probe.returncode == 0, probe.stderr
        seconds, peak_mb, _growth_mb, outcome = probe.stdout.split(maxsplit=3)
        assert float(seconds) < 5, (attack.name, seconds)
        assert float(peak_mb) < 200, (attack.name, peak_mb)
        assert outcome.strip(), attack.name
        print(f"{attack.name}: {seconds} s, peak {peak_mb} MB, {outcome.strip()}")


@pytest.mark.slow
def test_watch_picks_up_new_feed_items_without_duplicates(tmp_path):
    with LoopbackServer() as server:
        _routes(server, ["Pier closes"])
        output = tmp_path / "out"
        interval = 2.0
        command = [
            sys.executable,
            "-m",
            "pipelines.cli",
            "watch",
            "--feeds",
            server.url("/feed.xml"),
        ]
        process = subprocess.Popen(
            [
                *command,
                "--output",
                str(output),
                "--interval",
                f"{interval}s",
                "--allow-private-hosts",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + interval + 60
            while time.monotonic() < deadline and not (output / "articles").exists():
                time.sleep(0.1)
            assert (output / "articles").exists(), "the first item never reached Parquet"
            _routes(server, ["Pier closes", "Ferry returns"])  # the feed changes between polls
            changed = time.monotonic()
            seen = wait_for(lambda: table(output, "articles").num_rows == 2, interval + 60)
            assert seen is not None, "the new item never reached Parquet"
            freshness = seen - changed
            time.sleep(interval * 2)  # more polls: 304s, nothing new
            process.send_signal(signal.SIGTERM)
            _out, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, stderr
    titles = sorted(table(output, "articles").column("title").to_pylist())
    assert titles == ["Ferry returns", "Pier closes"]
    assert freshness <= interval + 60
    assert server.not_modified["/feed.xml"] >= 1
    print(f"feed freshness: {freshness:.1f} s with --interval {interval}s")


EMPTY_ITEM = """<item><title>{title}</title>
<link>{base}/story/{n}</link><guid>{base}/story/{n}</guid>
<pubDate>Mon, 13 Jan 2025 10:30:00 +0100</pubDate>{description}</item>"""


def _feed_with_empty_items(base, *, fixed: bool):
    """One good entry, one with no text ever (1), one whose text arrives later (2).

    The empty entries have no headline either: a headline alone is an article.
    """
    good = ITEM.format(base=base, n=0, title="Pier closes", hour=8)
    forever = EMPTY_ITEM.format(base=base, n=1, title="", description="")
    later = EMPTY_ITEM.format(
        base=base,
        n=2,
        title="Ferry returns" if fixed else "",
        description="<description>The ferry is back on Monday.</description>" if fixed else "",
    )
    return RSS.format(base=base, items="\n".join([good, forever, later])).encode()


def test_failed_entries_are_read_again_until_they_succeed_or_are_given_up(tmp_path):
    """An entry whose text is empty is not marked seen: each run reads it again until it
    works or has failed max_entry_attempts times; then the feed is fetched conditionally
    again. Its errors row is written once: a failure the output holds is not written again."""
    from transforms.lib.settings import DEFAULT_LIMITS

    assert DEFAULT_LIMITS.max_entry_attempts == 3  # the runs below count on it
    output = tmp_path / "out"
    with LoopbackServer() as server:
        feed = server.url("/feed.xml")

        def serve(*, fixed):
            server.routes["/feed.xml"] = Route(
                body=_feed_with_empty_items(server.base_url, fixed=fixed),
                content_type="application/rss+xml",
                etag=f'"fixed-{fixed}"',
            )

        def run():
            newsbeam("ingest", "--feeds", feed, "--output", output, "--no-nlp",
                     "--allow-private-hosts")  # fmt: skip
            state = json.loads((output / "_state" / "feeds.json").read_text())["feeds"][feed]
            errors = [e["origin"].rsplit("/", 1)[1] for e in table(output, "errors").to_pylist()]
            return state, sorted(errors)

        serve(fixed=False)
        state, errors = run()
        assert errors == ["1", "2"]  # both empty entries: empty_text
        assert [key.rsplit("/", 1)[1] for key in state["seen_ids"]] == ["0"]
        assert sorted(state["failing"].values()) == [1, 1]
        assert state["etag"] is None  # so the next poll reads the feed whole

        serve(fixed=True)
        state, errors = run()
        assert errors == ["1", "2"]  # entry 1 failed the same way again: seen before
        assert sorted(key.rsplit("/", 1)[1] for key in state["seen_ids"]) == ["0", "2"]
        assert list(state["failing"].values()) == [2]

        state, errors = run()  # the third failure: given up, marked seen
        assert errors == ["1", "2"]
        assert sorted(key.rsplit("/", 1)[1] for key in state["seen_ids"]) == ["0", "1", "2"]
        assert (state["failing"], state["etag"]) == ({}, '"fixed-True"')

        state, errors = run()  # nothing to retry: a conditional GET, a 304
        assert errors == ["1", "2"]
        assert server.not_modified["/feed.xml"] == 1
    titles = sorted(table(output, "articles").column("title").to_pylist())
    assert titles == ["Ferry returns", "Pier closes"]
