"""The dead-letter pattern every stage shares: a bad record becomes a counted errors row."""

import datetime as dt

import apache_beam as beam
from apache_beam.metrics import Metrics

from transforms.lib import counters
from transforms.lib.records import Rejected, crash_row, reject_row

ERRORS = "errors"


class DeadLetterFn(beam.DoFn):
    """A DoFn that sends what went wrong to the ``ERRORS`` output, never up the stack.

    ``dead_letter`` turns a ``Rejected`` (an input newsbeam refuses, with its
    reason) or any other exception (a library failure) into an errors-table
    row for ``stage``, and counts it under the metric ``errors_metric``.
    """

    def __init__(self, *, stage: str, ingested_at: dt.datetime, errors_metric: str):
        self._stage = stage
        self._ingested_at = ingested_at
        self._dead_letters = Metrics.counter(counters.NAMESPACE, errors_metric)

    def dead_letter(self, problem: BaseException, *, origin: str, counter=None):
        """The errors row for ``problem``, counted as an error (or on ``counter``)."""
        (counter or self._dead_letters).inc()
        at = {"stage": self._stage, "origin": origin, "ingested_at": self._ingested_at}
        row = (
            reject_row(problem, **at) if isinstance(problem, Rejected) else crash_row(problem, **at)
        )
        return beam.pvalue.TaggedOutput(ERRORS, row)

    def guarded(self, outcomes, *, origin: str):
        """The outcomes of one input, each ``Rejected`` among them (yielded or raised) and
        any exception as an errors row; what came before a failure is kept.

        An exception raised inside the generator ``outcomes`` ends it: Python
        cannot resume a generator, so what it had still to yield is lost. A
        source of many records (a JSON Lines file) must therefore turn each
        record's failure into its row itself and go on (``dead_letter``).
        """
        try:
            for outcome in outcomes:
                yield (
                    self.dead_letter(outcome, origin=origin)
                    if isinstance(outcome, Rejected)
                    else outcome
                )
        except Exception as exc:  # a library failure must not stop the run
            yield self.dead_letter(exc, origin=origin)
