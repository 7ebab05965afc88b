"""The arithmetic of refunds and disputes (shared/billing/money_facts.py): facts merged in any order give
the same purchase, and the steps from any level reach the targets with the right ledger reasons."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.billing import money_facts as f
from shared.models import DisputeOutcome, LedgerEntryType, Purchase, PurchaseStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def purchase(**fields: Any) -> Purchase:
    return Purchase(
        user_id="u",
        package="starter",
        credits=120,
        amount=1000,
        credits_granted=True,
        created_at=T0,
        **fields,
    )


def refund(refund_id: str, amount: int, status: str, created: int) -> dict[str, Any]:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "status": status,
        "created": int(at(created).timestamp()),
    }


def merge(p: Purchase, fact: tuple[str, Any, datetime]) -> Purchase:
    """What settlement.record_* do, in memory."""
    kind, body, as_of = fact
    if kind == "charge" and f.charge_snapshot_is_newer(p, body, as_of):
        return p.model_copy(update={"charge_amount_refunded": body, "charge_refunded_at": as_of})
    if kind == "refund":
        new_refund = f.refund_fact(body, as_of)
        if f.refund_replaces(p.refunds.get(body["id"]), new_refund):
            return p.model_copy(update={"refunds": {**p.refunds, body["id"]: new_refund}})
    if kind == "dispute":
        new_dispute = f.dispute_fact(body[0], as_of, reinstated=body[1], final=body[2])
        if f.dispute_replaces(p.dispute, new_dispute):
            return p.model_copy(update={"dispute": new_dispute})
    return p


def settle(p: Purchase) -> tuple[Purchase, list[tuple[LedgerEntryType, int]]]:
    entries = []
    while (step := f.next_step(p)) is not None:
        entry_type, amount, refund_part, dispute_part = step
        entries.append((entry_type, amount))
        p = p.model_copy(
            update={"credits_clawed_back": refund_part + dispute_part, "credits_disputed": dispute_part}
        )
    return p, entries


def every_order(facts: list[tuple[str, Any, datetime]]) -> set[tuple[int, int, PurchaseStatus]]:
    """Apply the facts in every order, settling after each one: (taken back, net ledger, status)."""
    outcomes = set()
    for order in itertools.permutations(facts):
        p, total = purchase(), 0
        for fact in order:
            p, entries = settle(merge(p, fact))
            total += sum(amount for _, amount in entries)
            assert 0 <= p.credits_clawed_back <= p.credits
        assert -total == p.credits_clawed_back  # the ledger explains every credit
        outcomes.add((p.credits_clawed_back, total, f.settled_status(p)))
    return outcomes


def test_refund_target_rounds_down_in_the_customers_favour() -> None:
    assert [f.refund_target(120, r, 1000) for r in (0, 1, 300, 999, 1000, 5000)] == [0, 0, 36, 119, 120, 120]


def test_small_refunds_adding_up_to_the_amount_take_every_credit() -> None:
    # The target is computed from the cumulative amount: 100 refunds of 10 cents leave nothing behind.
    taken = [f.refund_target(120, 10 * n, 1000) for n in range(1, 101)]
    assert taken[-1] == 120 and taken == sorted(taken)


def test_a_failed_refund_gives_its_credits_back_in_any_order() -> None:
    facts = [
        ("charge", 1000, at(10)),  # charge.refunded: amount_refunded 1000
        ("refund", refund("re_1", 1000, "succeeded", 10), at(10)),
        ("refund", refund("re_1", 1000, "failed", 10), at(50)),  # refund.failed, days later
    ]
    assert every_order(facts) == {(0, 0, PurchaseStatus.SUCCEEDED)}


def test_charge_amount_refunded_going_down_gives_back() -> None:
    facts = [("charge", 300, at(10)), ("charge", 0, at(60))]
    assert every_order(facts) == {(0, 0, PurchaseStatus.SUCCEEDED)}
    assert every_order([("charge", 300, at(10)), ("charge", 1000, at(60))]) == {
        (120, -120, PurchaseStatus.REFUNDED)
    }


def test_partial_refunds_and_one_canceled() -> None:
    facts = [
        ("charge", 300, at(10)),
        ("charge", 500, at(20)),
        ("refund", refund("re_1", 300, "succeeded", 10), at(10)),
        ("refund", refund("re_2", 200, "pending", 20), at(20)),
        ("refund", refund("re_2", 200, "canceled", 20), at(30)),
    ]
    assert every_order(facts) == {(36, -36, PurchaseStatus.SUCCEEDED)}


def test_refund_events_alone_without_charge_snapshots() -> None:
    facts = [
        ("refund", refund("re_1", 250, "succeeded", 10), at(10)),
        ("refund", refund("re_2", 250, "pending", 20), at(20)),
    ]
    assert every_order(facts) == {(60, -60, PurchaseStatus.SUCCEEDED)}


def dispute(status: str) -> dict[str, Any]:
    return {"id": "dp_1", "object": "dispute", "status": status}


def test_won_dispute_gives_back_once_whatever_the_order() -> None:
    facts = [
        ("dispute", (dispute("needs_response"), False, False), at(10)),  # created
        ("dispute", (dispute("under_review"), False, False), at(20)),  # updated
        ("dispute", (dispute("won"), True, True), at(30)),  # funds_reinstated
        ("dispute", (dispute("won"), False, True), at(30)),  # closed: won
    ]
    assert every_order(facts) == {(0, 0, PurchaseStatus.SUCCEEDED)}


def test_lost_dispute_keeps_the_credits_taken() -> None:
    facts = [
        ("dispute", (dispute("needs_response"), False, False), at(10)),
        ("dispute", (dispute("under_review"), False, False), at(20)),
        ("dispute", (dispute("lost"), False, True), at(30)),
    ]
    assert every_order(facts) == {(120, -120, PurchaseStatus.DISPUTED_LOST)}


def test_dispute_after_a_partial_refund_takes_the_rest_and_gives_only_that_back() -> None:
    p, entries = settle(merge(purchase(), ("charge", 300, at(10))))
    assert entries == [(LedgerEntryType.CLAWBACK, -36)]
    p, entries = settle(merge(p, ("dispute", (dispute("needs_response"), False, False), at(20))))
    assert entries == [(LedgerEntryType.DISPUTE, -84)] and f.settled_status(p) is PurchaseStatus.DISPUTED
    p, entries = settle(merge(p, ("dispute", (dispute("won"), False, True), at(30))))
    assert entries == [(LedgerEntryType.DISPUTE_REVERSAL, 84)]
    assert p.dispute is not None and p.dispute.outcome is DisputeOutcome.WON
    assert p.credits_clawed_back == 36 and p.credits_disputed == 0


def test_updated_never_decides_a_dispute() -> None:
    updated = f.dispute_fact(dispute("won"), at(5), reinstated=False, final=False)
    assert updated.outcome is DisputeOutcome.OPEN
    lost = f.dispute_fact(dispute("lost"), at(5), reinstated=False, final=True)
    assert not f.dispute_replaces(
        lost, f.dispute_fact(dispute("needs_response"), at(9), reinstated=False, final=False)
    )
