"""The webhook fast path: a new event's first message carries the event and its update time, and a fresh
copy of its endpoint lets the attempt claim on that update time without reading (shared/webhooks/
delivery.py, endpoint_copies.py). Real emulators and real receivers; only the copies' clock is driven."""

from __future__ import annotations

import contextvars
import json
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from shared.core.clients import firestore_client
from shared.core.pubsub_events import PubSubMessage
from shared.core.shared_commits import Write, WriteKind, shared_commits
from shared.models import WebhookEventStatus, WebhookEventType, WebhookSlot, utc_now
from shared.webhooks import endpoint_copies as endpoint_copies_module
from shared.webhooks.backlog import queue_event
from shared.webhooks.delivery import (
    DeliveryReport,
    deliver_event,
    handle_deliver_webhook,
    handle_deliver_webhook_slow,
)
from shared.webhooks.endpoint_copies import MAX_AGE_S, EndpointCopies, endpoint_copies
from shared.webhooks.endpoints import endpoint_ref, webhook_id_for
from shared.webhooks.events import (
    MAX_EVENT_COPY_BYTES,
    PublishedEvent,
    create_event,
    event_ref,
    payload_body,
)
from shared.webhooks.schedule import Outcome
from shared.webhooks.slots import slot_ref
from tests.conftest import Project
from tests.support.concurrency import run_concurrently
from tests.support.firestore_calls import gated_commits, recording_calls
from tests.support.platform import ApiClient
from tests.support.published_events import (
    ManualClock,
    message_data,
    published_message,
    published_of,
    pubsub_message,
    remember_fresh,
)
from tests.support.waiting import eventually
from tests.support.webhook_receiver import Scripted, WebhookReceiver
from tests.support.webhooks import (
    LOOPBACK_POLICY,
    endpoint,
    make_event,
    setup_endpoint,
    stored_deliveries,
    stored_event,
    verify,
)


def unique_user(name: str) -> str:
    return f"user_{name}_{secrets.token_hex(4)}"


def event_path(event_id: str) -> str:
    return f"webhook_events/{event_id}"


def held_slots() -> list[Any]:
    return list(firestore_client().collection(WebhookSlot.collection).stream())


def make_quiet(user_id: str) -> None:
    """Triggered just now with a 200: a success changes nothing on the endpoint (no re-read, no write)."""
    endpoint_ref(user_id).update({"last_triggered_at": utc_now(), "last_status_code": 200})


@dataclass
class Copies:
    store: EndpointCopies
    clock: ManualClock


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> Iterator[Copies]:
    """This process's endpoint copies, on a clock that moves only when the test says (the delivery code
    reaches them through `endpoint_copies()`)."""
    clock = ManualClock()
    store = EndpointCopies(clock=clock)
    monkeypatch.setattr(endpoint_copies_module, "_copies", store)
    assert endpoint_copies() is store
    yield Copies(store, clock)


@pytest.fixture
def other_receiver() -> Iterator[WebhookReceiver]:
    """The second tenant's receiver."""
    with WebhookReceiver() as running:
        yield running


def assert_delivered_once(event_id: str, report: DeliveryReport | None) -> None:
    """The stored state of a first attempt that succeeded, whichever path made it."""
    assert report is not None and report.outcome is Outcome.DELIVERED and report.attempt == 1
    event = stored_event(event_id)
    assert event.status is WebhookEventStatus.DELIVERED
    assert (event.attempts, event.next_attempt_at, event.queued) == (1, None, False)
    assert (event.last_status_code, event.last_error) == (200, None)
    [delivery] = stored_deliveries(event_id)
    assert (delivery.attempt, delivery.status_code, delivery.error, delivery.next_attempt_at) == (
        1,
        200,
        None,
        None,
    )


# 1 ------------------------------------------------------------------------------------------------------


