"""The charts of ``newsbeam report``: Vega-Lite specs, drawn to static SVG by vl-convert.

Each ``*_chart`` function turns the rows of one ``report_queries`` function
into a Vega-Lite spec (a plain dict, testable without drawing);
``report_drawing`` draws specs. The page embeds the SVG itself: no
JavaScript runs, nothing loads from the network, and Vega escapes every text
it draws. Times are UTC dates, as the partitions are.
"""

import datetime as dt
from collections.abc import Sequence

from pipelines.report_queries import next_period, period_start

Span = tuple[str, str] | None  # the first and last day (YYYY-MM-DD) a time axis covers

WIDTH = 660  # a chart across the page
HALF = 300  # a chart beside another
LABEL_CHARS = 36  # longer names are cut with an ellipsis on the axes
_CONFIG = {
    "font": "Liberation Sans, Arial, Helvetica, sans-serif",
    "view": {"stroke": None},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal"},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "labelLimit": 220},
}
_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier: never fetched
OTHER = "other"
KIND_COLOURS = {"direct": "#1f5f99", "indirect": "#7fb3e0", "other": "#c7c7c7"}


def _spec(data: list[dict], *, description: str, **chart) -> dict:
    return {
        "$schema": _SCHEMA,
        "description": description,
        "data": {"values": data},
        "config": _CONFIG,
        **chart,
    }


