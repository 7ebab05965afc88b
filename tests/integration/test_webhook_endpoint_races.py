"""An attempt's verdict on the endpoint (5-day rule, 410) concerns the endpoint it was sent to: a change
the user makes while the attempt is in flight (a new URL, a re-enable) must not be overwritten by it."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from shared.models import utc_now
from shared.webhooks.decisions import Outcome
from shared.webhooks.delivery import deliver_event
from shared.webhooks.endpoints import WebhookEndpointInput, endpoint_ref, put_endpoint
from tests.conftest import Project
from tests.support.waiting import eventually
from tests.support.webhook_receiver import Scripted, WebhookReceiver
from tests.support.webhooks import ALL_JOB_EVENTS, LOOPBACK_POLICY, endpoint, make_event, setup_endpoint

USER = "user_races"


@pytest.fixture
def old_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def new_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as running:
        yield running


def attempt_while(event_id: str, receiver: WebhookReceiver, meanwhile: object) -> object:
    """Run the attempt in a thread; call `meanwhile()` once the receiver holds the request."""
    reports: list[object] = []
    worker = threading.Thread(
        target=contextvars.copy_context().run,
        args=(lambda: reports.append(deliver_event(event_id, LOOPBACK_POLICY)),),
    )
    worker.start()
    eventually(lambda: len(receiver.received()) == 1, timeout=10, message="request in flight")
    meanwhile()  # type: ignore[operator]
    worker.join()
    return reports[0]


def move_to(url: str) -> None:
    put_endpoint(USER, WebhookEndpointInput.model_validate({"url": url, "events": list(ALL_JOB_EVENTS)}))


@pytest.mark.parametrize("answer", [500, 410])
def test_a_failure_of_the_old_url_does_not_disable_the_new_one(
    project: Project, old_receiver: WebhookReceiver, new_receiver: WebhookReceiver, answer: int
) -> None:
    setup_endpoint(USER, old_receiver.url())
    endpoint_ref(USER).update({"failing_since": utc_now() - timedelta(days=5, minutes=1)})
    old_receiver.respond(Scripted(answer, delay_s=1.0))
    report = attempt_while(make_event(USER), old_receiver, lambda: move_to(new_receiver.url()))
    assert report is not None and report.outcome in (Outcome.RETRY, Outcome.GONE)  # type: ignore[attr-defined]
    after = endpoint(USER)
    assert after.url == new_receiver.url()
    assert after.enabled and after.disabled_reason is None and after.failing_since is None


def test_a_success_clears_a_failure_clock_started_during_the_attempt(
    project: Project, old_receiver: WebhookReceiver
) -> None:
    setup_endpoint(USER, old_receiver.url())
    old_receiver.respond(Scripted(200, delay_s=1.0))
    started = utc_now() - timedelta(days=5, minutes=1)
    # Another event's failure starts the clock while this attempt is in flight; this one then succeeds.
    report = attempt_while(
        make_event(USER), old_receiver, lambda: endpoint_ref(USER).update({"failing_since": started})
    )
    assert report is not None and report.outcome is Outcome.DELIVERED  # type: ignore[attr-defined]
    assert endpoint(USER).failing_since is None
