"""The slow spaCy component of the time-limit tests (see ``tests.slow_work``)."""

import time

from spacy.language import Language

from tests.slow_work import COMPONENT, SECONDS_PER_100K_CHARS, compute_on_marker


@Language.component(COMPONENT)
def slow_component(doc):
    """Slow on ``slow_work.MARKER`` (busy in BLIS), else in step with the text's length."""
    compute_on_marker(doc.text)
    time.sleep(SECONDS_PER_100K_CHARS * len(doc.text) / 100_000)
    return doc
