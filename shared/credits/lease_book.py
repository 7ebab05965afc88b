"""This instance's credit leases: admission from them in memory, and their settlement in the background.

Per (project, user): the creation rate over the last second, the open lease, and leases closed but not yet
settled. A job is admitted from the open lease when it fits (shared/credits/leases.admits); otherwise the
lease is closed and one request of this instance opens the next (the others wait for it). A closed lease is
settled once the creations admitted from it have finished (their jobs exist or never will), by the settler
thread; an open lease that goes idle or nears its expiry is closed the same way. A customer below
LEASE_MIN_RATE gets no lease (unless CONTENDED of its creations are already writing its balance at once on
this instance: then the exact path would mostly lose races): `admit` answers an admission without a lease
and the job takes the exact per-job path.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from shared.core import logs
from shared.core.clients import current_project, project_scope
from shared.credits import lease_store, leases
from shared.models import utc_now

SETTLE_EVERY_S = 0.25
OPEN_WAIT_S = 2.0
CONTENDED = 4


@dataclass
class HeldHere:
    lease_id: str
    amount: int
    expires_at: datetime
    used: int = 0
    creating: int = 0  # admitted creations not finished yet
    last_admit: float = field(default_factory=time.monotonic)


@dataclass
class UserLeases:
    window_start: float = 0.0
    in_window: int = 0
    last_window: int = 0
    current: HeldHere | None = None
    closed: list[HeldHere] = field(default_factory=list)
    opening: bool = False
    exact_in_flight: int = 0  # creations of this user taking the exact path right now

    def note(self, now: float) -> float:
        """Count one creation; the rate (per second) is the larger of this window's and the last one's."""
        if now - self.window_start >= 1.0:
            self.last_window = self.in_window if now - self.window_start < 2.0 else 0
            self.window_start, self.in_window = now, 0
        self.in_window += 1
        return float(max(self.in_window, self.last_window))


@dataclass(frozen=True)
class Admission:
    lease_id: str | None  # None: the exact per-job path
    _held: HeldHere | None
    _user: UserLeases
    _book: LeaseBook

    def done(self) -> None:
        """The creation finished (its job exists, or its create failed): the lease may be settled."""
        with self._book.changed:
            if self._held is not None:
                self._held.creating -= 1
            else:
                self._user.exact_in_flight -= 1


class LeaseBook:
    def __init__(self, min_rate: float = leases.LEASE_MIN_RATE) -> None:
        self.min_rate = min_rate  # creations/s of one user on this instance from which leases start
        self.changed = threading.Condition()
        self._users: dict[tuple[str, str], UserLeases] = {}
        self._settler: threading.Thread | None = None
        self.opened = 0
        self.settled = 0

    def admit(self, user_id: str, price: int) -> Admission:
        """Admit one job of `price` credits from a lease of this instance, or (lease_id None) send it down
        the exact path; the caller calls `done()` when its creation finished."""
        slot = (current_project(), user_id)
        deadline = time.monotonic() + OPEN_WAIT_S
        with self.changed:
            user = self._users.setdefault(slot, UserLeases())
            rate = user.note(time.monotonic())
            while True:
                held = user.current
                now = utc_now()
                if held is not None and leases.admits(held.amount, held.used, price, held.expires_at, now):
                    held.used += price
                    held.creating += 1
                    held.last_admit = time.monotonic()
                    return Admission(held.lease_id, held, user, self)
                # min_rate infinite: leases off on this instance (bench/balance's baseline).
                contended = user.exact_in_flight >= CONTENDED and math.isfinite(self.min_rate)
                if price <= 0 or (
                    held is None and not contended and not leases.uses_lease(rate, self.min_rate)
                ):
                    return self._exact(user)
                if not user.opening:
                    break
                if time.monotonic() >= deadline:
                    return self._exact(user)
                self.changed.wait(deadline - time.monotonic())
            if user.current is not None:
                user.closed.append(user.current)
                user.current = None
            user.opening = True
        try:
            opened = lease_store.open_lease(user_id, rate, price)
        except Exception as exc:  # the exact path still works (and reports the failure its own way)
            logs.warning("credit lease could not be opened", user_id=user_id, error=repr(exc))
            opened = None
        with self.changed:
            user.opening = False
            self.changed.notify_all()
            if opened is None:
                return self._exact(user)
            self.opened += 1
            held = HeldHere(opened.lease_id, opened.amount, opened.expires_at, used=price, creating=1)
            user.current = held
            self._start_settler()
            return Admission(held.lease_id, held, user, self)

    def _exact(self, user: UserLeases) -> Admission:
        """Under the lock: an admission down the exact path, counted while it writes the balance."""
        user.exact_in_flight += 1
        return Admission(None, None, user, self)

    def settle_due(self, everything: bool = False) -> int:
        """Settle the closed leases whose creations finished; close the open ones that should settle
        (idle, near expiry; all of them with `everything`). Returns the settlements made."""
        due: list[tuple[str, str, str]] = []
        with self.changed:
            now, clock = utc_now(), time.monotonic()
            for (project, user_id), user in self._users.items():
                held = user.current
                if held is not None and (
                    everything
                    or leases.should_settle(
                        held.used, held.amount, held.expires_at, clock - held.last_admit, now
                    )
                ):
                    user.closed.append(held)
                    user.current = None
                for closed in list(user.closed):
                    if closed.creating == 0:
                        due.append((project, user_id, closed.lease_id))
                        user.closed.remove(closed)
        made = 0
        for project, user_id, lease_id in due:
            try:
                with project_scope(project):
                    made += lease_store.settle_lease(user_id, lease_id)
            except Exception as exc:  # the lease sweep settles it after its expiry
                logs.warning("credit lease settlement failed", lease_id=lease_id, error=repr(exc))
        with self.changed:
            self.settled += made
        return made

    def _start_settler(self) -> None:
        if self._settler is None:
            self._settler = threading.Thread(target=self._settle_loop, name="credit-leases", daemon=True)
            self._settler.start()

    def _settle_loop(self) -> None:
        while True:
            time.sleep(SETTLE_EVERY_S)
            try:
                self.settle_due()
            except Exception as exc:  # never let the settler die
                logs.warning("credit lease settler failed", error=repr(exc))


_book = LeaseBook()


def lease_book() -> LeaseBook:
    return _book
