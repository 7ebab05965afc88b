"""Credit leases: the pure decisions (docs/credits.md, "Leases"). No I/O here: functions of facts and time.

A busy customer's balance document cannot take a write per job (~1 write/s per document). Instead an
instance leases an allowance of credits from the balance in one write: the lease's whole amount is debited
(one ledger entry, across the grants like any debit) and recorded as `held` under the lease's id with an
expiry. The instance admits jobs from it in memory, and the lease is settled by one write: the part its jobs
did not use, and what its jobs gave back (refunds, metered releases: pending returns), go back to the
grants it came from as one ledger entry, and the hold ends. Never a balance write per job.

The invariants, true after every write: `credits == sum(ledger amounts)` and `held == sum(amounts of the
open leases)`; every open lease's use is at most its amount (no job runs without credits reserved for it),
so `credits + held - sum(use of open leases)` is what the customer has once everything settles. A lease is
settled exactly once: settling removes it from the balance document, and a settlement of a lease that is
no longer there changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

# Leases start only for a customer creating at least this many paid jobs per second on one instance; below
# it every job writes the balance itself (exact, and well under one write per second per customer).
LEASE_MIN_RATE = 20.0
# A lease holds about this many seconds of the instance's rate (with HEADROOM): a busy instance writes the
# balance twice (open, settle) per ~LEASE_FILL_SECONDS, so I instances serving one customer write it about
# 2 * I / LEASE_FILL_SECONDS times a second (docs/capacity.md: five instances at the planned 1 write/s).
LEASE_FILL_SECONDS = 10.0
HEADROOM = 1.5
# An instance never takes more than this share of the available balance in one lease: near zero the
# leases shrink, so credits are not stranded on one instance while another refuses jobs.
MAX_SHARE = 4
# A lease's expiry in the balance document. The instance stops admitting ADMIT_MARGIN before it and settles
# before it; the sweep settles a lease only SWEEP_GRACE after it (an instance that died holding it has long
# finished any job creation by then).
LEASE_TTL = timedelta(seconds=60)
ADMIT_MARGIN = timedelta(seconds=15)
SWEEP_GRACE = timedelta(seconds=15)


class LeaseRefused(ValueError):
    """The write the decision asked for does not fit the balance as read (the caller reads again)."""


@dataclass(frozen=True)
class HeldLease:
    amount: int
    expires_at: datetime


@dataclass(frozen=True)
class BalanceState:
    """What the balance document holds: available `credits`, `held` by open leases, and those leases."""

    credits: int
    held: int = 0
    leases: Mapping[str, HeldLease] = field(default_factory=dict)


@dataclass(frozen=True)
class Settlement:
    """One settlement write: the new balance, and the one ledger entry it appends (0: none): the lease's
    unused part and the returns folded in, given back."""

    state: BalanceState
    credit: int


def uses_lease(rate_per_s: float, min_rate: float = LEASE_MIN_RATE) -> bool:
    return rate_per_s >= min_rate


def lease_size(rate_per_s: float, price: int, available: int) -> int:
    """Credits to lease for a creation rate (paid jobs/s on this instance) at `price` each: LEASE_FILL_SECONDS
    of that rate with HEADROOM, at most 1/MAX_SHARE of `available` but at least one job's price when the
    balance has it; 0 when the balance cannot pay one job (the exact path answers 402)."""
    if price <= 0 or available < price:
        return 0
    wanted = math.ceil(max(rate_per_s, 1.0) * LEASE_FILL_SECONDS * HEADROOM) * price
    share = (available // MAX_SHARE) // price * price
    return max(price, min(wanted, share))


def admits(amount: int, used: int, price: int, expires_at: datetime, now: datetime) -> bool:
    """Whether a lease (of `amount`, `used` so far) admits one more job of `price` now."""
    return used + price <= amount and now < expires_at - ADMIT_MARGIN


def open_lease(state: BalanceState, lease_id: str, amount: int, now: datetime) -> BalanceState:
    """The lease's debit (one ledger entry of -amount) and its hold."""
    if amount <= 0 or amount > state.credits or lease_id in state.leases:
        raise LeaseRefused(f"cannot hold {amount} of {state.credits} as {lease_id}")
    return BalanceState(
        credits=state.credits - amount,
        held=state.held + amount,
        leases={**state.leases, lease_id: HeldLease(amount, now + LEASE_TTL)},
    )


def settle(state: BalanceState, lease_id: str | None, used: int, returns: tuple[int, ...] = ()) -> Settlement:
    """Close `lease_id` having used `used` (its jobs' reserved credits) and fold in `returns`; with no lease
    (None), fold the returns alone. A lease no longer held (already settled) is LeaseRefused."""
    if any(amount <= 0 for amount in returns):
        raise LeaseRefused("a return must be positive")
    returned = sum(returns)
    if lease_id is None:
        return Settlement(replace(state, credits=state.credits + returned), returned)
    lease = state.leases.get(lease_id)
    if lease is None:
        raise LeaseRefused(f"{lease_id} is not held")
    if not 0 <= used <= lease.amount:
        raise LeaseRefused(f"{lease_id} used {used} of {lease.amount}")
    leases = {other: held for other, held in state.leases.items() if other != lease_id}
    new_state = BalanceState(
        credits=state.credits + lease.amount - used + returned, held=state.held - lease.amount, leases=leases
    )
    return Settlement(new_state, lease.amount - used + returned)


def expired(state: BalanceState, now: datetime) -> list[str]:
    """Leases the sweep settles: past their expiry by SWEEP_GRACE (their holder is gone)."""
    return sorted(
        lease_id for lease_id, lease in state.leases.items() if now >= lease.expires_at + SWEEP_GRACE
    )


def should_settle(used: int, amount: int, expires_at: datetime, idle_s: float, now: datetime) -> bool:
    """The holder settles a lease it will not fill: near its admission end, or idle for a second."""
    return now >= expires_at - ADMIT_MARGIN - timedelta(seconds=2) or (idle_s >= 1.0 and used < amount)
