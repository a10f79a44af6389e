"""``python -m newsbeam``: the ``newsbeam`` command."""

import sys

from pipelines.cli import main

sys.exit(main())