def test_a_published_message_with_a_fresh_copy_is_delivered_without_reading_the_event(
    project: Project, receiver: WebhookReceiver, other_receiver: WebhookReceiver
) -> None:
    user, other = unique_user("fast"), unique_user("other")
    secret = setup_endpoint(user, receiver.url())
    setup_endpoint(other, other_receiver.url())
    event_id = make_event(user)  # written before the copy below is read
    published = published_of(event_id)
    # An earlier event delivered on the read path: its read (and its write of the endpoint's health)
    # leaves a copy of the endpoint as of after the new event was written.
    earlier = make_event(user)
    earlier_report = deliver_event(earlier, LOOPBACK_POLICY, user_id=user)
    assert_delivered_once(earlier, earlier_report)
    assert endpoint_copies().usable_for(user, published.version) is not None

    with recording_calls() as calls:
        report = handle_deliver_webhook(published_message(event_id, user, published))

    assert_delivered_once(event_id, report)
    assert not calls.read(event_path(event_id)), calls.read_paths()
    # The claim and the record, nothing else: no read at all, no backlog query (a quiet success).
    assert (calls.read_calls(), calls.queries, calls.commits) == (0, 0, 2)
    first, request = receiver.received()
    payload = verify(secret, request)
    assert request.headers["webhook-id"] == event_id == payload["id"]
    assert request.body == payload_body(stored_event(event_id).payload)
    assert payload["type"] == "job.completed" and payload["livemode"] is True
    assert verify(secret, first)["id"] == earlier
    # As on the read path: the same delivery document (but its ids and timing) and no slot left held.
    [fast], [read] = stored_deliveries(event_id), stored_deliveries(earlier)
    ignored = {"event_id", "duration_ms", "created_at"}
    assert fast.model_dump(exclude=ignored) == read.model_dump(exclude=ignored)
    assert held_slots() == []
    assert endpoint(user).last_status_code == 200
    assert other_receiver.received() == []


def test_a_big_event_is_published_without_its_copy_and_read(
    project: Project, receiver: WebhookReceiver
) -> None:
    """Over MAX_EVENT_COPY_BYTES the message carries ids only (function event limits): the attempt reads."""
    user = unique_user("big")
    secret = setup_endpoint(user, receiver.url())
    event_id = "evt_" + secrets.token_hex(16)
    result = {"text": "x" * MAX_EVENT_COPY_BYTES}
    create_event(event_id, user, WebhookEventType.JOB_COMPLETED, True, {"result": result}, publish_now=False)
    published = published_of(event_id)
    message = published_message(event_id, user, published)
    assert "event" not in json.loads(message.data)
    deliver_event(make_event(user), LOOPBACK_POLICY, user_id=user)  # a fresh copy of the endpoint
    with recording_calls() as calls:
        report = handle_deliver_webhook(message)
    assert_delivered_once(event_id, report)
    assert calls.read(event_path(event_id))
    request = receiver.received()[-1]
    assert verify(secret, request)["data"]["object"]["result"] == result


# 2 ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "handler", [handle_deliver_webhook, handle_deliver_webhook_slow], ids=["fast_lane", "slow_lane"]
)
def test_concurrent_copies_of_a_published_message_send_once(
    project: Project,
    receiver: WebhookReceiver,
    other_receiver: WebhookReceiver,
    copies: Copies,
    handler: Callable[[PubSubMessage], DeliveryReport | None],
) -> None:
    """Fast lane: one slot per endpoint; slow lane: two, so the losers also try the second one."""
    user, other = unique_user("dup"), unique_user("other")
    secret = setup_endpoint(user, receiver.url())
    other_secret = setup_endpoint(other, other_receiver.url())
    receiver.default = Scripted(200, delay_s=0.3)  # keep the winner busy while the copies race
    event_id, other_event = make_event(user), make_event(other)
    published, other_published = published_of(event_id), published_of(other_event)
    remember_fresh(copies.store, user)
    remember_fresh(copies.store, other)
    messages = [published_message(event_id, user, published) for _ in range(6)]
    messages.append(published_message(other_event, other, other_published))  # the other tenant's, alongside

    reports = run_concurrently(lambda i: handler(messages[i]), len(messages))

    assert not [r for r in reports if isinstance(r, BaseException)], reports
    sent = [r for r in reports if isinstance(r, DeliveryReport)]
    assert sorted(r.event_id for r in sent) == sorted([event_id, other_event])
    [request] = receiver.received()
    assert verify(secret, request)["id"] == event_id
    [other_request] = other_receiver.received()
    assert verify(other_secret, other_request)["id"] == other_event
    assert [d.attempt for d in stored_deliveries(event_id)] == [1]
    assert [d.attempt for d in stored_deliveries(other_event)] == [1]
    assert stored_event(event_id).status is WebhookEventStatus.DELIVERED
    assert held_slots() == []


