"""Which purchase writes end an auto top-up attempt (shared/webhooks/account_events.py): decided from the
trigger's payload alone, so every other purchase write costs no read."""

from __future__ import annotations

from typing import Any

import pytest

from shared.webhooks.account_events import decides_top_up

PENDING: dict[str, Any] = {"auto_top_up": True, "status": "pending", "credits_granted": False}


@pytest.mark.parametrize(
    ("old", "new", "decided"),
    [
        (PENDING, {**PENDING, "status": "failed"}, True),
        (PENDING, {**PENDING, "status": "requires_action"}, True),  # off-session: no one can authenticate
        ({**PENDING, "status": "processing"}, {**PENDING, "status": "canceled"}, True),
        (PENDING, {**PENDING, "status": "succeeded", "credits_granted": True}, True),
        (PENDING, {**PENDING, "status": "processing"}, False),  # not decided yet
        (PENDING, {**PENDING, "payment_method_id": "pm_1"}, False),
        ({**PENDING, "status": "failed"}, {**PENDING, "status": "failed", "updated_at": 1}, False),  # again
        (
            {**PENDING, "status": "succeeded", "credits_granted": True},
            {**PENDING, "status": "refunded", "credits_granted": True},
            False,
        ),
        ({**PENDING, "auto_top_up": False}, {**PENDING, "auto_top_up": False, "status": "failed"}, False),
        ({"status": "pending"}, {"status": "succeeded", "credits_granted": True}, False),  # a customer's own
    ],
)
def test_only_an_auto_top_ups_purchase_just_paid_or_just_failed_ends_its_attempt(
    old: dict[str, Any], new: dict[str, Any], decided: bool
) -> None:
    assert decides_top_up(new, old) is decided
