"""Recent copies of endpoints, per instance: the delivery of a new event may skip reading its endpoint.

A copy is used only for an event that was last written before the copy was read (both times are
Firestore's commit clock): every change to the endpoint committed before the event existed (a new URL, a
rotated secret, a disabling, a failure streak) is in the copy, exactly as if it had been read at the
attempt. A change made after the event existed reaches the attempt within `MAX_AGE` at most, where a read
at the attempt would have seen it a few milliseconds earlier: a delivery already in flight never saw such
a change either. Copies come only from reads and from this instance's own writes made with a
precondition (docs/webhooks.md, "Reads per delivery").

A copy matters when the instance is behind (events waiting in Pub/Sub were written before the latest
read), which is exactly when the read it saves is worth saving.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from shared.core.clients import current_project
from shared.models import WebhookEndpoint

# A copy is used for this long after its read, at most (seconds, this instance's clock).
MAX_AGE_S = 1.0
# Endpoints remembered per instance (least recently used first out): memory stays bounded however many
# customers an instance serves.
MAX_COPIES = 10_000


@dataclass(frozen=True)
class EndpointCopy:
    endpoint: WebhookEndpoint
    as_of: datetime  # Firestore's time of the read (or of our write) it came from
    taken_at: float  # this instance's monotonic clock then


class EndpointCopies:
    """Bounded LRU of endpoint copies, keyed by (project, user id)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_copies: int = MAX_COPIES) -> None:
        self._clock = clock
        self._max = max_copies
        self._copies: OrderedDict[tuple[str, str], EndpointCopy] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, endpoint: WebhookEndpoint, as_of: datetime | None) -> None:
        """Keep what Firestore held at `as_of`; a copy older than the one kept is dropped."""
        if as_of is None:
            return
        slot = (current_project(), endpoint.user_id)
        with self._lock:
            kept = self._copies.get(slot)
            if kept is not None and kept.as_of >= as_of:
                return
            self._copies[slot] = EndpointCopy(endpoint, as_of, self._clock())
            self._copies.move_to_end(slot)
            while len(self._copies) > self._max:
                self._copies.popitem(last=False)

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._copies.pop((current_project(), user_id), None)

    def usable_for(self, user_id: str, written_at: datetime) -> WebhookEndpoint | None:
        """The endpoint as read after `written_at` (an event's last write) and within MAX_AGE_S; else None."""
        slot = (current_project(), user_id)
        with self._lock:
            kept = self._copies.get(slot)
            if kept is None:
                return None
            if self._clock() - kept.taken_at >= MAX_AGE_S:
                del self._copies[slot]
                return None
            if kept.as_of < written_at:
                return None
            self._copies.move_to_end(slot)
            return kept.endpoint


_copies = EndpointCopies()


def endpoint_copies() -> EndpointCopies:
    return _copies
