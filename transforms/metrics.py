"""A run's counter: a count record that travels with the data, a Beam metric for runner
UIs, and a live tally for the progress line."""

from apache_beam.metrics import Metrics

from transforms.lib import counters, progress
from transforms.tagged import COUNTS, Tagged

__all__ = ["counter"]


class _Counter:
    def __init__(self, name: str):
        self._name = name
        self._metric = Metrics.counter(counters.NAMESPACE, name)

    def inc(self, amount: int = 1) -> None:
        """Adds ``amount`` to the Beam metric and the progress tally only: for a count the
        run's summary takes from elsewhere (the rows of the files written)."""
        self._metric.inc(amount)
        progress.tally(self._name, amount)

    def count(self, amount: int = 1) -> Tagged:
        """Counts ``amount``; returns the count record the DoFn must yield (``COUNTS``).

        The record is what the run's summary adds up: Beam metrics are
        best-effort (some runners have none, retries may count twice).
        """
        self.inc(amount)
        return Tagged(COUNTS, (self._name, amount))


def counter(name: str) -> _Counter:
    """The counter ``name`` (one of ``transforms.lib.counters``) in newsbeam's namespace."""
    return _Counter(name)
