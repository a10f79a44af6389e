"""Time limits in the stages: a pathological input becomes an errors row, not a hung run.

The slow work really runs, in the stages' worker processes, and is really
stopped: the slow functions and the slow spaCy component come from
``tests.slow_work``, which those processes import by name.
"""

import time

import apache_beam as beam
import psutil
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from tests import slow_work
from tests.helpers import NOW
from transforms import enrich, normalize
from transforms.enrich import ExtractEntitiesAndQuotes, SpacyModelHandler
from transforms.lib import html, limits
from transforms.lib.formats import raw_record
from transforms.normalize import NormalizeArticles


def worker_processes() -> list[psutil.Process]:
    """This process's live worker processes (those of ``transforms.lib.limits``)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "transforms.lib.limits" in " ".join(child.cmdline()):
                found.append(child)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            pass
    return found


@pytest.fixture
def slow_model(tmp_path, monkeypatch):
    """A saved spaCy pipeline with ``slow_work.COMPONENT``, loadable by worker processes."""
    monkeypatch.syspath_prepend(slow_work.plugin_path(tmp_path / "plugin"))
    return slow_work.slow_model(tmp_path / "model")


def test_slow_html_extraction_becomes_an_errors_row(monkeypatch):
    # The stage sends the function it finds here to its worker process, by name.
    monkeypatch.setattr(html, "extract_article", slow_work.slow_extract_article)
    body = "<html><body><article><p>{}</p></article></body></html>"
    good = body.format("The council met on Monday to agree the budget for the coming year. " * 3)
    raws = [
        raw_record("slow.html", html=body.format(f"{slow_work.MARKER} " * 20)),
        raw_record("good.html", html=good),
    ]
    started = time.monotonic()
    with TestPipeline() as p:
        outputs = p | beam.Create(raws) | NormalizeArticles(ingested_at=NOW, time_limit=0.5)
        assert_that(
            outputs["articles"] | beam.Map(lambda a: a["origin"]),
            equal_to(["good.html"]),
            label="Kept",
        )
        assert_that(
            outputs[normalize.ERRORS] | beam.Map(lambda e: (e["origin"], e["error_type"])),
            equal_to([("slow.html", "time_limit")]),
            label="TimedOut",
        )
    assert time.monotonic() - started < slow_work.SLOW_SECONDS / 2
    assert not worker_processes()  # stopped, and the stage's own ended at its teardown


def test_a_long_article_gets_time_in_step_with_its_length(slow_model):
    # 1 MB at 0.2 s per 100,000 characters takes the model about 2 s: more
    # than the 0.5 s limit, but well within its 5 s for ten times 100,000.
    paragraph = "The council met again. The budget was agreed at last.\n\n"
    text = paragraph * (1_000_000 // len(paragraph))
    handler = SpacyModelHandler(slow_model, labels=(), cues=(), time_limit=0.5)
    model = handler.load_model()
    try:
        [result] = handler.run_inference([{"text": text, "word_count": 1}], model)
    finally:
        handler.close_models()
    assert not isinstance(result.inference, Exception), result.inference


def test_a_model_loaded_ahead_is_the_one_the_handler_loads_first(slow_model):
    enrich.load_model_ahead(slow_model)
    [ahead] = worker_processes()
    handler = SpacyModelHandler(slow_model, labels=(), cues=())
    try:
        assert handler.load_model()["en"].pid == ahead.pid
        assert handler.load_model()["en"].pid != ahead.pid  # only once
    finally:
        handler.close_models()
    assert not worker_processes()


def test_kept_model_processes_serve_the_next_run_in_this_process_until_closed(slow_model):
    # What watch does between polls: the next poll's handler takes the running model.
    first = SpacyModelHandler(slow_model, labels=(), cues=(), keep_models=True)
    models = first.load_model()  # RunInference holds its model to the end
    pid = models["en"].pid
    first.close_models()
    del models
    assert [p.pid for p in worker_processes()] == [pid]
    second = SpacyModelHandler(slow_model, labels=(), cues=(), keep_models=True)
    try:
        models = second.load_model()
        assert models["en"].pid == pid
    finally:
        second.close_models()
        limits.close_ahead()
    assert not worker_processes()


def test_a_model_process_that_died_is_not_kept(slow_model):
    handler = SpacyModelHandler(slow_model, labels=(), cues=(), keep_models=True)
    worker = handler.load_model()["en"]
    worker.close()
    handler.close_models()
    assert limits.take_ahead(worker._setup, worker._setup_args) is None


def test_slow_nlp_fails_only_the_slow_article_and_the_model_process_ends_with_the_stage(
    slow_model,
):
    articles = [
        {"article_id": f"a{i}", "date": "2026-11-28", "origin": f"{i}.txt", "text": text}
        for i, text in enumerate(["It rained.", f"A {slow_work.MARKER} day.", "It stopped."])
    ]
    for article in articles:
        article["word_count"] = len(article["text"].split())
    handler = SpacyModelHandler(slow_model, labels=(), cues=(), time_limit=0.5)
    started = time.monotonic()
    with TestPipeline() as p:
        outputs = p | beam.Create(articles) | ExtractEntitiesAndQuotes(handler, ingested_at=NOW)
        assert_that(
            outputs["articles"] | beam.Map(lambda a: a["origin"]),
            equal_to(["0.txt", "2.txt"]),
            label="Kept",
        )
        assert_that(
            outputs[enrich.ERRORS] | beam.Map(lambda e: (e["origin"], e["error_type"])),
            equal_to([("1.txt", "time_limit")]),
            label="TimedOut",
        )
    assert time.monotonic() - started < slow_work.SLOW_SECONDS / 2
    assert not worker_processes()  # RunInference keeps its model; the stage's teardown ends it
