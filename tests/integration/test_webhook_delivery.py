"""Delivery attempts in-process against real local receivers: signatures, every failure mode, claims."""

from __future__ import annotations

import contextvars
import json
import threading
from datetime import timedelta

import pytest

from localdev import rpc_counts
from localdev.emulators import free_port
from shared.core.clients import publish
from shared.core.function_registry import WEBHOOK_RETRY_TOPIC
from shared.models import WebhookEventStatus, WebhookEventType, utc_now
from shared.outbound.sender import SendPolicy
from shared.webhooks.decisions import MAX_ATTEMPTS, Outcome
from shared.webhooks.delivery import deliver_event
from shared.webhooks.endpoints import endpoint_ref, rotate_secret
from tests.conftest import Project
from tests.support.waiting import eventually
from tests.support.webhook_receiver import Scripted, WebhookReceiver
from tests.support.webhooks import (
    LOOPBACK_POLICY,
    endpoint,
    make_event,
    setup_endpoint,
    stored_deliveries,
    stored_event,
    sweep_finds,
    verify,
)

USER = "user_hooks"


def assert_retry_in(event_id: str, low: timedelta, high: timedelta) -> None:
    event = stored_event(event_id)
    [*_, last] = stored_deliveries(event_id)
    assert event.status is WebhookEventStatus.PENDING
    assert event.next_attempt_at is not None and event.next_attempt_at == last.next_attempt_at
    assert low <= event.next_attempt_at - last.created_at <= high


def test_success_is_signed_per_standard_webhooks_and_recorded(
    project: Project, receiver: WebhookReceiver
) -> None:
    secret = setup_endpoint(USER, receiver.url())
    event_id = make_event(USER)
    report = deliver_event(event_id, LOOPBACK_POLICY)
    assert report is not None and report.outcome is Outcome.DELIVERED
    [request] = receiver.received()
    payload = verify(secret, request)
    assert payload["id"] == event_id == request.headers["webhook-id"]
    assert payload["type"] == "job.completed"
    assert set(payload) == {"id", "type", "created", "livemode", "data"}
    assert request.headers["content-type"] == "application/json"
    event = stored_event(event_id)
    assert event.status is WebhookEventStatus.DELIVERED and event.next_attempt_at is None
    [delivery] = stored_deliveries(event_id)
    assert (delivery.attempt, delivery.status_code, delivery.error) == (1, 200, None)
    stored_endpoint = endpoint(USER)
    assert stored_endpoint.last_status_code == 200 and stored_endpoint.last_triggered_at is not None
    # Delivered is final: another copy of the message sends nothing.
    assert deliver_event(event_id, LOOPBACK_POLICY) is None
    assert len(receiver.received()) == 1


def test_during_rotation_old_and_new_secret_both_verify(project: Project, receiver: WebhookReceiver) -> None:
    old_secret = setup_endpoint(USER, receiver.url())
    new_secret = str(rotate_secret(USER)["secret"])
    assert new_secret != old_secret and new_secret.startswith("whsec_")
    deliver_event(make_event(USER), LOOPBACK_POLICY)
    [request] = receiver.received()
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verify(old_secret, request) == verify(new_secret, request)
    # Once the overlap is over, only the new secret signs.
    endpoint_ref(USER).update({"previous_secret_expires_at": utc_now() - timedelta(seconds=1)})
    deliver_event(make_event(USER), LOOPBACK_POLICY)
    second = receiver.received()[1]
    verify(new_secret, second)
    with pytest.raises(Exception, match="signature"):
        verify(old_secret, second)


def test_rotating_twice_keeps_every_secret_of_the_last_24_hours_signing(
    project: Project, receiver: WebhookReceiver
) -> None:
    first = setup_endpoint(USER, receiver.url())
    second = str(rotate_secret(USER)["secret"])
    third = str(rotate_secret(USER)["secret"])
    deliver_event(make_event(USER), LOOPBACK_POLICY)
    [request] = receiver.received()
    assert len(request.headers["webhook-signature"].split(" ")) == 3
    assert verify(first, request) == verify(second, request) == verify(third, request)


