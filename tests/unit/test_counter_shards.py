from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from shared.counters.shards import (
    SHARD_COUNT,
    Counter,
    CounterTotals,
    marker_id,
    pick_shard_id,
)
from shared.models import CounterShard, SystemConfig


def test_counter_names_are_fields_of_the_shard_and_config_models() -> None:
    for counter in Counter:
        assert counter.value in CounterShard.model_fields
        assert counter.value in SystemConfig.model_fields
    assert set(CounterTotals().as_fields()) == {c.value for c in Counter}


def test_fields_that_are_not_counts_are_ignored() -> None:
    data = {"total_users": True, "total_jobs": "5", "founding_member_count": 2.0, "maintenance_mode": True}
    assert CounterTotals.from_fields(data) == CounterTotals()


def test_shards_are_picked_among_the_declared_ids() -> None:
    rng = random.Random(7)
    picked = {pick_shard_id(rng) for _ in range(2000)}
    assert picked == {str(n) for n in range(SHARD_COUNT)}


def test_marker_ids_keep_purposes_apart_and_never_collide() -> None:
    event = "5a75e45e-e809-41ae-bd80-38621b19e5c9"
    assert marker_id("count-total_jobs", event) == f"count-total_jobs:{event}"
    assert marker_id("count-total_jobs", event) != marker_id("dispatch", event)
    unsafe = marker_id("founding", "a/b")
    assert "/" not in unsafe
    assert unsafe != marker_id("founding", "a_b")
    assert unsafe != marker_id("founding", "a\\b")
    assert len(marker_id("x", "k" * 5000)) < 1500
    with pytest.raises(ValueError):
        marker_id("", event)
    with pytest.raises(ValueError):
        marker_id("count", "")


def test_the_summed_counter_fields_keep_their_single_field_index() -> None:
    # read_totals sums each counter with an aggregation query; Firestore aggregates through the index, so
    # exempting a counter field from indexing would make the sum fail in production (the emulator ignores
    # fieldOverrides and would not notice).
    indexes = json.loads((Path(__file__).resolve().parents[2] / "firestore.indexes.json").read_text())
    exempted = {
        o["fieldPath"]
        for o in indexes.get("fieldOverrides", [])
        if o["collectionGroup"] == CounterShard.collection and o.get("indexes") == []
    }
    assert exempted.isdisjoint(c.value for c in Counter)