def short(name: str | None, limit: int = LABEL_CHARS) -> str:
    """``name`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(str(name or "").split()) or "(no name)"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unique_labels(names: Sequence[str]) -> list[str]:
    """``names`` cut short, with ``(2)``, ``(3)``... after a repeat: two identities that
    share a name stay two bars."""
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        label = short(name)
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return labels


def _period_end(start: str, unit: str, fill: float = 1.0) -> str:
    """The end of the period starting ``start``, or ``fill`` of the way there (a gap
    between bars), as a UTC timestamp."""
    begin = dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC)
    end = dt.datetime.combine(next_period(begin.date(), unit), dt.time(), dt.UTC)
    return (begin + (end - begin) * fill).isoformat().replace("+00:00", "Z")


_TIME_FORMATS = {"day": "%d %b %Y", "week": "%d %b %Y", "month": "%b %Y", "year": "%Y"}
# Labels that are numbers or dates never need cutting, and vl-convert measures a label
# with a length limit twice: measuring labels is most of what drawing a chart costs.
_UNCUT = {"labelLimit": 0}
_TICKED_PERIODS = 16  # a time axis over at most this many periods ticks at their starts


def _period_ticks(first: dt.date, end: dt.date, unit: str) -> list[int] | None:
    """The starts of every k-th period from ``first`` to ``end`` (both period starts), as UTC
    milliseconds, at most nine; None over more than ``_TICKED_PERIODS`` periods, where Vega's
    own ticks are whole periods apart. Over a few periods Vega would tick every few hours,
    each tick labelled with the same date."""
    starts = [first]
    while starts[-1] < end and len(starts) <= _TICKED_PERIODS + 1:
        starts.append(next_period(starts[-1], unit))
    periods = len(starts) - 1
    if periods > _TICKED_PERIODS:
        return None
    step = max(1, -(-periods // 8))
    return [
        int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1000)
        for day in starts[::step]
    ]


def _time_axis(
    unit: str, span: Span = None, *, field: str = "start", what: str = "date of publication"
) -> dict:
    """A UTC time axis by ``unit``; over ``span`` (first and last day) when given, so the
    charts of one page line up, and then ticked at period starts when it is short."""
    title = {"day": "day", "week": "week (from Monday)", "month": "month", "year": "year"}[unit]
    scale: dict = {"type": "utc"}
    axis = {"labelOverlap": True, "grid": False, "format": _TIME_FORMATS[unit], **_UNCUT}
    if span:
        first = period_start(dt.date.fromisoformat(span[0]), unit)
        last = next_period(period_start(dt.date.fromisoformat(span[1]), unit), unit)
        scale["domain"] = [first.isoformat(), last.isoformat()]
        ticks = _period_ticks(first, last, unit)
        if ticks is not None:
            axis["values"] = ticks
    return {
        "field": field,
        "type": "temporal",
        "scale": scale,
        "title": f"{what}, by {title}",
        "axis": axis,
    }


def count_axis(largest: int | None, title: str) -> dict:
    """A count axis: whole numbers only (Vega would tick 0.5 below about ten)."""
    axis: dict = {"format": ",d", **_UNCUT}
    if largest is not None and largest <= 10:
        axis["values"] = list(range(0, max(largest, 1) + 1))
    return {"title": title, "axis": axis}


def _stacked(rows: list[dict], unit: str, key: str, value: str, order: Sequence[str]) -> list:
    """``rows`` (``{period, key, value}``) as rectangles stacked in each period in the
    order of ``order``: ``{start, end, key, value, low, high}``. A bar chart of periods
    given by start and end is a ranged mark to Vega-Lite, which does not stack it."""
    rank = {name: i for i, name in enumerate(order)}
    data, height = [], {}
    for row in sorted(rows, key=lambda r: (r["period"], rank.get(r[key], len(rank)))):
        low = height.get(row["period"], 0)
        height[row["period"]] = low + row[value]
        data.append(
            {
                "start": row["period"],
                "end": _period_end(row["period"], unit, 0.85),
                key: row[key],
                value: row[value],
                "low": low,
                "high": low + row[value],
            }
        )
    return data


def _stacked_bars(data, unit, key, order, *, what: str, y: str, span: Span = None, **scale):
    return {
        "mark": {"type": "rect"},
        "encoding": {
            "x": _time_axis(unit, span, what=what),
            "x2": {"field": "end"},
            "y": {
                "field": "high",
                "type": "quantitative",
                **count_axis(max((d["high"] for d in data), default=0), y),
            },
            "y2": {"field": "low"},
            "color": {"field": key, "type": "nominal", "sort": list(order), "title": None, **scale},
        },
    }


def volume_chart(
    rows: list[dict], unit: str, sources: Sequence[str], others: int, span: Span = None
) -> dict:
    """Stacked bars: articles per period by source (``rows`` of ``volume_by_source``;
    ``sources`` the named ones in rank order, ``others`` the number grouped as other)."""
    other = f"{OTHER} ({others} sources)" if others != 1 else f"{OTHER} (1 source)"
    order = unique_labels(list(sources)) + ([other] if others else [])
    named = dict(zip(sources, order, strict=False))
    rows = [{**r, "source": named[r["source"]] if r["source"] is not None else other} for r in rows]
    data = _stacked(rows, unit, "source", "articles", order)
    return _spec(
        data,
        description="Articles per period, by source",
        width=WIDTH,
        height=220,
        **_stacked_bars(
            data,
            unit,
            "source",
            order,
            what="date of publication",
            y="articles",
            span=span,
            scale={"scheme": "tableau10"},
        ),
    )


def ranking_chart(
    rows: list[dict], *, label: str, value: str, text: str, title: str, colour: str | None
) -> dict:
    """Horizontal bars, largest first: ``rows``' ``value`` per ``label``, with the
    text of field ``text`` after each bar; ``colour`` None gives each bar the colour
    it has in ``volume_chart`` (the same order of names)."""
    names = unique_labels([r[label] for r in rows])
    data = [{**r, "name": name} for r, name in zip(rows, names, strict=True)]
    y = {"field": "name", "type": "nominal", "sort": names, "title": None}
    largest = max((r[value] for r in rows), default=0)
    x = {"field": value, "type": "quantitative", **count_axis(largest, title)}
    return _spec(
        data,
        description=title,
        width=HALF,
        height={"step": 20},
        encoding={"y": y, "x": x},
        layer=[
            {"mark": {"type": "bar", "color": colour}}
            if colour
            else {
                "mark": {"type": "bar"},
                "encoding": {
                    "color": {
                        "field": "name",
                        "type": "nominal",
                        "sort": names,
                        "scale": {"scheme": "tableau10"},
                        "legend": None,
                    }
                },
            },
            {
                "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 10},
                "encoding": {"text": {"field": text}},
            },
        ],
    )


def timeline_chart(rows: list[dict], unit: str, names: dict[str, str], span: Span = None) -> dict:
    """A row per resolved id of ``names`` (id -> shown name, in rank order) with a dot
    for each period it is mentioned in, the larger the more mentions: sparse and dense
    corpora read alike, and no line suggests mentions between two dots."""
    labels = dict(zip(names, unique_labels(list(names.values())), strict=True))
    data = [
        {
            "start": r["period"],
            "name": labels[r["resolved_id"]],
            "mentions": r["mentions"],
            "articles": r["articles"],
        }
        for r in rows
        if r["resolved_id"] in labels and r["mentions"]
    ]
    order = list(labels.values())
    most = max((d["mentions"] for d in data), default=1)
    return _spec(
        data,
        description="Mentions per period",
        width=WIDTH - 120,
        height={"step": 26},
        mark={"type": "circle", "opacity": 0.8},
        encoding={
            "x": _time_axis(unit, span),
            "y": {"field": "name", "type": "nominal", "sort": order, "title": None},
            "size": {
                "field": "mentions",
                "type": "quantitative",
                "title": "mentions",
                "scale": {"range": [15, 300], "zero": False},
                "legend": {
                    "format": ",d",
                    "orient": "right",
                    **_UNCUT,
                    **({"values": list(range(1, most + 1))} if most <= 5 else {}),
                },
            },
            "color": {
                "field": "name",
                "type": "nominal",
                "sort": order,
                "legend": None,
                "scale": {"scheme": "tableau10"},
            },
        },
    )


def heatmap_chart(names: dict[str, str], pairs: list[dict]) -> dict:
    """A square of the people of ``names`` (id -> name, rank order): each cell the
    articles that mention both (``pairs`` of ``co_mentions``); none, no cell."""
    labels = dict(zip(names, unique_labels(list(names.values())), strict=True))
    order = list(labels.values())
    data = []
    for pair in pairs:
        a, b = labels[pair["a"]], labels[pair["b"]]
        data += [{"x": a, "y": b, "articles": pair["articles"]}]
        data += [{"x": b, "y": a, "articles": pair["articles"]}]
    most = max((p["articles"] for p in pairs), default=1)
    axis = {"labelLimit": 200, "domain": False, "ticks": False}
    return _spec(
        data,
        description="Articles mentioning both people",
        width={"step": 30},
        height={"step": 30},
        view={"fill": "#f4f4f4", "stroke": None},  # a pair never together: an empty grey cell
        encoding={
            "x": {
                "field": "x",
                "type": "nominal",
                "sort": order,
                "scale": {"domain": order},
                "title": None,
                "axis": {**axis, "orient": "top", "labelAngle": -40, "labelAlign": "left"},
            },
            "y": {
                "field": "y",
                "type": "nominal",
                "sort": order,
                "scale": {"domain": order},
                "title": None,
                "axis": axis,
            },
        },
        layer=[
            {
                "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1},
                "encoding": {
                    "color": {
                        "field": "articles",
                        "type": "quantitative",
                        "title": "articles with both",
                        "scale": {"scheme": "blues", "domainMin": 0},
                        "legend": {
                            "orient": "right",
                            "format": ",d",
                            "tickCount": min(most, 5),
                            **_UNCUT,
                        },
                    }
                },
            },
            {
                "mark": {"type": "text", "fontSize": 10},
                "encoding": {
                    "text": {"field": "articles", "type": "quantitative"},
                    "color": {
                        "condition": {"test": f"datum.articles > {most / 2}", "value": "white"},
                        "value": "#222",
                    },
                },
            },
        ],
    )


def shares_chart(parts: list[dict]) -> dict:
    """Normalised bars, one per row of ``parts`` (``{row, part, count, colour}``): how a
    whole splits, e.g. quotes by kind and by speaker."""
    rows = list(dict.fromkeys(p["row"] for p in parts))
    names = list(dict.fromkeys(p["part"] for p in parts))
    colours = [next(p["colour"] for p in parts if p["part"] == n) for n in names]
    data = [{**p, "rank": names.index(p["part"])} for p in parts if p["count"]]
    return _spec(
        data,
        description="Shares of the quotes",
        width=WIDTH - 220,
        height={"step": 26},
        mark={"type": "bar"},
        encoding={
            "y": {"field": "row", "type": "nominal", "sort": rows, "title": None},
            "x": {
                "field": "count",
                "type": "quantitative",
                "stack": "normalize",
                "title": "share of quotes",
                "axis": {"format": "%", **_UNCUT},
            },
            "color": {
                "field": "part",
                "type": "nominal",
                "sort": names,
                "title": None,
                "scale": {"domain": names, "range": colours},
            },
            "order": {"field": "rank", "type": "quantitative"},
        },
    )


def speakers_chart(rows: list[dict]) -> dict:
    """Horizontal stacked bars: each top speaker's direct, indirect and other quotes."""
    names = unique_labels([r["name"] for r in rows])
    kinds = list(KIND_COLOURS)
    data = [
        {"name": name, "kind": kind, "quotes": r[kind], "rank": kinds.index(kind)}
        for r, name in zip(rows, names, strict=True)
        for kind in kinds
        if r[kind]
    ]
    return _spec(
        data,
        description="Quotes per speaker, by kind",
        width=HALF + 60,
        height={"step": 20},
        mark={"type": "bar"},
        encoding={
            "y": {"field": "name", "type": "nominal", "sort": names, "title": None},
            "x": {
                "field": "quotes",
                "type": "quantitative",
                "stack": "zero",
                **count_axis(max((r["quotes"] for r in rows), default=0), "quotes"),
            },
            "color": {
                "field": "kind",
                "type": "nominal",
                "sort": kinds,
                "title": None,
                "scale": {"domain": kinds, "range": list(KIND_COLOURS.values())},
                "legend": {"orient": "bottom"},
            },
            "order": {"field": "rank", "type": "quantitative"},
        },
    )


