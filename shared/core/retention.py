"""How long stored things live (docs/security.md, "Retention").

Test-mode jobs, their webhook events and delivery attempts are free to make, so they must not be free to
keep: each carries `delete_at` (created + 30 days, Stripe's span for test-mode event data), and the
Firestore TTL policy on that field (firestore.indexes.json, the deploy plan) deletes it within about a day
after. Live documents never carry it: jobs are what customers paid for and their ledger entries reference
them, and live events and attempts are the customer's delivery history (but for `webhook.test` events and
their attempts, which expire in both modes); the ledger itself is an append-only record of money.
"""

from __future__ import annotations

from datetime import datetime, timedelta

TEST_DATA_RETENTION = timedelta(days=30)


def test_data_expiry(livemode: bool, created_at: datetime) -> datetime | None:
    """When a document made in this mode may be deleted (None: kept)."""
    return None if livemode else created_at + TEST_DATA_RETENTION


def event_data_expiry(livemode: bool, test_event: bool, created_at: datetime) -> datetime | None:
    """When a webhook event or delivery attempt may be deleted: test-mode ones, and `webhook.test` events
    and their attempts in both modes (a signed-in user's test sends are live, and free to make)."""
    return test_data_expiry(livemode and not test_event, created_at)
