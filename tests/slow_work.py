"""Work that is slow on purpose, for the time-limit tests; worker processes import it by name.

A worker process runs the functions it is sent by importing their module,
so whatever a test wants slow in a worker lives here (or, for the spaCy
component, in ``tests.slow_spacy``), at module level. It does not import spaCy.
"""

import threading
import time

from transforms.lib import html

# Texts and pages that hold this marker are slow; the others are not.
MARKER = "pathological"
SLOW_SECONDS = 120.0
COMPONENT = "newsbeam_test_slow"  # defined in tests.slow_spacy
# COMPONENT's time per 100,000 characters of any text: a model whose cost
# grows with the length of the text, as a real one's does.
SECONDS_PER_100K_CHARS = 0.2


def sleep_on_marker(text: str) -> None:
    """Sleeps ``SLOW_SECONDS`` if ``text`` holds ``MARKER``."""
    if MARKER in text:
        time.sleep(SLOW_SECONDS)


def compute_on_marker(text: str) -> None:
    """Multiplies matrices in BLIS (as spaCy's models do) for ``SLOW_SECONDS`` on ``MARKER``.

    Work abandoned in BLIS used to abort the interpreter at exit.
    """
    if MARKER not in text:
        return
    import blis.py
    import numpy

    matrix = numpy.random.default_rng(0).random((300, 300), dtype=numpy.float32)
    deadline = time.monotonic() + SLOW_SECONDS
    while time.monotonic() < deadline:
        blis.py.gemm(matrix, matrix)


def raise_unpicklable():
    """Raises an exception that cannot be pickled (it holds a lock)."""
    raise ValueError(threading.Lock())


def slow_extract_article(page: str, url: str | None = None) -> dict:
    """``html.extract_article``, after a long sleep on a page holding ``MARKER``."""
    sleep_on_marker(page)
    return html.extract_article(page, url)


def slow_model(folder) -> str:
    """A tiny spaCy pipeline saved in ``folder``: sentences and ``COMPONENT``, no statistics.

    ``spacy.load`` finds ``COMPONENT`` in another process only if that
    process imports this module first; ``plugin_path`` makes it do so.
    """
    import spacy

    from tests import slow_spacy  # noqa: F401 (registers COMPONENT here)

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe(COMPONENT)
    nlp.to_disk(folder)
    return str(folder)


def plugin_path(folder) -> str:
    """A folder to put on a process's path so that spaCy loads ``COMPONENT`` by itself.

    It holds only the metadata of a distribution whose ``spacy_factories``
    entry point names ``tests.slow_spacy.slow_component``: spaCy imports the
    entry points of that group when it builds a pipeline, as it would an
    installed plugin's.
    """
    info = folder / "newsbeam_test_slow-0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: newsbeam-test-slow\nVersion: 0\n")
    (info / "entry_points.txt").write_text(
        f"[spacy_factories]\n{COMPONENT} = tests.slow_spacy:slow_component\n"
    )
    return str(folder)
