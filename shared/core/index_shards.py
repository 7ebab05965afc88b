"""The index shard: a high-cardinality prefix for indexes whose timestamps grow across all users.

Firestore caps writes near 500/s for a collection whose index holds monotonically increasing values in one
range (the "sequential indexed values" hotspot): every new entry lands on the same tablet. Platform-wide
queries (the stale-job sweep, the due-event sweep) therefore index `index_shard` before the timestamp, so new
entries spread over INDEX_SHARDS ranges; those queries run once per shard (`shard_pages`, `first_over_shards`
below: the one way to query them).

Per-user indexes keep `user_id` first (high-cardinality across customers), but one busy customer writing
1,000 entries a second would still append them all to one range after its `user_id`. So every per-user
index with a timestamp has `user_range` (0..USER_RANGES-1, drawn at creation) between `user_id` and the
timestamp, and its queries ask for every range at once (`in_user_ranges`: one `in` filter, which Firestore
serves as one query, merging the ranges in the query's order, cursors included).
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from google.cloud.firestore_v1.base_query import BaseQuery, FieldFilter

from shared.models import USER_RANGES

# 10,000 jobs/s, each moving its [index_shard, status, timestamp] entries about 3 times (queued, running,
# finished), is ~30,000 index writes/s; at 500/s per range that needs 60 ranges (docs/capacity.md).
INDEX_SHARDS = 64
USER_RANGE_VALUES = tuple(range(USER_RANGES))


def index_shard(document_id: str) -> int:
    """Stable per document id (a retried create lands in the same shard), uniform over the shards."""
    return int.from_bytes(hashlib.sha256(document_id.encode()).digest()[:4], "big") % INDEX_SHARDS


QueryT = TypeVar("QueryT", bound=BaseQuery)


def in_user_ranges(query: QueryT) -> QueryT:
    """A per-user query over every range of the user's index (`user_range` in all of USER_RANGE_VALUES)."""
    return query.where(filter=FieldFilter("user_range", "in", list(USER_RANGE_VALUES)))


def shard_pages(query: Callable[[int], Any], page_size: int, first: int = 0) -> Iterator[list[Any]]:
    """Every shard's results, page after page: `query(shard)` (ordered) is run per shard, starting at shard
    `first` and wrapping around, each page after the last one's final document. The caller stops
    iterating when it has enough (or its time is up)."""
    for shard in [(first + i) % INDEX_SHARDS for i in range(INDEX_SHARDS)]:
        after = None
        while True:
            page_query = query(shard)
            if after is not None:
                page_query = page_query.start_after(after)
            page = list(page_query.limit(page_size).stream())
            if page:
                yield page
            if len(page) < page_size:
                break
            after = page[-1]


def first_over_shards(query: Callable[[int], Any], order_field: str, limit: int) -> list[Any]:
    """The first `limit` results over every shard by `order_field`: each shard's fair share of `limit`
    (one shard's backlog cannot crowd out the others, and reads stay near `limit`), merged."""
    if limit <= 0:
        return []
    per_shard = -(-limit // INDEX_SHARDS)
    pages = [list(query(shard).limit(per_shard).stream()) for shard in range(INDEX_SHARDS)]
    return list(heapq.merge(*pages, key=lambda snapshot: snapshot.get(order_field)))[:limit]
