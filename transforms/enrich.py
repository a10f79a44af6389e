"""ExtractEntitiesAndQuotes: articles to entity and quote rows, with spaCy under RunInference.

RunInference batches articles (``BatchElements``) and loads the model once
per worker process; the handler below only adapts ``transforms.lib.nlp.annotate``
to it. Rows leave as plain dicts: no ``Doc`` crosses a stage.
"""

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Collection, Mapping

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler, PredictionResult, RunInference

from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.lib import nlp
from transforms.lib.limits import call_with_time_limit
from transforms.lib.quotes import nested_in

__all__ = ["ENTITIES", "ERRORS", "QUOTES", "ExtractEntitiesAndQuotes", "quote_id"]

ENTITIES = "entities"
QUOTES = "quotes"
NOT_ENRICHED = "not_enriched"
STAGE = "enrich"
DEFAULT_BATCH_SIZE = nlp.DEFAULT_BATCH_SIZE
_PROGRESS_EVERY_SECONDS = 30.0

_log = logging.getLogger(__name__)


def quote_id(article_id: str, start_char: int, end_char: int) -> str:
    """A stable quote id from its article and its place in the text."""
    key = f"{article_id}\x1f{start_char}\x1f{end_char}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


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


class _Models(dict):
    """Language -> loaded spaCy pipeline. A dict subclass because Beam's shared model cache
    keeps a weak reference to what ``load_model`` returns, and a plain dict allows none."""


class SpacyModelHandler(ModelHandler):
    """A RunInference model handler: articles in, ``{"entities", "quotes"}`` dicts out, each
    result's ``model_id`` the model that annotated it.

    ``models`` maps a language to a model name or path (a bare name is the
    English model); each article goes to its language's model
    (``nlp.model_language``). A batch that fails, or takes longer than
    ``time_limit`` seconds per article, is retried article by article, so one
    bad article becomes one errors row (its inference is the exception) and
    the rest of the batch is kept.
    """

    def __init__(
        self,
        models: Mapping[str, str] | str,
        *,
        labels: Collection[str],
        cues: Collection[str],
        max_chars: int = nlp.DEFAULT_MAX_CHARS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        time_limit: float | None = None,
        aliases: Mapping | None = None,
    ):
        super().__init__(min_batch_size=1, max_batch_size=batch_size)
        self._models = {"en": models} if isinstance(models, str) else dict(models)
        self._time_limit = time_limit
        self._options = {
            "labels": frozenset(labels),
            "cues": tuple(cues),
            "max_chars": max_chars,
            "aliases": dict(aliases or {}),
        }
        self._progress = None

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._models)

    def load_model(self):
        return _Models((language, nlp.load_model(name)) for language, name in self._models.items())

    def run_inference(self, batch, model, inference_args=None):
        if self._progress is None:
            self._progress = _Progress()
        results = [None] * len(batch)
        by_language: dict[str | None, list[int]] = {}
        for index, article in enumerate(batch):
            language = nlp.model_language(article.get("language"), self._models)
            by_language.setdefault(language, []).append(index)
        for language, indexes in by_language.items():
            # ``model`` is what load_model returned: one pipeline per language.
            loaded = model.get(language) if isinstance(model, Mapping) else model
            texts = [batch[i]["text"] for i in indexes]
            limit = self._time_limit * len(texts) if self._time_limit else None
            try:
                found = self._annotate(loaded, texts, limit)
            except Exception:  # find the bad article(s); the others keep their annotations
                found = [self._annotate_one(loaded, text) for text in texts]
            name = self._models.get(language)
            for i, annotation in zip(indexes, found, strict=True):
                results[i] = PredictionResult(batch[i], annotation, model_id=name)
        self._progress.add(batch)
        return results

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
        super().__init__(stage=STAGE, ingested_at=ingested_at, errors_metric="enrich.errors")
        self._articles = Metrics.counter("newsbeam", "enrich.articles")
        self._entities = Metrics.counter("newsbeam", "enrich.entities")
        self._quotes = Metrics.counter("newsbeam", "enrich.quotes")

    def process(self, result):
        article, annotations = result.example, result.inference
        if isinstance(annotations, Exception):  # the model failed on this article
            yield self.dead_letter(annotations, origin=article["origin"])
            return
        shared = {"article_id": article["article_id"], "date": article["date"]}
        article = {**article, "nlp_model": result.model_id}
        for entity in annotations["entities"]:
            self._entities.inc()
            yield beam.pvalue.TaggedOutput(ENTITIES, {**entity, **shared})
        quotes = annotations["quotes"]
        ids = [quote_id(article["article_id"], q["start_char"], q["end_char"]) for q in quotes]
        for quote, qid, parent in zip(quotes, ids, nested_in(quotes), strict=True):
            self._quotes.inc()
            nested = {"parent_quote_id": ids[parent] if parent is not None else None}
            yield beam.pvalue.TaggedOutput(QUOTES, {**quote, **shared, **nested, "quote_id": qid})
        self._articles.inc()
        yield article


class _RouteByLanguageFn(beam.DoFn):
    """Articles with a model for their language pass; the others leave on ``NOT_ENRICHED``,
    counted per language (``enrich.not_enriched.<language>``)."""

    def __init__(self, languages: Collection[str]):
        self._languages = frozenset(languages)

    def process(self, article):
        if nlp.model_language(article.get("language"), self._languages) is not None:
            yield article
            return
        language = article.get("language") or "unknown"
        Metrics.counter("newsbeam", f"enrich.not_enriched.{language}").inc()
        yield beam.pvalue.TaggedOutput(NOT_ENRICHED, {**article, "nlp_model": None})


class ExtractEntitiesAndQuotes(beam.PTransform):
    """Articles to entities and quotes rows.

    Outputs: ``articles`` (the articles annotated, with their ``nlp_model``, and
    those of a language no model was given for, written without entities or
    quotes and with ``nlp_model`` NULL), ``ENTITIES``, ``QUOTES``, and
    ``ERRORS`` for articles the model failed on (they are not written as
    articles, so a rerun tries them again).
    """

    def __init__(self, handler: SpacyModelHandler, *, ingested_at: dt.datetime):
        super().__init__()
        self._handler = handler
        self._ingested_at = ingested_at

    def expand(self, articles):
        routed = articles | "RouteByLanguage" >> beam.ParDo(
            _RouteByLanguageFn(self._handler.languages)
        ).with_outputs(NOT_ENRICHED, main="enriched")
        split = (
            routed.enriched
            | "Annotate" >> RunInference(self._handler, model_identifier="newsbeam-spacy")
            | "SplitRows"
            >> beam.ParDo(_SplitRowsFn(self._ingested_at)).with_outputs(
                ENTITIES, QUOTES, ERRORS, main="articles"
            )
        )
        all_articles = (split.articles, routed[NOT_ENRICHED]) | "AllArticles" >> beam.Flatten()
        return {
            "articles": all_articles,
            ENTITIES: split[ENTITIES],
            QUOTES: split[QUOTES],
            ERRORS: split[ERRORS],
        }
