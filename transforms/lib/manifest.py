"""The input manifest: the input files an output has ingested, and which a run must read.

An output remembers each input file a committed run read, by its origin
(``key_of``, its path as the tables write it): its size and
modification time when it was read, the SHA-256 of its bytes where that is
cheap (a local file of at most ``Limits.max_hash_bytes``), whether it gave
any article (``ok``) or only errors rows (``failed``), and the run. A later
run reads a listed file only when it is new or changed (``plan_reads``):

- the same size and modification time: unchanged, not read;
- the same size, another modification time and a known hash: changed only
  when its bytes hash differently (a ``touch``, or a copy that lost the
  time, is no change);
- anything else: read again.

A file whose run failed was never recorded, so it is read again. On disk
(``transforms.store``) the manifest is a base plus one small log per
committed run, named by a sequence number, merged into a new base once
``Limits.manifest_logs`` logs have gathered: a run writes only the files it
read, never the whole manifest. Pure functions, no Beam.
"""

import dataclasses
import hashlib
import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import NamedTuple

from transforms.lib.formats import path_origin

__all__ = [
    "FAILED",
    "OK",
    "FileEntry",
    "InputManifest",
    "ReadPlan",
    "base_name",
    "decode_base",
    "decode_legacy",
    "decode_log",
    "encode_base",
    "encode_log",
    "file_entries",
    "file_of",
    "key_of",
    "log_name",
    "origin_files",
    "parse_name",
    "plan_reads",
    "sha256_of",
]

VERSION = 1
OK = "ok"  # the file gave at least one article (or a copy of one already written)
FAILED = "failed"  # the file gave only errors rows
_STATUSES = (OK, FAILED)
_NONE = type(None)
_COLUMN_TYPES = {  # in the order of the document's columns: path, then FileEntry's fields
    "path": {str},
    "size": {int, _NONE},
    "mtime": {int, float, _NONE},
    "sha256": {str, _NONE},
    "status": {str},
    "run_id": {str, _NONE},
}
_NAME = re.compile(r"^(base|log)-(\d{12})(?:-[^/]*)?\.json$")
_HASH_CHUNK = 1024 * 1024


def key_of(path: str) -> str:
    """A file's key in the manifest: its ``origin``, as the tables name it (a name that is
    not valid UTF-8 has ``\\xNN`` escapes there, so that it can be written)."""
    return path_origin(path)


class FileEntry(NamedTuple):
    """What the manifest knows of one input file."""

    size: int | None
    mtime: float | None  # seconds since the epoch, as the filesystem lists it
    sha256: str | None  # of the file's bytes as stored; None where hashing is not cheap
    status: str  # OK or FAILED
    run_id: str | None  # the run that read it; None for a file from watch's old state

    @property
    def stamp(self) -> tuple[int | None, float | None]:
        return (self.size, self.mtime)


@dataclasses.dataclass
class InputManifest:
    """Every file entry, by path, and where on disk they were read up to."""

    files: dict[str, FileEntry] = dataclasses.field(default_factory=dict)
    base: int = 0  # the sequence number of the base read (0: none)
    sequence: int = 0  # the last log applied


class ReadPlan(NamedTuple):
    """What a run does with each listed file, each list sorted."""

    read: list[str]  # new or changed
    unchanged: list[str]  # recorded with the same size and time: not read
    to_verify: list[str]  # same size, another time, a known hash: read if the bytes differ


def plan_reads(
    listing: Mapping[str, tuple[int | None, float | None]], known: Mapping[str, FileEntry]
) -> ReadPlan:
    """Sorts the listed files (path -> (size, modification time)) by what ``known`` (by
    ``key_of`` the path) says."""
    read, unchanged, to_verify = [], [], []
    for path in sorted(listing):
        size, mtime = listing[path]
        entry = known.get(key_of(path))
        if entry is None or entry.size != size:
            read.append(path)
        elif entry.mtime == mtime:
            unchanged.append(path)
        elif entry.sha256 is not None:
            to_verify.append(path)
        else:
            read.append(path)
    return ReadPlan(read, unchanged, to_verify)


