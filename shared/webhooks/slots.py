"""Per-endpoint isolation in Firestore: in-flight slots and the optional throttle (docs/webhooks.md).

Slots: an endpoint has `MAX_IN_FLIGHT` slot documents `webhook_slots/{webhookId}-{n}`; an attempt first
creates one (create(): exactly one holder across every instance) and deletes it when recorded. A holder
that crashed leaves a lease that ends like the event's own lease; the next claimant takes it over with a
`last_update_time` precondition, so two claimants never both win.

Backlog flag: an event that finds every slot held queues itself and then flags the held slots
(`flag_backlog`); a holder whose slot is flagged hands out the backlog when it releases it. An unflagged
holder whose attempt was a quiet success skips the backlog query (shared/webhooks/delivery.py): most
attempts never have a backlog, and that query was the costliest call of an attempt.

Throttle (`rate_limit`, attempts per second): one counter document per endpoint and second,
`webhook_rate/{webhookId}-{second}`, incremented atomically; the increment's result says whether this
attempt is within the second's budget. Only throttled endpoints write it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists, FailedPrecondition, NotFound
from google.cloud.firestore_v1 import Increment

from shared.core.clients import current_project, firestore_client
from shared.core.shared_commits import Write, WriteKind, shared_commits
from shared.models import WebhookRateBucket, WebhookSlot, utc_now

# Attempts to one endpoint in flight at once, across all instances.
MAX_IN_FLIGHT = 2
# Of those, the shared fast lane may hold only this many: an endpoint that starts hanging can block at
# most this many of the fast lane's push slots, once, before it is moved to the slow lane.
FAST_LANE_SLOTS = 1
# A throttled attempt (slow lane) waits at most this long for a later second's budget, then goes to the
# backlog.
MAX_THROTTLE_WAIT_S = 2.0
RATE_BUCKET_TTL = timedelta(hours=1)


# Tries at flagging a held slot that keeps changing under us before handing out the backlog ourselves.
FLAG_TRIES = 3


class _HeldHere:
    """Slots that attempts of this instance hold right now. A create() of one of them can only fail, and in
    a shared commit (shared/core/shared_commits.py) that failure would make every member commit alone; so
    the claim skips them. A hint only: Firestore's slot documents decide."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[tuple[str, str]] = set()

    def holds(self, ref: Any) -> bool:
        with self._lock:
            return (current_project(), ref.path) in self._held

    def add(self, ref: Any) -> None:
        with self._lock:
            self._held.add((current_project(), ref.path))

    def discard(self, ref: Any) -> None:
        with self._lock:
            self._held.discard((current_project(), ref.path))


_held_here = _HeldHere()


@dataclass
class Slot:
    ref: Any
    update_time: Any  # the slot document's, as last read or written by its holder
    claimed_at: Any  # the claim's commit time: the event's update time the record is conditional on
    event_id: str
    lease_until: datetime
    backlog: bool = False  # flagged: the holder hands out the backlog when it releases the slot
    released: bool = False


def slot_ref(webhook_id: str, n: int) -> Any:
    return firestore_client().collection(WebhookSlot.collection).document(f"{webhook_id}-{n}")


def claim_slot(
    webhook_id: str,
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
    held = WebhookSlot(webhook_id=webhook_id, event_id=event_id, lease_until=lease_until, created_at=now)

    def commit(ref: Any, option: Any = None, backlog: bool = False) -> Slot:
        if option is None:
            hold = Write(WriteKind.CREATE, ref, held.to_firestore())
        else:
            # A taker keeps the crashed holder's backlog flag: the events that flagged it wait for it.
            taken = held.model_copy(update={"backlog": backlog}).to_firestore()
            hold = Write(WriteKind.UPDATE, ref, taken, option)
        claimed = Write(WriteKind.UPDATE, event, fields, db.write_option(last_update_time=read_at))
        # Concurrent attempts of this instance share the commit (shared/core/shared_commits.py).
        results = shared_commits().commit([hold, claimed])
        _held_here.add(ref)
        update_time = results[0].update_time
        return Slot(ref, update_time, update_time, event_id, lease_until, backlog)

    for n in range(slots):
        ref = slot_ref(webhook_id, n)
        if _held_here.holds(ref):
            continue  # an attempt of this instance holds it: its create() could only fail
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
            option = db.write_option(last_update_time=snapshot.update_time)
            return commit(ref, option, current.backlog)
        except NotFound:
            continue
    return None


def flag_backlog(webhook_id: str, slots: int) -> bool:
    """Called by an event that found every slot held, after it queued itself: make a holder hand it out.

    Reads the endpoint's first `slots` slots (after the queueing, so a holder seen here has not released
    yet, and its hand-out will see the queued event) and flags each held one (with a precondition on that
    read). True when a held slot is flagged; False when a slot is free or its lease has ended (a holder
    released in between and may have skipped the hand-out): the caller then hands out the backlog itself,
    so no wake-up is lost.
    """
    refs = [slot_ref(webhook_id, n) for n in range(slots)]
    db = firestore_client()
    for _ in range(FLAG_TRIES):
        now = utc_now()
        snapshots = list(db.get_all(refs))
        flagged = False
        for snapshot in snapshots:
            if not snapshot.exists:
                return False
            held = WebhookSlot.from_firestore(snapshot.to_dict())
            if held.lease_until <= now:
                return False
            if held.backlog:
                flagged = True
                continue
            try:
                snapshot.reference.update(
                    {"backlog": True}, option=db.write_option(last_update_time=snapshot.update_time)
                )
                flagged = True
            except (FailedPrecondition, NotFound):
                pass  # released or taken over since the read: look again
        if flagged:
            return True
    return False


def release_slot(slot: Slot) -> None:
    """Free the slot (once), unless its lease ran out and another attempt holds it now. Every claimed slot
    comes here when its attempt ends, recorded or not."""
    _held_here.discard(slot.ref)
    if slot.released:
        return
    slot.released = True
    option = firestore_client().write_option(last_update_time=slot.update_time)
    try:
        slot.ref.delete(option=option)
    except (FailedPrecondition, NotFound):
        pass


def _rate_bucket(webhook_id: str, second: int) -> Any:
    return firestore_client().collection(WebhookRateBucket.collection).document(f"{webhook_id}-{second}")


def take_rate_token(webhook_id: str, rate_limit: int, second: int) -> bool:
    """Count one attempt in `second`; True when it is within `rate_limit`."""
    expires_at = utc_now() + RATE_BUCKET_TTL
    result = _rate_bucket(webhook_id, second).set(
        {"count": Increment(1), "expires_at": expires_at}, merge=True
    )
    return int(result.transform_results[0].integer_value) <= rate_limit


def wait_for_rate_token(webhook_id: str, rate_limit: int) -> bool:
    """Take a token in this second or, waiting, in one of the next; False after MAX_THROTTLE_WAIT_S."""
    give_up = time.time() + MAX_THROTTLE_WAIT_S
    while True:
        now = time.time()
        if take_rate_token(webhook_id, rate_limit, int(now)):
            return True
        next_second = int(now) + 1
        if next_second > give_up:
            return False
        time.sleep(next_second - now)  # pacing to the throttle, not waiting for a server
