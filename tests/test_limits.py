"""Time limits: a pathological input becomes an errors row instead of hanging the run."""

import datetime as dt
import threading
import time

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms import html, nlp, normalize
from transforms.enrich import SpacyModelHandler
from transforms.formats import raw_record
from transforms.limits import call_with_time_limit
from transforms.normalize import NormalizeArticles
from transforms.records import Rejected

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def test_call_within_the_limit_returns_its_value_and_raises_its_errors():
    assert call_with_time_limit(lambda x: x * 2, 21, seconds=5, what="doubling") == 42
    with pytest.raises(ZeroDivisionError):
        call_with_time_limit(lambda: 1 / 0, seconds=5, what="dividing")
    assert call_with_time_limit(lambda: "direct", seconds=None, what="no limit") == "direct"


def test_a_call_over_the_limit_is_abandoned_as_a_reject():
    started = time.monotonic()
    with pytest.raises(Rejected) as caught:
        call_with_time_limit(time.sleep, 5, seconds=0.2, what="sleeping")
    assert time.monotonic() - started < 2
    assert caught.value.error_type == "time_limit"
    assert "sleeping took longer than 0.2 s" in caught.value.message


def test_calls_share_one_helper_thread_until_one_is_abandoned():
    first = call_with_time_limit(threading.get_ident, seconds=5, what="ident")
    assert call_with_time_limit(threading.get_ident, seconds=5, what="ident") == first
    assert first != threading.get_ident()
    with pytest.raises(Rejected):
        call_with_time_limit(time.sleep, 0.5, seconds=0.1, what="sleeping")
    after = call_with_time_limit(threading.get_ident, seconds=5, what="ident")
    assert after != first  # a fresh helper, not the one still sleeping
    # The abandoned helper ends once its call returns: no thread is leaked.
    deadline = time.monotonic() + 5
    while first in {t.ident for t in threading.enumerate()} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first not in {t.ident for t in threading.enumerate()}
    assert after in {t.ident for t in threading.enumerate()}


def test_slow_html_extraction_becomes_an_errors_row(monkeypatch):
    real = html.extract_article

    def extract(page, url=None):
        if "pathological" in page:
            time.sleep(3)
        return real(page, url)

    monkeypatch.setattr(html, "extract_article", extract)
    body = "<html><body><article><p>{}</p></article></body></html>"
    good = body.format("The council met on Monday to agree the budget for the coming year. " * 3)
    raws = [
        raw_record("slow.html", html=body.format("pathological " * 20)),
        raw_record("good.html", html=good),
    ]
    started = time.monotonic()
    with TestPipeline() as p:
        outputs = p | beam.Create(raws) | NormalizeArticles(ingested_at=NOW, time_limit=0.5)
        assert_that(
            outputs.articles | beam.Map(lambda a: a["origin"]),
            equal_to(["good.html"]),
            label="Kept",
        )
        assert_that(
            outputs[normalize.ERRORS] | beam.Map(lambda e: (e["origin"], e["error_type"])),
            equal_to([("slow.html", "time_limit")]),
            label="TimedOut",
        )
    assert time.monotonic() - started < 30


def test_slow_nlp_fails_only_the_slow_article(monkeypatch):
    def annotate(model, texts, **options):
        if any("pathological" in text for text in texts):
            time.sleep(3)
        return [{"entities": [], "quotes": []} for _ in texts]

    monkeypatch.setattr(nlp, "annotate", annotate)
    handler = SpacyModelHandler("unused", labels=(), cues=(), time_limit=0.3)
    batch = [
        {"text": "fine", "word_count": 1},
        {"text": "pathological", "word_count": 1},
        {"text": "also fine", "word_count": 1},
    ]
    results = handler.run_inference(batch, model=None)
    outcomes = [r.inference for r in results]
    assert outcomes[0] == {"entities": [], "quotes": []}
    assert isinstance(outcomes[1], Rejected) and outcomes[1].error_type == "time_limit"
    assert outcomes[2] == {"entities": [], "quotes": []}
