"""``newsbeam report DIR --output report.html``: the corpus at a glance, in one HTML file.

The page has six sections: volume; people and organisations over time;
voices; who appears with whom; data quality per date partition; run
history. Its numbers come from ``pipelines.report_queries`` over the
committed files (``query.connect``, read-only) and ``_runs/`` (through
``transforms.store``); its charts are static SVG (``pipelines.report_charts``,
drawn by ``pipelines.report_drawing``).
The file holds everything it shows: no script, no style sheet, font or image
to fetch, and a Content-Security-Policy that forbids loading anything, so it
opens offline and can be mailed. Titles, names, quotes and messages are
escaped; an article is linked only by an http(s) URL.
"""

import concurrent.futures
import dataclasses
import datetime as dt
import html
import os
import pathlib
import time
import urllib.parse
import uuid

import duckdb

from pipelines import query, report_drawing
from pipelines import report_charts as charts
from pipelines import report_queries as q
from pipelines.report_queries import CAPS, EVERYTHING, ORG, PERSON, Caps, Scope
from transforms import store

SUFFIXES = (".html", ".htm")
QUOTE_CHARS = 300  # a sample quote longer than this is cut
MESSAGE_CHARS = 160  # an error message longer than this is cut
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


class ReportPathError(ValueError):
    """An ``--output`` file the report will not write: not .html, no folder, or in the output."""


@dataclasses.dataclass(frozen=True)
class Written:
    """What ``write_report`` wrote."""

    path: str
    charts: int  # charts drawn (sections without data show a sentence instead)
    articles: int  # articles in scope
    seconds: float


def check_report_path(output_dir: str, path: str) -> None:
    """Raises ``ReportPathError`` for a name not ending in .html or .htm, a folder that does
    not exist, and a path inside ``output_dir``: the report never writes to the output."""
    target = pathlib.Path(path)
    if target.suffix.lower() not in SUFFIXES:
        raise ReportPathError(f"--output {path!r}: give a file ending in .html")
    if not target.resolve().parent.is_dir():
        raise ReportPathError(f"--output {path!r}: no folder {str(target.parent)!r}")
    if target.resolve().is_relative_to(pathlib.Path(output_dir).resolve()):
        raise ReportPathError(f"--output {path!r} is inside the output folder {output_dir!r}")


def write_report(
    output_dir: str,
    path: str,
    scope: Scope = EVERYTHING,
    *,
    caps: Caps = CAPS,
    now: dt.datetime | None = None,
) -> Written:
    """Writes the report of ``output_dir`` (the articles of ``scope``) to ``path``.

    Raises ``query.NotAnOutputError`` for a folder that is not an output,
    ``ReportPathError`` as ``check_report_path`` does and
    ``report_queries.UnknownSourceError`` for a source no article has, all
    before anything is written; ``duckdb.Error`` when a table cannot be read.
    The file appears whole or not at all.
    """
    started = time.perf_counter()
    query.check_output_folder(output_dir)
    check_report_path(output_dir, path)
    page, drawn, articles = build_page(output_dir, scope, caps=caps, now=now)
    target = pathlib.Path(path).resolve()
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Written(str(path), drawn, articles, round(time.perf_counter() - started, 3))


def build_page(
    output_dir: str,
    scope: Scope = EVERYTHING,
    *,
    caps: Caps = CAPS,
    now: dt.datetime | None = None,
) -> tuple[str, int, int]:
    """The report page of ``output_dir``; then the number of charts and of articles."""
    # A worker process draws each chart while this one queries; the first report of a
    # process starts it here, so its engine warms up while DuckDB reads the tables.
    page = _Page(output_dir, scope, caps, report_drawing.drawer())
    # One DuckDB thread: the tables of a report are small, and the drawing worker keeps a
    # core to itself; with a thread per core the two took turns.
    query.run_on_committed(output_dir, page.read, threads=1)
    body = page.drawn(page.body())
    generated = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    document = _DOCUMENT.format(
        csp=_CSP,
        title=e(f"newsbeam report: {pathlib.Path(output_dir).resolve().name}"),
        style=_STYLE,
        charts=page.charts,
        body=body,
        footer=(
            # The folder's name only: a page that is mailed should not show the sender's paths.
            f"Written by newsbeam {e(_version())} on {e(generated)} from the committed files of "
            f"the output folder <code>{e(pathlib.Path(output_dir).resolve().name)}</code>. "
            "Everything shown is in this one file: it loads nothing, from the network or from "
            "disk."
        ),
    )
    return document, page.charts, page.totals["articles"]


