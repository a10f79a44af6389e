"""Beam's bookkeeping cut on the local runner (pipelines.beam_costs): the same options, the
same DoFn specs, the same rows; only made once."""

import copy
import pickle

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    StandardOptions,
    TypeOptions,
)
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import userstate
from apache_beam.transforms.userstate import BagStateSpec, TimerSpec, on_timer

from pipelines import beam_costs
from pipelines.options import check_beam_arguments


def test_views_are_made_once_and_share_the_options():
    options = beam_costs.ViewsOnce(["--direct_num_workers", "2"])
    assert options.view_as(DirectOptions) is options.view_as(DirectOptions)
    assert options.view_as(DirectOptions).direct_num_workers == 2
    options.view_as(StandardOptions).streaming = True  # as Beam sets options on a view
    assert options.get_all_options()["streaming"] is True
    for twin in (copy.deepcopy(options), pickle.loads(pickle.dumps(options))):
        assert twin.view_as(StandardOptions).streaming is True
        assert twin.view_as(DirectOptions) is not options.view_as(DirectOptions)
        twin.view_as(DirectOptions).direct_num_workers = 3  # its own options, not the original's
        assert twin.view_as(DirectOptions).direct_num_workers == 3
    assert options.view_as(DirectOptions).direct_num_workers == 2


class _Plain(beam.DoFn):
    def process(self, element):
        yield element


_SEEN = BagStateSpec("seen", beam.coders.StrUtf8Coder())
_FLUSH = TimerSpec("flush", beam.TimeDomain.WATERMARK)
_SEEN_PARAM = beam.DoFn.StateParam(_SEEN)
_FLUSH_PARAM = beam.DoFn.TimerParam(_FLUSH)


class _Stateful(beam.DoFn):
    def process(self, element, seen=_SEEN_PARAM, flush=_FLUSH_PARAM):
        yield element

    @on_timer(_FLUSH)
    def flushed(self):
        return []


def test_dofn_specs_are_beams_own_worked_out_once_per_dofn(monkeypatch):
    calls = []
    work_out = userstate.get_dofn_specs

    def counted(dofn):
        calls.append(dofn)
        return work_out(dofn)

    monkeypatch.setattr(userstate, "get_dofn_specs", counted)  # Beam's own again after the test
    beam_costs.remember_dofn_specs()
    beam_costs.remember_dofn_specs()  # a second call changes nothing
    plain, stateful = _Plain(), _Stateful()
    for _ in range(3):
        assert userstate.get_dofn_specs(plain) == (set(), set())
        assert userstate.get_dofn_specs(stateful) == work_out(stateful)
        assert userstate.is_stateful_dofn(stateful) and not userstate.is_stateful_dofn(plain)
    specs = userstate.get_dofn_specs(stateful)
    assert {spec.name for spec in specs[0]} == {"seen"}
    assert len(specs[1]) == 1  # the flush timer
    specs[0].clear()  # a caller's copy: the remembered specs stay whole
    assert userstate.get_dofn_specs(stateful) == work_out(stateful)
    assert calls.count(plain) == 1 and calls.count(stateful) == 1


def test_the_local_runner_gets_lighter_options_and_others_beams_own():
    local = check_beam_arguments(["--direct_num_workers", "1"])
    assert isinstance(local, beam_costs.ViewsOnce)
    assert local.view_as(TypeOptions).pipeline_type_check is False
    kept = check_beam_arguments(["--type_check_strictness", "ALL_REQUIRED"])
    assert kept.view_as(TypeOptions).pipeline_type_check is True  # the user chose type checks
    portable = check_beam_arguments(["--runner", "PortableRunner"])
    assert type(portable) is PipelineOptions
    assert portable.view_as(TypeOptions).pipeline_type_check is True


def test_a_pipeline_with_the_lighter_options_runs_as_before():
    options = beam_costs.local_options([])
    with TestPipeline(options=options) as pipeline:
        counted = (
            pipeline
            | beam.Create(["b", "a", "b"])
            | beam.Map(lambda word: (word, 1))
            | beam.CombinePerKey(sum)
        )
        assert_that(counted, equal_to([("a", 1), ("b", 2)]))


def _no_defaults(element, side):
    return element


def _with_defaults(element, window=beam.DoFn.WindowParam):
    return element


def _wrapped(element):
    return element


_wrapped.__wrapped__ = _with_defaults  # inspect.signature follows it: Beam's answer


def test_function_arguments_are_beams_own_read_once_per_code(monkeypatch):
    from apache_beam.transforms import core

    calls = []
    work_out = core.get_function_args_defaults

    def counted(f):
        calls.append(getattr(f, "__name__", f))
        return work_out(f)

    monkeypatch.setattr(core, "get_function_args_defaults", counted)  # Beam's own after
    beam_costs.remember_function_arguments()
    beam_costs.remember_function_arguments()  # a second call changes nothing
    twin = pickle.loads(pickle.dumps(_Plain()))  # a new object, as the worker unpickles
    callables = [
        _no_defaults,
        _with_defaults,
        _wrapped,
        _Plain().process,
        twin.process,
        _Stateful().process,
        lambda a, b=1: a,
        len,
    ]
    for f in callables:
        for _ in range(3):
            assert core.get_function_args_defaults(f) == work_out(f)
    args = core.get_function_args_defaults(_no_defaults)[0]
    args.append("x")  # a caller's copy: the remembered names stay whole
    assert core.get_function_args_defaults(_no_defaults) == (["element", "side"], [])
    assert core.get_function_arguments(_Plain(), "process") == (["element"], [])
    assert calls.count("_no_defaults") == 1 and calls.count("process") == 1 + 3  # _Stateful
    assert calls.count("_with_defaults") == 3 and calls.count("_wrapped") == 3
