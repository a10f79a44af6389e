"""ExtractEntitiesAndQuotes: articles to entity and quote rows, with spaCy under RunInference.

Articles are grouped by a stable hash of their id into ``Limits.nlp_groups``
groups and each group is cut into batches of at most ``batch_size``
(``nlp.batch_group``, ``nlp.article_batches``): the groups are what a runner
spreads over its workers. RunInference loads the
model once per worker process and runs it on each batch (Beam's own
``BatchElements`` emits its last batch from ``finish_bundle``, which the
Dask runner drops). The handler below only adapts
``transforms.lib.nlp.annotate`` to RunInference. The model lives in a child
process of the worker (see ``transforms.lib.limits``), so work that runs out
of time is stopped with it. Rows leave as plain dicts: no ``Doc`` crosses a stage.
"""

import datetime as dt
import logging
import os
import sys
import time
import uuid
import weakref
from collections.abc import Collection, Mapping

import apache_beam as beam
from apache_beam.ml.inference.base import ModelHandler, PredictionResult, RunInference

from transforms import metrics
from transforms.deadletter import ERRORS, DeadLetterFn
from transforms.lib import counters, nlp
from transforms.lib.limits import (
    WorkerProcess,
    keep_ahead,
    scaled_limit,
    start_ahead,
    take_ahead,
)
from transforms.lib.records import Stage
from transforms.lib.settings import DEFAULT_LIMITS
from transforms.tagged import COUNTS, Branches, Outputs, Tagged

__all__ = [
    "COUNTS",
    "ENTITIES",
    "ERRORS",
    "QUOTES",
    "ExtractEntitiesAndQuotes",
    "load_model_ahead",
]

ARTICLES = "articles"
ENRICH = "enrich"
NOT_ENRICHED = "not_enriched"

ENTITIES = "entities"
QUOTES = "quotes"
STAGE = Stage.ENRICH
_PROGRESS_EVERY_SECONDS = 30.0

_log = logging.getLogger(__name__)
# The model processes that each handler (by its token, which its copies
# share) started in this process. RunInference keeps the last model it loaded
# for reuse and never tears it down, so the stage's own DoFn ends them.
_model_processes: dict[str, weakref.WeakSet] = {}


def load_model_ahead(model: str) -> None:
    """Loads ``model`` in a worker process now, before the run.

    A model that cannot be loaded fails here (``nlp.ModelError``), not in
    every worker; and a runner that works in this process takes this model
    process at its first ``load_model`` instead of waiting for a new one.
    """
    start_ahead(nlp.load_model, (model,), name="newsbeam-nlp")


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
    """Language -> the worker process holding that language's model. A dict subclass
    because Beam's shared model cache keeps a weak reference to what ``load_model``
    returns, and a plain dict allows none. ``versions``: language -> ``nlp.model_version``."""

    versions: dict[str, str]