def sha256_of(read: Callable[[int], bytes]) -> str:
    """The hex SHA-256 of everything ``read`` (a binary file's ``read``) returns."""
    digest = hashlib.sha256()
    while chunk := read(_HASH_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def origin_files(origin: str) -> list[str]:
    """The file origins an article's ``origin`` may come from, longest first.

    A record of a ``.jsonl`` file or a ``.json`` array is ``file#N``, a feed
    file's entry ``file#entry-id`` (whose id may hold ``#`` too), and a file
    name may hold ``#`` itself: so the origin and each part of it before a
    ``#`` are candidates, and the reader's file origins pick the one that is.
    """
    candidates = [origin]
    while "#" in origin:
        origin = origin.rsplit("#", 1)[0]
        candidates.append(origin)
    return candidates


def file_of(origin: str, file_origins: Collection[str]) -> str | None:
    """The one of ``file_origins`` (the files a run read) that an article's ``origin`` comes
    from; None for an article of a feed or a page."""
    return next((c for c in origin_files(origin) if c in file_origins), None)


def file_entries(
    files: Iterable[Mapping], settled: Collection[str], *, run_id: str
) -> dict[str, FileEntry]:
    """The entries of the files a run read, by origin (``key_of``).

    ``files`` are the reader's records of each file (``origin``, ``size``,
    ``mtime``, ``sha256``); ``settled`` the file origins that gave an article
    or a declared duplicate. Every other file gave only errors rows: it is
    ``failed``, and recorded all the same, so that it is read again only
    when it changes.
    """
    return {
        file["origin"]: FileEntry(
            size=file["size"],
            mtime=file["mtime"],
            sha256=file["sha256"],
            status=OK if file["origin"] in settled else FAILED,
            run_id=run_id,
        )
        for file in files
    }


# ---------------------------------------------------------------- on disk


def base_name(sequence: int) -> str:
    """``base-000000000042.json``: every entry through log 42."""
    return f"base-{sequence:012d}.json"


def log_name(sequence: int, run_id: str) -> str:
    """``log-000000000043-<run_id>.json``: the files one committed run read."""
    return f"log-{sequence:012d}-{run_id}.json"


def parse_name(name: str) -> tuple[str, int] | None:
    """(``base`` or ``log``, sequence number) of a manifest file name; None for another."""
    match = _NAME.match(name)
    return (match.group(1), int(match.group(2))) if match else None


def encode_base(files: Mapping[str, FileEntry], *, through: int) -> dict:
    return {"version": VERSION, "through": through, "files": _encode(files)}


def encode_log(files: Mapping[str, FileEntry], *, run_id: str) -> dict:
    return {"version": VERSION, "run_id": run_id, "files": _encode(files)}


def _encode(files: Mapping[str, FileEntry]) -> dict:
    # By column, not one list per file: a load of 100,000 files then checks and builds its
    # entries in a few C-level passes instead of 100,000 Python ones.
    entries = list(files.values())
    columns = enumerate(FileEntry._fields)
    return {"path": list(files), **{name: [e[i] for e in entries] for i, name in columns}}


def decode_base(document: object) -> tuple[dict[str, FileEntry], int]:
    """(entries, sequence through which they go) of a base; ``ValueError`` says what is wrong."""
    files = _decode(document)
    through = document.get("through")
    if not isinstance(through, int) or isinstance(through, bool) or through < 0:
        raise ValueError("'through' is not a sequence number")
    return files, through


def decode_log(document: object) -> dict[str, FileEntry]:
    """The entries of a log; ``ValueError`` says what is wrong."""
    return _decode(document)


def _decode(document: object) -> dict[str, FileEntry]:
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise ValueError(f"not a version {VERSION} manifest file")
    files = document.get("files")
    names = list(_COLUMN_TYPES)
    if not isinstance(files, dict) or not all(isinstance(files.get(n), list) for n in names):
        raise ValueError(f"'files' is not an object of the columns {', '.join(names)}")
    columns = [files[name] for name in names]
    if len({len(column) for column in columns}) != 1:
        raise ValueError("the columns of 'files' differ in length")
    for name, allowed in _COLUMN_TYPES.items():
        found = set(map(type, files[name])) - allowed  # exact types: a JSON true is no size
        if found:
            raise ValueError(f"'{name}' holds a {sorted(t.__name__ for t in found)[0]}")
    if not set(files["status"]) <= set(_STATUSES):
        raise ValueError(f"'status' holds something other than {' or '.join(_STATUSES)}")
    entries = map(FileEntry._make, zip(*columns[1:], strict=True))  # lengths checked above
    return dict(zip(files["path"], entries, strict=True))


def _is_number(value: object, kind) -> bool:
    return value is None or (isinstance(value, kind) and not isinstance(value, bool))


def decode_legacy(document: object, *, cwd: str) -> dict[str, FileEntry]:
    """The entries of ``watch``'s old file state (``{path: [size, mtime]}``).

    Its paths were listed as the watched pattern was given, perhaps relative:
    they are read against ``cwd``. Its files are taken as ingested (``ok``):
    the old state did not say. ``ValueError`` says what is wrong.
    """
    if not isinstance(document, dict):
        raise ValueError("not an object of [size, mtime] pairs")
    files = {}
    for path, stamp in document.items():
        if not (
            isinstance(stamp, list)
            and len(stamp) == 2
            and all(_is_number(value, int | float) for value in stamp)
        ):
            raise ValueError("not an object of [size, mtime] pairs")
        absolute = path if "://" in path else os.path.normpath(os.path.join(cwd, path))
        files[key_of(absolute)] = FileEntry(stamp[0], stamp[1], None, OK, None)
    return files
