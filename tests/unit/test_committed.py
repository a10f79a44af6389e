"""Committed files read once per process (transforms.lib.committed): no Beam, no files."""

from transforms.lib.committed import FileTables


def test_a_file_is_read_again_only_when_its_size_or_time_changed():
    reads = []

    def read(path):
        reads.append(path)
        return f"table of {path}"

    cache = FileTables()
    first = [("a", 10, 1.0), ("b", 20, 2.0)]
    assert cache.read_all("g", first, read) == ["table of a", "table of b"]
    # The next run: one file more (a commit), one rewritten.
    later = [("a", 10, 1.0), ("b", 21, 3.0), ("c", 5, 4.0)]
    assert cache.read_all("g", later, read) == ["table of a", "table of b", "table of c"]
    assert reads == ["a", "b", "b", "c"]


def test_files_no_longer_listed_are_let_go_and_unknown_stamps_never_kept():
    reads = []

    def read(path):
        reads.append(path)
        return path.upper()

    cache = FileTables(max_groups=1)
    cache.read_all("g", [("a", 10, 1.0), ("n", None, None)], read)
    cache.read_all("g", [("a", 10, 1.0), ("n", None, None)], read)
    assert reads == ["a", "n", "n"]
    cache.read_all("g", [("b", 10, 1.0)], read)  # "a" compacted away
    assert cache.read_all("g", [("a", 10, 1.0)], read) == ["A"]
    assert reads == ["a", "n", "n", "b", "a"]
    cache.read_all("other", [("a", 10, 1.0)], read)  # one group kept: "g" goes
    cache.read_all("g", [("a", 10, 1.0)], read)
    assert reads[-2:] == ["a", "a"]


def test_what_keep_refuses_is_read_again_next_time():
    reads = []

    def read(path):
        reads.append(path)
        return OSError(path) if path == "bad" else path

    cache = FileTables()
    files = [("ok", 1, 1.0), ("bad", 1, 1.0)]
    keep = lambda value: not isinstance(value, Exception)  # noqa: E731
    first = cache.read_all("g", files, read, keep=keep)
    assert first[0] == "ok" and isinstance(first[1], OSError)
    cache.read_all("g", files, read, keep=keep)
    assert reads == ["ok", "bad", "bad"]
