"""The tree keeps its promise: the logic under ``transforms/lib`` never imports Beam."""

import subprocess
import sys

from tests.helpers import REPO

LIB = REPO / "transforms" / "lib"


def lib_modules() -> list[str]:
    """Dotted names of every module under ``transforms/lib``, subpackages included."""
    names = set()
    for path in LIB.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def test_every_lib_module_imports_without_beam():
    modules = lib_modules()
    assert len(modules) >= 10
    assert "transforms.lib.quotes.marks" in modules  # subpackages are covered too
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
