"""What the customer is told about their credits (docs/credits.md): auto top-up's outcome, a low balance, a
grant about to expire. Each is a webhook event created once per occurrence (its id derived from the
occurrence), through `notify`, the one seam: an email sender would be one more consumer of `Notice` there.

- `handle_account_updated` (Firestore trigger on `users/{uid}`): the balance document carries copies of the
  customer's thresholds, so a balance write that crosses none is decided from the trigger's payload alone
  (no read). Below `auto_top_up_below`, an auto top-up attempt is claimed or resumed
  (shared/billing/auto_top_up.py); crossing `low_balance_below` downward sends credits.low, which is armed
  again once the balance is back at or above it (the next crossing is a new occurrence).
- `handle_purchase_updated` (Firestore trigger on `purchases/{id}`): an auto top-up's purchase decided by
  Stripe's events after the charge's own answer did not decide it (lost, or still processing) ends its
  attempt at once, with the same outcome and the same notice (its id is the attempt's) as the charge's answer.
- `handle_sweep_credit_grants` (every minute): expires grants past their expiry (shared/credits/granting.py)
  and sends credit_grant.expiring for active grants expiring within 7 days.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore

from shared.accounts.service import account_ref
from shared.billing.auto_top_up import TopUpOutcome, conclude_purchase, top_up_if_due
from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.firestore_events import DocumentChange
from shared.core.index_shards import first_over_shards
from shared.core.pubsub_events import PubSubMessage
from shared.credits.granting import expire_due_grants, grant_resource
from shared.credits.ledger import grant_ref
from shared.models import Account, CreditGrant, GrantStatus, WebhookEventType, utc_now
from shared.webhooks.events import create_event

EXPIRING_NOTICE = timedelta(days=7)
SWEEP_BATCH = 200


@dataclass(frozen=True)
class Notice:
    """One thing to tell a customer, once: `key` names the occurrence (a repeat of it is the same notice)."""

    user_id: str
    type: WebhookEventType
    key: str
    obj: dict[str, Any]


def notice_id(notice: Notice) -> str:
    digest = hashlib.sha256(f"{notice.type.value}:{notice.user_id}:{notice.key}".encode()).hexdigest()
    return "evt_" + digest[:32]


def notify(notice: Notice) -> str:
    """The one way a credits notice leaves: a webhook event (created once; delivered if the customer
    subscribed to its type). Email, when it comes, is sent from here too."""
    event_id = notice_id(notice)
    create_event(event_id, notice.user_id, notice.type, True, notice.obj)
    return event_id


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def handle_account_updated(change: DocumentChange) -> list[str]:
    """Firestore trigger on users/{uid}: the payload only says what may have crossed; whose account it is
    comes from the document's path, and auto top-up re-reads everything it acts on."""
    if not change.document.startswith("users/") or change.document.count("/") != 1:
        logs.error("account trigger for another document ignored", document=change.document)
        return []
    user_id = change.document_id
    new, old = change.value or {}, change.old_value or {}
    credits, before = _int(new.get("credits")), _int(old.get("credits"))
    if credits is None or before is None:
        return []
    sent: list[str] = []
    low = _int(new.get("low_balance_below"))
    if low is not None and before >= low > credits:
        occurrence = new.get("updated_at")
        key = occurrence.isoformat() if isinstance(occurrence, datetime) else str(change.update_time)
        obj = {"object": "balance", "user_id": user_id, "credits": credits, "low_balance_threshold": low}
        sent.append(notify(Notice(user_id, WebhookEventType.CREDITS_LOW, key, obj)))
    below = _int(new.get("auto_top_up_below"))
    if below is not None and credits < below and credits < before:  # a debit, below the threshold
        outcome = top_up_if_due(user_id)
        if outcome is not None:
            sent.append(notify(top_up_notice(user_id, outcome)))
    return sent


