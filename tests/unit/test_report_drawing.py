"""The report's charts drawn in a worker process (pipelines.report_drawing).

The specs are small hand-written Vega-Lite charts: names of several scripts on a
nominal axis (one longer than the axis lets a label be), numbers, and a colour
gradient, whose element ids a page must keep apart.
"""

import concurrent.futures
import os
import re
import sys

import pytest

from pipelines import report_drawing


@pytest.fixture(scope="module", autouse=True)
def _no_drawer_left():
    """The drawing processes end with the module: later tests count this process's workers."""
    yield
    report_drawing.close_drawer()


NAMES = [
    "Donald Trump",
    "Hillary Clinton",
    "Владимир Путин",
    "Ελληνική Δημοκρατία",
    "José Müller-Øre",
    "The Korea Research Institute for National Strategy",  # cut by the axis
]
LABELLED = {
    "config": {"font": "Liberation Sans, Arial, Helvetica, sans-serif"},
    "data": {"values": [{"name": n, "articles": 10 * i + 3} for i, n in enumerate(NAMES)]},
    "mark": "bar",
    "encoding": {
        "y": {"field": "name", "type": "nominal", "sort": NAMES, "title": None},
        "x": {"field": "articles", "type": "quantitative", "axis": {"labelLimit": 0}},
        "color": {"field": "articles", "type": "quantitative"},  # a gradient legend
    },
}


def _same_drawing(svg: str) -> str:
    """``svg`` with Vega's running numbers of gradients and clip paths taken out."""
    return re.sub(r"(gradient|clip)_?\d+", r"\1", svg)


def test_a_chart_comes_back_as_svg_with_its_ids_prefixed():
    drawing = report_drawing.svg(LABELLED, prefix="chart7-")
    assert drawing.startswith("<svg")
    ids = re.findall(r'\bid="([^"]+)"', drawing)
    references = re.findall(r"url\(#([^)]+)\)", drawing)
    assert ids and references
    assert all(name.startswith("chart7-") for name in ids + references)
    assert "The Korea Research Institute" in drawing and "…" in drawing  # cut, not dropped


def test_a_spec_vl_convert_refuses_fails_its_chart_only():
    refused = report_drawing.drawer().submit({"mark": "no-such-mark"})
    drawn = report_drawing.drawer().submit(LABELLED)
    with pytest.raises(ValueError, match="conversion failed"):
        refused.result()
    assert drawn.result().startswith("<svg")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fonts are reordered on Linux")
def test_the_worker_draws_what_vl_convert_draws_with_its_own_font_setup():
    # The worker loads the system's fonts after vl-convert's own Liberation Sans, to
    # measure labels faster; the labels must measure, and so lie out, the same.
    import vl_convert

    assert _same_drawing(report_drawing.svg(LABELLED)) == _same_drawing(
        vl_convert.vegalite_to_svg(LABELLED)
    )
    if "FONTCONFIG_FILE" not in os.environ:  # else the user's configuration is kept
        for worker in report_drawing.drawer()._workers:
            config = worker.call(os.getenv, "FONTCONFIG_FILE", seconds=30, what="reading")
            assert config is not None  # set in the workers only


def test_charts_drawn_by_several_workers_come_back_to_their_own_futures():
    drawer = report_drawing.Drawer(workers=2)
    try:
        specs = [{**LABELLED, "title": f"chart {i}"} for i in range(6)]
        futures = [drawer.submit(spec, prefix=f"c{i}-") for i, spec in enumerate(specs)]
        drawings = [future.result(timeout=120) for future in futures]
        for i, drawing in enumerate(drawings):
            assert f">chart {i}<" in drawing  # its title
            ids = re.findall(r'\bid="([^"]+)"', drawing)
            assert all(name.startswith(f"c{i}-") for name in ids)
        assert len({worker.pid for worker in drawer._workers}) == 2
    finally:
        drawer.close()


def test_a_helper_draws_only_while_a_page_waits():
    drawer = report_drawing.Drawer(workers=0, helpers=1)
    future = drawer.submit(LABELLED)
    done, _ = concurrent.futures.wait([future], timeout=0.5)
    assert not done  # the queries of its page may still run: the helper leaves them the core
    drawer.hurry()
    try:
        assert future.result(timeout=120).startswith("<svg")
    finally:
        drawer.hurry(False)
        drawer.close()