QUALITY_MEASURES = {
    "without_entities": "no entity found",
    "not_enriched": "not enriched (no NLP)",
    "undated": "no published date",
    "headline_only": "headline only",
}


def quality_chart(rows: list[dict], unit: str, span: Span = None) -> dict:
    """A strip per problem of ``QUALITY_MEASURES``: one cell per period with articles
    (``rows`` of ``quality``), the darker the larger the share of its articles with
    that problem; a period without articles has no cell, a bad one stands out."""
    data = [
        {
            "start": r["period"],
            "end": _period_end(r["period"], unit),
            "problem": name,
            "share": r[measure] / r["articles"],
        }
        for r in rows
        for measure, name in QUALITY_MEASURES.items()
        if r["articles"] and r[measure] is not None
    ]
    names = list(QUALITY_MEASURES.values())
    return _spec(
        data,
        description="Share of articles with each problem, per period",
        width=WIDTH,
        height={"step": 24},
        mark={"type": "rect", "stroke": "white", "strokeWidth": 0.5},
        encoding={
            "x": _time_axis(unit, span),
            "x2": {"field": "end"},
            "y": {"field": "problem", "type": "nominal", "sort": names, "title": None},
            "color": {
                "field": "share",
                "type": "quantitative",
                "title": "share of the articles",
                # Grey: articles there, none with the problem; dark red: all of them.
                "scale": {"domain": [0, 0.5, 1], "range": ["#e8e8e8", "#fd8d3c", "#a50f15"]},
                "legend": {
                    "format": "%",
                    "orient": "bottom",
                    "gradientLength": 200,
                    **_UNCUT,
                },
            },
        },
    )


