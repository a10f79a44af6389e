"""Which copy of an article to keep, and which ids are already written: the rules behind
``DeduplicateArticles``."""

import zlib
from collections.abc import Iterable, Mapping


def choose_article(articles) -> tuple[dict, list[dict]]:
    """The copy to keep among articles sharing an id, and the others.

    Deterministic whatever order the copies arrive in: prefer the copy with
    a publication date, then with a title, then the longest text, then the
    smallest origin.
    """
    ranked = sorted(
        articles,
        key=lambda a: (a["published_at"] is None, a["title"] is None, -len(a["text"]), a["origin"]),
    )
    return ranked[0], ranked[1:]


# Ids are joined with the articles of a run by shard, not one by one: a run that adds a
# few articles to a large output moves a few hundred lists of ids, not every id.
ID_SHARDS = 512


def id_shard(article_id: str, shards: int = ID_SHARDS) -> int:
    """The shard of an article id: stable across processes and runs (never ``hash()``)."""
    return zlib.crc32(article_id.encode("utf-8")) % shards


def ids_by_shard(ids: Iterable[str], shards: int = ID_SHARDS) -> dict[int, list[str]]:
    """``ids`` split by ``id_shard``, each shard's in the order given."""
    split: dict[int, list[str]] = {}
    for article_id in ids:
        split.setdefault(id_shard(article_id, shards), []).append(article_id)
    return split


def merged_shards(parts: Iterable[Mapping[int, list[str]]]) -> dict[int, list[str]]:
    """Several ``ids_by_shard`` results as one."""
    merged: dict[int, list[str]] = {}
    for part in parts:
        for shard, ids in part.items():
            merged.setdefault(shard, []).extend(ids)
    return merged


def by_id(articles: Iterable[dict]) -> dict[str, list[dict]]:
    """Articles grouped by ``article_id``, in the order of their first copy."""
    grouped: dict[str, list[dict]] = {}
    for article in articles:
        grouped.setdefault(article["article_id"], []).append(article)
    return grouped