# 3 ------------------------------------------------------------------------------------------------------


def test_an_event_delivered_since_it_was_published_is_not_sent_again(
    project: Project, receiver: WebhookReceiver, copies: Copies
) -> None:
    user = unique_user("changed")
    setup_endpoint(user, receiver.url())
    event_id = make_event(user)
    published = published_of(event_id)
    remember_fresh(copies.store, user)
    # Another instance delivered it meanwhile (its update time moved on).
    event_ref(event_id).update(
        {"status": WebhookEventStatus.DELIVERED.value, "next_attempt_at": None, "updated_at": utc_now()}
    )
    with recording_calls() as calls:
        report = handle_deliver_webhook(published_message(event_id, user, published))
    assert report is None
    assert calls.read(event_path(event_id))  # the fast claim failed: the stored state decided
    assert receiver.received() == []
    assert stored_deliveries(event_id) == []
    event = stored_event(event_id)
    assert (event.status, event.attempts) == (WebhookEventStatus.DELIVERED, 0)
    assert held_slots() == []  # the failed claim held no slot (one batch: both or neither)


def test_a_published_message_after_a_failed_first_attempt_waits_for_the_schedule(
    project: Project, receiver: WebhookReceiver, copies: Copies
) -> None:
    """Pub/Sub redelivers the first message after its attempt failed: the event is no longer as published,
    so the copy cannot claim; the read path sees the retry is not due, then (once due) makes attempt 2."""
    user = unique_user("retried")
    secret = setup_endpoint(user, receiver.url())
    receiver.respond(Scripted(500))
    event_id = make_event(user)
    published = published_of(event_id)
    remember_fresh(copies.store, user)
    message = published_message(event_id, user, published)
    first = handle_deliver_webhook(message)
    assert first is not None and first.outcome is Outcome.RETRY and first.attempt == 1

    remember_fresh(copies.store, user)  # a copy fresh enough in every respect but the event's version
    with recording_calls() as calls:
        assert handle_deliver_webhook(message) is None
    assert calls.read(event_path(event_id))
    assert len(receiver.received()) == 1
    event_ref(event_id).update({"next_attempt_at": utc_now() - timedelta(seconds=1)})
    # The endpoint failed once, so it is off the fast lane: the message's copy in the slow lane.
    second = handle_deliver_webhook_slow(message)
    assert second is not None and second.attempt == 2 and second.outcome is Outcome.DELIVERED
    one, two = receiver.received()
    assert one.body == two.body and verify(secret, two)["id"] == event_id
    assert [d.status_code for d in stored_deliveries(event_id)] == [500, 200]


def test_an_event_queued_since_it_was_published_goes_through_the_read_path(
    project: Project, receiver: WebhookReceiver, copies: Copies
) -> None:
    user = unique_user("queued")
    secret = setup_endpoint(user, receiver.url())
    event_id = make_event(user)
    published = published_of(event_id)
    remember_fresh(copies.store, user)
    assert queue_event(event_id, published.version, utc_now())
    assert stored_event(event_id).queued
    with recording_calls() as calls:
        report = handle_deliver_webhook(published_message(event_id, user, published))
    assert calls.read(event_path(event_id))
    # The stored state decides: a pending event before its first attempt is due, queued or not.
    assert_delivered_once(event_id, report)
    [request] = receiver.received()
    assert verify(secret, request)["id"] == event_id


# 4 ------------------------------------------------------------------------------------------------------


