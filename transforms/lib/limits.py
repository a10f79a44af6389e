"""A time limit on one call of work that cannot be interrupted from inside (spaCy, lxml).

No Beam here. Python cannot stop a thread, so a call that runs out of time
is abandoned, not killed: it may keep a core busy until it ends, but the run
goes on and the input becomes an errors row (``time_limit``).

Calls run on one long-lived helper thread per calling thread rather than on a
new thread each, so a run of many small calls (HTML extraction is one per
page) does not start a thread per call, and the work stays in one allocator
arena. A new helper is started only after a call is abandoned.
"""

import queue
import threading

from transforms.lib.records import ErrorType, Rejected

_STOP = object()
_local = threading.local()


class _Helper:
    """A daemon thread that runs the calls it is given, one at a time."""

    def __init__(self, name: str):
        self._calls = queue.SimpleQueue()
        threading.Thread(target=self._serve, daemon=True, name=name).start()

    def _serve(self):
        while (call := self._calls.get()) is not _STOP:
            function, args, kwargs, outcome, done = call
            try:
                outcome["value"] = function(*args, **kwargs)
            except BaseException as exc:  # handed to the caller's thread
                outcome["error"] = exc
            done.set()

    def run(self, function, args, kwargs, seconds: float) -> dict | None:
        """The call's outcome, or None when it is still running after ``seconds``."""
        outcome, done = {}, threading.Event()
        self._calls.put((function, args, kwargs, outcome, done))
        return outcome if done.wait(seconds) else None

    def retire(self):
        """The thread ends once its current call returns."""
        self._calls.put(_STOP)


def call_with_time_limit(function, *args, seconds: float | None, what: str, **kwargs):
    """``function(*args, **kwargs)``, or ``Rejected(ErrorType.TIME_LIMIT)`` after ``seconds``.

    Exceptions of the call are raised as they are. ``seconds=None`` calls
    ``function`` directly, in this thread.
    """
    if seconds is None:
        return function(*args, **kwargs)
    helper = getattr(_local, "helper", None)
    if helper is None:
        helper = _local.helper = _Helper(f"newsbeam-limit-{threading.get_ident()}")
    outcome = helper.run(function, args, kwargs, seconds)
    if outcome is None:
        helper.retire()
        _local.helper = None
        raise Rejected(
            ErrorType.TIME_LIMIT, f"{what} took longer than {seconds:g} s and was abandoned"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
