"""Committed Parquet files, each read once per process: a ``watch`` poll reads what is new.

No Beam here. A committed file never changes: a commit moves new files in
under new names, and a compaction writes new files and removes the old. So
what was read of one is kept under its path, size and modification time,
and a later run in the same process (``watch``'s next poll) reads only the
files committed since. A file no longer listed is let go; a file whose size
or time the filesystem does not give is read every time.
"""

import collections
import threading
from collections.abc import Callable, Iterable

# path, size in bytes, modification time (seconds)
Stamp = tuple[str, int | None, float | None]


class FileTables:
    """What was read of each listed file, by ``group`` (one table of one output, say).

    Keeps the files of the ``max_groups`` groups used last; within a group,
    only the files of its latest listing.
    """

    def __init__(self, *, max_groups: int = 8):
        self._groups: collections.OrderedDict[str, dict[Stamp, object]] = collections.OrderedDict()
        self._max_groups = max_groups
        self._lock = threading.Lock()

    def read_all(
        self,
        group: str,
        files: Iterable[Stamp],
        read: Callable[[str], object],
        *,
        keep: Callable[[object], bool] | None = None,
    ) -> list:
        """``read(path)`` of each file, in order, from what was kept when the same file
        (same path, size and time) was read before. What ``read`` raises is raised;
        with ``keep``, only what it approves of is kept for next time."""
        files = list(files)
        with self._lock:
            known = self._groups.get(group, {})
        listed = {}
        for stamp in files:
            listed[stamp] = known[stamp] if stamp in known else read(stamp[0])
        with self._lock:
            self._groups[group] = {
                s: v for s, v in listed.items() if None not in s and (keep is None or keep(v))
            }
            self._groups.move_to_end(group)
            while len(self._groups) > self._max_groups:
                self._groups.popitem(last=False)
        return [listed[stamp] for stamp in files]