def test_an_event_written_after_a_url_change_goes_to_the_new_url_despite_a_fresh_copy(
    api: ApiClient, receiver: WebhookReceiver, other_receiver: WebhookReceiver, copies: Copies
) -> None:
    user = unique_user("moved")
    token = api.user_token(user)
    created = api.request(
        "PUT", "/v1/webhook", token=token, json={"url": receiver.url("/old"), "events": ["job.completed"]}
    )
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    before = make_event(user)
    before_published = published_of(before)
    old = remember_fresh(copies.store, user)
    assert old.url == receiver.url("/old")

    moved = api.request(
        "PUT",
        "/v1/webhook",
        token=token,
        json={"url": other_receiver.url("/new"), "events": ["job.completed"]},
    )
    assert moved.status_code == 200, moved.text
    event_id = make_event(user)  # written after the change
    published = published_of(event_id)
    # The copy is as fresh as ever (the clock has not moved) and still serves the event written before
    # the change; it is older than the new event, so that one reads.
    assert copies.store.usable_for(user, before_published.version) == old
    assert copies.store.usable_for(user, published.version) is None

    with recording_calls() as calls:
        report = handle_deliver_webhook(published_message(event_id, user, published))

    assert calls.read(event_path(event_id))
    assert_delivered_once(event_id, report)
    assert receiver.received() == []
    [request] = other_receiver.received()
    assert request.path == "/new" and verify(secret, request)["id"] == event_id


# 5 ------------------------------------------------------------------------------------------------------


def test_a_copy_older_than_max_age_is_not_used(
    project: Project, receiver: WebhookReceiver, copies: Copies
) -> None:
    user = unique_user("aged")
    setup_endpoint(user, receiver.url())
    make_quiet(user)  # successes leave the endpoint (and its copy) alone
    young, old = make_event(user), make_event(user)
    young_published, old_published = published_of(young), published_of(old)
    remember_fresh(copies.store, user)

    copies.clock.advance(MAX_AGE_S - 0.05)
    with recording_calls() as calls:
        young_report = handle_deliver_webhook(published_message(young, user, young_published))
    assert (calls.read_calls(), calls.queries) == (0, 0)
    assert_delivered_once(young, young_report)

    copies.clock.advance(0.05)  # the copy is MAX_AGE_S old now
    with recording_calls() as calls:
        old_report = handle_deliver_webhook(published_message(old, user, old_published))
    assert calls.read(event_path(old))
    assert_delivered_once(old, old_report)
    assert [json.loads(r.body)["id"] for r in receiver.received()] == [young, old]


def test_copies_are_usable_only_when_read_after_the_event_and_young_enough(project: Project) -> None:
    user = unique_user("unit")
    setup_endpoint(user, "https://example.invalid/hook")
    snapshot = endpoint_ref(user).get()
    read_at = snapshot.read_time
    clock = ManualClock()
    store = EndpointCopies(clock=clock)
    store.remember(endpoint(user), read_at)
    assert store.usable_for(user, read_at) is not None  # written at the read's instant: usable
    assert store.usable_for(user, read_at - timedelta(microseconds=1)) is not None
    assert store.usable_for(user, read_at + timedelta(microseconds=1)) is None  # written after the read
    assert store.usable_for(unique_user("nobody"), read_at) is None
    # An older read never replaces a newer one.
    stale = endpoint(user).model_copy(update={"url": "https://example.invalid/stale"})
    store.remember(stale, read_at - timedelta(seconds=1))
    kept = store.usable_for(user, read_at)
    assert kept is not None and kept.url == "https://example.invalid/hook"
    clock.advance(MAX_AGE_S)
    assert store.usable_for(user, read_at - timedelta(seconds=1)) is None
    # Dropped once too old: a newer read is needed again.
    clock.advance(-MAX_AGE_S)
    assert store.usable_for(user, read_at - timedelta(seconds=1)) is None


# 6 ------------------------------------------------------------------------------------------------------


SHIFTS = (timedelta(microseconds=1), timedelta(seconds=1))


def test_a_forged_copy_with_a_wrong_version_sends_the_stored_event(
    project: Project, receiver: WebhookReceiver, copies: Copies
) -> None:
    user = unique_user("forged")
    secret = setup_endpoint(user, receiver.url())
    real = [make_event(user) for _ in range(2)]
    published = [published_of(event_id) for event_id in real]
    remember_fresh(copies.store, user)
    # Earlier than stored: what a copy of an older write of the event would carry.
    wrong_versions = [copy.version - shift for copy, shift in zip(published, SHIFTS, strict=True)]
    for event_id, copy, version in zip(real, published, wrong_versions, strict=True):
        forged_payload = {**copy.event.payload, "data": {"object": {"forged": True}}}
        forged = PublishedEvent(copy.event.model_copy(update={"payload": forged_payload}), version)
        with recording_calls() as calls:
            report = handle_deliver_webhook(published_message(event_id, user, forged))
        assert calls.read(event_path(event_id))
        assert_delivered_once(event_id, report)
    for event_id, request in zip(real, receiver.received(), strict=True):
        payload = verify(secret, request)
        assert payload["id"] == event_id and "forged" not in json.dumps(payload)
        assert request.body == payload_body(stored_event(event_id).payload)


