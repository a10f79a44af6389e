"""Arrow schemas of the four output tables: the contract with analysts."""

from schemas.tables import (
    ARTICLES,
    ENTITIES,
    ERRORS,
    PARTITION_COLUMN,
    QUOTES,
    SCHEMA_VERSION,
    TABLES,
    empty_table,
)

__all__ = [
    "ARTICLES",
    "ENTITIES",
    "ERRORS",
    "PARTITION_COLUMN",
    "QUOTES",
    "SCHEMA_VERSION",
    "TABLES",
    "empty_table",
]
