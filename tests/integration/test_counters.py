"""Counters and founding members through the real path: emulator -> functions host -> trigger function."""

from __future__ import annotations

import json
from typing import Any

from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.accounts.founding import claim_founding_number
from shared.core.clients import firestore_client
from shared.core.function_registry import COUNTERS_TOPIC
from shared.counters.group_commit import IncrementGroups
from shared.counters.service import read_totals, trigger_marker
from shared.counters.shards import Counter, CounterTotals, marker_id
from shared.models import FOUNDING_MEMBER_LIMIT, Account, CounterShard, FoundingSlot, Job, utc_now
from shared.system.config import config_ref
from tests.conftest import Project
from tests.support.concurrency import map_concurrently
from tests.support.firestore_delivery import created_event, deliver, detach_trigger
from tests.support.platform import create_account
from tests.support.waiting import eventually


def config_totals() -> CounterTotals:
    snapshot = config_ref().get()
    return CounterTotals.from_fields(snapshot.to_dict() or {}) if snapshot.exists else CounterTotals()


def account(user_id: str) -> dict[str, Any]:
    return firestore_client().collection(Account.collection).document(user_id).get().to_dict() or {}


def create_job(job_id: str) -> None:
    job = Job(user_id="u1", key_id="key_1", type="echo", livemode=False, created_at=utc_now())
    firestore_client().collection(Job.collection).document(job_id).set(job.to_firestore())


def founders() -> dict[int, str]:
    """founding number -> user id, from the user documents."""
    numbers: dict[int, str] = {}
    for doc in (
        firestore_client()
        .collection(Account.collection)
        .where(filter=FieldFilter("founding_member", "==", True))
        .stream()
    ):
        number = (doc.to_dict() or {})["founding_member_number"]
        assert number not in numbers, f"founding number {number} given twice"
        numbers[number] = doc.id
    return numbers


def test_a_new_user_is_counted_and_becomes_a_founding_member(project: Project) -> None:
    create_account("alice")
    eventually(lambda: config_totals() == CounterTotals(total_users=1, founding_member_count=1))
    assert account("alice")["founding_member"] is True
    assert account("alice")["founding_member_number"] == 1


def test_a_new_job_is_counted(project: Project) -> None:
    create_job("job_1")
    create_job("job_2")
    eventually(lambda: config_totals() == CounterTotals(total_jobs=2))
    assert read_totals() == CounterTotals(total_jobs=2)


def test_the_same_user_event_twice_changes_nothing_the_second_time(project: Project) -> None:
    detach_trigger(project.stack.firestore_host, project.id, "on_user_created")
    create_account("bob")  # no longer triggers: this test delivers the event itself
    headers, body = created_event(project.id, "users/bob", {"credits": 0, "created_at": utc_now()})

    assert deliver(project.stack.host_url, project.id, "on_user_created", headers, body) == 200
    assert read_totals() == CounterTotals(total_users=1, founding_member_count=1)
    assert account("bob")["founding_member_number"] == 1

    assert deliver(project.stack.host_url, project.id, "on_user_created", headers, body) == 200
    # ... and redelivered concurrently, as production may.
    statuses = map_concurrently(
        lambda _: deliver(project.stack.host_url, project.id, "on_user_created", headers, body), range(8)
    )
    assert statuses == [200] * 8
    assert read_totals() == CounterTotals(total_users=1, founding_member_count=1)
    assert [s.id for s in firestore_client().collection(FoundingSlot.collection).stream()] == ["1"]
    eventually(lambda: config_totals() == CounterTotals(total_users=1, founding_member_count=1))


def test_the_same_job_event_twice_changes_nothing_the_second_time(project: Project) -> None:
    detach_trigger(project.stack.firestore_host, project.id, "on_job_created")
    headers, body = created_event(project.id, "jobs/job_9", {"type": "echo", "status": "queued"})
    for _ in range(3):
        assert deliver(project.stack.host_url, project.id, "on_job_created", headers, body) == 200
        assert read_totals() == CounterTotals(total_jobs=1)
    eventually(lambda: config_totals() == CounterTotals(total_jobs=1))


def test_a_created_event_without_a_document_counts_nothing(project: Project) -> None:
    # The emulator fires `created` with empty data when a missing document is deleted (emulators.md).
    headers, _ = created_event(project.id, "users/ghost", {})
    for trigger in ("on_user_created", "on_job_created"):
        assert deliver(project.stack.host_url, project.id, trigger, headers, b"GgA=") == 200
    assert read_totals() == CounterTotals()


