"""The wheel, installed into a fresh virtual environment, runs the seeds from another folder."""

import os
import subprocess
import sys
import venv

import pytest

from tests.helpers import REPO, SEEDS


def _run(command, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the wheel, not the tree
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, **kwargs)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr[-3000:]}"
    return result


@pytest.mark.slow
def test_the_wheel_installs_and_runs_the_seeds_from_another_folder(tmp_path):
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", str(REPO), "-w", str(dist), "--no-deps", "-q"])
    (wheel,) = dist.glob("newsbeam-*.whl")
    # The system's packages stand in for the dependencies, so nothing is downloaded.
    venv.create(tmp_path / "venv", with_pip=True, system_site_packages=True)
    bin_dir = tmp_path / "venv" / "bin"
    _run([bin_dir / "python", "-m", "pip", "install", "-q", "--no-deps", wheel])
    where = tmp_path / "elsewhere"
    where.mkdir()

    from importlib.metadata import version

    assert _run([bin_dir / "newsbeam", "--version"], cwd=where).stdout.split() == [
        "newsbeam",
        version("newsbeam"),
    ]
    found = _run(
        [bin_dir / "python", "-c", "import newsbeam, pipelines; print(newsbeam.__file__)"],
        cwd=where,
    )
    assert str(tmp_path / "venv") in found.stdout  # the installed copy, not the source tree
    ingest = _run(
        [bin_dir / "newsbeam", "ingest", "--input", f"{SEEDS}/", "--output", "out"], cwd=where
    )
    assert "articles written      12" in ingest.stdout
    count = _run(
        [bin_dir / "python", "-m", "newsbeam", "query", "out", "select count(*) from quotes"],
        cwd=where,
    )
    assert int(count.stdout.split()[-3]) > 0, count.stdout
