"""Pure parts of the platform counters: which counters exist, shard naming, marker ids.

The counters live in `counter_shards/{n}` (n in 0..SHARD_COUNT-1), each a CounterShard holding cumulative
creation counts; `system/config` holds their sums, written by the fold (shared/counters/service.py).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

# Grouped increments (group_commit.py) write a shard about once per group: 10,000 creations/s from ~125
# instances committing 2 groups/s each is ~250 writes/s, about one per shard per second (docs/capacity.md).
# Summing them is one aggregation query per counter (one billed read per 1,000 shards).
SHARD_COUNT = 256


class Counter(StrEnum):
    """The sharded counters; each value is also the field name in CounterShard and SystemConfig."""

    TOTAL_USERS = "total_users"
    TOTAL_JOBS = "total_jobs"
    FOUNDING_MEMBER_COUNT = "founding_member_count"


@dataclass(frozen=True)
class CounterTotals:
    total_users: int = 0
    total_jobs: int = 0
    founding_member_count: int = 0

    def as_fields(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_fields(cls, data: Mapping[str, Any]) -> CounterTotals:
        """The counter fields of a document (system/config or a shard); missing or non-int fields are 0."""
        return cls(**{c.value: _as_count(data.get(c.value)) for c in Counter})


def _as_count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def pick_shard_id(rng: random.Random | None = None) -> str:
    """A random shard spreads concurrent increments evenly; any shard is correct."""
    return str((rng or random).randrange(SHARD_COUNT))


_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_.:@-]")


def marker_id(purpose: str, key: str) -> str:
    """`processed_events` document id for one effect: `purpose` keeps effects of one event apart (two
    effects of one trigger event each have their own marker), `key` is the event id or a document id."""
    if not purpose or not key:
        raise ValueError("a marker needs a purpose and a key")
    if _UNSAFE_ID_CHARS.search(key) or len(key) > 500:
        # Document ids cannot hold "/" (and are limited in length): keep a readable part plus a hash of
        # the whole key, so two different keys never share a marker. "~" never occurs in a kept key.
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        key = _UNSAFE_ID_CHARS.sub("_", key)[:200] + "~" + digest
    return f"{purpose}:{key}"
