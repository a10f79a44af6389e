"""The ingest graph has the one shape that every runner, Beam's Dask runner included, runs right.

Beam 2.77's Dask runner gives every tagged output of a ParDo all of its
elements, drops what ``finish_bundle`` emits, computes only the last step of
the graph, cannot read ``beam.io`` sources, and evaluates a side input by
recomputing its branch inside a task (docs/RUNNERS.md). So the graph, built
here with every source and NLP on, and the graph of ``newsbeam reprocess``,
must have: single-output steps, no side inputs, no ``Read``, no
``finish_bundle`` that emits, and one sink, the commit, applied last, that
every other step feeds.
"""

import datetime as dt
import inspect

import apache_beam as beam
from apache_beam.io.iobase import Read
from apache_beam.pipeline import PipelineVisitor

from pipelines import reprocess
from pipelines.graph import IngestConfig, build_pipeline

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


class _Leaves(PipelineVisitor):
    def __init__(self):
        self.leaves = []

    def visit_transform(self, applied):
        self.leaves.append(applied)


def _graph(tmp_path, **overrides):
    everything = {
        "inputs": [str(tmp_path / "in" / "*")],
        "output_dir": str(tmp_path / "out"),
        "run_id": "r",
        "ingested_at": NOW,
        "model": "en_core_web_sm",
        "labels": ("PERSON",),
        "cues": ("said",),
        "feeds": ["http://127.0.0.1:9/feed.xml"],
        "fetch_pages": True,
        "urls": ["http://127.0.0.1:9/a"],
        "sitemaps": ["http://127.0.0.1:9/sitemap.xml"],
        "input_shards": 4,
    }
    config = IngestConfig(**{**everything, **overrides})
    pipeline = beam.Pipeline()
    if config.inputs == ["reprocess"]:
        files = {
            table: [str(tmp_path / f"{table}.parquet")] for table in reprocess.replacing.TABLES
        }
        reprocess.build_pipeline(pipeline, config, files=files, selected=frozenset({"a"}))
    else:
        build_pipeline(pipeline, config)
    visitor = _Leaves()
    pipeline.visit(visitor)
    return visitor.leaves


REPROCESS = {"inputs": ["reprocess"]}


def test_every_step_has_one_output_no_side_input_and_no_read(tmp_path):
    for leaf in [*_graph(tmp_path), *_graph(tmp_path, **REPROCESS)]:
        assert len(leaf.outputs) <= 1, f"{leaf.full_label} has outputs {list(leaf.outputs)}"
        assert not leaf.side_inputs, f"{leaf.full_label} has a side input"
        assert not isinstance(leaf.transform, Read), f"{leaf.full_label} is a Read"


def test_no_step_emits_from_finish_bundle(tmp_path):
    for leaf in [*_graph(tmp_path), *_graph(tmp_path, **REPROCESS)]:
        if isinstance(leaf.transform, beam.ParDo):
            finish_bundle = type(leaf.transform.fn).finish_bundle
            assert not inspect.isgeneratorfunction(finish_bundle), leaf.full_label
            if type(leaf.transform.fn).__module__.startswith(("transforms", "pipelines")):
                assert finish_bundle is beam.DoFn.finish_bundle, leaf.full_label


def _unused_branch(leaf) -> bool:
    """A branch of a stage's output that this run does not use: no step, no effect."""
    return hasattr(getattr(getattr(leaf.transform, "fn", None), "_fn", None), "branch_tag")


def test_the_commit_is_the_one_sink_and_is_applied_last(tmp_path):
    for overrides in ({}, {"nlp": False, "feeds": (), "urls": (), "incremental": False}, REPROCESS):
        leaves = _graph(tmp_path, **overrides)
        consumed = {id(pcoll) for leaf in leaves for pcoll in leaf.main_inputs.values()}
        unconsumed = [
            leaf.full_label
            for leaf in leaves
            if any(id(pcoll) not in consumed for pcoll in leaf.outputs.values())
            and not _unused_branch(leaf)
        ]
        assert unconsumed == ["CommitRun/Commit"], unconsumed
        assert leaves[-1].full_label == "CommitRun/Commit"
