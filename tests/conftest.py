"""Shared fixtures. Shared functions and paths live in ``tests/helpers.py``."""

import pytest


@pytest.fixture(scope="session")
def nlp():
    """The default model, loaded once for the whole test session."""
    from transforms.lib.nlp import load_model

    return load_model()