# ---------------------------------------------------------------- escaping and formatting


def e(value) -> str:
    """``value`` as HTML text or attribute value: every data value goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


def safe_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host and no space or control
    character; None for anything else (``javascript:``, ``data:``, relative paths)."""
    if not url or any(ord(c) <= 32 or ord(c) == 127 for c in url):
        return None
    parts = urllib.parse.urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def number(n) -> str:
    return "–" if n is None else f"{n:,}"


def share(part: int, whole: int) -> str:
    """``part`` of ``whole`` in whole percent (``<1%`` for a small non-zero share)."""
    if not whole:
        return "–"
    value = 100 * part / whole
    return "<1%" if 0 < value < 1 else f"{value:.0f}%"


def _plural(n: int, word: str, words: str | None = None) -> str:
    return f"{number(n)} {word if n == 1 else (words or word + 's')}"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _cut(text: str | None, limit: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("newsbeam")
    except metadata.PackageNotFoundError:
        return "(not installed)"


# ---------------------------------------------------------------- the page


class _Page:
    """The sections of one report, each made as soon as its rows are read, so that the
    worker draws a section's charts while the next section's tables are read."""

    def __init__(self, output_dir, scope, caps, drawer: report_drawing.Drawer):
        self.output_dir, self.scope, self.caps = output_dir, scope, caps
        self.drawer = drawer
        self.drawings: dict[str, concurrent.futures.Future] = {}
        self.marker = uuid.uuid4().hex  # escaped text never holds "<!--"
        self.figures = 0  # figures made, for unique placeholders and element ids
        self.runs, self.unreadable_runs = store.read_run_records(output_dir)
        # The run history reads no table: its chart is drawn while DuckDB opens the files.
        self.sections = {"runs": self.run_history()}
        self.kept = dict(self.drawings)

    @property
    def charts(self) -> int:
        """The charts the page shows."""
        return len(self.drawings)

    def read(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Makes the sections from the tables of ``connection``: the scope's articles and
        errors first (``q.open_articles``), then its mentions, then its quotes. Each step
        copies its rows out of the files, so a compaction that deletes files afterwards
        changes nothing of the page; one during a step fails it, and the page is made
        again from a fresh connection (``query.run_on_committed``), its charts so far
        cancelled. The costliest chart to draw, the co-mentions, goes first of its step."""
        for placeholder in set(self.drawings) - set(self.kept):
            self.drawings.pop(placeholder).cancel()
        self.connection = connection
        if self.scope.source is not None:
            q.check_source(connection, self.scope.source)
        q.open_articles(connection, self.scope)
        self.totals = q.article_overview(connection)
        first, last = self.totals["first_day"], self.totals["last_day"]
        self.unit = q.choose_period(first, last, limit=self.caps.periods)
        self.span = (first, last) if first else None  # the time axes of the page line up
        self.sections["volume"] = self.volume()
        self.sections["errors"] = self.errors()
        q.open_mentions(connection)
        # Both rankings of people (the people section's and the co-mentions') in one query.
        top = max(self.caps.entities, self.caps.co_mentions)
        self.ranked = q.top_identities(connection, (PERSON, ORG), top=top)
        self.sections["together"] = self.together()
        self.totals.update(q.mention_overview(connection))
        self.sections["people"] = self.people()
        self.sections["quality"] = self.quality()
        q.open_quotes(connection)
        voices = q.voices(connection)
        self.totals["quotes"] = voices["quotes"]
        self.sections["voices"] = self.voices(voices)

    def figure(self, spec: dict, caption: str = "", *, name: str) -> str:
        """A chart, with an optional caption (HTML, already escaped); the drawing is made
        in the background and put in place by ``drawn``."""
        self.figures += 1
        placeholder = f"<!--chart {self.marker} {self.figures}-->"
        prefix = f"chart{self.figures}-"
        self.drawings[placeholder] = self.drawer.submit(spec, prefix=prefix)
        caption = f"<figcaption>{caption}</figcaption>" if caption else ""
        return f'<figure class="chart" data-chart="{e(name)}">{placeholder}{caption}</figure>'

    def drawn(self, body: str) -> str:
        """``body`` with every chart's drawing in its place."""
        # Every chart is sent and the queries are done: their core can draw too.
        self.drawer.hurry()
        try:
            for placeholder, drawing in self.drawings.items():
                body = body.replace(placeholder, drawing.result(), 1)
        finally:
            self.drawer.hurry(False)
        return body

    def body(self) -> str:
        order = ("volume", "people", "voices", "together", "quality", "runs")
        return "\n".join([self.header(), *(self.sections[name] for name in order)])

    # -- header

    def header(self) -> str:
        t, scope = self.totals, self.scope
        dates = (
            f"{e(t['first_day'])} to {e(t['last_day'])}"
            if t["first_day"] and t["first_day"] != t["last_day"]
            else e(t["first_day"] or "no dates")
        )
        chosen = []
        if scope.since or scope.until:
            chosen.append(
                f"dates {e(scope.since or '…')} to {e(scope.until or '…')} chosen with "
                "--since/--until"
            )
        chosen.append(f"source <b>{e(scope.source)}</b>" if scope.source else "all sources")
        cards = [
            ("articles", t["articles"], "news items kept, duplicates removed"),
            ("days", t["days"], "dates with at least one article"),
            ("sources", t["sources"], "feeds, sites or files they came from"),
            ("people", t["people"], "persons named, each once across spellings"),
            ("organisations", t["organisations"], "organisations named"),
            ("quotes", t["quotes"], "speech events found"),
            ("errors", t["errors"], "inputs refused or warned about"),
            ("runs", len(self.runs), "ingest runs that wrote this folder"),
        ]
        figures = "".join(
            f'<div class="card" title="{e(hint)}"><b>{number(value)}</b><span>{e(label)}</span>'
            f"<small>{e(hint)}</small></div>"
            for label, value, hint in cards
        )
        nav = "".join(
            f'<a href="#{anchor}">{e(title)}</a>'
            for anchor, title in (
                ("volume", "Volume"),
                ("people", "People and organisations"),
                ("voices", "Voices"),
                ("together", "Who appears with whom"),
                ("quality", "Data quality"),
                ("runs", "Run history"),
            )
        )
        return (
            f"<header><h1>What is in <code>{e(pathlib.Path(self.output_dir).resolve().name)}"
            f'</code></h1><p class="scope">{dates} · {"; ".join(chosen)}</p>'
            f'<div class="cards">{figures}</div><nav>{nav}</nav></header>'
        )

    # -- 1. volume

    def volume(self) -> str:
        t, caps = self.totals, self.caps
        intro = (
            "How many articles there are, when they were published and where they come from. "
            "An article without a published date counts on the day it was ingested."
        )
        if not t["articles"]:
            return _section("volume", "Volume", intro, _empty(self._no_articles()))
        sources, other_sources, other_articles = q.ranked_values(
            self.connection, "source", top=caps.sources
        )
        languages, other_languages, other_language_articles = q.ranked_values(
            self.connection, "language", top=caps.languages
        )
        rows = q.volume_by_source(self.connection, self.unit, top=caps.sources)
        over_time = self.figure(
            charts.volume_chart(
                rows, self.unit, [s["value"] for s in sources], other_sources, self.span
            ),
            f"Articles per {self.unit}, coloured by source"
            + (
                f"; the {len(sources)} largest sources are named, the other "
                f"{number(other_sources)} are grouped."
                if other_sources
                else "."
            ),
            name="volume",
        )
        ranked_sources = _with_other(sources, other_sources, other_articles, "sources")
        ranked_languages = _with_other(
            languages, other_languages, other_language_articles, "languages"
        )
        for rows_ in (ranked_sources, ranked_languages):
            for row in rows_:
                row["text"] = f"{number(row['articles'])} ({share(row['articles'], t['articles'])})"
        by_source = self.figure(
            charts.ranking_chart(
                ranked_sources,
                label="value",
                value="articles",
                text="text",
                title="articles",
                colour=None,
            ),
            "Articles per source",
            name="sources",
        )
        by_language = self.figure(
            charts.ranking_chart(
                ranked_languages,
                label="value",
                value="articles",
                text="text",
                title="articles",
                colour="#72b7b2",
            ),
            "Articles per language (detected from the text)",
            name="languages",
        )
        return _section(
            "volume",
            "Volume",
            intro,
            over_time + f'<div class="row">{by_source}{by_language}</div>',
        )

    # -- 2. people and organisations

    def people(self) -> str:
        intro = (
            "The people and organisations the articles name most. Each is counted once however "
            "it is written: <i>Obama</i>, <i>Barack Obama</i> and <i>Mr Obama</i> are one "
            "person, as the identity resolution of the <code>resolved_entities</code> view "
            "decides. Bars: articles that name them; dots: when the first "
            f"{self.caps.timeline} are mentioned, one dot per {self.unit}, larger for more "
            "mentions."
        )
        if not self.totals["mentions"]:
            return _section("people", "People and organisations", intro, _empty(self._no_nlp()))
        parts = []
        rankings = []
        for label, title, colour in (
            (PERSON, "People", "#4c78a8"),
            (ORG, "Organisations", "#f58518"),
        ):
            top = q.top_of(self.ranked[label], self.caps.entities)
            if not top:
                rankings.append(
                    f'<div class="empty">No {title.lower()} named in these articles.</div>'
                )
                continue
            for row in top:
                row["text"] = _plural(row["mentions"], "mention")
            rankings.append(
                self.figure(
                    charts.ranking_chart(
                        top,
                        label="name",
                        value="articles",
                        text="text",
                        title="articles that name them",
                        colour=colour,
                    ),
                    f"{title}: the {len(top)} named in the most articles",
                    name=f"top-{label.lower()}",
                )
            )
            shown = {row["resolved_id"]: row["name"] for row in top[: self.caps.timeline]}
            timeline = q.entity_timeline(self.connection, label, list(shown), self.unit)
            parts.append(
                self.figure(
                    charts.timeline_chart(timeline, self.unit, shown, self.span),
                    f"{title}: mentions per {self.unit}",
                    name=f"timeline-{label.lower()}",
                )
            )
        return _section(
            "people",
            "People and organisations",
            intro,
            f'<div class="row">{"".join(rankings)}</div>' + "".join(parts),
        )

    # -- 3. voices

    def voices(self, v: dict) -> str:
        """The voices section, from the totals ``v`` of ``q.voices``."""
        intro = (
            "Who gets quoted. A quote here is one speech event: a reported clause and the "
            "quoted phrases inside it count once. <i>Direct</i>: words in quote marks; "
            "<i>indirect</i>: reported speech (<i>she said that…</i>). A <i>named</i> speaker "
            "is one linked to a person or organisation; an <i>unnamed</i> one is a "
            "description such as <i>officials</i>."
        )
        if not v["quotes"]:
            return _section("voices", "Voices", intro, _empty(self._no_nlp("quotes")))
        summary = (
            f"<p>{_plural(v['quotes'], 'quote')} in {_plural(v['articles'], 'article')}: "
            f"{share(v['direct'], v['quotes'])} direct, {share(v['indirect'], v['quotes'])} "
            f"indirect; {share(v['named'], v['quotes'])} have a named speaker, "
            f"{share(v['unnamed'], v['quotes'])} an unnamed one and "
            f"{share(v['no_speaker'], v['quotes'])} none found.</p>"
        )
        parts = [
            {"row": "kind", "part": "direct", "count": v["direct"], "colour": "#1f5f99"},
            {"row": "kind", "part": "indirect", "count": v["indirect"], "colour": "#7fb3e0"},
            {"row": "kind", "part": "partial", "count": v["partial"], "colour": "#c6dbef"},
            {"row": "speaker", "part": "named speaker", "count": v["named"], "colour": "#2ca02c"},
            {"row": "speaker", "part": "unnamed", "count": v["unnamed"], "colour": "#98df8a"},
            {"row": "speaker", "part": "no speaker", "count": v["no_speaker"], "colour": "#d9d9d9"},
        ]
        shares = self.figure(charts.shares_chart(parts), name="quote-shares")
        speakers = q.top_speakers(self.connection, top=self.caps.speakers)
        if not speakers:
            return _section(
                "voices",
                "Voices",
                intro,
                summary + shares + _empty("No quote has a named speaker."),
            )
        chart = self.figure(
            charts.speakers_chart(speakers),
            f"The {len(speakers)} most quoted named speakers",
            name="speakers",
        )
        rows = "".join(
            f'<tr><td>{e(charts.short(s["name"]))}</td><td class="n">{number(s["quotes"])}</td>'
            f'<td><q>{e(_cut(s["sample"], QUOTE_CHARS))}</q> <span class="muted">'
            f"({e(s['sample_kind'])}) {self._article(s)}</span></td></tr>"
            for s in speakers
        )
        table = (
            '<table class="samples"><thead><tr><th>speaker</th><th>quotes</th>'
            f"<th>one of their quotes</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        return _section("voices", "Voices", intro, summary + shares + chart + table)

    @staticmethod
    def _article(sample: dict) -> str:
        """``in <a>title</a>, date``: linked only when its URL is http(s)."""
        title = e(_cut(sample["article_title"], 90) or "(untitled article)")
        url = safe_url(sample["article_url"])
        link = f'<a href="{e(url)}" rel="noreferrer">{title}</a>' if url else title
        return f"in {link}, {e(sample['sample_day'])}"

    # -- 4. co-mentions

    def together(self) -> str:
        n = self.caps.co_mentions
        intro = (
            f"How often the {n} people named in the most articles appear in the same article: "
            "each square counts the articles that name both."
        )
        people = q.top_of(self.ranked[PERSON], n)
        names = {row["resolved_id"]: row["name"] for row in people}
        pairs = q.co_mentions(self.connection, list(names)) if len(names) > 1 else []
        if not pairs:
            reason = (
                "No two of the most named people appear in the same article."
                if len(names) > 1
                else "Fewer than two people are named in these articles."
            )
            return _section("together", "Who appears with whom", intro, _empty(reason))
        chart = self.figure(charts.heatmap_chart(names, pairs), name="co-mentions")
        return _section("together", "Who appears with whom", intro, chart)

    # -- 5. data quality

    def quality(self) -> str:
        intro = (
            f"Per {self.unit} of publication (a date partition is a day): the share of articles "
            "with no entity found, not enriched (no NLP ran: <code>--no-nlp</code>, or a "
            "language without a model), without a published date, or with only a headline "
            "(a feed entry with no text). A broken feed or a bad day shows as a jump."
        )
        parts = []
        if self.totals["articles"]:
            rows = q.quality(self.connection, self.unit)
            parts.append(
                self.figure(
                    charts.quality_chart(rows, self.unit, self.span),
                    f"Share of each {self.unit}'s articles with each problem",
                    name="quality",
                )
            )
            days = q.days_to_check(self.connection, top=self.caps.days_to_check)
            if days:
                cells = "".join(
                    f'<tr><td>{e(d["day"])}</td><td class="n">{number(d["articles"])}</td>'
                    + "".join(
                        f'<td class="n">{share(d[m], d["articles"]) if d[m] else ""}</td>'
                        for m in charts.QUALITY_MEASURES
                    )
                    + "</tr>"
                    for d in days
                )
                heads = "".join(f"<th>{e(name)}</th>" for name in charts.QUALITY_MEASURES.values())
                parts.append(
                    '<h3>Date partitions to look at</h3><p class="muted">The days whose share '
                    "of articles with a problem is highest, above the share over all days.</p>"
                    f"<table><thead><tr><th>date</th><th>articles</th>{heads}</tr></thead>"
                    f"<tbody>{cells}</tbody></table>"
                )
        else:
            parts.append(_empty(self._no_articles()))
        parts.append(self.sections["errors"])
        return _section("quality", "Data quality", intro, "".join(parts))

    def errors(self) -> str:
        t = self.totals
        heading = "<h3>Errors</h3>"
        note = (
            ' <span class="muted">Errors belong to no source: these are all the errors of '
            "the dates shown.</span>"
            if self.scope.source
            else ""
        )
        if not t["errors"]:
            return heading + _empty("No errors rows for these dates: every input was read." + note)
        unit = q.choose_period(t["first_error_day"], t["last_error_day"], limit=self.caps.periods)
        chart = self.figure(
            charts.errors_chart(q.errors_by_period(self.connection, unit), unit),
            f"Errors rows per {unit} they were written, by the stage that refused the input" + note,
            name="errors",
        )
        types, more = q.error_types(self.connection, top=self.caps.error_types)
        rows = "".join(
            f"<tr><td>{e(r['stage'])}</td><td><code>{e(r['error_type'])}</code></td>"
            f'<td class="n">{number(r["errors"])}</td><td>{e(r["last_day"])}</td>'
            f'<td class="muted">{e(_cut(r["example"], MESSAGE_CHARS))}</td></tr>'
            for r in types
        )
        more_line = (
            f'<p class="muted">…and {_plural(more, "other type")}; '
            '<code>newsbeam query DIR "select stage, error_type, count(*) from errors group by '
            'all"</code> lists them all.</p>'
            if more
            else ""
        )
        table = (
            "<table><thead><tr><th>stage</th><th>error type</th><th>rows</th><th>last on</th>"
            f"<th>latest message</th></tr></thead><tbody>{rows}</tbody></table>{more_line}"
        )
        return heading + chart + table

    # -- 6. runs

    def run_history(self) -> str:
        intro = (
            "Each <code>newsbeam ingest</code> run (and each poll of <code>newsbeam watch</code>) "
            "that wrote to this folder, from <code>_runs/</code>: input records that became "
            "new articles, duplicates dropped, inputs refused, and how long the run took. "
            "All runs, whatever dates or source the report covers."
        )
        unreadable = (
            f'<p class="muted">{_plural(len(self.unreadable_runs), "run record")} could not be '
            "read and " + ("is" if len(self.unreadable_runs) == 1 else "are") + " left out.</p>"
            if self.unreadable_runs
            else ""
        )
        runs = q.run_history(self.runs)
        if not runs:
            return _section(
                "runs", "Run history", intro, _empty("No run records in _runs/.") + unreadable
            )
        latest = runs[-self.caps.runs :]
        total = {k: sum(r[k] or 0 for r in runs) for k in ("added", "duplicates", "errors")}
        summary = (
            f"<p>{_plural(len(runs), 'run')} from {e(runs[0]['started'])} to "
            f"{e(runs[-1]['started'])} UTC added {_plural(total['added'], 'article')}, dropped "
            f"{_plural(total['duplicates'], 'duplicate')} and refused "
            f"{_plural(total['errors'], 'input')}.</p>"
        )
        chart = self.figure(
            charts.runs_chart(latest),
            (f"The latest {len(latest)} runs" if len(latest) < len(runs) else "Every run")
            + ", oldest first: input records per run (left) and seconds per run (right)",
            name="runs",
        )
        rows = "".join(
            f"<tr><td><code>{e(r['run_id'])}</code></td><td>{e(r['started'])}</td>"
            f'<td class="n">{number(r["added"])}</td><td class="n">{number(r["duplicates"])}'
            f'</td><td class="n">{number(r["errors"])}</td>'
            f'<td class="n">{_seconds(r["seconds"])}</td></tr>'
            for r in reversed(runs[-8:])
        )
        table = (
            "<table><thead><tr><th>run</th><th>started (UTC)</th><th>added</th>"
            "<th>duplicates</th><th>errors</th><th>seconds</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
        return _section("runs", "Run history", intro, summary + chart + table + unreadable)

    # -- empty states

    def _no_articles(self) -> str:
        if self.scope.since or self.scope.until or self.scope.source:
            return "No articles for the dates and source chosen."
        return "No articles yet: run newsbeam ingest into this folder first."

    def _no_nlp(self, what: str = "entities") -> str:
        if not self.totals["articles"]:
            return self._no_articles()
        return (
            f"No {what} in these articles. They come from the NLP step: articles written "
            "with --no-nlp, or in a language without a model, have none."
        )


def _with_other(rows: list[dict], others: int, articles: int, word: str) -> list[dict]:
    """``rows`` (``{value, articles}``), and one row for the ``others`` grouped."""
    named = [dict(row) for row in rows]
    if others:
        named.append(
            {"value": f"{charts.OTHER} ({_plural(others, word[:-1], word)})", "articles": articles}
        )
    return named


def _empty(sentence: str) -> str:
    return f'<p class="empty">{e(sentence)}</p>'


def _section(anchor: str, title: str, intro: str, content: str) -> str:
    """A section; ``intro`` and ``content`` are HTML whose data values are escaped."""
    return (
        f'<section id="{anchor}"><h2>{e(title)}</h2><p class="intro">{intro}</p>{content}</section>'
    )


_STYLE = """
body { font: 15px/1.45 "Liberation Sans", Arial, Helvetica, sans-serif; color: #222;
       margin: 0 auto; max-width: 1040px; padding: 0 24px 40px; background: #fff; }
h1 { font-size: 26px; margin: 24px 0 4px; }
h1 code { font-size: 24px; }
h2 { font-size: 21px; margin: 36px 0 4px; padding-top: 12px; border-top: 2px solid #e6e6e6; }
h3 { font-size: 16px; margin: 20px 0 4px; }
.scope, .intro, .muted, figcaption { color: #555; }
.intro { max-width: 860px; margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; margin: 16px 0; }
.card { border: 1px solid #e2e2e2; border-radius: 6px; padding: 8px 12px; background: #fafafa; }
.card b { display: block; font-size: 24px; }
.card span { font-weight: bold; }
.card small { display: block; color: #666; font-size: 12px; }
nav a { margin-right: 14px; }
figure { margin: 12px 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 13px; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.empty { padding: 12px 16px; background: #f6f6f6; border-radius: 6px; color: #555; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { text-align: left; padding: 4px 10px 4px 0; border-bottom: 1px solid #eee;
         vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.samples td:last-child { max-width: 640px; }
q { font-style: italic; }
footer { margin-top: 40px; color: #777; font-size: 12px; }
@media print { nav { display: none; } section { break-inside: avoid-page; } }
"""

_DOCUMENT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="newsbeam report">
<title>{title}</title>
<style>{style}</style>
</head>
<body data-charts="{charts}">
{body}
<footer>{footer}</footer>
</body>
</html>
"""