def test_500_is_retried_after_about_five_seconds_with_the_same_id(
    project: Project, receiver: WebhookReceiver
) -> None:
    secret = setup_endpoint(USER, receiver.url())
    receiver.respond(Scripted(500))
    event_id = make_event(USER)
    report = deliver_event(event_id, LOOPBACK_POLICY)
    assert report is not None and report.outcome is Outcome.RETRY and report.result.status_code == 500
    assert_retry_in(event_id, timedelta(seconds=4.5), timedelta(seconds=5.5))
    assert endpoint(USER).failing_since is not None
    # Not due yet: a copy of the message sends nothing.
    assert deliver_event(event_id, LOOPBACK_POLICY) is None
    second = eventually(lambda: deliver_event(event_id, LOOPBACK_POLICY), timeout=15, message="retry due")
    assert second.attempt == 2 and second.outcome is Outcome.DELIVERED
    first, again = receiver.received()
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == event_id
    assert verify(secret, first) == verify(secret, again)
    assert [d.status_code for d in stored_deliveries(event_id)] == [500, 200]
    assert endpoint(USER).failing_since is None


def test_the_first_retry_goes_out_seconds_after_it_is_due_through_the_polling_sweep(
    project: Project, receiver: WebhookReceiver
) -> None:
    """Through Pub/Sub and the functions host: the delivery function acknowledges the failed attempt (no
    5xx, which would slow the whole subscription); one scheduler tick starts the sweep, which polls the
    schedule during its minute, so the retry (due 5 s after the failure) does not wait for the next one."""
    secret = setup_endpoint(USER, receiver.url())
    receiver.respond(Scripted(500))
    event_id = make_event(USER, publish=True)
    eventually(lambda: stored_deliveries(event_id), message="first try")
    publish(WEBHOOK_RETRY_TOPIC, b"{}", scheduled="true")  # the scheduler's tick, once
    eventually(
        lambda: stored_event(event_id).status is WebhookEventStatus.DELIVERED,
        timeout=40,
        message="retried by the polling sweep",
    )
    first, second = receiver.received()
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event_id
    assert verify(secret, first) == verify(secret, second)
    failed, delivered = stored_deliveries(event_id)
    assert (failed.status_code, delivered.status_code) == (500, 200)
    assert delivered.created_at - failed.created_at >= timedelta(seconds=4)  # not before it was due


def test_timeout_is_a_failure_with_its_retry_time(project: Project, receiver: WebhookReceiver) -> None:
    setup_endpoint(USER, receiver.url())
    receiver.respond(Scripted(200, delay_s=10))
    event_id = make_event(USER)
    report = deliver_event(event_id, SendPolicy(timeout_s=0.5, allow_loopback=True, require_https=False))
    assert report is not None and report.outcome is Outcome.RETRY
    [delivery] = stored_deliveries(event_id)
    assert delivery.status_code is None and delivery.error is not None and "timed out" in delivery.error
    assert delivery.duration_ms < 5000
    assert_retry_in(event_id, timedelta(seconds=4.5), timedelta(seconds=5.5))


