"""Shared fixtures: the repo's paths, the shared evaluation data, and the model."""

import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SEED_ARTICLE = SEEDS / "000_9ad307750ad99124.txt"
SHARED = REPO.parent / "shared"
EVALDATA = SHARED / "evaldata"


def evaldata(*parts: str) -> pathlib.Path:
    """A path under ../shared/evaldata, or a clean skip when it is absent (a user's clone)."""
    path = EVALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"evaluation data {path} is absent")
    return path


@pytest.fixture(scope="session")
def nlp():
    from transforms.nlp import load_model

    return load_model()
