"""A stage's single output: ``Tagged`` records, split into one PCollection per tag.

A stage's DoFn has one output of ``Tagged`` records (its rows, its errors
rows, its count records) and ``Branches`` splits it, one ``FlatMap`` per tag.
Beam's multi-output ``ParDo`` (``with_outputs``, ``Partition``) would say the
same, but the Dask runner of Beam 2.77 gives each tagged output every element
of all of them (docs/RUNNERS.md); a single output and a filter per branch mean
the same on every runner.

Counts travel with the data as ``COUNTS`` records, ``(counter name, amount)``
(``transforms.metrics``), which the commit step adds up: Beam metrics are
best-effort, and some runners have none.
"""

import typing

import apache_beam as beam

__all__ = ["COUNTS", "Branches", "Outputs", "Tagged", "only"]

COUNTS = "counts"


class Tagged(typing.NamedTuple):
    """One record of a stage's single output, and the branch it belongs to."""

    tag: str
    value: object


class Outputs(dict):
    """Branch tag -> PCollection, read as ``outputs[tag]`` or ``outputs.tag``.

    The two ways a ``with_outputs`` result is read, so a composite's callers
    need not know how its branches were split.
    """

    def __getattr__(self, tag: str):
        try:
            return self[tag]
        except KeyError:
            raise AttributeError(tag) from None


def only(tag: str):
    """The function that keeps the records of ``tag``, stripped of it.

    A closure rather than an extra argument to ``FlatMap``: Beam calls a DoFn
    with extra arguments through a slower path, for every element of every branch.
    """

    def keep(record: Tagged):
        return (record.value,) if record.tag == tag else ()

    keep.branch_tag = tag
    return keep


class Branches(beam.PTransform):
    """``Tagged`` records to an ``Outputs`` of one PCollection per tag, tags stripped.

    Every tag a DoFn yields must be named here: a record of any other tag
    goes to no branch.
    """

    def __init__(self, *tags: str):
        super().__init__()
        self._tags = tags

    def expand(self, tagged):
        return Outputs(
            {
                tag: tagged | f"Only{tag.title().replace('_', '')}" >> beam.FlatMap(only(tag))
                for tag in self._tags
            }
        )
