"""File patterns as Beam's filesystems read them: literal paths escaped, local names matched.

Beam's matcher (``FileSystem.translate_pattern``) reads ``*``, ``**``, ``?``
and ``[...]`` in every pattern and has no escape character, so a path that
holds one of them (``out[1]``, ``a?.txt``) is not a path to Beam but a
pattern that matches other names. A one-character class quotes a character
in Beam's matcher, in DuckDB's and in fnmatch: ``escape`` turns ``[`` into
``[[]``, ``*`` into ``[*]`` and ``?`` into ``[?]``.

Beam's ``*`` also never matches a backslash (it stops at ``/`` and ``\\``,
the Windows separator), so ``DIR/*`` misses a POSIX file named ``d\\e.txt``.
``widen`` and ``translate`` let a caller match local files with ``*``
stopping at ``/`` only. Pure functions, no Beam.
"""

import re
import warnings
import zlib

# Beam compiles an escaped "[" ("[[]") into the regex class "[[]", valid but
# flagged by Python as a possible nested set: the warning says nothing to a user.
warnings.filterwarnings(
    "ignore", message="Possible nested set", category=FutureWarning, module="apache_beam"
)

__all__ = ["GLOB_CHARACTERS", "escape", "has_glob", "literal", "translate", "widen"]

GLOB_CHARACTERS = "[*?"
_ESCAPED = re.compile(r"\[([\[*?])\]")


def escape(path: str) -> str:
    """``path`` as a pattern that matches exactly ``path``, in Beam, DuckDB and fnmatch."""
    return "".join(f"[{c}]" if c in GLOB_CHARACTERS else c for c in path)


def literal(pattern: str) -> str | None:
    """The one path ``pattern`` names when it is a plain or ``escape``d path, else None."""
    path = _ESCAPED.sub(r"\1", pattern)
    return None if has_glob(_ESCAPED.sub("", pattern)) else path


def has_glob(pattern: str) -> bool:
    """True when Beam would list and match ``pattern``, not look it up as one path."""
    return any(c in GLOB_CHARACTERS for c in pattern)


def _tokens(pattern: str):
    """``pattern`` as Beam's ``translate_pattern`` reads it: (kind, text) pairs.

    Kinds: ``**``, ``*``, ``?``, ``class`` (text is the regex class), ``char``.
    """
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if i < n and pattern[i] == "*":
                yield "**", "**"
                i += 1
            else:
                yield "*", "*"
        elif c == "?":
            yield "?", "?"
        elif c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal "["
                yield "char", "["
                continue
            # As Beam does; "[" escaped too, which Python would read as a nested set.
            stuff = pattern[i:j].replace("\\", "\\\\").replace("[", "\\[")
            source = pattern[i - 1 : j + 1]
            i = j + 1
            if stuff[0] == "!":
                stuff = "^" + stuff[1:]
            elif stuff[0] == "^":
                stuff = "\\" + stuff
            yield "class", (f"[{stuff}]", source)
        else:
            yield "char", c


def widen(pattern: str) -> str:
    """``pattern`` with each lone ``*`` made ``**``: it matches every name the original
    would match with ``*`` stopping at ``/`` only (and more, for ``translate`` to drop)."""
    pieces = []
    for kind, text in _tokens(pattern):
        if kind == "*":
            pieces.append("**")
        elif kind == "class":
            pieces.append(text[1])
        else:
            pieces.append(text)
    return "".join(pieces)


def translate(pattern: str) -> str:
    """A regex for ``pattern`` read as Beam reads it, except that ``*`` stops at ``/`` only."""
    pieces = []
    for kind, text in _tokens(pattern):
        if kind == "**":
            pieces.append(".*")
        elif kind == "*":
            pieces.append("[^/]*")
        elif kind == "?":
            pieces.append(".")
        elif kind == "class":
            pieces.append(text[0])
        else:
            pieces.append(re.escape(text))
    return r"(?ms)" + "".join(pieces) + r"\Z"


def shard_of_path(path: str, shards: int) -> int:
    """The listing shard of an input file: the same in every process (``hash`` is not)."""
    return zlib.crc32(path.encode("utf-8", "surrogateescape")) % shards
