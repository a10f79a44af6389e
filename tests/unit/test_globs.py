"""Literal paths escaped for Beam's matcher, and local matching where ``*`` stops at ``/``."""

import re

import pytest
from apache_beam.io.filesystem import FileSystem

from transforms.lib import globs

ODD = ["a[1].txt", "b?.txt", "c*.txt", "d\\e.txt", "e]f.txt", "[!x].txt", "g[]h.txt", "**"]
NEIGHBOURS = ["a1.txt", "bx.txt", "czz.txt", "x.txt", "gh.txt", "d", "e"]


@pytest.mark.parametrize("name", ODD)
@pytest.mark.filterwarnings("ignore:Possible nested set")  # Beam's regex for "[[]", not ours
def test_an_escaped_path_matches_itself_alone_in_beam_and_here(name):
    pattern = globs.escape("/data/" + name)
    for regex in (FileSystem.translate_pattern(pattern), globs.translate(pattern)):
        assert re.match(regex, "/data/" + name)
        for other in NEIGHBOURS + [n for n in ODD if n != name]:
            assert not re.match(regex, "/data/" + other), (name, other)


@pytest.mark.parametrize("name", [*ODD, "plain.txt"])
def test_literal_gives_back_the_escaped_path(name):
    assert globs.literal(globs.escape("/data/" + name)) == "/data/" + name


@pytest.mark.parametrize("pattern", ["/data/*", "/data/a[12]", "/data/[*]x?", "/data/**"])
def test_literal_is_none_for_a_real_pattern(pattern):
    assert globs.literal(pattern) is None


def test_escape_leaves_plain_paths_alone():
    assert globs.escape("/data/plain-name_1.txt") == "/data/plain-name_1.txt"
    assert not globs.has_glob(globs.escape("/data/plain.txt"))
    assert globs.has_glob(globs.escape("/data/a[1]"))


def test_a_star_here_matches_a_backslash_but_never_a_slash():
    regex = globs.translate("/data/*.txt")
    assert re.match(regex, "/data/d\\e.txt")
    assert not re.match(FileSystem.translate_pattern("/data/*.txt"), "/data/d\\e.txt")  # Beam
    assert not re.match(regex, "/data/sub/x.txt")
    assert re.match(globs.translate("/data/**"), "/data/sub/x.txt")


@pytest.mark.parametrize(
    "pattern", ["/d/*.txt", "/d/**/x*", "/d/[ab]*", "/d/[!a]?", "/d/a[1]*", "/d/[*]x*", "/d/x["]
)
def test_widen_matches_at_least_what_translate_matches(pattern):
    names = ["/d/a.txt", "/d/b\\c.txt", "/d/sub/x1", "/d/ab", "/d/a1z", "/d/*xy", "/d/x["]
    wide = FileSystem.translate_pattern(globs.widen(pattern))
    for name in names:
        if re.match(globs.translate(pattern), name):
            assert re.match(wide, name), (pattern, name)


def test_a_path_has_one_listing_shard_in_every_process():
    paths = [f"/news/{i:04d}.txt" for i in range(400)]
    shards = [globs.shard_of_path(path, 8) for path in paths]
    assert set(shards) == set(range(8))  # every shard gets files
    # zlib.crc32, never hash(): the value is fixed, whatever PYTHONHASHSEED says
    assert globs.shard_of_path("/news/0000.txt", 8) == 0
    assert globs.shard_of_path("/news/\udcff.txt", 1) == 0  # undecodable names too
