"""Ids already written, split by shard for the dedupe join (transforms.lib.dedupe)."""

import zlib

from transforms.lib.dedupe import ID_SHARDS, by_id, id_shard, ids_by_shard, merged_shards


def test_an_id_shard_is_stable_and_within_range():
    ids = [f"id{i}" for i in range(2000)]
    shards = [id_shard(i) for i in ids]
    assert shards == [zlib.crc32(i.encode()) % ID_SHARDS for i in ids]  # not hash(): stable
    assert len(set(shards)) > ID_SHARDS // 2  # spread, not lumped
    assert id_shard("é") == zlib.crc32("é".encode()) % ID_SHARDS


def test_ids_split_by_shard_and_merged_keep_every_id_once():
    first, second = ["a", "b", "c"], ["d", "a2"]
    merged = merged_shards([ids_by_shard(first), ids_by_shard(second)])
    assert sorted(i for ids in merged.values() for i in ids) == sorted(first + second)
    for shard, ids in merged.items():
        assert all(id_shard(i) == shard for i in ids)
    assert ids_by_shard([], 4) == {} and merged_shards([]) == {}
    assert ids_by_shard(["x", "y", "z"], 1) == {0: ["x", "y", "z"]}


def test_articles_grouped_by_id_in_order_of_first_copy():
    articles = [{"article_id": i, "n": n} for n, i in enumerate("babca")]
    grouped = by_id(articles)
    assert list(grouped) == ["b", "a", "c"]
    assert [a["n"] for a in grouped["b"]] == [0, 2]
