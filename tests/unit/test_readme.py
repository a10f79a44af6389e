"""The README's promises name real tests: every ``tests/...py::test_name`` it cites exists."""

import re

from tests.helpers import REPO

_CITED = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")


def test_every_test_the_readme_cites_exists():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    cited = _CITED.findall(readme)
    assert len(cited) >= 20
    missing = []
    for path, name in cited:
        source = REPO / path
        if not source.exists():
            missing.append(path)
        elif name and not re.search(rf"^def {name}\(", source.read_text(), re.MULTILINE):
            missing.append(f"{path}::{name}")
    assert missing == []
