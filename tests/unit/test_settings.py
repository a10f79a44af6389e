"""One place for limits and defaults: ``transforms.lib.settings``, read by everything else."""

import argparse
import dataclasses
import importlib
import re

from pipelines import options
from pipelines.graph import IngestConfig
from tests.helpers import REPO
from transforms.lib.fetch import FetchPolicy
from transforms.lib.settings import DEFAULT_LIMITS, Limits

# Module-level numbers named like limits that are rules of a heuristic, not limits.
_NOT_LIMITS = {
    "transforms.lib.formats._MAX_CONTROL_SHARE",  # the share of control bytes that means binary
    "transforms.lib.text._BOILERPLATE_MAX_CHARS",  # the longest line that may be page furniture
    "transforms.lib.text._MAX_EXTRA_PASSES",  # repair passes until the text stops changing
}
_LIMIT_NAME = re.compile(r"(^|_)(DEFAULT|MAX)_")


def _modules() -> list[str]:
    names = []
    for folder in ("transforms", "pipelines"):
        for path in (REPO / folder).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def test_no_limit_is_kept_outside_the_settings_module():
    copies = [
        f"{name}.{attr}"
        for name in _modules()
        if name != "transforms.lib.settings"
        for attr, value in vars(importlib.import_module(name)).items()
        if _LIMIT_NAME.search(attr)
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ]
    assert sorted(set(copies) - _NOT_LIMITS) == []


def test_command_line_defaults_are_the_default_limits():
    parser = argparse.ArgumentParser()
    options.add_ingest_arguments(parser)
    args = parser.parse_args(["--output", "out"])
    assert options.limits_from(args) == DEFAULT_LIMITS
    args = parser.parse_args(["--output", "out", "--time-limit", "5", "--max-fetch-bytes", "9"])
    assert options.limits_from(args) == dataclasses.replace(
        DEFAULT_LIMITS, time_limit=5.0, max_fetch_bytes=9
    )


def test_ingest_config_holds_one_limits_object():
    fields = {field.name for field in dataclasses.fields(IngestConfig)}
    assert "limits" in fields
    assert not fields & {field.name for field in dataclasses.fields(Limits)}


def test_fetch_policy_numbers_come_from_the_limits():
    assert FetchPolicy() == FetchPolicy.from_limits(DEFAULT_LIMITS)
    limits = dataclasses.replace(DEFAULT_LIMITS, max_fetch_bytes=7, total_timeout=3.0)
    policy = FetchPolicy.from_limits(limits, user_agent="ua", allow_private_hosts=True)
    assert (policy.max_bytes, policy.total_timeout, policy.user_agent) == (7, 3.0, "ua")
    assert policy.allow_private_hosts


def test_limits_are_frozen():
    assert dataclasses.is_dataclass(DEFAULT_LIMITS)
    assert DEFAULT_LIMITS.__dataclass_params__.frozen
