"""Fixtures shared by the integration tests: Stripe (purchases, payment methods, the money lifecycle) and a
local webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from localdev.stripe_setup import register_localstripe_webhook
from tests.conftest import STRIPE_WEBHOOK_SECRET, Project
from tests.support import stripe_objects as so
from tests.support.platform import ApiClient
from tests.support.purchases import balance, paid_purchase_without_grant, send
from tests.support.stripe_events import EventSender, stripe_test_client
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture
def client(project: Project) -> stripe.StripeClient:
    """The official Stripe SDK pointed at this session's localstripe."""
    return stripe_test_client(project.stack.stripe_api_base)


@pytest.fixture
def events(project: Project) -> EventSender:
    """Sends Stripe events, signed as Stripe signs them, to this project's `stripe_webhook`."""
    return EventSender(project.function_url("stripe_webhook"))


@pytest.fixture
def bystander(api: ApiClient, client: stripe.StripeClient, events: EventSender) -> str:
    """A second customer with 120 credits of her own: nothing in a money test may move them."""
    _, intent, _ = paid_purchase_without_grant(api, client, "zed")
    send(events, "payment_intent.succeeded", so.payment_intent(intent))
    assert balance("zed") == 120
    return "zed"


@pytest.fixture
def localstripe_webhook(project: Project) -> Iterator[None]:
    """localstripe sends its own events to this test's stripe_webhook, as `make dev` wires it."""
    url = project.function_url("stripe_webhook")
    register_localstripe_webhook(project.stack.stripe_api_base, url, STRIPE_WEBHOOK_SECRET)
    yield
    # Same name, no event types: later tests' events no longer reach this finished project.
    register_localstripe_webhook(project.stack.stripe_api_base, url, STRIPE_WEBHOOK_SECRET, events=[])


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A local webhook receiver (a real HTTP server on 127.0.0.1) for this test."""
    with WebhookReceiver() as running:
        yield running
