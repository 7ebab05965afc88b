"""Generated Stripe histories of paid purchases, for the property tests of the money fold (credits follow
the funds, docs/stripe.md).

A history is what Stripe would send about one purchase: the payment, each refund's states (created,
succeeded, failed, canceled...), each dispute's (an inquiry closed or escalated, a chargeback withdrawn,
reinstated, won or lost), and charge snapshots, each stamped with the second it happened (many in the
same second). Its `expected_kept` is computed from what happened (the final state of each refund and
dispute), not from the events: it is the oracle the fold must reach whatever the order of arrival.
`Fold` applies events to a purchase in memory exactly as shared/billing/settlement.py does in Firestore.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from shared.billing import money_facts as f
from shared.models import LedgerEntryType, Purchase

T0 = datetime(2026, 1, 1, tzinfo=UTC)

REFUND_PATHS = (
    ("succeeded",),
    ("pending", "succeeded"),
    ("pending",),
    ("pending", "failed"),
    ("pending", "succeeded", "failed"),
    ("succeeded", "failed"),
    ("pending", "canceled"),
    ("requires_action", "canceled"),
    ("requires_action", "pending", "succeeded"),
)
DISPUTE_KINDS = ("inquiry_closed", "inquiry_open", "inquiry_escalated", "chargeback")
OUTCOMES = ("won", "lost", "open")


def at(second: int) -> datetime:
    return T0 + timedelta(seconds=second)


@dataclass
class Sent:
    """One event as Stripe creates it: its type, the object as of then, and its `created` second."""

    event_type: str
    obj: dict[str, Any]
    second: int


@dataclass
class History:
    purchase_id: str
    credits: int
    amount: int
    events: list[Sent] = field(default_factory=list)  # in the order Stripe created them
    # Each refund's states over time (second, Refund object), for retrievals from "Stripe".
    refund_states: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    refunded: int = 0  # cents of refunds that did not fail and were not canceled, in the end
    held: int = 0  # cents the disputes withdrew and did not reinstate, in the end

    @property
    def expected_kept(self) -> int:
        net = max(0, min(self.amount, self.amount - self.refunded - self.held))
        return self.credits * net // self.amount

    def refunds_at(self, second: int) -> list[tuple[int, dict[str, Any]]]:
        """Every refund as Stripe would show it at `second` (those created by then), with its time."""
        shown = []
        for states in self.refund_states.values():
            past = [(s, obj) for s, obj in states if s <= second]
            if past:
                shown.append(past[-1])
        return shown


@st.composite
def histories(draw: st.DrawFn, purchase_id: str = "pur_1", min_amount: int = 1) -> History:
    """`min_amount`: Stripe charges at least 50 cents (the end-to-end test's PaymentIntents are real)."""
    credits = draw(st.integers(1, 5000))
    special = [a for a in (1, 7, 50, 999, 1000, 4999) if a >= min_amount]
    amount = draw(st.sampled_from(special)) if draw(st.booleans()) else draw(st.integers(min_amount, 100_000))
    h = History(purchase_id, credits, amount)
    h.events.append(Sent("payment_intent.succeeded", {"id": "pi_" + purchase_id, "status": "succeeded"}, 0))
    _refunds(draw, h)
    _disputes(draw, h)
    for _ in range(draw(st.integers(0, 3))):  # charge snapshots at random seconds
        second = draw(st.integers(0, 12))
        live = sum(obj["amount"] for _, obj in h.refunds_at(second) if obj["status"] not in f.UNDONE_REFUND)
        event_type = draw(st.sampled_from(["charge.refunded", "charge.updated"]))
        h.events.append(Sent(event_type, {"id": "ch_" + purchase_id, "amount_refunded": live}, second))
    return h


def _steps(draw: st.DrawFn, count: int, start_max: int = 6) -> list[int]:
    """Seconds of `count` successive states: often the same second, never going back."""
    seconds = [draw(st.integers(0, start_max))]
    for _ in range(count - 1):
        seconds.append(seconds[-1] + draw(st.sampled_from([0, 0, 1, 2])))
    return seconds


def _refunds(draw: st.DrawFn, h: History) -> None:
    room = h.amount  # Stripe never refunds more than the charge
    for n in range(draw(st.integers(0, 3))):
        if room <= 0:
            return
        refund_id = f"re_{n}{h.purchase_id}"
        amount = draw(st.sampled_from([room, 1])) if draw(st.booleans()) else draw(st.integers(1, room))
        room -= amount
        path = draw(st.sampled_from(REFUND_PATHS))
        states = []
        for i, (status, second) in enumerate(zip(path, _steps(draw, len(path)), strict=True)):
            obj = {"id": refund_id, "object": "refund", "amount": amount, "status": status}
            states.append((second, obj))
            event_type = (
                "refund.created" if i == 0 else "refund.failed" if status == "failed" else "refund.updated"
            )
            h.events.append(Sent(event_type, obj, second))
            if draw(st.booleans()):
                h.events.append(Sent("charge.refund.updated", obj, second))
        h.refund_states[refund_id] = states
        if path[-1] not in f.UNDONE_REFUND:
            h.refunded += amount


def _disputes(draw: st.DrawFn, h: History) -> None:
    count = draw(st.integers(0, 2))
    kinds = ["inquiry_closed", draw(st.sampled_from(DISPUTE_KINDS))] if count == 2 else []
    if count == 1:
        kinds = [draw(st.sampled_from(DISPUTE_KINDS))]
    start = 0
    for n, kind in enumerate(kinds):
        start = _dispute(draw, h, f"du_{n}{h.purchase_id}", kind, start)


def _dispute(draw: st.DrawFn, h: History, dispute_id: str, kind: str, start: int) -> int:
    """One dispute's events from `start`; returns the second of its last state."""
    amount = h.amount if draw(st.booleans()) else draw(st.integers(1, h.amount))
    withdrawal = {"id": "txn_w" + dispute_id, "amount": -amount, "currency": "usd"}
    states: list[tuple[str, str, list[dict[str, Any]]]] = []  # (event type, status, balance transactions)
    if kind.startswith("inquiry"):
        states.append(("charge.dispute.created", "warning_needs_response", []))
        if draw(st.booleans()):
            states.append(("charge.dispute.updated", "warning_under_review", []))
        if kind == "inquiry_closed":
            states.append(("charge.dispute.closed", "warning_closed", []))
    if kind in ("inquiry_escalated", "chargeback"):
        first = "charge.dispute.created" if kind == "chargeback" else "charge.dispute.updated"
        # The created snapshot may or may not show the withdrawal yet; an endpoint may not subscribe to
        # funds_withdrawn / funds_reinstated: a chargeback's status alone implies its funds.
        shown = draw(st.sampled_from([[], [withdrawal]]))
        states.append((first, "needs_response", shown))
        if draw(st.booleans()):
            shown = [withdrawal]
            states.append(("charge.dispute.funds_withdrawn", "needs_response", shown))
        if draw(st.booleans()):
            states.append(("charge.dispute.updated", "under_review", shown))
        outcome = draw(st.sampled_from(OUTCOMES))
        if outcome == "won":
            back = [withdrawal, {"id": "txn_r" + dispute_id, "amount": amount, "currency": "usd"}]
            if draw(st.booleans()):
                states.append(("charge.dispute.funds_reinstated", "won", back))
            states.append(("charge.dispute.closed", "won", draw(st.sampled_from([back, shown]))))
        elif outcome == "lost":
            # Stripe reinstates the part of a partially refunded charge it had refunded already.
            part = draw(st.sampled_from([0, min(amount, h.refunded)]) | st.integers(0, amount))
            back = [withdrawal] + (
                [{"id": "txn_p" + dispute_id, "amount": part, "currency": "usd"}] if part else []
            )
            if part:
                states.append(("charge.dispute.funds_reinstated", "lost", back))
            states.append(("charge.dispute.closed", "lost", back))
            h.held += amount - part
        else:
            h.held += amount
    seconds = [start + s for s in _steps(draw, len(states))]
    for (event_type, status, funds), second in zip(states, seconds, strict=True):
        obj = {
            "id": dispute_id,
            "object": "dispute",
            "amount": amount,
            "currency": "usd",
            "status": status,
            "balance_transactions": funds,
            "created": int(at(seconds[0]).timestamp()),
        }
        h.events.append(Sent(event_type, obj, second))
    return seconds[-1]


# --- the fold, in memory -----------------------------------------------------------------------------


@dataclass
class Fold:
    """A purchase and its share of the ledger as settlement.py keeps them, one event at a time."""

    history: History
    purchase: Purchase = field(init=False)
    ledger: list[tuple[LedgerEntryType, int]] = field(default_factory=list)
    balance: int = 0

    def __post_init__(self) -> None:
        self.purchase = Purchase(
            user_id="u", package="p", credits=self.history.credits, amount=self.history.amount, created_at=T0
        )

    @property
    def kept(self) -> int:
        return (
            self.history.credits - self.purchase.credits_clawed_back if self.purchase.credits_granted else 0
        )

    def deliver(self, sent: Sent, retrieved_after: int = 0) -> None:
        """Apply one event (a retrieval from Stripe, when one is needed, sees Stripe `retrieved_after`
        seconds after the event was created); then check the invariants."""
        self._grant()
        p, obj, as_of = self.purchase, sent.obj, at(sent.second)
        if sent.event_type.startswith(("refund.", "charge.refund.")):
            self._refunds({obj["id"]: f.refund_fact(obj, as_of)})
        elif sent.event_type.startswith("charge.dispute."):
            merged = f.changed_dispute(p, obj["id"], f.dispute_fact(obj, as_of, p.currency))
            if merged is not None:
                self._set(disputes={**p.disputes, obj["id"]: merged})
        elif sent.event_type.startswith("charge.") and obj["amount_refunded"] != f.refunded(p):
            seen = sent.second + retrieved_after
            self._refunds({r["id"]: f.refund_fact(r, at(seen)) for _, r in self.history.refunds_at(seen)})
        self._settle()

    def _grant(self) -> None:
        if not self.purchase.credits_granted:
            self._set(credits_granted=True)
            self._entry(LedgerEntryType.PURCHASE, self.history.credits)

    def _refunds(self, facts: dict[str, Any]) -> None:
        changed = f.changed_refunds(self.purchase, facts)
        if changed:
            self._set(refunds={**self.purchase.refunds, **changed})

    def _settle(self) -> None:
        while (step := f.next_step(self.purchase)) is not None:
            entry_type, amount, refund_part, dispute_part = step
            self._entry(entry_type, amount)
            self._set(credits_clawed_back=refund_part + dispute_part, credits_disputed=dispute_part)
            self.check()
        self._set(status=f.settled_status(self.purchase))

    def _set(self, **fields: Any) -> None:
        self.purchase = self.purchase.model_copy(update=fields)

    def _entry(self, entry_type: LedgerEntryType, amount: int) -> None:
        self.ledger.append((entry_type, amount))
        self.balance += amount

    def check(self) -> None:
        """Never more given back than was taken, never more taken than was granted; the ledger explains
        the purchase's credits."""
        p = self.purchase
        assert 0 <= p.credits_disputed <= p.credits_clawed_back <= p.credits
        assert sum(amount for _, amount in self.ledger) == self.kept
        running = 0
        for _, amount in self.ledger:
            running += amount
            assert 0 <= running <= p.credits

    def money(self) -> tuple[int, dict[str, str], dict[str, tuple[str, dict[str, int]]]]:
        """What decides the credits: kept, each refund's status, each dispute's status and funds."""
        p = self.purchase
        return (
            self.kept,
            {rid: r.status for rid, r in p.refunds.items()},
            {did: (d.status, d.funds) for did, d in p.disputes.items()},
        )
