"""Per-endpoint isolation in Firestore: in-flight slots and the optional throttle (docs/webhooks.md).

Both are per budget (shared/webhooks/decisions.budget_id): an endpoint's live traffic is counted under its
webhook id, its test traffic under `{webhookId}-test`, so test traffic never takes a live slot or token.

Slots: a budget has a few slot documents `webhook_slots/{budget}-{n}` (decisions.py says how many); an
attempt first creates one (create(): exactly one holder across every instance) and deletes it when recorded. A holder
that crashed leaves a lease that ends like the event's own lease; the next claimant takes it over with a
`last_update_time` precondition, so two claimants never both win.

An event that finds every slot held queues itself, then looks at the slots again (`every_slot_held`): a
holder it sees releases later and hands out the backlog; a slot free by then means a holder released in
between, and the event hands out the backlog itself (shared/webhooks/delivery.py).

Throttle (`rate_limit`, attempts per second): one counter document per budget and second,
`webhook_rate/{budget}-{second}`, incremented atomically; the increment's result says whether this
attempt is within the second's budget. Only throttled endpoints write it.
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
    update_time: Any  # the slot document's, as last read or written by its holder
    claimed_at: Any  # the claim's commit time: the event's update time the record is conditional on
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
        return Slot(ref, update_time, update_time, event_id, lease_until)

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


def _rate_bucket(budget: str, second: int) -> Any:
    return firestore_client().collection(WebhookRateBucket.collection).document(f"{budget}-{second}")


def take_rate_token(budget: str, rate_limit: int, second: int) -> bool:
    """Count one attempt in `second`; True when it is within `rate_limit`."""
    expires_at = utc_now() + RATE_BUCKET_TTL
    result = _rate_bucket(budget, second).set({"count": Increment(1), "expires_at": expires_at}, merge=True)
    return int(result.transform_results[0].integer_value) <= rate_limit


def wait_for_rate_token(budget: str, rate_limit: int) -> bool:
    """Take a token in this second or, waiting, in one of the next; False after MAX_THROTTLE_WAIT_S."""
    give_up = time.time() + MAX_THROTTLE_WAIT_S
    while True:
        now = time.time()
        if take_rate_token(budget, rate_limit, int(now)):
            return True
        next_second = int(now) + 1
        if next_second > give_up:
            return False
        time.sleep(next_second - now)  # pacing to the throttle, not waiting for a server