def test_410_disables_the_endpoint_and_later_events_get_nothing(
    project: Project, receiver: WebhookReceiver
) -> None:
    setup_endpoint(USER, receiver.url())
    receiver.respond(Scripted(410))
    event_id = make_event(USER)
    report = deliver_event(event_id, LOOPBACK_POLICY)
    assert report is not None and report.outcome is Outcome.GONE and report.next_attempt_at is None
    event = stored_event(event_id)
    assert event.status is WebhookEventStatus.FAILED and event.next_attempt_at is None
    disabled = endpoint(USER)
    assert not disabled.enabled and disabled.disabled_reason is not None and "410" in disabled.disabled_reason
    later = make_event(USER)
    assert deliver_event(later, LOOPBACK_POLICY) is None
    assert stored_event(later).status is WebhookEventStatus.DISCARDED
    assert len(receiver.received()) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(project: Project, receiver: WebhookReceiver, status: int) -> None:
    setup_endpoint(USER, receiver.url())
    receiver.respond(Scripted(status, headers={"Retry-After": "120"}))
    event_id = make_event(USER)
    deliver_event(event_id, LOOPBACK_POLICY)
    [delivery] = stored_deliveries(event_id)
    assert delivery.status_code == status
    assert_retry_in(event_id, timedelta(seconds=119), timedelta(seconds=121))


def test_redirect_is_not_followed_and_counts_as_failure(project: Project, receiver: WebhookReceiver) -> None:
    setup_endpoint(USER, receiver.url("/hook"))
    receiver.respond(Scripted(302, headers={"Location": receiver.url("/elsewhere")}))
    event_id = make_event(USER)
    report = deliver_event(event_id, LOOPBACK_POLICY)
    assert report is not None and report.outcome is Outcome.RETRY
    assert [r.path for r in receiver.received()] == ["/hook"]
    [delivery] = stored_deliveries(event_id)
    assert delivery.status_code == 302 and delivery.error is not None and "redirect" in delivery.error
    assert_retry_in(event_id, timedelta(seconds=4.5), timedelta(seconds=5.5))


def test_connection_refused_is_a_failure(project: Project) -> None:
    setup_endpoint(USER, f"http://127.0.0.1:{free_port()}/hook")
    event_id = make_event(USER)
    deliver_event(event_id, LOOPBACK_POLICY)
    [delivery] = stored_deliveries(event_id)
    assert delivery.status_code is None and delivery.error == "connection refused"
    assert_retry_in(event_id, timedelta(seconds=4.5), timedelta(seconds=5.5))


def test_later_attempts_follow_the_schedule_and_the_last_one_fails_the_event(
    project: Project, receiver: WebhookReceiver
) -> None:
    setup_endpoint(USER, receiver.url())
    receiver.default = Scripted(500)
    event_id = make_event(USER)
    events = project_event_ref(event_id)
    events.update({"attempts": 3, "next_attempt_at": utc_now() - timedelta(seconds=1)})
    deliver_event(event_id, LOOPBACK_POLICY)
    assert_retry_in(event_id, timedelta(hours=1.8), timedelta(hours=2.2))  # 4th attempt failed -> 2 h
    events.update({"attempts": MAX_ATTEMPTS - 1, "next_attempt_at": utc_now() - timedelta(seconds=1)})
    report = deliver_event(event_id, LOOPBACK_POLICY)
    assert report is not None and report.attempt == MAX_ATTEMPTS and report.next_attempt_at is None
    event = stored_event(event_id)
    assert event.status is WebhookEventStatus.FAILED and event.next_attempt_at is None


def test_endpoint_failing_for_five_days_is_disabled(project: Project, receiver: WebhookReceiver) -> None:
    setup_endpoint(USER, receiver.url())
    endpoint_ref(USER).update({"failing_since": utc_now() - timedelta(days=5, minutes=1)})
    receiver.respond(Scripted(500))
    deliver_event(make_event(USER), LOOPBACK_POLICY)
    disabled = endpoint(USER)
    assert not disabled.enabled and disabled.disabled_reason == "deliveries failed for 5 days"


