"""The retry sweep re-publishes every due event, however many: one page per query, as many pages as due."""

from __future__ import annotations

from datetime import timedelta

from shared.models import WebhookEventStatus, utc_now
from shared.webhooks.events import sweep_due_events
from tests.conftest import Project
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.webhooks import make_event, setup_endpoint, stored_event

USER = "user_sweep"


def test_a_sweep_publishes_every_due_event_not_just_one_page(
    project: Project, receiver: WebhookReceiver
) -> None:
    # A backlog larger than one query page (an endpoint down for a while, many events due at once) must not
    # be worked off one page per minute: each sweep would fall further behind the schedule.
    setup_endpoint(USER, receiver.url())
    event_ids = {make_event(USER) for _ in range(7)}  # created, their publishes "lost"
    # As the sweep would see them 65 s on: the unpublished events (backstop: created + 60 s) are due, while an
    # event claimed meanwhile holds a lease (timeout + 60 s) past that moment and is not picked up again.
    published = sweep_due_events(utc_now() + timedelta(seconds=65), limit=3)
    assert published == 7
    eventually(lambda: len(receiver.received()) >= 7, timeout=30, message="all seven delivered")
    assert {r.headers["webhook-id"] for r in receiver.received()} == event_ids
    eventually(
        lambda: all(stored_event(e).status is WebhookEventStatus.DELIVERED for e in event_ids),
        timeout=15,
        message="all recorded",
    )
