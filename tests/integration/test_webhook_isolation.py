"""Isolation by endpoint on the real stack: slots, backlog, circuit breaker, throttle, crash takeover.

Events are published to Pub/Sub and delivered by the functions host (default 15 s timeout), except where a
test drives one attempt in-process to stage a crash.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from google.cloud.firestore_v1.base_query import FieldFilter

from shared.core.clients import firestore_client
from shared.models import WebhookEvent, WebhookEventStatus, WebhookEventType, WebhookSlot, utc_now
from shared.webhooks.backlog import drain
from shared.webhooks.decisions import (
    CIRCUIT_THRESHOLD,
    FAST_LANE_SLOTS,
    MAX_IN_FLIGHT,
    TEST_TRAFFIC_SLOTS,
    Outcome,
    budget_id,
)
from shared.webhooks.delivery import deliver_event
from shared.webhooks.endpoints import WebhookEndpointInput, endpoint_ref, put_endpoint, webhook_id_for
from shared.webhooks.events import event_ref, sweep_due_events
from shared.webhooks.health import disabled_event_id
from shared.webhooks.slots import slot_ref
from tests.conftest import Project
from tests.support.platform import ApiClient
from tests.support.waiting import eventually
from tests.support.webhook_receiver import Received, Scripted, WebhookReceiver
from tests.support.webhooks import (
    LOOPBACK_POLICY,
    endpoint,
    make_event,
    setup_endpoint,
    stored_deliveries,
    stored_event,
    sweep_finds,
)

HANGING = "user_hanging"
HEALTHY = "user_healthy"
FLAKY = "user_flaky"


def arrivals_of(receiver: WebhookReceiver, event_id: str) -> Callable[[], list[Received]]:
    return lambda: [r for r in receiver.received() if r.headers["webhook-id"] == event_id]


def queued_events(user_id: str) -> list[str]:
    query = (
        firestore_client()
        .collection(WebhookEvent.collection)
        .where(filter=FieldFilter("user_id", "==", user_id))
        .where(filter=FieldFilter("queued", "==", True))
    )
    return [s.id for s in query.stream()]


def test_a_hanging_endpoint_with_a_backlog_never_delays_a_healthy_one(project: Project) -> None:
    with (
        WebhookReceiver(default=Scripted(delay_s=60)) as hanging,
        WebhookReceiver() as healthy,
    ):
        setup_endpoint(HANGING, hanging.url())
        setup_endpoint(HEALTHY, healthy.url())
        hung = [make_event(HANGING, publish=True) for _ in range(60)]
        eventually(hanging.received, message="the first attempt hangs")
        # Delivered one after the other while the hanging endpoint holds its requests (how fast: bench/webhooks).
        for _ in range(10):
            event_id = make_event(HEALTHY, publish=True)
            eventually(arrivals_of(healthy, event_id), timeout=20, message="healthy delivery")
        # The hanging endpoint's other events wait in its backlog in Firestore, not in the subscription.
        eventually(
            lambda: len(queued_events(HANGING)) >= len(hung) - MAX_IN_FLIGHT, message="backlog in Firestore"
        )
        arrivals = sorted(r.at for r in hanging.received())
        if time.time() - arrivals[0] < 14:  # within the first timeout: one (fast-lane) attempt in flight
            assert len(arrivals) <= FAST_LANE_SLOTS
        for i in range(len(arrivals) - MAX_IN_FLIGHT):  # never more than MAX_IN_FLIGHT at once
            assert arrivals[i + MAX_IN_FLIGHT] - arrivals[i] >= 14
        assert all(stored_event(e).status is WebhookEventStatus.DELIVERED for e in healthy_ids(healthy))


def healthy_ids(receiver: WebhookReceiver) -> list[str]:
    return [r.headers["webhook-id"] for r in receiver.received()]


def test_a_failing_endpoint_opens_its_circuit_then_recovers_and_drains_in_order(
    project: Project, api: ApiClient
) -> None:
    with WebhookReceiver(default=Scripted(500)) as receiver:
        secret = setup_endpoint(FLAKY, receiver.url())
        token = api.user_token(FLAKY)
        events = [make_event(FLAKY, publish=True) for _ in range(8)]

        def settled() -> bool:
            # The circuit is open, nothing is in flight, every event either failed its attempts or waits.
            if endpoint(FLAKY).consecutive_failures < CIRCUIT_THRESHOLD:
                return False
            if any(slot_ref(webhook_id_for(FLAKY), n).get().exists for n in range(MAX_IN_FLIGHT)):
                return False
            states = [(stored_event(e), len(stored_deliveries(e))) for e in events]
            return all(event.queued or (event.attempts == n > 0) for event, n in states)

        eventually(settled, timeout=40, message="circuit open, the rest in the backlog")
        health = api.request("GET", "/v1/webhook", token=token).json()
        assert health["status"] == "failing" and health["backlog"] == len(events)
        assert health["consecutive_failures"] >= CIRCUIT_THRESHOLD
        failures_before = len(receiver.received())
        queued = [e for e in events if stored_event(e).queued]
        tried = [e for e in events if e not in queued]
        assert queued and len(tried) >= CIRCUIT_THRESHOLD

        # The endpoint is fixed; the customer sends the oldest waiting event again (a probe now).
        receiver.default = Scripted(200)
        reply = api.request("POST", f"/v1/webhook/events/{queued[0]}/retry", token=token, json={})
        assert reply.status_code == 202, reply.text
        eventually(
            lambda: all(stored_event(e).status is WebhookEventStatus.DELIVERED for e in queued),
            timeout=40,
            message="backlog drained",
        )

        # The events that had failed come back on their own schedule (first retry after 5 s).
        def retries_delivered() -> bool:
            sweep_due_events()  # the scheduled sweep's pass: re-publishes the retries that are due
            return all(stored_event(e).status is WebhookEventStatus.DELIVERED for e in tried)

        eventually(retries_delivered, timeout=40, message="retries delivered")
        after = receiver.received()[failures_before:]
        ids_after = [r.headers["webhook-id"] for r in after]
        assert sorted(ids_after) == sorted(events)  # every event delivered exactly once after the fix
        assert [i for i in ids_after if i in queued] == queued  # the backlog drained oldest first
        for request in receiver.received():  # retries keep the event's id, and every attempt is signed
            assert request.headers["webhook-id"] in events
        from standardwebhooks.webhooks import Webhook

        Webhook(secret).verify(after[-1].body, after[-1].headers)
        health = api.request("GET", "/v1/webhook", token=token).json()
        assert (health["status"], health["consecutive_failures"], health["backlog"]) == ("healthy", 0, 0)


def test_a_crashed_attempt_leaves_its_slot_to_be_taken_over_after_the_lease(
    project: Project,
) -> None:
    with WebhookReceiver() as receiver:
        setup_endpoint(HEALTHY, receiver.url())
        webhook_id = webhook_id_for(HEALTHY)
        event_id = make_event(HEALTHY)
        # What instances that died mid-attempt leave behind: every slot held, the event claimed, no record.
        ended = utc_now() - timedelta(seconds=1)
        for n in range(MAX_IN_FLIGHT):
            held = WebhookSlot(webhook_id=webhook_id, event_id=event_id, lease_until=ended, created_at=ended)
            slot_ref(webhook_id, n).set(held.to_firestore())
        event_ref(event_id).update({"attempts": 1, "next_attempt_at": ended})
        assert sweep_finds(event_id, utc_now())  # the sweep re-publishes it
        report = deliver_event(event_id, LOOPBACK_POLICY)
        assert report is not None and report.attempt == 2 and report.outcome is Outcome.DELIVERED
        assert [r.headers["webhook-id"] for r in receiver.received()] == [event_id]
        assert not slot_ref(webhook_id, 0).get().exists  # taken over, then released


def test_an_event_finding_every_slot_held_waits_in_the_backlog_and_is_handed_out(
    project: Project,
) -> None:
    with WebhookReceiver() as receiver:
        setup_endpoint(HEALTHY, receiver.url())
        webhook_id = webhook_id_for(HEALTHY)
        lease = utc_now() + timedelta(minutes=1)
        for n in range(MAX_IN_FLIGHT):  # two attempts in flight on other instances
            held = WebhookSlot(
                webhook_id=webhook_id, event_id="evt_other", lease_until=lease, created_at=lease
            )
            slot_ref(webhook_id, n).set(held.to_firestore())
        event_id = make_event(HEALTHY)
        assert deliver_event(event_id, LOOPBACK_POLICY) is None
        waiting = stored_event(event_id)
        assert waiting.queued and waiting.attempts == 0 and waiting.status is WebhookEventStatus.PENDING
        assert not receiver.received()
        slot_ref(webhook_id, 0).delete()  # one attempt finishes and hands out the backlog's oldest
        assert drain(endpoint(HEALTHY), test_traffic=False) == event_id
        eventually(arrivals_of(receiver, event_id), message="handed out through Pub/Sub")
        eventually(lambda: stored_event(event_id).status is WebhookEventStatus.DELIVERED)


def test_an_event_queued_behind_live_attempts_is_handed_out_when_one_finishes(project: Project) -> None:
    with WebhookReceiver(default=Scripted(delay_s=1.5)) as receiver:
        setup_endpoint(HEALTHY, receiver.url())
        webhook_id = webhook_id_for(HEALTHY)
        # Recently triggered with the same status: the holders' successes change nothing on the endpoint.
        endpoint_ref(HEALTHY).update({"last_triggered_at": utc_now(), "last_status_code": 200})
        holders = [make_event(HEALTHY) for _ in range(MAX_IN_FLIGHT)]
        with ThreadPoolExecutor(MAX_IN_FLIGHT) as pool:
            running = [
                pool.submit(contextvars.copy_context().run, deliver_event, e, LOOPBACK_POLICY)
                for e in holders
            ]
            eventually(lambda: len(receiver.received()) == MAX_IN_FLIGHT, message="both slots held")
            waiting = make_event(HEALTHY)
            assert deliver_event(waiting, LOOPBACK_POLICY) is None
            assert stored_event(waiting).queued
            reports = [future.result() for future in running]
        assert all(r is not None and r.outcome is Outcome.DELIVERED for r in reports)
        assert all(stored_event(e).status is WebhookEventStatus.DELIVERED for e in holders)
        # Released (a slot may already be held again by the handed-out event, which moves on quickly).
        slots = [slot_ref(webhook_id, n).get() for n in range(MAX_IN_FLIGHT)]
        assert all(snapshot.get("event_id") == waiting for snapshot in slots if snapshot.exists)
        eventually(arrivals_of(receiver, waiting), message="handed out by a holder")
        eventually(lambda: stored_event(waiting).status is WebhookEventStatus.DELIVERED)
        assert [d.attempt for d in stored_deliveries(waiting)] == [1]


def test_events_racing_for_one_endpoints_slots_are_all_delivered(project: Project) -> None:
    """An event queued while the last holder releases is handed out (by a holder, or by its own look at
    the slots after queueing): no wake-up is lost."""
    with WebhookReceiver() as receiver:
        setup_endpoint(HEALTHY, receiver.url())
        endpoint_ref(HEALTHY).update({"last_triggered_at": utc_now(), "last_status_code": 200})
        events = [make_event(HEALTHY) for _ in range(12)]
        # Each task runs in a copy of this thread's context (the test's project scope).
        tasks = [(contextvars.copy_context(), e) for e in events]
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda t: t[0].run(deliver_event, t[1], LOOPBACK_POLICY), tasks))
        eventually(
            lambda: all(stored_event(e).status is WebhookEventStatus.DELIVERED for e in events),
            timeout=20,
            message="every event delivered, none left in the backlog",
        )
        assert sorted(r.headers["webhook-id"] for r in receiver.received()) == sorted(events)


def test_rate_limit_spreads_deliveries_over_seconds(project: Project) -> None:
    with WebhookReceiver() as receiver:
        put_endpoint(
            HEALTHY,
            WebhookEndpointInput.model_validate(
                {"url": receiver.url(), "events": ["job.completed"], "rate_limit": 2}
            ),
        )
        events = [make_event(HEALTHY, publish=True) for _ in range(6)]
        eventually(
            lambda: all(stored_event(e).status is WebhookEventStatus.DELIVERED for e in events),
            timeout=40,
            message="throttled deliveries",
        )
        arrived = sorted(r.at for r in receiver.received())
        assert len(arrived) == len(events)
        # 6 at 2 per second need three different seconds; unthrottled they take a fraction of one.
        assert arrived[-1] - arrived[0] >= 1.0
        for i in range(len(arrived) - 4):
            assert arrived[i + 4] - arrived[i] >= 1.0  # never more than 2 per second (twice at an edge)


def test_disabling_after_five_days_records_a_webhook_disabled_event(project: Project) -> None:
    with WebhookReceiver(default=Scripted(500)) as receiver:
        setup_endpoint(FLAKY, receiver.url())
        since = utc_now() - timedelta(days=5, minutes=1)
        endpoint_ref(FLAKY).update({"failing_since": since})
        deliver_event(make_event(FLAKY), LOOPBACK_POLICY)
        assert not endpoint(FLAKY).enabled
        record = stored_event(disabled_event_id(webhook_id_for(FLAKY), since))
        assert record.type is WebhookEventType.WEBHOOK_DISABLED
        assert record.status is WebhookEventStatus.DISCARDED  # recorded for the dashboard, never sent
        assert record.payload["data"]["object"]["reason"] == "deliveries failed for 5 days"
        assert len(receiver.received()) == 1


def test_a_wrong_user_hint_in_the_message_changes_nothing(project: Project) -> None:
    with WebhookReceiver() as receiver, WebhookReceiver() as other:
        setup_endpoint(HEALTHY, receiver.url())
        setup_endpoint(FLAKY, other.url())
        event_id = make_event(HEALTHY)
        report = deliver_event(event_id, LOOPBACK_POLICY, user_id=FLAKY)  # the event's user is the truth
        assert report is not None and report.outcome is Outcome.DELIVERED
        assert [r.headers["webhook-id"] for r in receiver.received()] == [event_id]
        assert not other.received()


def _hold(budget: str, slots: int) -> None:
    """Attempts in flight elsewhere: the budget's slots held with a running lease."""
    lease = utc_now() + timedelta(minutes=1)
    for n in range(slots):
        held = WebhookSlot(webhook_id=budget, event_id="evt_other", lease_until=lease, created_at=lease)
        slot_ref(budget, n).set(held.to_firestore())