def test_200_concurrent_sign_ups_make_exactly_100_founding_members(project: Project) -> None:
    user_ids = [f"user{n:03d}" for n in range(200)]
    map_concurrently(create_account, user_ids, threads=32)
    eventually(
        lambda: read_totals() == CounterTotals(total_users=200, founding_member_count=100),
        timeout=180,
        message="all sign-ups counted",
    )
    numbers = founders()
    assert sorted(numbers) == list(range(1, FOUNDING_MEMBER_LIMIT + 1))
    slots = {
        int(s.id): (s.to_dict() or {})["user_id"]
        for s in firestore_client().collection("founding_slots").stream()
    }
    assert slots == numbers
    eventually(lambda: config_totals() == CounterTotals(total_users=200, founding_member_count=100))


def test_concurrent_and_repeated_claims_give_each_number_once(project: Project) -> None:
    # Beyond the emulator's one-at-a-time trigger delivery: claims racing as on production instances.
    detach_trigger(project.stack.firestore_host, project.id, "on_user_created")
    user_ids = [f"racer{n:03d}" for n in range(130)]
    map_concurrently(create_account, user_ids, threads=32)
    claimed = map_concurrently(claim_founding_number, user_ids * 2, threads=32)  # every user claims twice
    granted = [n for n in claimed if n is not None]
    assert sorted(granted) == list(range(1, FOUNDING_MEMBER_LIMIT + 1))
    assert sorted(founders()) == list(range(1, FOUNDING_MEMBER_LIMIT + 1))
    assert read_totals().founding_member_count == FOUNDING_MEMBER_LIMIT


def test_the_scheduled_fold_writes_the_shard_sums_into_system_config(project: Project) -> None:
    db = firestore_client()
    db.collection(CounterShard.collection).document("3").set(
        {"total_jobs": firestore.Increment(5)}, merge=True
    )
    db.collection(CounterShard.collection).document("7").set(
        {"total_jobs": firestore.Increment(2), "total_users": firestore.Increment(1)}, merge=True
    )
    # Written straight to the shards, so only the fold_counters function can bring system/config along.
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(project.id, COUNTERS_TOPIC)
    publisher.publish(topic, json.dumps({"reason": "test"}).encode()).result(timeout=30)
    eventually(lambda: config_totals() == CounterTotals(total_users=1, total_jobs=7))
    assert (config_ref().get().to_dict() or {})["credit_packages"]  # the fold seeded a missing config


def test_a_user_deleted_before_the_trigger_ran_is_counted_but_gets_no_founding_number(
    project: Project,
) -> None:
    detach_trigger(project.stack.firestore_host, project.id, "on_user_created")
    headers, body = created_event(project.id, "users/gone", {"credits": 0})  # the document no longer exists
    assert deliver(project.stack.host_url, project.id, "on_user_created", headers, body) == 200
    assert read_totals() == CounterTotals(total_users=1)
    assert not list(firestore_client().collection(FoundingSlot.collection).stream())
    assert not firestore_client().collection(Account.collection).document("gone").get().exists


def test_deletes_change_no_counter(project: Project) -> None:
    create_account("carol")
    create_job("job_1")
    eventually(lambda: config_totals() == CounterTotals(total_users=1, total_jobs=1, founding_member_count=1))
    firestore_client().collection(Account.collection).document("carol").delete()
    firestore_client().collection(Job.collection).document("job_1").delete()
    create_job("job_2")  # deletes never count, whatever order their events run in
    eventually(lambda: config_totals() == CounterTotals(total_users=1, total_jobs=2, founding_member_count=1))
    assert read_totals() == CounterTotals(total_users=1, total_jobs=2, founding_member_count=1)


def test_concurrent_counts_share_one_batch_per_group_and_each_event_counts_once(project: Project) -> None:
    # Groups close when full here (a window far longer than the test), so the grouping is deterministic.
    groups = IncrementGroups(window_s=60, max_group=10)

    def count(event_id: str) -> bool:
        marker = trigger_marker(marker_id("count-total_jobs", event_id), "created")
        return groups.count(Counter.TOTAL_JOBS, marker)

    first = [f"evt-{n}" for n in range(40)]
    assert map_concurrently(count, first, threads=40) == [True] * 40
    assert groups.batches == 4  # 40 events, 4 shard writes
    assert read_totals() == CounterTotals(total_jobs=40)

    # A group holding redeliveries: its batch fails on their markers and writes nothing, then each member
    # is committed alone: the new events count, the redelivered ones do not.
    mixed = first[:5] + [f"evt-new-{n}" for n in range(5)]
    assert sorted(map_concurrently(count, mixed, threads=10)) == [False] * 5 + [True] * 5
    assert read_totals() == CounterTotals(total_jobs=45)
    assert groups.batches == 4 + 5
