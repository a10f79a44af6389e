"""Time limits: a call that runs too long is abandoned as a reject."""

import threading
import time

import pytest

from transforms.lib.limits import call_with_time_limit
from transforms.lib.records import Rejected


def test_call_within_the_limit_returns_its_value_and_raises_its_errors():
    assert call_with_time_limit(lambda x: x * 2, 21, seconds=5, what="doubling") == 42
    with pytest.raises(ZeroDivisionError):
        call_with_time_limit(lambda: 1 / 0, seconds=5, what="dividing")
    assert call_with_time_limit(lambda: "direct", seconds=None, what="no limit") == "direct"


def test_a_call_over_the_limit_is_abandoned_as_a_reject():
    started = time.monotonic()
    with pytest.raises(Rejected) as caught:
        call_with_time_limit(time.sleep, 5, seconds=0.2, what="sleeping")
    assert time.monotonic() - started < 2
    assert caught.value.error_type == "time_limit"
    assert "sleeping took longer than 0.2 s" in caught.value.message


def test_calls_share_one_helper_thread_until_one_is_abandoned():
    first = call_with_time_limit(threading.get_ident, seconds=5, what="ident")
    assert call_with_time_limit(threading.get_ident, seconds=5, what="ident") == first
    assert first != threading.get_ident()
    with pytest.raises(Rejected):
        call_with_time_limit(time.sleep, 0.5, seconds=0.1, what="sleeping")
    after = call_with_time_limit(threading.get_ident, seconds=5, what="ident")
    assert after != first  # a fresh helper, not the one still sleeping
    # The abandoned helper ends once its call returns: no thread is leaked.
    deadline = time.monotonic() + 5
    while first in {t.ident for t in threading.enumerate()} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first not in {t.ident for t in threading.enumerate()}
    assert after in {t.ident for t in threading.enumerate()}
