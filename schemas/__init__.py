"""Arrow schemas of the output tables: the contract with analysts."""

from schemas.tables import (
    ARTICLES,
    ENTITIES,
    ENTITY_RESOLUTION,
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
    "ENTITY_RESOLUTION",
    "ERRORS",
    "PARTITION_COLUMN",
    "QUOTES",
    "SCHEMA_VERSION",
    "TABLES",
    "empty_table",
]
