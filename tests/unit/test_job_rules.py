"""Pure rules of jobs: storable input, lifecycle table, idempotent ids and request fingerprints."""

from __future__ import annotations

import math

import pytest

from shared.core.firestore_values import UnstorableValue, check_storable
from shared.jobs.lifecycle import can_transition
from shared.jobs.service import JOB_ID_PATTERN, CreateJobRequest, idempotent_job_id, request_fingerprint
from shared.models import JobStatus


@pytest.mark.parametrize(
    "value",
    [{}, {"a": 1, "b": [1, "x", None, {"c": [True]}], "f": 1.5}, {"a.b": 1, "ü": "é"}, {"n": 2**63 - 1}],
)
def test_storable_values(value: object) -> None:
    check_storable(value)


@pytest.mark.parametrize(
    "value",
    [
        {"a": [[1]]},
        {"n": 2**63},
        {"n": -(2**63) - 1},
        {"x": math.nan},
        {"x": math.inf},
        {"": 1},
        {"__id__": 1},
        {"s": "\ud800"},
        {"k" * 1501: 1},
        {"o": object()},
    ],
)
def test_unstorable_values(value: object) -> None:
    with pytest.raises(UnstorableValue):
        check_storable(value)


def test_nesting_limit() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(20):
        child: dict[str, object] = {}
        node["d"] = child
        node = child
    with pytest.raises(UnstorableValue):
        check_storable(deep)


def test_lifecycle_table() -> None:
    allowed = {
        (JobStatus.QUEUED, JobStatus.RUNNING),
        (JobStatus.QUEUED, JobStatus.FAILED),  # expired
        (JobStatus.QUEUED, JobStatus.CANCELED),
        (JobStatus.RUNNING, JobStatus.COMPLETED),
        (JobStatus.RUNNING, JobStatus.FAILED),
        (JobStatus.RUNNING, JobStatus.QUEUED),  # the attempt failed: the next after a backoff
        (JobStatus.RUNNING, JobStatus.CANCELED),
    }
    for current in JobStatus:
        for target in JobStatus:
            assert can_transition(current, target) is ((current, target) in allowed)


def test_idempotent_job_ids_are_stable_and_scoped() -> None:
    first = idempotent_job_id("alice", True, "k1")
    assert first == idempotent_job_id("alice", True, "k1")
    assert JOB_ID_PATTERN.fullmatch(first)
    others = {
        idempotent_job_id("alice", False, "k1"),
        idempotent_job_id("bob", True, "k1"),
        idempotent_job_id("alice", True, "k2"),
    }
    assert first not in others and len(others) == 3


def test_fingerprint_ignores_key_order_only() -> None:
    a = CreateJobRequest(type="echo", input={"x": 1, "y": [1, 2]})
    b = CreateJobRequest(type="echo", input={"y": [1, 2], "x": 1})
    c = CreateJobRequest(type="echo", input={"y": [2, 1], "x": 1})
    assert request_fingerprint(a) == request_fingerprint(b) != request_fingerprint(c)


def test_credits_given_back_by_a_finished_job() -> None:
    from datetime import UTC, datetime

    from shared.jobs.lifecycle import credits_given_back
    from shared.models import FixedPricing, Job, MeteredPricing

    created = datetime(2026, 1, 1, tzinfo=UTC)
    base = {"user_id": "u", "key_id": "k", "type": "t", "livemode": True, "created_at": created}
    metered = MeteredPricing(credits_per_unit=1, max_credits=10, unit="unit")
    refunded = Job(**base, status=JobStatus.FAILED, reserved_credits=10, refunded=True, pricing=metered)
    used_part = Job(**base, status=JobStatus.COMPLETED, reserved_credits=10, cost=4, pricing=metered)
    used_all = Job(**base, status=JobStatus.COMPLETED, reserved_credits=10, cost=10, pricing=metered)
    fixed = Job(**base, status=JobStatus.COMPLETED, cost=3, pricing=FixedPricing(credits=3))
    running = Job(**base, status=JobStatus.RUNNING, reserved_credits=10, pricing=metered)
    assert [credits_given_back(j) for j in (refunded, used_part, used_all, fixed, running)] == [
        10,
        6,
        0,
        0,
        0,
    ]
