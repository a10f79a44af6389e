"""Beam's fixed cost of building a pipeline, cut on the local runner, where a watch builds
one every poll.

A poll that finds 20 new articles builds, translates and runs a graph of some
180 transforms. Besides the work itself, most of what that costs is Beam's
own bookkeeping, paid in full by every run; three parts of it are needless
on the local runner:

- each options view (``PipelineOptions.view_as``) parses every Beam option
  again, and Beam asks for hundreds per pipeline: ``ViewsOnce`` makes each
  kind of view once;
- each DoFn's state and timer specs are worked out from the signatures of all
  its methods seven times a run (twice as its ParDo is made, three times as
  the graph is translated, twice in the worker): ``remember_dofn_specs`` keeps
  them per DoFn object, whose methods never change;
- construction-time type inference and checking only check newsbeam's own
  graph (its tests run with them): ``--no_pipeline_type_check``, unless a
  type-check option is given;
- the argument names of each function Beam calls (DoFn methods, the callables of
  ``Map`` and ``FlatMap``) are read from its signature some 900 times a poll, as
  the graph is built, translated and unpickled in the worker:
  ``remember_function_arguments`` reads them once per code object for functions
  without defaults, whose arguments their code alone decides.

Together they take the P8 poll's graph from about 1.3 s to 0.35 s to build and
translate. Other runners get Beam's options as they are.
"""

import contextlib
import types
import weakref

from apache_beam.options.pipeline_options import PipelineOptions

__all__ = ["ViewsOnce", "local_options", "remember_dofn_specs", "remember_function_arguments"]

_NO_TYPE_CHECK = "--no_pipeline_type_check"


class ViewsOnce(PipelineOptions):
    """``PipelineOptions`` whose views are made once per kind: a view only reads and writes
    the options they all share, so one per kind serves every call."""

    def view_as(self, cls):
        views = self.__dict__.setdefault("_views", {})
        view = views.get(cls)
        if view is None:
            view = views[cls] = super().view_as(cls)
        return view

    def __getstate__(self):
        # A copy (Beam copies the options of each pipeline) makes views of its own options.
        state = dict(super().__getstate__())
        state.pop("_views", None)
        return state


def remember_dofn_specs() -> None:
    """Makes Beam's ``userstate.get_dofn_specs`` work out each DoFn object's specs once.

    For the whole process; calling it again changes nothing.
    """
    from apache_beam.transforms import userstate

    work_out = userstate.get_dofn_specs
    if getattr(work_out, "remembers", False):
        return
    known = weakref.WeakKeyDictionary()

    def get_dofn_specs(dofn):
        try:
            state_specs, timer_specs = known[dofn]
        except (KeyError, TypeError):  # TypeError: a DoFn that cannot be a key
            state_specs, timer_specs = work_out(dofn)
            with contextlib.suppress(TypeError):
                known[dofn] = (state_specs, timer_specs)
        return set(state_specs), set(timer_specs)  # the caller's to change

    get_dofn_specs.remembers = True
    userstate.get_dofn_specs = get_dofn_specs


def remember_function_arguments() -> None:
    """Makes Beam's ``core.get_function_args_defaults`` read the arguments of each function
    once per code object, when neither defaults nor a wrapper can change them.

    For the whole process; calling it again changes nothing. Any other callable
    (with defaults, wrapped, a builtin, a class) gets Beam's own answer every time.
    """
    from apache_beam.transforms import core

    work_out = core.get_function_args_defaults
    if getattr(work_out, "remembers", False):
        return
    known: dict[tuple[types.CodeType, bool], tuple[str, ...]] = {}

    def get_function_args_defaults(f):
        key = _plain_code(f)
        if key is None:
            return work_out(f)
        names = known.get(key)
        if names is None:
            args, defaults = work_out(f)
            if defaults:  # never for a plain function, but Beam's answer wins
                return args, defaults
            names = known[key] = tuple(args)
        return list(names), []  # the caller's to change

    get_function_args_defaults.remembers = True
    core.get_function_args_defaults = get_function_args_defaults


def _plain_code(f) -> tuple[types.CodeType, bool] | None:
    """``(code, bound)`` of a plain function or a method bound to one, neither with default
    values nor a wrapper or signature of its own; else None."""
    bound = isinstance(f, types.MethodType)
    function = f.__func__ if bound else f
    if type(function) is not types.FunctionType:
        return None
    if function.__defaults__ or function.__kwdefaults__:
        return None
    if "__wrapped__" in function.__dict__ or "__signature__" in function.__dict__:
        return None
    return function.__code__, bound


def local_options(beam_args: list[str]) -> PipelineOptions:
    """Beam's options from ``beam_args`` for a run on the local runner (see the module doc)."""
    remember_dofn_specs()
    remember_function_arguments()
    if not any("type_check" in arg for arg in beam_args):
        beam_args = [*beam_args, _NO_TYPE_CHECK]
    return ViewsOnce(beam_args)
