"""A time limit on one call of work that cannot be interrupted from inside (spaCy, lxml).

No Beam here. Python cannot stop a thread, so a call that runs out of time
is abandoned, not killed: it may keep a core busy until it ends, but the run
goes on and the input becomes an errors row (``time_limit``).
"""

import threading

from transforms.records import Rejected


def call_with_time_limit(function, *args, seconds: float | None, what: str, **kwargs):
    """``function(*args, **kwargs)``, or ``Rejected("time_limit")`` after ``seconds``.

    Exceptions of the call are raised as they are. ``seconds=None`` calls
    ``function`` directly, in this thread.
    """
    if seconds is None:
        return function(*args, **kwargs)
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True, name=f"newsbeam-{what}")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise Rejected("time_limit", f"{what} took longer than {seconds:g} s and was abandoned")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