class SpacyModelHandler(ModelHandler):
    """A RunInference model handler: articles in, ``{"entities", "quotes"}`` dicts out, each
    result's ``model_id`` the model that annotated it.

    ``models`` maps a language to a model name or path (a bare name is the
    English model); each article goes to its language's model
    (``nlp.model_language``). Each model lives in a ``WorkerProcess``: a call
    that runs out of time is killed with its process, and the next call
    starts a fresh one, so no stopped work goes on using the model. An
    article may take ``time_limit`` seconds per 100,000 characters (never
    less than ``time_limit``), a batch the sum of its articles'. A batch that
    fails or runs out of time is retried article by article, so one bad
    article becomes one errors row (its inference is the exception) and the
    rest of the batch is kept.
    """

    def __init__(
        self,
        models: Mapping[str, str] | str,
        *,
        labels: Collection[str],
        cues: Collection[str],
        max_chars: int = DEFAULT_LIMITS.max_nlp_chars,
        batch_size: int = DEFAULT_LIMITS.batch_size,
        time_limit: float | None = None,
        aliases: Mapping | None = None,
        keep_models: bool = False,
    ):
        super().__init__(min_batch_size=1, max_batch_size=batch_size)
        self.batch_size = batch_size
        self._models = {"en": models} if isinstance(models, str) else dict(models)
        self._time_limit = time_limit
        self._options = {
            "labels": frozenset(labels),
            "cues": tuple(cues),
            "max_chars": max_chars,
            "aliases": dict(aliases or {}),
        }
        self._progress = None
        self._token = uuid.uuid4().hex
        # Only the process that built the handler runs again (watch's next poll); a
        # runner's worker process keeps nothing it would not use.
        self._keep_in = os.getpid() if keep_models else None

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._models)

    def load_model(self) -> _Models:
        """Each language's model in a child process (``load_model_ahead``'s, else a new one).

        Raises ``nlp.ModelError`` from there.
        """
        workers = _Models()
        workers.versions = {}
        for language, name in self._models.items():
            setup = (nlp.load_model, (name,))
            worker = take_ahead(*setup) or WorkerProcess(
                setup=setup[0], setup_args=setup[1], name="newsbeam-nlp"
            )
            _model_processes.setdefault(self._token, weakref.WeakSet()).add(worker)
            worker.start()
            workers[language] = worker
            workers.versions[language] = worker.call(
                nlp.model_version, seconds=None, what="the model's version"
            )
        return workers

    def close_models(self, *, idle: float | None = None) -> None:
        """Ends the model processes that this handler or a copy of it started in this process;
        with ``idle``, once that many seconds pass without a call to them.

        With ``keep_models``, in the process that built the handler, they are
        kept running instead, for the next run's ``load_model`` to take
        (``limits.close_ahead`` ends them). A model used after this starts a
        new process at its next call.
        """
        for worker in list(_model_processes.get(self._token, ())):
            if self._keep_in == os.getpid():
                _model_processes[self._token].discard(worker)
                keep_ahead(worker)
            elif idle is None:
                worker.close()
            else:
                worker.close_when_idle(idle)

    def run_inference(self, batch, model, inference_args=None):
        if self._progress is None:
            self._progress = _Progress()
        results = [None] * len(batch)
        by_language: dict[str | None, list[int]] = {}
        for index, article in enumerate(batch):
            language = nlp.model_language(article.get("language"), self._models)
            by_language.setdefault(language, []).append(index)
        for language, indexes in by_language.items():
            worker = model[language]
            texts = [batch[i]["text"] for i in indexes]
            try:
                found = self._annotate(worker, texts)
            except Exception:  # find the bad article(s); the others keep their annotations
                found = [self._annotate_one(worker, text) for text in texts]
            name, version = self._models.get(language), model.versions[language]
            for i, annotation in zip(indexes, found, strict=True):
                if not isinstance(annotation, Exception):
                    annotation = {**annotation, "nlp_version": version}
                results[i] = PredictionResult(batch[i], annotation, model_id=name)
        self._progress.add(batch)
        return results

    def _annotate(self, model: WorkerProcess, texts):
        seconds = None
        if self._time_limit:
            seconds = sum(scaled_limit(self._time_limit, len(text)) for text in texts)
        return model.call(nlp.annotate, texts, seconds=seconds, what="NLP", **self._options)

    def _annotate_one(self, model, text):
        try:
            return self._annotate(model, [text])[0]
        except Exception as exc:
            return exc

    def get_num_bytes(self, batch):
        return sum(len(article["text"]) for article in batch)

    def get_metrics_namespace(self):
        return "newsbeam.enrich"


