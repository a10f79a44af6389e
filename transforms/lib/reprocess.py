"""The rows ``newsbeam reprocess`` reads back from committed files, and how it settles each article.

No Beam here. A committed file's rows come back as the pipeline's row dicts
(``table_rows``); once the model has run again, ``settle`` decides per
article what is written: the new annotation, or, when the model failed on
it, the old rows unchanged.
"""

from collections.abc import Iterable, Mapping

from schemas import PARTITION_COLUMN, SCHEMA_VERSION, TABLES

__all__ = ["partition_of", "settle", "table_rows"]


def partition_of(path: str) -> str:
    """The partition value in a committed file's path: ``2026-11-28`` of ``.../date=2026-11-28/x``.

    Raises ``ValueError`` for a path whose folder is not ``date=...``.
    """
    folder = path.replace("\\", "/").rsplit("/", 2)[-2]
    name, equals, value = folder.partition("=")
    if name != PARTITION_COLUMN or not equals or not value:
        raise ValueError(f"{path} is not in a {PARTITION_COLUMN}=... folder")
    return value


def table_rows(table: str, records: Iterable[Mapping], date: str) -> list[dict]:
    """``records`` read from a file of ``table`` as the table's row dicts: every column (one
    an older newsbeam did not write is None) and the partition ``date``.

    Raises ``ValueError`` for a column the table has not: rewriting the file
    would lose it.
    """
    names = TABLES[table].names
    rows = []
    for record in records:
        unknown = record.keys() - set(names)
        if unknown:
            raise ValueError(
                f"a {table} file has columns this newsbeam does not know: {sorted(unknown)}"
            )
        rows.append({**{name: record.get(name) for name in names}, PARTITION_COLUMN: date})
    return rows


def settle(
    old: list[dict], new: list[dict], entities: list[dict], quotes: list[dict]
) -> dict[str, list[dict]]:
    """What one reprocessed article leaves: ``articles``, ``entities``, ``quotes`` to write
    besides the new annotation's own rows, and the old entity rows ``withdrawn`` from the
    resolution totals.

    ``old`` is the article's committed row, ``new`` the row enrichment gave back
    (with its ``nlp_model`` and ``nlp_version``), ``entities`` and ``quotes``
    its committed rows. With a new row, the old entities and quotes go; with
    none (the model failed on it: an errors row says why), everything old is
    kept, so a later reprocess tries it again.
    """
    if new:
        articles = [{**article, "schema_version": SCHEMA_VERSION} for article in new]
        return {"articles": articles, "entities": [], "quotes": [], "withdrawn": entities}
    return {"articles": old, "entities": entities, "quotes": quotes, "withdrawn": []}
