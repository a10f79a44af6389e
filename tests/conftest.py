"""Shared fixtures. Shared functions and paths live in ``tests/helpers.py``."""

import os

import pytest

try:
    from hypothesis import settings
except ImportError:  # the dev extras are not installed: the property tests skip themselves
    settings = None

if settings is not None:
    # CI runs more examples; neither profile has a deadline, since one slow first call
    # (ftfy's or langid's tables loading) would fail a run for nothing.
    settings.register_profile("ci", max_examples=200, deadline=None)
    settings.register_profile("dev", max_examples=50, deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def nlp():
    """The default model, loaded once for the whole test session."""
    from transforms.lib.nlp import load_model

    return load_model()
