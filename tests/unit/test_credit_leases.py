"""The lease decisions (shared/credits/leases.py) over hypothesis-generated histories of several instances:
purchases, leases opened, renewed and settled, jobs admitted (by lease and by the exact per-job path), jobs
refunded, instances killed, time passing and the sweep. After every step: no job without credits reserved
for it, `credits == sum(ledger)`, `held == sum(open leases)`, a dead lease settled exactly once; and at the
end, once everything is settled, nothing minted or lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from shared.credits.leases import (
    ADMIT_MARGIN,
    LEASE_TTL,
    SWEEP_GRACE,
    BalanceState,
    LeaseRefused,
    admits,
    expired,
    lease_size,
    open_lease,
    settle,
    uses_lease,
)

INSTANCES = 3
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class LocalLease:
    lease_id: str
    amount: int
    used: int
    expires_at: datetime


@dataclass
class JobRecord:
    lease_id: str | None  # None: admitted by the exact per-job path
    price: int
    refunded: bool = False


class LeaseHistory(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.state = BalanceState(credits=0)
        self.ledger: list[int] = []
        self.purchased = 0
        self.local: dict[int, LocalLease | None] = dict.fromkeys(range(INSTANCES))
        self.jobs: list[JobRecord] = []
        self.pending_returns: list[int] = []
        self.settled: list[str] = []
        self.opened = 0

    # --- facts ------------------------------------------------------------------------------------------

    def _new_id(self) -> str:
        self.opened += 1
        return f"lse_{self.opened}"

    def _used(self, lease_id: str) -> int:
        """What a settlement counts: the reserved credits of the jobs created under the lease (the store
        sums them from the jobs, so a dead instance's memory is not needed)."""
        return sum(job.price for job in self.jobs if job.lease_id == lease_id)

    def _apply(self, lease_id: str | None, used: int) -> None:
        returns = tuple(self.pending_returns)
        outcome = settle(self.state, lease_id, used, returns)
        self.state = outcome.state
        if outcome.credit:
            self.ledger.append(outcome.credit)
        self.pending_returns = []
        if lease_id is not None:
            self.settled.append(lease_id)

    # --- rules ------------------------------------------------------------------------------------------

    @rule(credits=st.integers(1, 5000))
    def buy(self, credits: int) -> None:
        self.state = BalanceState(self.state.credits + credits, self.state.held, self.state.leases)
        self.ledger.append(credits)
        self.purchased += credits

    @rule(instance=st.integers(0, INSTANCES - 1), rate=st.floats(0, 2000), price=st.integers(1, 50))
    def open(self, instance: int, rate: float, price: int) -> None:
        if self.local[instance] is not None:
            return
        amount = lease_size(rate, price, self.state.credits)
        if amount == 0:
            assert self.state.credits < price
            return
        assert amount <= self.state.credits
        lease_id = self._new_id()
        self.state = open_lease(self.state, lease_id, amount, self.now)
        self.ledger.append(-amount)
        self.local[instance] = LocalLease(lease_id, amount, 0, self.state.leases[lease_id].expires_at)

    @rule(instance=st.integers(0, INSTANCES - 1), price=st.integers(1, 50))
    def create_job(self, instance: int, price: int) -> None:
        lease = self.local[instance]
        if lease is not None and admits(lease.amount, lease.used, price, lease.expires_at, self.now):
            lease.used += price
            self.jobs.append(JobRecord(lease.lease_id, price))
        elif self.state.credits >= price:  # the exact path: one balance write and one ledger entry
            self.state = BalanceState(self.state.credits - price, self.state.held, self.state.leases)
            self.ledger.append(-price)
            self.jobs.append(JobRecord(None, price))

    @rule(instance=st.integers(0, INSTANCES - 1), rate=st.floats(0, 2000), price=st.integers(1, 50))
    def renew_lease(self, instance: int, rate: float, price: int) -> None:
        """A full lease: the holder settles it and opens the next."""
        lease = self.local[instance]
        if lease is None:
            return
        assert self._used(lease.lease_id) == lease.used
        self.settle_by_holder(instance)
        self.open(instance, rate, price)

    @rule(instance=st.integers(0, INSTANCES - 1))
    def settle_by_holder(self, instance: int) -> None:
        lease = self.local[instance]
        if lease is None:
            return
        self._apply(lease.lease_id, self._used(lease.lease_id))
        self.local[instance] = None

    @rule(instance=st.integers(0, INSTANCES - 1))
    def kill(self, instance: int) -> None:
        self.local[instance] = None  # its memory is gone; its lease stays held until the sweep

    @precondition(lambda self: bool(self.jobs))
    @rule(data=st.data())
    def refund_job(self, data: st.DataObject) -> None:
        job = data.draw(st.sampled_from(self.jobs))
        if not job.refunded:  # the job's own write marks it: a repeated refund finds it refunded
            job.refunded = True
            self.pending_returns.append(job.price)

    def _advance(self, by: timedelta) -> None:
        self.now += by
        for instance, lease in self.local.items():
            if lease is not None and self.now >= lease.expires_at:
                self.local[instance] = None  # a live holder settles before expiry; this one stalled

    @rule(seconds=st.integers(1, 60))
    def time_passes(self, seconds: int) -> None:
        self._advance(timedelta(seconds=seconds))

    @rule()
    def sweep(self) -> None:
        for lease_id in expired(self.state, self.now):
            assert all(lease is None or lease.lease_id != lease_id for lease in self.local.values())
            self._apply(lease_id, self._used(lease_id))
        if self.pending_returns:
            self._apply(None, 0)

    @precondition(lambda self: bool(self.settled))
    @rule(data=st.data())
    def settle_again(self, data: st.DataObject) -> None:
        lease_id = data.draw(st.sampled_from(self.settled))
        before = self.state
        try:
            settle(self.state, lease_id, self._used(lease_id))
        except LeaseRefused:
            pass
        else:
            raise AssertionError(f"{lease_id} settled twice")
        assert self.state == before

    # --- invariants -------------------------------------------------------------------------------------

    @invariant()
    def balance_is_the_ledger(self) -> None:
        assert self.state.credits == sum(self.ledger)
        assert self.state.held == sum(lease.amount for lease in self.state.leases.values())
        assert self.state.credits >= 0 and self.state.held >= 0

    @invariant()
    def no_job_without_credits_reserved(self) -> None:
        for lease_id, lease in self.state.leases.items():
            assert self._used(lease_id) <= lease.amount
        for lease_id in self.settled:
            assert lease_id not in self.state.leases

    @invariant()
    def each_lease_settled_at_most_once(self) -> None:
        assert len(self.settled) == len(set(self.settled))

    def teardown(self) -> None:
        """Everything settles (the holders die, time passes, the sweep runs): nothing minted or lost."""
        self._advance(LEASE_TTL + SWEEP_GRACE)
        self.sweep()
        assert self.state.held == 0 and not self.state.leases
        spent = sum(job.price for job in self.jobs if not job.refunded)
        assert self.state.credits == self.purchased - spent
        assert sum(self.ledger) == self.state.credits


TestLeaseHistory = LeaseHistory.TestCase
TestLeaseHistory.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


@given(rate=st.floats(0, 100_000), price=st.integers(1, 1000), available=st.integers(0, 10**9))
@settings(deadline=None)
def test_a_lease_never_exceeds_its_share_nor_starves(rate: float, price: int, available: int) -> None:
    size = lease_size(rate, price, available)
    if available < price:
        assert size == 0
        return
    assert price <= size <= available and size % price == 0
    assert size == price or size <= available // 4


def test_leases_shrink_near_zero_and_grow_with_the_rate() -> None:
    assert lease_size(1000, 1, 10**9) == 15_000  # ten seconds of the rate, with half again as headroom
    assert lease_size(1000, 1, 4000) == 1000  # a quarter of what is left
    assert lease_size(1000, 1, 3) == 1  # one job's price, never more than is there
    assert lease_size(10, 1, 10**9) < lease_size(100, 1, 10**9)
    assert not uses_lease(1.0) and uses_lease(50.0)


def test_admission_stops_before_the_expiry() -> None:
    expires = START + LEASE_TTL
    assert admits(10, 9, 1, expires, START)
    assert not admits(10, 10, 1, expires, START)
    assert not admits(10, 0, 1, expires, expires - ADMIT_MARGIN)