def test_a_copy_with_a_version_later_than_stored_falls_back_to_reading(
    project: Project, receiver: WebhookReceiver, copies: Copies
) -> None:
    user = unique_user("future")
    secret = setup_endpoint(user, receiver.url())
    event_id = make_event(user)
    published = published_of(event_id)
    remember_fresh(copies.store, user)
    forged_payload = {**published.event.payload, "data": {"object": {"forged": True}}}
    forged = PublishedEvent(
        published.event.model_copy(update={"payload": forged_payload}),
        published.version + timedelta(microseconds=1),
    )
    report = handle_deliver_webhook(published_message(event_id, user, forged))
    assert_delivered_once(event_id, report)
    [request] = receiver.received()
    assert request.body == payload_body(stored_event(event_id).payload)
    assert verify(secret, request)["id"] == event_id


def test_a_malformed_copy_is_delivered_through_the_read_path(
    project: Project, receiver: WebhookReceiver, copies: Copies
) -> None:
    user = unique_user("malformed")
    secret = setup_endpoint(user, receiver.url())
    events = [make_event(user) for _ in range(5)]
    remember_fresh(copies.store, user)
    messages = []
    for n, event_id in enumerate(events):
        data = message_data(event_id, user, published_of(event_id))
        if n == 0:
            data["event"] = "not an object"
        elif n == 1:
            data["version"] = "yesterday"
        elif n == 2:
            del data["event"]["user_id"]
        elif n == 3:
            data["event"]["payload"]["id"] = events[0]  # another event's copy
        else:
            data["event"]["attempts"] = -1
        messages.append(pubsub_message(data, event_id))
    for event_id, message in zip(events, messages, strict=True):
        with recording_calls() as calls:
            report = handle_deliver_webhook(message)
        assert calls.read(event_path(event_id)), event_id
        assert_delivered_once(event_id, report)
    assert [verify(secret, r)["id"] for r in receiver.received()] == events


def test_a_copy_whose_user_differs_from_the_hint_goes_to_the_events_owner_only(
    project: Project, receiver: WebhookReceiver, other_receiver: WebhookReceiver, copies: Copies
) -> None:
    owner, other = unique_user("owner"), unique_user("tenant2")
    secret = setup_endpoint(owner, receiver.url())
    setup_endpoint(other, other_receiver.url())
    events = [make_event(owner) for _ in range(3)]
    published = [published_of(event_id) for event_id in events]
    remember_fresh(copies.store, owner)
    remember_fresh(copies.store, other)  # the other tenant has a usable copy too
    as_other = [p.event.model_copy(update={"user_id": other}) for p in published]
    messages = [
        # The true copy with the other tenant as hint.
        published_message(events[0], other, published[0]),
        # A copy claiming the other tenant, the owner as hint.
        published_message(events[1], owner, PublishedEvent(as_other[1], published[1].version)),
        # A copy and hint both claiming the other tenant, with a wrong version.
        published_message(
            events[2], other, PublishedEvent(as_other[2], published[2].version - timedelta(microseconds=1))
        ),
    ]
    for event_id, message in zip(events, messages, strict=True):
        with recording_calls() as calls:
            report = handle_deliver_webhook(message)
        assert calls.read(event_path(event_id))
        assert_delivered_once(event_id, report)
        assert stored_deliveries(event_id)[0].user_id == owner
    assert [verify(secret, r)["id"] for r in receiver.received()] == events
    assert other_receiver.received() == []


# 7 ------------------------------------------------------------------------------------------------------


