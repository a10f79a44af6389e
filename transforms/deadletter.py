"""The dead-letter pattern every stage shares: a bad record becomes a counted errors row.

Rows and counts leave as ``Tagged`` records of the DoFn's single output
(``transforms.tagged``): the errors row on the ``ERRORS`` branch, its count
on ``COUNTS``.
"""

import datetime as dt

import apache_beam as beam

from transforms import metrics
from transforms.lib.records import Rejected, crash_row, reject_row
from transforms.tagged import Tagged

__all__ = ["ERRORS", "DeadLetterFn"]

ERRORS = "errors"


class DeadLetterFn(beam.DoFn):
    """A DoFn that sends what went wrong to the ``ERRORS`` branch, never up the stack.

    ``dead_letter`` turns a ``Rejected`` (an input newsbeam refuses, with its
    reason) or any other exception (a library failure) into an errors-table
    row for ``stage``, with its count record under ``errors_metric``.
    """

    def __init__(self, *, stage: str, ingested_at: dt.datetime, errors_metric: str):
        self._stage = stage
        self._ingested_at = ingested_at
        self._dead_letters = metrics.counter(errors_metric)

    def dead_letter(
        self, problem: BaseException, *, origin: str, counter=None
    ) -> tuple[Tagged, Tagged]:
        """The errors row for ``problem`` and its count (an error, or one on ``counter``)."""
        at = {"stage": self._stage, "origin": origin, "ingested_at": self._ingested_at}
        row = (
            reject_row(problem, **at) if isinstance(problem, Rejected) else crash_row(problem, **at)
        )
        return Tagged(ERRORS, row), (counter or self._dead_letters).count()

    def guarded(self, outcomes, *, origin: str):
        """The outcomes of one input (``Tagged`` records), each ``Rejected`` among them
        (yielded or raised) and any exception as an errors row; what came before a
        failure is kept.

        An exception raised inside the generator ``outcomes`` ends it: Python
        cannot resume a generator, so what it had still to yield is lost. A
        source of many records (a JSON Lines file) must therefore turn each
        record's failure into its row itself and go on (``dead_letter``).
        """
        try:
            for outcome in outcomes:
                if isinstance(outcome, Rejected):
                    yield from self.dead_letter(outcome, origin=origin)
                else:
                    yield outcome
        except Exception as exc:  # a library failure must not stop the run
            yield from self.dead_letter(exc, origin=origin)
