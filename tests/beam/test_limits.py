"""Time limits in the stages: a pathological input becomes an errors row, not a hung run."""

import datetime as dt
import time

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from transforms import normalize
from transforms.enrich import SpacyModelHandler
from transforms.lib import html, nlp
from transforms.lib.formats import raw_record
from transforms.lib.records import Rejected
from transforms.normalize import NormalizeArticles

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


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
