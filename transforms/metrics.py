"""A run's counter: a Beam metric for the report, and a live tally for the progress line."""

from apache_beam.metrics import Metrics

from transforms.lib import counters, progress

__all__ = ["counter"]


class _Counter:
    def __init__(self, name: str):
        self._name = name
        self._metric = Metrics.counter(counters.NAMESPACE, name)

    def inc(self, amount: int = 1) -> None:
        self._metric.inc(amount)
        progress.tally(self._name, amount)


def counter(name: str) -> _Counter:
    """The counter ``name`` (one of ``transforms.lib.counters``) in newsbeam's namespace."""
    return _Counter(name)
