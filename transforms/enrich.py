"""ExtractEntitiesAndQuotes: articles to entity and quote rows, with spaCy under RunInference.

RunInference batches articles (``BatchElements``) and loads the model once
per worker process; the handler below only adapts ``transforms.lib.nlp.annotate``
to it. Rows leave as plain dicts: no ``Doc`` crosses a stage.
"""

import datetime as dt
import logging
import time
from collections.abc import Collection

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler, PredictionResult, RunInference

from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.lib import counters, nlp
from transforms.lib.limits import call_with_time_limit
from transforms.lib.records import Stage
from transforms.lib.settings import DEFAULT_LIMITS

__all__ = ["ENTITIES", "ERRORS", "QUOTES", "ExtractEntitiesAndQuotes"]

ENTITIES = "entities"
QUOTES = "quotes"
STAGE = Stage.ENRICH
_PROGRESS_EVERY_SECONDS = 30.0

_log = logging.getLogger(__name__)


class _Progress:
    """One log line per interval per worker process, never one per article."""

    def __init__(self):
        self._done = 0
        self._words = 0
        self._started = self._last = time.monotonic()

    def add(self, batch):
        self._done += len(batch)
        self._words += sum(article["word_count"] for article in batch)
        now = time.monotonic()
        if now - self._last >= _PROGRESS_EVERY_SECONDS:
            self._last = now
            rate = self._done / (now - self._started)
            _log.warning(
                "enriched %d articles (%d words) in this worker, %.1f articles/s",
                self._done,
                self._words,
                rate,
            )


class SpacyModelHandler(ModelHandler):
    """A RunInference model handler: articles in, ``{"entities", "quotes"}`` dicts out.

    A batch that fails, or takes longer than ``time_limit`` seconds per
    article, is retried article by article, so one bad article becomes one
    errors row (its inference is the exception) and the rest of the batch is
    kept.
    """

    def __init__(
        self,
        model: str,
        *,
        labels: Collection[str],
        cues: Collection[str],
        max_chars: int = DEFAULT_LIMITS.max_nlp_chars,
        batch_size: int = DEFAULT_LIMITS.batch_size,
        time_limit: float | None = None,
    ):
        super().__init__(min_batch_size=1, max_batch_size=batch_size)
        self._model = model
        self._time_limit = time_limit
        self._options = {"labels": frozenset(labels), "cues": tuple(cues), "max_chars": max_chars}
        self._progress = None

    def load_model(self):
        return nlp.load_model(self._model)

    def run_inference(self, batch, model, inference_args=None):
        if self._progress is None:
            self._progress = _Progress()
        texts = [article["text"] for article in batch]
        limit = self._time_limit * len(texts) if self._time_limit else None
        try:
            annotations = self._annotate(model, texts, limit)
        except Exception:  # find the bad article(s); the others keep their annotations
            annotations = [self._annotate_one(model, text) for text in texts]
        self._progress.add(batch)
        return [PredictionResult(a, ann) for a, ann in zip(batch, annotations, strict=True)]

    def _annotate(self, model, texts, seconds):
        return call_with_time_limit(
            nlp.annotate, model, texts, seconds=seconds, what="NLP", **self._options
        )

    def _annotate_one(self, model, text):
        try:
            return self._annotate(model, [text], self._time_limit)[0]
        except Exception as exc:
            return exc

    def get_num_bytes(self, batch):
        return sum(len(article["text"]) for article in batch)

    def get_metrics_namespace(self):
        return "newsbeam.enrich"


class _SplitRowsFn(DeadLetterFn):
    def __init__(self, ingested_at: dt.datetime):
        super().__init__(stage=STAGE, ingested_at=ingested_at, errors_metric=counters.ENRICH_ERRORS)
        self._articles = Metrics.counter(counters.NAMESPACE, counters.ENRICH_ARTICLES)
        self._entities = Metrics.counter(counters.NAMESPACE, counters.ENRICH_ENTITIES)
        self._quotes = Metrics.counter(counters.NAMESPACE, counters.ENRICH_QUOTES)

    def process(self, result):
        article, annotations = result.example, result.inference
        if isinstance(annotations, Exception):  # the model failed on this article
            yield self.dead_letter(annotations, origin=article["origin"])
            return
        entities, quotes = nlp.table_rows(article, annotations)
        for entity in entities:
            self._entities.inc()
            yield beam.pvalue.TaggedOutput(ENTITIES, entity)
        for quote in quotes:
            self._quotes.inc()
            yield beam.pvalue.TaggedOutput(QUOTES, quote)
        self._articles.inc()
        yield article


class ExtractEntitiesAndQuotes(beam.PTransform):
    """Articles to entities and quotes rows.

    Outputs: ``articles`` (the articles that were annotated), ``ENTITIES``,
    ``QUOTES``, and ``ERRORS`` for articles the model failed on (they are
    not written as articles, so a rerun tries them again).
    """

    def __init__(self, handler: SpacyModelHandler, *, ingested_at: dt.datetime):
        super().__init__()
        self._handler = handler
        self._ingested_at = ingested_at

    def expand(self, articles):
        return (
            articles
            | "Annotate" >> RunInference(self._handler, model_identifier="newsbeam-spacy")
            | "SplitRows"
            >> beam.ParDo(_SplitRowsFn(self._ingested_at)).with_outputs(
                ENTITIES, QUOTES, ERRORS, main="articles"
            )
        )
