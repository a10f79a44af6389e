"""The report's charts drawn to static SVG by vl-convert, in worker processes of their own.

vl-convert holds the GIL while it draws (0.02 to 0.3 s a chart) and starts
its JavaScript engine in about a second: drawn in a thread, the charts
stalled the queries of the page they belong to. Worker processes
(``transforms.lib.limits.WorkerProcess``) draw them instead, each one chart
at a time, while this process queries. ``drawer`` starts them at the first
report of a process and keeps them, warm, for the next. This module imports
neither vl-convert (only the workers do) nor DuckDB: a report can start its
drawer before it opens the output.
"""

import concurrent.futures
import contextlib
import os
import pathlib
import queue
import re
import sys
import tempfile
import threading
from xml.sax.saxutils import escape

from transforms.lib.limits import WorkerProcess

_ID = re.compile(r'\bid="([^"]+)"')
_NOTHING = {"data": {"values": []}, "mark": "point"}


# Where Linux keeps fonts when fontconfig is not asked (fontdb's own list).
_FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")


def start_engine() -> None:
    """In the worker: starts vl-convert's JavaScript engine (about a second), once.

    On Linux the system's fonts are loaded after the copy of Liberation Sans (the
    page's font) that vl-convert holds in memory, rather than before it: vl-convert
    measures every label, and the system's copy, found first, is a file that its font
    library opens and maps again for each letter. Labels then cost 40 % less to measure;
    the drawings are the same, and letters Liberation Sans lacks are still measured in
    the system's fonts.
    """
    if not sys.platform.startswith("linux") or "FONTCONFIG_FILE" in os.environ:
        import vl_convert  # a font configuration of the user's own is kept as it is

        vl_convert.vegalite_to_svg(_NOTHING)
        return
    with tempfile.TemporaryDirectory(prefix="newsbeam-fonts-") as folder:
        # A font configuration of one empty folder: the system's fonts are not loaded
        # when the engine starts. The variable is read then, in this process only.
        config = pathlib.Path(folder, "fonts.conf")
        config.write_text(f"<fontconfig><dir>{escape(folder)}</dir></fontconfig>", encoding="utf-8")
        os.environ["FONTCONFIG_FILE"] = str(config)
        import vl_convert

        vl_convert.vegalite_to_svg(_NOTHING)
        for name in _FONT_FOLDERS:
            path = pathlib.Path(name).expanduser()
            if path.is_dir():
                with contextlib.suppress(Exception):  # unreadable: left out, as fontdb does
                    vl_convert.register_font_directory(str(path))
        vl_convert.vegalite_to_svg(_NOTHING)


def draw(spec: dict) -> str:
    """In the worker: the drawing of the Vega-Lite ``spec``, as vl-convert makes it."""
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)


def finish(drawing: str, prefix: str = "") -> str:
    """``drawing`` as one ``<svg>`` element for a page, its element ids (gradients, clip
    paths) starting with ``prefix``: ids must be unique in the page that holds several.

    Raises ``ValueError`` if the drawing holds script or foreign content: Vega
    escapes the data it draws, so that would be a bug, never something to embed.
    """
    lowered = drawing.lower()
    if not lowered.startswith("<svg") or "<script" in lowered or "<foreignobject" in lowered:
        raise ValueError("the chart drawing holds something other than SVG shapes and text")
    if prefix:
        for name in sorted(set(_ID.findall(drawing)), key=len, reverse=True):
            for form in ('id="{}"', "url(#{})", 'href="#{}"'):
                drawing = drawing.replace(form.format(name), form.format(prefix + name))
    return drawing


class Drawer:
    """Draws Vega-Lite specs in worker processes, each taking the next spec.

    ``workers`` draw from the first chart on. ``helpers`` more draw only while
    ``hurry`` is on, while a page has sent all its charts and waits for them:
    they never take a core from the queries. The workers start (and their
    engines warm up) as the drawer is made, while the caller goes on; a helper
    at the first ``hurry``, for the pages after. A worker that dies is started
    afresh for the next chart; the chart it was drawing raises
    ``limits.WorkerCrashed``. The workers end with the interpreter, and charts
    still waiting then are not drawn.
    """

    def __init__(self, workers: int = 1, *, helpers: int = 0):
        self._charts: queue.SimpleQueue = queue.SimpleQueue()
        self._hurry = threading.Event()
        self._workers = [
            WorkerProcess(setup=start_engine, name="newsbeam-charts")
            for _ in range(workers + helpers)
        ]
        # A thread per worker waits for it: it holds the GIL only to send and receive.
        for number, worker in enumerate(self._workers):
            gate = self._hurry if number >= workers else None
            threading.Thread(
                target=self._draw_charts, args=(worker, gate), name="newsbeam-charts", daemon=True
            ).start()

    def submit(self, spec: dict, *, prefix: str = "") -> concurrent.futures.Future:
        """The future drawing of ``spec``, finished by ``finish`` with ``prefix``; it
        raises what vl-convert raised for the spec, or ``finish``'s ``ValueError``."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._charts.put((future, spec, prefix))
        return future

    def close(self) -> None:
        """Ends the worker processes; charts not drawn yet never are."""
        for worker in self._workers:
            worker.close()

    def hurry(self, on: bool = True) -> None:
        """Lets the helpers draw too (``on``), or the workers alone again."""
        if on:
            self._hurry.set()
        else:
            self._hurry.clear()

    def _draw_charts(self, worker: WorkerProcess, gate: threading.Event | None) -> None:
        if gate is not None:
            gate.wait()
        with contextlib.suppress(Exception):
            worker.start()  # a failure shows again, and is raised, at the first chart
        while True:
            if gate is not None:
                gate.wait()
            chart = self._charts.get()
            if gate is not None and not gate.is_set():
                self._charts.put(chart)  # the page is no longer waiting: a worker draws it
                continue
            future, spec, prefix = chart
            if not future.set_running_or_notify_cancel():
                continue
            try:
                drawing = worker.call(draw, spec, seconds=None, what="drawing a chart")
                future.set_result(finish(drawing, prefix))
            except Exception as exc:
                future.set_exception(exc)


_drawer: Drawer | None = None
_drawer_lock = threading.Lock()


def drawer(workers: int = 1, *, helpers: int | None = None) -> Drawer:
    """This process's drawer: made (its workers started) at the first call, then reused,
    so only the first report of a process waits for the engines to start. ``workers``
    and ``helpers`` (at the first call) are as ``Drawer`` takes them; by default one
    helper on a machine of two cores or more, where the queries are done with one."""
    global _drawer
    with _drawer_lock:
        if _drawer is None:
            if helpers is None:
                helpers = 1 if (os.cpu_count() or 1) >= 2 else 0
            _drawer = Drawer(workers, helpers=helpers)
        return _drawer


def close_drawer() -> None:
    """Ends this process's drawer, if it has one (a notebook done with reports, a test);
    the next report starts a new one."""
    global _drawer
    with _drawer_lock:
        if _drawer is not None:
            _drawer.close()
            _drawer = None


def svg(spec: dict, *, prefix: str = "") -> str:
    """The drawing of ``spec`` by ``drawer``, finished by ``finish``: one chart, waited for."""
    return drawer().submit(spec, prefix=prefix).result()