# Purchase states that end an auto top-up attempt (off-session, requires_action is a failure too).
_DECIDED = frozenset({"failed", "canceled", "requires_action"})


def decides_top_up(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """Whether this write of a purchase decided an auto top-up's charge: just paid, or just failed."""
    if new.get("auto_top_up") is not True:
        return False
    paid = new.get("credits_granted") is True and old.get("credits_granted") is not True
    failed = new.get("status") in _DECIDED and new.get("status") != old.get("status")
    return paid or failed


def handle_purchase_updated(change: DocumentChange) -> str | None:
    """Firestore trigger on purchases/{id}: decided from the payload (only an auto top-up's purchase that
    was just paid or just failed); the attempt is ended from what is read again."""
    if not change.document.startswith("purchases/") or change.document.count("/") != 1:
        logs.error("purchase trigger for another document ignored", document=change.document)
        return None
    new = change.value or {}
    if not decides_top_up(new, change.old_value or {}):
        return None
    outcome = conclude_purchase(change.document_id)
    if outcome is None:
        return None
    user_id = str(new.get("user_id"))
    return notify(top_up_notice(user_id, outcome))


def top_up_notice(user_id: str, outcome: TopUpOutcome) -> Notice:
    obj: dict[str, Any] = {
        "object": "auto_top_up",
        "attempt_id": outcome.attempt_id,
        "purchase_id": outcome.purchase_id,
        "credits": outcome.credits,
        "amount": outcome.amount_cents,
    }
    if outcome.succeeded:
        return Notice(user_id, WebhookEventType.AUTO_TOP_UP_SUCCEEDED, outcome.attempt_id, obj)
    obj["reason"] = outcome.reason.value if outcome.reason else None
    return Notice(user_id, WebhookEventType.AUTO_TOP_UP_FAILED, outcome.attempt_id, obj)


def expiring_query(shard: int, until: datetime) -> Any:
    # Index: index_shard, status, expiring_notified, expires_at (firestore.indexes.json).
    return (
        firestore_client()
        .collection(CreditGrant.collection)
        .where(filter=firestore.FieldFilter("index_shard", "==", shard))
        .where(filter=firestore.FieldFilter("status", "==", GrantStatus.ACTIVE.value))
        .where(filter=firestore.FieldFilter("expiring_notified", "==", False))
        .where(filter=firestore.FieldFilter("expires_at", "<=", until))
        .order_by("expires_at")
    )


def notify_expiring_grants(now: datetime | None = None, limit: int = SWEEP_BATCH) -> list[str]:
    """credit_grant.expiring, once per grant (the event's id is the grant's), for active grants that expire
    within 7 days; the grant is marked after its event exists. One bad grant is logged and skipped."""
    now = now or utc_now()
    notified: list[str] = []
    for snapshot in first_over_shards(
        lambda shard: expiring_query(shard, now + EXPIRING_NOTICE), "expires_at", limit
    ):
        try:
            grant = CreditGrant.from_firestore(snapshot.to_dict())
            if grant.expires_at is None or grant.expires_at <= now:
                continue  # expiring now: the expiry sweep's business
            live = (Account.from_firestore(account_ref(grant.user_id).get().to_dict()).grants or {}).get(
                snapshot.id
            )
            obj = grant_resource(snapshot.id, grant, live)
            notify(Notice(grant.user_id, WebhookEventType.CREDIT_GRANT_EXPIRING, snapshot.id, obj))
            grant_ref(snapshot.id).update({"expiring_notified": True})
            notified.append(snapshot.id)
        except Exception as exc:  # one bad grant never stops the pass
            logs.error("credit_grant.expiring failed", grant_id=snapshot.id, error=repr(exc))
    return notified


def handle_sweep_credit_grants(message: PubSubMessage) -> int:
    """`sweep_credit_grants` (every minute): a tick (its content does not matter)."""
    return len(expire_due_grants()) + len(notify_expiring_grants())
