"""Per-endpoint isolation in Firestore: in-flight slots and the optional throttle (docs/webhooks.md), each
per budget (decisions.budget_id: an endpoint's live traffic, or its test traffic).

Slots `webhook_slots/{budget}-{n}` (decisions.py says how many): an attempt creates one (create(): exactly
one holder across every instance) and deletes it when recorded. A crashed holder's lease ends like the
event's own lease; the next claimant takes it over with a `last_update_time` precondition (one winner).
An event that finds every slot held queues itself, then looks at the slots again (`every_slot_held`): a
holder it sees releases later and hands out the backlog; a slot free by then means a holder released in
between, and the event hands out the backlog itself (shared/webhooks/delivery.py).

Throttle (`rate_limit`, attempts per second): `webhook_rate/{budget}-{second}`, incremented atomically; the
increment's result says whether this attempt is within the second's budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists, FailedPrecondition, NotFound
from google.cloud.firestore_v1 import Increment

from shared.core.clients import firestore_client
from shared.models import WebhookRateBucket, WebhookSlot, utc_now

# A throttled attempt (slow lane) waits at most this long for a later second's budget, then goes to the
# backlog.
MAX_THROTTLE_WAIT_S = 2.0
RATE_BUCKET_TTL = timedelta(hours=1)


@dataclass
class Slot:
    ref: Any
    # The claim's commit time: the slot's update time, and the event's, which the record is conditional on.
    update_time: Any
    event_id: str
    lease_until: datetime
    released: bool = False


def slot_ref(budget: str, n: int) -> Any:
    return firestore_client().collection(WebhookSlot.collection).document(f"{budget}-{n}")


def claim_slot(
    budget: str,
    event_id: str,
    slots: int,
    lease_until: datetime,
    claim: tuple[Any, dict[str, Any], Any],
) -> Slot | None:
    """Hold one of the endpoint's first `slots` slots and, in the same batch, claim the attempt.

    `claim` is (event reference, fields, update time read): the event is updated with a precondition on
    that read. None when every slot is held; FailedPrecondition when the claim lost (the event changed).
    Slot and event are written at the same instant, so the slot's update time also stands for the claim.
    """
    db = firestore_client()
    event, fields, read_at = claim
    now = utc_now()
    held = WebhookSlot(webhook_id=budget, event_id=event_id, lease_until=lease_until, created_at=now)

    def commit(ref: Any, option: Any = None) -> Slot:
        batch = db.batch()
        if option is None:
            batch.create(ref, held.to_firestore())
        else:
            batch.update(ref, held.to_firestore(), option=option)
        batch.update(event, fields, option=db.write_option(last_update_time=read_at))
        update_time = batch.commit()[0].update_time
        return Slot(ref, update_time, event_id, lease_until)

    for n in range(slots):
        ref = slot_ref(budget, n)
        try:
            return commit(ref)
        except AlreadyExists:
            pass
        snapshot = ref.get()
        if not snapshot.exists:
            try:  # released between our create and read
                return commit(ref)
            except AlreadyExists:
                continue
        current = WebhookSlot.from_firestore(snapshot.to_dict())
        if current.lease_until > now:
            continue
        # The holder's lease ended (it crashed): take the slot over, unless someone else just did (that
        # FailedPrecondition reads as a lost claim: the event stays due, and the sweep brings it back).
        try:
            return commit(ref, db.write_option(last_update_time=snapshot.update_time))
        except NotFound:
            continue
    return None


def every_slot_held(budget: str, slots: int) -> bool:
    """Whether the endpoint's first `slots` slots are all held by a running lease (one read)."""
    now = utc_now()
    snapshots = firestore_client().get_all([slot_ref(budget, n) for n in range(slots)])
    return all(s.exists and WebhookSlot.from_firestore(s.to_dict()).lease_until > now for s in snapshots)


def release_slot(slot: Slot) -> None:
    """Free the slot (once), unless its lease ran out and another attempt holds it now. Every claimed slot
    comes here when its attempt ends, recorded or not."""
    if slot.released:
        return
    slot.released = True
    option = firestore_client().write_option(last_update_time=slot.update_time)
    try:
        slot.ref.delete(option=option)
    except (FailedPrecondition, NotFound):
        pass


def wait_for_rate_token(budget: str, rate_limit: int) -> bool:
    """Take a token in this second or, waiting, in one of the next; False after MAX_THROTTLE_WAIT_S.
    A token is one count in `webhook_rate/{budget}-{second}`, within `rate_limit` when the count is."""
    give_up = time.time() + MAX_THROTTLE_WAIT_S
    buckets = firestore_client().collection(WebhookRateBucket.collection)
    while True:
        now = time.time()
        counted = buckets.document(f"{budget}-{int(now)}").set(
            {"count": Increment(1), "expires_at": utc_now() + RATE_BUCKET_TTL}, merge=True
        )
        if int(counted.transform_results[0].integer_value) <= rate_limit:
            return True
        next_second = int(now) + 1
        if next_second > give_up:
            return False
        time.sleep(next_second - now)  # pacing to the throttle, not waiting for a server
