"""The index shard: a high-cardinality prefix for indexes whose timestamps grow across all users.

Firestore caps writes near 500/s for a collection whose index holds monotonically increasing values in one
range (the "sequential indexed values" hotspot): every new entry lands on the same tablet. Platform-wide
queries (the stale-job sweep, the due-event sweep) therefore index `index_shard` before the timestamp, so new
entries spread over INDEX_SHARDS ranges; those queries run once per shard and merge. Per-user indexes keep
`user_id` first instead (already high-cardinality).
"""

from __future__ import annotations

import hashlib

# 10,000 jobs/s, each moving its [index_shard, status, timestamp] entries about 3 times (queued, running,
# finished), is ~30,000 index writes/s; at 500/s per range that needs 60 ranges (docs/capacity.md).
INDEX_SHARDS = 64


def index_shard(document_id: str) -> int:
    """Stable per document id (a retried create lands in the same shard), uniform over the shards."""
    return int.from_bytes(hashlib.sha256(document_id.encode()).digest()[:4], "big") % INDEX_SHARDS