def test_the_body_is_canonical_and_identical_on_the_fast_and_the_read_path(
    project: Project, receiver: WebhookReceiver, copies: Copies
) -> None:
    user = unique_user("canon")
    secret = setup_endpoint(user, receiver.url())
    receiver.respond(Scripted(500))
    event_id = "evt_" + secrets.token_hex(16)
    obj = {
        "zeta": 1,
        "alpha": {"delta": [{"y": 1, "x": 2}], "beta": "b", "Alpha": None},
        "mid": {"z": {"b": 2.5, "a": True}, "a": "first"},
    }
    create_event(event_id, user, WebhookEventType.JOB_COMPLETED, True, obj, publish_now=False)
    published = published_of(event_id)
    remember_fresh(copies.store, user)

    with recording_calls() as calls:
        first = handle_deliver_webhook(published_message(event_id, user, published))
    assert first is not None and first.outcome is Outcome.RETRY
    assert not calls.read(event_path(event_id))  # attempt 1: the body came from the message
    event_ref(event_id).update({"next_attempt_at": utc_now() - timedelta(seconds=1)})
    second = deliver_event(event_id, LOOPBACK_POLICY)  # attempt 2: read back from Firestore
    assert second is not None and second.attempt == 2 and second.outcome is Outcome.DELIVERED

    one, two = receiver.received()
    assert one.body == two.body
    assert verify(secret, one) == verify(secret, two)

    def keys_in_order(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in pairs]
        if "livemode" not in names:  # nested objects: sorted
            assert names == sorted(names), names
        return dict(pairs)

    top = json.loads(one.body, object_pairs_hook=lambda pairs: pairs)
    assert [name for name, _ in top] == ["id", "type", "created", "livemode", "data"]
    decoded = json.loads(one.body, object_pairs_hook=keys_in_order)
    assert decoded["data"]["object"] == obj
    assert one.body.index(b'"alpha"') < one.body.index(b'"mid"') < one.body.index(b'"zeta"')


# Shared commits and duplicates ---------------------------------------------------------------------------


def queued_commits() -> int:
    """Callers waiting in the process's shared-commit queue."""
    return shared_commits().waiting()


def test_duplicates_taking_over_an_expired_slot_never_share_a_batch_and_send_once(
    project: Project, receiver: WebhookReceiver, copies: Copies
) -> None:
    user = unique_user("takeover")
    setup_endpoint(user, receiver.url())
    event_id = make_event(user)
    published = published_of(event_id)
    webhook_id = webhook_id_for(user)
    crashed = WebhookSlot(
        webhook_id=webhook_id,
        event_id="evt_" + secrets.token_hex(16),
        lease_until=utc_now() - timedelta(minutes=1),
        created_at=utc_now() - timedelta(minutes=2),
    )
    slot_ref(webhook_id, 0).set(crashed.to_firestore())  # its holder crashed: the lease has ended
    remember_fresh(copies.store, user)
    message = published_message(event_id, user, published)
    blocker_ref = firestore_client().collection("gate").document("first")
    slot_path = f"{WebhookSlot.collection}/{webhook_id}-0"

    with ThreadPoolExecutor(8) as pool, gated_commits() as gate:
        gate.hold = lambda paths: blocker_ref.path in paths

        def in_project(call: Any) -> Any:
            return pool.submit(contextvars.copy_context().run, call)

        # Another request of this instance keeps its commits busy: the two copies queue up together.
        blocker = in_project(lambda: shared_commits().commit([Write(WriteKind.CREATE, blocker_ref, {})]))
        eventually(lambda: len(gate.waiting()) == 1, timeout=10, message="a commit in flight")
        copies_of_message = [in_project(lambda: handle_deliver_webhook(message)) for _ in range(2)]
        eventually(lambda: queued_commits() == 2, timeout=10, message="both copies queued")
        gate.hold = lambda paths: False
        gate.release_all()
        reports = [future.result(timeout=60) for future in copies_of_message]
        blocker.result(timeout=60)

    # The copies' takeovers touch the same slot and event: they never shared a batch.
    assert all(paths.count(slot_path) <= 1 for paths in gate.committed()), gate.committed()
    sent = [r for r in reports if r is not None]
    assert (len(sent), len(receiver.received())) == (1, 1), (sent, receiver.received())
