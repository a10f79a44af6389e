"""``newsbeam report`` in a real browser: the seeds' report opened from disk, offline.

Headless Chromium (Debian's ``chromium`` package; ``.ci/run`` installs it) opens the
file with every host name unresolvable and no proxy to reach, dumps the DOM it built
and takes a screenshot. The test skips only when Chromium is absent.
"""

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from tests.helpers import SEEDS, newsbeam
from tests.report_outputs import EVERY_CHART

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_MARKS = ("path", "rect", "line", "circle", "text")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium (apt-get install chromium)"),
]


def chromium(page, profile, *args, timeout=180):
    """Runs headless Chromium on the file ``page`` with networking cut off; returns its
    stdout and the console messages it logged (``CONSOLE`` lines of its stderr)."""
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",  # never the user's profile, never a shared lock
            "--no-first-run",
            "--disable-extensions",
            "--disable-sync",
            "--disable-background-networking",
            "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves
            "--proxy-server=socks5://127.0.0.1:9",  # and nothing leaves but through a dead proxy
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return result.stdout, console


class _Charts(HTMLParser):
    """For each ``<figure class="chart">``: its name, its svg's size and its drawn marks."""

    def __init__(self):
        super().__init__()
        self.charts: list[dict] = []
        self.body: dict = {}
        self._in_chart = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        if tag == "figure" and "chart" in (attrs.get("class") or ""):
            self.charts.append({"name": attrs.get("data-chart"), "svg": None, "marks": 0})
            self._in_chart = 1
        elif self._in_chart:
            self._in_chart += tag == "figure"
            chart = self.charts[-1]
            if tag == "svg" and chart["svg"] is None:
                chart["svg"] = (float(attrs.get("width", 0)), float(attrs.get("height", 0)))
            elif tag in _MARKS and (tag != "path" or attrs.get("d")):
                chart["marks"] += 1

    def handle_endtag(self, tag):
        if self._in_chart and tag == "figure":
            self._in_chart -= 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self._in_chart and tag == "figure":
            self._in_chart -= 1


@pytest.fixture(scope="module")
def seed_report(tmp_path_factory):
    work = tmp_path_factory.mktemp("report")
    (work / "refused.bin").write_bytes(b"\x00\x01\x02binary\x00" * 20)
    output, page = work / "out", work / "report.html"
    newsbeam(
        "ingest", "--input", f"{SEEDS}/0*", "--input", work / "refused.bin", "--output", output
    )
    result = newsbeam("report", output, "--output", page)
    assert re.search(r"report of 12 articles written to .*report\.html \(13 charts", result.stdout)
    return work, page


def test_every_chart_is_drawn_offline_without_console_errors(seed_report):
    work, page = seed_report
    dom, console = chromium(page, work / "profile-dom", "--dump-dom")
    assert console == []
    parser = _Charts()
    parser.feed(dom)
    # The seeds, with one unreadable input for the errors chart, give every chart.
    assert {c["name"] for c in parser.charts} == EVERY_CHART
    assert parser.body.get("data-charts") == str(len(EVERY_CHART))
    for chart in parser.charts:
        assert chart["svg"] is not None, chart
        width, height = chart["svg"]
        assert width > 100 and height > 50, chart
        assert chart["marks"] > 5, chart


def test_the_screenshot_shows_the_page(seed_report):
    work, page = seed_report
    shot = work / "report.png"
    _, console = chromium(
        page, work / "profile-shot", f"--screenshot={shot}", "--window-size=1100,5400"
    )
    assert console == []
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 100_000  # charts and text, not a blank page
