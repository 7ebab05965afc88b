"""No index of firestore.indexes.json (nor any catalogued query) is a sequential-value hotspot.

Firestore limits a collection to ~500 writes/s when one of its indexes receives monotonically increasing
values in a single range. Every stored timestamp counts as monotonic here (timestamps grow across users), so:
- a composite index may hold a timestamp only after a high-cardinality prefix (`user_id`, `index_shard`);
- in a collection one customer writes ~1,000 times a second (its documents carry `user_range`), a timestamp
  after `user_id` also needs `user_range` before it: one busy customer spreads over USER_RANGES ranges;
- every timestamp field of every stored model is exempt from single-field indexing (fieldOverrides), which
  also means no query may rely on a single-field index over a timestamp.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from shared import models
from shared.core.index_shards import INDEX_SHARDS, USER_RANGE_VALUES, index_shard
from shared.core.query_catalog import HIGH_CARDINALITY_PREFIXES, QUERIES, USER_RANGE_FIELD
from shared.models import USER_RANGES, Job, LedgerEntryType, utc_now

ROOT = Path(__file__).resolve().parents[2]


def _timestamp_fields() -> dict[str, set[str]]:
    """collection -> its datetime fields, from the model module (a new timestamp is covered by itself)."""
    found: dict[str, set[str]] = {}
    for value in vars(models).values():
        if (
            isinstance(value, type)
            and issubclass(value, models.FirestoreModel)
            and "collection" in vars(value)
        ):
            fields = {
                name for name, info in value.model_fields.items() if "datetime" in repr(info.annotation)
            }
            found.setdefault(value.collection, set()).update(fields)
    return found


def _user_ranged_collections() -> set[str]:
    """Collections whose documents carry `user_range` (written by one customer at up to ~1,000/s)."""
    return {
        value.collection
        for value in vars(models).values()
        if isinstance(value, type)
        and issubclass(value, models.FirestoreModel)
        and "collection" in vars(value)
        and USER_RANGE_FIELD in value.model_fields
    }


def _hotspots(collection: str, fields: list[str]) -> list[str]:
    """Timestamp fields of an index that no high-cardinality field precedes, or (in a user-ranged
    collection) that follow `user_id` without `user_range`: one busy customer's sequential range."""
    timestamps = _timestamp_fields().get(collection, set())
    bad: list[str] = []
    for position, field in enumerate(fields):
        before = set(fields[:position])
        if field not in timestamps:
            continue
        if not HIGH_CARDINALITY_PREFIXES & before or (
            "index_shard" not in before
            and collection in _user_ranged_collections()
            and USER_RANGE_FIELD not in before
        ):
            bad.append(field)
    return bad


def _index_file() -> dict[str, list[dict[str, object]]]:
    data: dict[str, list[dict[str, object]]] = json.loads((ROOT / "firestore.indexes.json").read_text())
    return data


def test_the_model_module_has_timestamps_to_check() -> None:
    fields = _timestamp_fields()
    assert "created_at" in fields["jobs"] and "next_attempt_at" in fields["webhook_events"]


def test_no_composite_index_orders_a_timestamp_without_a_high_cardinality_prefix() -> None:
    for index in _index_file()["indexes"]:
        collection = str(index["collectionGroup"])
        fields = [str(f["fieldPath"]) for f in index["fields"]]  # type: ignore[attr-defined]
        assert not _hotspots(collection, fields), f"{collection} index {fields} is a sequential hotspot"


def test_no_catalogued_query_needs_a_hotspot_index() -> None:
    for shape in QUERIES:
        needed = shape.composite_index()
        fields = (
            [f for f, _ in needed] if needed is not None else [*shape.equality, *(f for f, _ in shape.order)]
        )
        assert not _hotspots(shape.collection, fields), f"{shape.site} needs a hotspot index over {fields}"


def test_every_timestamp_is_exempt_from_single_field_indexing() -> None:
    exempt = {
        (str(o["collectionGroup"]), str(o["fieldPath"]))
        for o in _index_file()["fieldOverrides"]
        if o["indexes"] == []
    }
    missing = sorted(
        (collection, field)
        for collection, fields in _timestamp_fields().items()
        for field in fields
        if (collection, field) not in exempt
    )
    assert not missing, f"exempt these monotonic fields in fieldOverrides: {missing}"


def test_the_rule_catches_a_hotspot() -> None:
    assert _hotspots("jobs", ["status", "created_at"]) == ["created_at"]
    assert _hotspots("jobs", ["index_shard", "status", "created_at"]) == []
    assert _hotspots("credit_ledger", ["user_id", "created_at"]) == ["created_at"]
    assert _hotspots("credit_ledger", ["user_id", "user_range", "created_at"]) == []
    assert _hotspots("api_keys", ["user_id", "created_at"]) == []  # a key cap, not 1,000/s


def test_index_shards_are_stable_and_spread() -> None:
    assert index_shard("job_abc") == index_shard("job_abc")
    used = {index_shard(f"job_{n:024x}") for n in range(4000)}
    assert used == set(range(INDEX_SHARDS))


def test_per_user_timestamp_collections_are_user_ranged() -> None:
    assert {"jobs", "credit_ledger", "webhook_events", "webhook_deliveries"} <= _user_ranged_collections()
    assert tuple(range(USER_RANGES)) == USER_RANGE_VALUES and len(USER_RANGE_VALUES) <= 30  # one `in` filter


def test_one_busy_customer_spreads_over_the_ranges() -> None:
    """One customer's 1,000 jobs in one second, and their 1,000 ledger entries: no range of its per-user
    indexes gets near the ~500 writes/s of one range (expected ~63 each; 125 is 8 standard deviations out)."""
    now = utc_now()
    jobs = [Job(user_id="busy", key_id="k", type="echo", livemode=True, created_at=now) for _ in range(1000)]
    entries = [
        models.LedgerEntry(
            user_id="busy", type=LedgerEntryType.JOB_DEBIT, amount=-1, balance_after=0, created_at=now
        )
        for _ in range(1000)
    ]
    for documents in (jobs, entries):
        per_range = Counter(document.user_range for document in documents)
        assert set(per_range) == set(USER_RANGE_VALUES)
        assert max(per_range.values()) <= 125, per_range
