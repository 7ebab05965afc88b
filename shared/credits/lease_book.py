"""This instance's credit leases: admission from them in memory, and their settlement in the background.

Per (project, user): the creation times over the trailing window (shared/credits/leases.window_rate), the
open lease, and leases closed but not yet settled. A customer below the lease rate (leases.LEASE_MIN_RATE,
or the project's `system/config.credit_lease_min_rate`) gets no lease: `admit` answers an admission
without one and the job takes today's exact per-job path, unchanged. Above it, a job is admitted from the
open lease when it fits (leases.admits). Once most of it is used (leases.should_renew) the next lease is
opened in the background while the current one still admits; a request that finds no lease that fits opens
one itself (the others wait for it, at most OPEN_WAIT_S, then take the exact path). A closed lease is
settled once the creations admitted from it have
finished (their jobs exist or never will), by the settler thread; an open lease that goes idle or nears its
expiry is closed the same way.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from shared.core import logs
from shared.core.clients import current_project, project_scope
from shared.core.ttl_cache import TtlCache
from shared.credits import lease_store, leases
from shared.models import utc_now

SETTLE_EVERY_S = 0.25
# A request waits this long for its instance's opening lease before it takes the exact path (which would
# race the opening write on the same document).
OPEN_WAIT_S = 5.0
CONFIG_SECONDS = 10.0


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
    created: deque[float] = field(default_factory=deque)  # creation times in the trailing window
    current: HeldHere | None = None
    closed: list[HeldHere] = field(default_factory=list)
    opening: bool = False

    def note(self, now: float) -> float:
        """Count one creation; the customer's rate over the trailing window (leases.window_rate)."""
        self.created.append(now)
        while self.created and self.created[0] <= now - leases.RATE_WINDOW_S:
            self.created.popleft()
        return leases.window_rate(self.created, now)


@dataclass(frozen=True)
class Admission:
    lease_id: str | None  # None: the exact per-job path
    _held: HeldHere | None
    _user: UserLeases
    _book: LeaseBook

    def done(self) -> None:
        """The creation finished (its job exists, or its create failed): the lease may be settled."""
        if self._held is None:
            return
        with self._book.changed:
            self._held.creating -= 1


_min_rates: TtlCache[str, float] = TtlCache(CONFIG_SECONDS)


def _read_min_rate() -> float:
    from shared.system.config import config_ref

    snapshot = config_ref().get(field_paths=["credit_lease_min_rate"])
    value = (snapshot.to_dict() or {}).get("credit_lease_min_rate") if snapshot.exists else None
    return float(value) if isinstance(value, int | float) and value > 0 else leases.LEASE_MIN_RATE


def configured_min_rate() -> float:
    """The project's lease rate (`system/config.credit_lease_min_rate`, else the default), read at most
    every CONFIG_SECONDS per instance."""
    return _min_rates.get("credit_lease_min_rate", lambda _previous: _read_min_rate())


class LeaseBook:
    def __init__(self, min_rate: float | None = None) -> None:
        # Creations/s of one user on this instance from which leases start; None: the project's setting
        # (math.inf: leases off, bench/balance's baseline).
        self.min_rate = min_rate
        self.changed = threading.Condition()
        self._users: dict[tuple[str, str], UserLeases] = {}
        self._settler: threading.Thread | None = None
        self.opened = 0
        self.settled = 0

    def admit(self, user_id: str, price: int) -> Admission:
        """Admit one job of `price` credits from a lease of this instance, or (lease_id None) send it down
        the exact path; the caller calls `done()` when its creation finished."""
        project = current_project()
        min_rate = self.min_rate if self.min_rate is not None else configured_min_rate()
        deadline = time.monotonic() + OPEN_WAIT_S
        with self.changed:
            user = self._users.setdefault((project, user_id), UserLeases())
            rate = user.note(time.monotonic())
            while True:
                admitted = self._from_current(user, price)
                if admitted is not None:
                    held = admitted._held
                    assert held is not None
                    if (
                        not user.opening
                        and leases.uses_lease(rate, min_rate)
                        and leases.should_renew(held.amount, held.used, held.expires_at, utc_now())
                    ):
                        user.opening = True  # the next lease opens in the background meanwhile
                        self._open_ahead(project, user_id, user, rate, price)
                    return admitted
                if price <= 0 or not leases.uses_lease(rate, min_rate):
                    return self._exact(user)
                if not user.opening:
                    break
                if time.monotonic() >= deadline:
                    return self._exact(user)
                self.changed.wait(deadline - time.monotonic())
            user.opening = True
        opened = self._open(user_id, rate, price)
        with self.changed:
            self._install(user, opened)
            return self._from_current(user, price) or self._exact(user)

    def _from_current(self, user: UserLeases, price: int) -> Admission | None:
        """Under the lock: an admission from the user's open lease when the job fits in it."""
        held = user.current
        if held is None or not leases.admits(held.amount, held.used, price, held.expires_at, utc_now()):
            return None
        held.used += price
        held.creating += 1
        held.last_admit = time.monotonic()
        return Admission(held.lease_id, held, user, self)

    def _open(self, user_id: str, rate: float, price: int) -> lease_store.OpenedLease | None:
        try:
            return lease_store.open_lease(user_id, rate, price)
        except Exception as exc:  # the exact path still works (and reports the failure its own way)
            logs.warning("credit lease could not be opened", user_id=user_id, error=repr(exc))
            return None

    def _install(self, user: UserLeases, opened: lease_store.OpenedLease | None) -> None:
        """Under the lock: the opening is over; a new lease replaces the open one, which settles once the
        creations admitted from it have finished."""
        user.opening = False
        self.changed.notify_all()
        if opened is None:
            return
        if user.current is not None:
            user.closed.append(user.current)
        user.current = HeldHere(opened.lease_id, opened.amount, opened.expires_at)
        self.opened += 1
        self._start_settler()

    def _open_ahead(self, project: str, user_id: str, user: UserLeases, rate: float, price: int) -> None:
        def run() -> None:
            with project_scope(project):
                opened = self._open(user_id, rate, price)
            with self.changed:
                self._install(user, opened)

        threading.Thread(target=run, name="credit-lease-open", daemon=True).start()

    def _exact(self, user: UserLeases) -> Admission:
        """An admission down the exact per-job path."""
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
                    everything or leases.should_settle(held.expires_at, clock - held.last_admit, now)
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
