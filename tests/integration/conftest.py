"""Fixtures shared by the Stripe integration tests (purchases, payment methods, the money lifecycle)."""

from __future__ import annotations

import pytest
import stripe

from tests.conftest import Project
from tests.support.stripe_events import EventSender, stripe_test_client


@pytest.fixture
def client(project: Project) -> stripe.StripeClient:
    """The official Stripe SDK pointed at this session's localstripe."""
    return stripe_test_client(project.stack.stripe_api_base)


@pytest.fixture
def events(project: Project) -> EventSender:
    """Sends Stripe events, signed as Stripe signs them, to this project's `stripe_webhook`."""
    return EventSender(project.function_url("stripe_webhook"))