def _in_dask_worker() -> bool:
    """True in a task of a Dask worker (never imports Dask to find out)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


class _SplitRowsFn(DeadLetterFn):
    def __init__(self, ingested_at: dt.datetime, handler: SpacyModelHandler):
        super().__init__(stage=STAGE, ingested_at=ingested_at, errors_metric=counters.ENRICH_ERRORS)
        self._handler = handler
        self._articles = metrics.counter(counters.ENRICH_ARTICLES)
        self._entities = metrics.counter(counters.ENRICH_ENTITIES)
        self._quotes = metrics.counter(counters.ENRICH_QUOTES)

    def teardown(self):
        # Fused with RunInference, so torn down in the worker that holds its model. Beam's
        # Dask runner tears a DoFn down after every partition: there the model waits for
        # the worker's next partition, and ends when none comes for a while.
        if _in_dask_worker():
            self._handler.close_models(idle=DEFAULT_LIMITS.model_idle_seconds)
        else:
            self._handler.close_models()

    def process(self, result):
        article, annotations = result.example, result.inference
        if isinstance(annotations, Exception):  # the model failed on this article
            yield from self.dead_letter(annotations, origin=article["origin"])
            return
        article = {
            **article,
            "nlp_model": result.model_id,
            "nlp_version": annotations["nlp_version"],
        }
        entities, quotes = nlp.table_rows(article, annotations)
        # An article's rows travel together: one element each, not one per row, to shuffle.
        if entities:
            yield Tagged(ENTITIES, entities)
        if quotes:
            yield Tagged(QUOTES, quotes)
        yield self._entities.count(len(entities))
        yield self._quotes.count(len(quotes))
        yield self._articles.count()
        yield Tagged(ARTICLES, article)


class _RouteByLanguageFn(beam.DoFn):
    """Articles with a model for their language go to ``ENRICH``; the others to
    ``NOT_ENRICHED``, counted per language (``enrich.not_enriched.<language>``)."""

    def __init__(self, languages: Collection[str]):
        self._languages = frozenset(languages)

    def process(self, article):
        if nlp.model_language(article.get("language"), self._languages) is not None:
            yield Tagged(ENRICH, article)
            return
        language = article.get("language") or "unknown"
        yield metrics.counter(counters.not_enriched(language)).count()
        yield Tagged(NOT_ENRICHED, {**article, "nlp_model": None, "nlp_version": None})


class ExtractEntitiesAndQuotes(beam.PTransform):
    """Articles to entities and quotes rows.

    Returns ``Outputs``: ``articles`` (the articles annotated, with their
    ``nlp_model`` and ``nlp_version``, and those of a language no model was given
    for, written without entities or quotes and with both NULL), ``ENTITIES`` and
    ``QUOTES`` (each article's rows as one list; none for an article without
    any), ``ERRORS`` for articles the model failed on (they are not
    written as articles, so a rerun tries them again), and ``COUNTS``.
    Articles are annotated in batches of at most the handler's ``batch_size``,
    cut from ``groups`` groups of articles (see the module's docstring).
    """

    def __init__(
        self,
        handler: SpacyModelHandler,
        *,
        ingested_at: dt.datetime,
        groups: int = DEFAULT_LIMITS.nlp_groups,
    ):
        super().__init__()
        self._handler = handler
        self._ingested_at = ingested_at
        self._groups = groups

    def expand(self, articles):
        groups, size = self._groups, self._handler.batch_size
        routed = (
            articles
            | "RouteByLanguage" >> beam.ParDo(_RouteByLanguageFn(self._handler.languages))
            | "Routes" >> Branches(ENRICH, NOT_ENRICHED, COUNTS)
        )
        split = (
            routed[ENRICH]
            | "KeyByGroup"
            >> beam.Map(lambda article: (nlp.batch_group(article["article_id"], groups), article))
            | "GroupArticles" >> beam.GroupByKey()
            | "CutBatches" >> beam.FlatMap(lambda group: nlp.article_batches(group[1], size))
            | "Annotate"
            >> RunInference(self._handler.with_no_batching(), model_identifier="newsbeam-spacy")
            | "SplitRows" >> beam.ParDo(_SplitRowsFn(self._ingested_at, self._handler))
            | "Rows" >> Branches(ARTICLES, ENTITIES, QUOTES, ERRORS, COUNTS)
        )
        return Outputs(
            {
                ARTICLES: (split[ARTICLES], routed[NOT_ENRICHED]) | "AllArticles" >> beam.Flatten(),
                ENTITIES: split[ENTITIES],
                QUOTES: split[QUOTES],
                ERRORS: split[ERRORS],
                COUNTS: (routed[COUNTS], split[COUNTS]) | "AllCounts" >> beam.Flatten(),
            }
        )
