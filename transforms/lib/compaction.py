"""Which committed files ``newsbeam compact`` merges, and how their rows keep the table's schema.

No Beam here, and no I/O: the plan is made from paths and sizes, and
``conform`` works on Arrow batches. ``pipelines.compact`` reads and writes.
"""

from collections.abc import Iterable, Mapping
from typing import NamedTuple

import pyarrow as pa

__all__ = ["Merge", "conform", "missing_columns", "parse_size", "plan"]

# Powers of 1024, as Spark and most query engines count file sizes.
_UNITS = {"": 1, "b": 1} | {
    unit: 1024**power
    for power, letter in enumerate("kmgt", start=1)
    for unit in (letter, f"{letter}b", f"{letter}ib")
}


class Merge(NamedTuple):
    """Files of one table and partition folder to merge into one, in this order."""

    table: str
    partition: str  # the folder's value: ``2026-11-28`` of ``date=2026-11-28``
    paths: tuple[str, ...]
    size: int  # bytes, all files together


def parse_size(value: str) -> int:
    """Bytes in ``128MB``, ``64MiB``, ``1.5G``, ``500kB`` or ``1000000``.

    Units are case-insensitive powers of 1024 (``MB`` and ``MiB`` alike).
    Raises ``ValueError`` for anything else and for a size below one byte.
    """
    text = value.strip().lower().replace(" ", "")
    number = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(number) :]
    try:
        size = float(number) * _UNITS[unit]
    except (ValueError, KeyError):
        raise ValueError(f"{value!r} is not a size like 128MB, 64MiB or 1GB") from None
    if not size >= 1:
        raise ValueError(f"{value!r} is less than one byte")
    return int(size)


def plan(files: Mapping[str, Iterable[tuple[str, int]]], *, target_bytes: int) -> list[Merge]:
    """The merges that leave few files per table and partition, none larger than the target.

    ``files`` maps a table to its committed ``(path, size)`` pairs; a
    partition is a path's folder (``.../date=2026-11-28/``). A file of at
    least half ``target_bytes`` is large enough and left alone, so no byte
    is rewritten for ever; the small ones are taken in path order (for
    newsbeam's names, the order of their runs) and packed while their sizes
    add up to ``target_bytes`` at most. A pack of one file is no merge.
    """
    merges = []
    for table, listed in sorted(files.items()):
        folders: dict[str, list[tuple[str, int]]] = {}
        for path, size in sorted(listed):
            if size < target_bytes / 2:
                folders.setdefault(path.rsplit("/", 1)[0], []).append((path, size))
        for folder, small in sorted(folders.items()):
            partition = folder.rsplit("/", 1)[-1].split("=", 1)[-1]
            packs: list[list[tuple[str, int]]] = [[]]
            for path, size in small:
                if packs[-1] and sum(s for _p, s in packs[-1]) + size > target_bytes:
                    packs.append([])
                packs[-1].append((path, size))
            merges += [
                Merge(table, partition, tuple(p for p, _s in pack), sum(s for _p, s in pack))
                for pack in packs
                if len(pack) > 1
            ]
    return merges


def missing_columns(file_schema: pa.Schema, schema: pa.Schema) -> list[str] | None:
    """The columns of ``schema`` a file lacks (an older newsbeam wrote it); None when the file
    cannot take ``schema`` without losing data: a column ``schema`` has not, or a required
    column it lacks."""
    unknown = set(file_schema.names) - set(schema.names)
    missing = [field for field in schema if field.name not in file_schema.names]
    if unknown or any(not field.nullable for field in missing):
        return None
    return [field.name for field in missing]


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` with exactly ``schema``'s columns: in its order and types, a missing
    (nullable) column as nulls."""
    names = batch.schema.names
    columns = [
        batch.column(names.index(field.name)).cast(field.type)
        if field.name in names
        else pa.nulls(batch.num_rows, field.type)
        for field in schema
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)