def test_test_traffic_has_its_own_budget_and_never_delays_live_events(project: Project) -> None:
    """Issue 26, item 8: with the endpoint's test budget full and test events queued, a live event is sent at
    once; with its live slots full, a test event still goes out in its own slot. A second customer's
    endpoint is untouched either way."""
    with WebhookReceiver() as receiver, WebhookReceiver() as tenant:
        setup_endpoint(HEALTHY, receiver.url())
        setup_endpoint(FLAKY, tenant.url())
        webhook_id = webhook_id_for(HEALTHY)
        _hold(budget_id(webhook_id, True), TEST_TRAFFIC_SLOTS)
        flood = [make_event(HEALTHY, livemode=False) for _ in range(5)]
        flood.append(make_event(HEALTHY, WebhookEventType.WEBHOOK_TEST))  # a live-mode webhook.test too
        assert all(deliver_event(e, LOOPBACK_POLICY) is None for e in flood)
        assert all(stored_event(e).queued and stored_event(e).test_traffic for e in flood)
        live = make_event(HEALTHY)
        report = deliver_event(live, LOOPBACK_POLICY)
        assert report is not None and report.outcome is Outcome.DELIVERED
        assert [r.headers["webhook-id"] for r in receiver.received()] == [live]
        # The live attempt handed out nothing of the test backlog (its own budget's backlog is empty).
        assert all(stored_event(e).queued for e in flood)
        other = make_event(FLAKY, livemode=False)
        assert deliver_event(other, LOOPBACK_POLICY) is not None  # the other customer's test budget is free
        assert [r.headers["webhook-id"] for r in tenant.received()] == [other]

        # The other way round: live slots all held, a test event is still sent in the test budget.
        for n in range(TEST_TRAFFIC_SLOTS):
            slot_ref(budget_id(webhook_id, True), n).delete()
        _hold(webhook_id, MAX_IN_FLIGHT)
        assert drain(endpoint(HEALTHY), test_traffic=True) == flood[0]  # the oldest test event first
        eventually(arrivals_of(receiver, flood[0]), message="the test event, handed out")
        waiting_live = make_event(HEALTHY)
        assert deliver_event(waiting_live, LOOPBACK_POLICY) is None
        assert stored_event(waiting_live).queued and not stored_event(waiting_live).test_traffic