def test_disabled_or_unsubscribed_endpoints_get_nothing(project: Project, receiver: WebhookReceiver) -> None:
    setup_endpoint(USER, receiver.url(), events=("job.failed",))
    unsubscribed = make_event(USER, WebhookEventType.JOB_COMPLETED)
    assert deliver_event(unsubscribed, LOOPBACK_POLICY) is None
    assert stored_event(unsubscribed).status is WebhookEventStatus.DISCARDED
    # webhook.test needs no subscription.
    test_event = make_event(USER, WebhookEventType.WEBHOOK_TEST)
    assert deliver_event(test_event, LOOPBACK_POLICY) is not None
    endpoint_ref(USER).update({"enabled": False})
    for event_type in (WebhookEventType.JOB_FAILED, WebhookEventType.WEBHOOK_TEST):
        event_id = make_event(USER, event_type)
        assert deliver_event(event_id, LOOPBACK_POLICY) is None
        assert stored_event(event_id).status is WebhookEventStatus.DISCARDED
    no_endpoint = make_event("user_without_endpoint")
    assert deliver_event(no_endpoint, LOOPBACK_POLICY) is None
    assert stored_event(no_endpoint).status is WebhookEventStatus.DISCARDED
    assert [json.loads(r.body)["type"] for r in receiver.received()] == ["webhook.test"]


def test_concurrent_copies_of_a_message_send_once(project: Project, receiver: WebhookReceiver) -> None:
    setup_endpoint(USER, receiver.url())
    receiver.default = Scripted(200, delay_s=0.3)  # keep the first sender busy while the others race
    event_id = make_event(USER)
    start = threading.Barrier(4)
    reports: list[object] = []

    def copy_of_message() -> None:
        start.wait()
        reports.append(deliver_event(event_id, LOOPBACK_POLICY))

    # Each thread runs in a copy of this context, so it talks to this test's project.
    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(copy_of_message,)) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(receiver.received()) == 1
    assert len([r for r in reports if r is not None]) == 1
    assert [d.attempt for d in stored_deliveries(event_id)] == [1]


def test_a_crash_after_the_claim_is_retried_after_the_lease(
    project: Project, receiver: WebhookReceiver
) -> None:
    setup_endpoint(USER, receiver.url())
    event_id = make_event(USER)
    # What a sender that crashed mid-attempt leaves behind: attempt 1 claimed, lease running, no record.
    project_event_ref(event_id).update({"attempts": 1, "next_attempt_at": utc_now() + timedelta(seconds=30)})
    assert deliver_event(event_id, LOOPBACK_POLICY) is None  # the lease protects the (dead) claimant
    assert not sweep_finds(event_id, utc_now())
    assert sweep_finds(event_id, utc_now() + timedelta(seconds=31))  # the sweep will pick it up
    project_event_ref(event_id).update({"next_attempt_at": utc_now() - timedelta(seconds=1)})
    report = deliver_event(event_id, LOOPBACK_POLICY)
    assert report is not None and report.attempt == 2 and report.outcome is Outcome.DELIVERED
    assert receiver.received()[0].headers["webhook-id"] == event_id


def project_event_ref(event_id: str):  # type: ignore[no-untyped-def]
    from shared.webhooks.events import event_ref

    return event_ref(event_id)


def test_a_success_reads_once_writes_in_two_batches_and_looks_at_the_backlog(project: Project) -> None:
    """Read (event + endpoint in one call), claim batch, record batch, the backlog's query (docs/webhooks.md,
    "Firestore documents per delivery")."""
    with WebhookReceiver() as receiver:
        setup_endpoint(USER, receiver.url())
        # Triggered just now with the same status: the success changes nothing on the endpoint.
        endpoint_ref(USER).update({"last_triggered_at": utc_now(), "last_status_code": 200})
        event_id = make_event(USER)
        rpc_counts.install()
        rpc_counts.reset()
        report = deliver_event(event_id, LOOPBACK_POLICY, user_id=USER)
        counts = rpc_counts.snapshot()
    assert report is not None and report.outcome is Outcome.DELIVERED
    assert (counts["firestore_rpcs"], counts["firestore_queries"], counts["firestore_reads"]) == (4, 1, 3)
    assert (counts["firestore_writes"], counts["firestore_deletes"]) == (4, 1)