def errors_chart(rows: list[dict], unit: str) -> dict:
    """Stacked bars: errors rows per period of the day they were written, by stage."""
    order = sorted({r["stage"] for r in rows})
    data = _stacked(rows, unit, "stage", "errors", order)
    periods = sorted(r["period"] for r in rows)
    span = (periods[0], periods[-1]) if periods else None
    return _spec(
        data,
        description="Errors per period, by stage",
        width=WIDTH,
        height=140,
        **_stacked_bars(
            data,
            unit,
            "stage",
            order,
            what="date written",
            y="errors",
            span=span,
            scale={"scheme": "set2"},
        ),
    )


RUN_PARTS = {"added": "#2ca02c", "duplicates": "#bcbd22", "errors": "#d62728"}


def runs_chart(runs: list[dict]) -> dict:
    """Stacked bars per run, oldest left: articles added, duplicates dropped and errors;
    beside them each run's duration in seconds."""
    data = [
        {
            "run": i,
            "started": r["started"] or r["run_id"],
            "part": part,
            "rank": list(RUN_PARTS).index(part),
            "records": r[part],
        }
        for i, r in enumerate(runs, 1)
        for part in RUN_PARTS
        if r[part]
    ]
    seconds = [
        {"run": i, "started": r["started"] or r["run_id"], "seconds": r["seconds"]}
        for i, r in enumerate(runs, 1)
        if r["seconds"] is not None
    ]
    x = {
        "field": "run",
        "type": "ordinal",
        "title": "run (oldest first)",
        "axis": {"labelAngle": 0, "labelOverlap": True, **_UNCUT},
    }
    parts = list(RUN_PARTS)
    step = max(5, min(40, (HALF + 40) // max(len(runs), 1)))
    return {
        "$schema": _SCHEMA,
        "description": "Records per run, and run durations",
        "config": _CONFIG,
        "hconcat": [
            {
                "data": {"values": data},
                "width": {"step": step},
                "height": 160,
                "mark": {"type": "bar"},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "records",
                        "type": "quantitative",
                        "stack": "zero",
                        **count_axis(
                            max(
                                (r["added"] or 0) + (r["duplicates"] or 0) + (r["errors"] or 0)
                                for r in runs
                            ),
                            "input records",
                        ),
                    },
                    "color": {
                        "field": "part",
                        "type": "nominal",
                        "sort": parts,
                        "title": None,
                        "scale": {"domain": parts, "range": list(RUN_PARTS.values())},
                        "legend": {"orient": "bottom"},
                    },
                    "order": {"field": "rank", "type": "quantitative"},
                },
            },
            {
                "data": {"values": seconds},
                "width": {"step": step},
                "height": 160,
                "mark": {"type": "bar", "color": "#7f7f7f"},
                "encoding": {
                    "x": x,
                    "y": {
                        "field": "seconds",
                        "type": "quantitative",
                        "title": "seconds",
                        "axis": _UNCUT,
                    },
                },
            },
        ],
    }
