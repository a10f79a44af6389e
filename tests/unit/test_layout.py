"""The tree keeps its promise: the logic under ``transforms/lib`` never imports Beam."""

import subprocess
import sys

from tests.helpers import REPO

LIB = REPO / "transforms" / "lib"


def test_every_lib_module_imports_without_beam():
    modules = sorted(
        f"transforms.lib.{path.stem}" for path in LIB.glob("*.py") if path.stem != "__init__"
    )
    assert len(modules) >= 10
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sum(m.split('.')[0] == 'apache_beam' for m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0", "apache_beam was imported by transforms.lib"
