"""The money fold (shared/billing/money_facts.py): credits follow the funds. Worked examples, then
generated Stripe histories delivered in every kind of order, duplicated, many events in the same second:
at every step the ledger explains the credits and no purchase gives or takes more than it granted; in the
end the purchase keeps floor(credits x net kept / amount paid) of what actually happened."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.billing import money_facts as f
from shared.models import LedgerEntryType, PurchaseStatus
from tests.support.money_orderings import Fold, History, Sent, at, histories


def history(credits: int, amount: int, *events: tuple[str, dict[str, Any], int]) -> History:
    h = History("pur_x", credits, amount)
    h.events = [Sent(t, obj, second) for t, obj, second in events]
    for sent in h.events:
        if sent.obj.get("object") == "refund":
            h.refund_states.setdefault(sent.obj["id"], []).append((sent.second, sent.obj))
    return h


def refund(refund_id: str, amount: int, status: str) -> dict[str, Any]:
    return {"id": refund_id, "object": "refund", "amount": amount, "status": status}


def dispute(status: str, amount: int = 1000, *funds: int, dispute_id: str = "du_1") -> dict[str, Any]:
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "currency": "usd",
        "status": status,
        "balance_transactions": [
            {"id": f"txn_{i}", "amount": a, "currency": "usd"} for i, a in enumerate(funds)
        ],
        "created": 1767225600,
    }


def every_order(h: History) -> set[tuple[int, PurchaseStatus]]:
    """(credits kept, status) after delivering the events in every order."""
    outcomes = set()
    for order in itertools.permutations(h.events):
        fold = Fold(h)
        for sent in order:
            fold.deliver(sent)
        outcomes.add((fold.kept, fold.purchase.status))
    return outcomes


def test_kept_credits_round_down_with_the_funds() -> None:
    assert [f.kept_credits(120, 1000, net) for net in (1000, 999, 700, 691, 1, 0, -300, 5000)] == [
        120,
        119,
        84,
        82,
        0,
        0,
        0,
        120,
    ]


def test_small_refunds_adding_up_to_the_amount_take_every_credit() -> None:
    events = [("refund.created", refund(f"re_{n}", 10, "succeeded"), n) for n in range(100)]
    fold = Fold(history(120, 1000))
    for event_type, obj, second in events:
        fold.deliver(Sent(event_type, obj, second))
    assert fold.kept == 0 and fold.purchase.status is PurchaseStatus.REFUNDED


def test_lost_dispute_after_a_partial_refund_keeps_nothing_when_the_refunded_part_is_reinstated() -> None:
    """Issue 22, defect 1: refund $3 of $10, dispute $10, lose; Stripe reinstates the refunded $3."""
    h = history(
        1000,
        1000,
        ("payment_intent.succeeded", {}, 0),
        ("refund.created", refund("re_1", 300, "succeeded"), 1),
        ("charge.dispute.created", dispute("needs_response", 1000, -1000), 2),
        ("charge.dispute.funds_reinstated", dispute("lost", 1000, -1000, 300), 5),
        ("charge.dispute.closed", dispute("lost", 1000, -1000, 300), 5),
    )
    assert every_order(h) == {(0, PurchaseStatus.DISPUTED_LOST)}


def test_won_dispute_after_a_partial_refund_keeps_what_the_refund_left() -> None:
    h = history(
        1000,
        1000,
        ("refund.created", refund("re_1", 300, "succeeded"), 1),
        ("charge.dispute.created", dispute("needs_response", 1000), 2),
        ("charge.dispute.funds_reinstated", dispute("won", 1000, -1000, 300), 5),
        ("charge.dispute.closed", dispute("won", 1000, -1000, 300), 5),
    )
    # won: every withdrawn cent comes back, even before Stripe shows the last reinstatement
    assert every_order(h) == {(700, PurchaseStatus.SUCCEEDED)}


def test_inquiries_move_no_credits() -> None:
    """Issue 22, defect 2: an inquiry withdraws nothing."""
    for last in ("warning_needs_response", "warning_under_review", "warning_closed"):
        h = history(
            120,
            1000,
            ("charge.dispute.created", dispute("warning_needs_response"), 1),
            ("charge.dispute.updated", dispute(last), 1),
        )
        assert every_order(h) == {(120, PurchaseStatus.SUCCEEDED)}


def test_a_chargeback_after_a_closed_inquiry_counts() -> None:
    h = history(
        120,
        1000,
        ("charge.dispute.created", dispute("warning_needs_response", dispute_id="du_1"), 1),
        ("charge.dispute.closed", dispute("warning_closed", dispute_id="du_1"), 2),
        ("charge.dispute.created", dispute("needs_response", 1000, dispute_id="du_2"), 3),
    )
    assert every_order(h) == {(0, PurchaseStatus.DISPUTED)}


def test_an_inquiry_escalating_on_the_same_dispute_counts() -> None:
    h = history(
        120,
        1000,
        ("charge.dispute.created", dispute("warning_needs_response"), 1),
        ("charge.dispute.updated", dispute("warning_under_review"), 1),
        ("charge.dispute.updated", dispute("needs_response", 1000, -1000), 1),
    )
    assert every_order(h) == {(0, PurchaseStatus.DISPUTED)}


def test_a_refund_failing_within_the_same_second_gives_its_credits_back() -> None:
    """Issue 22, defect 3: charge.refunded (1000), refund.created, refund.failed and charge.updated (0),
    all at the same second, in all 24 orders; Stripe is asked for the refund when the sums disagree."""
    failed = refund("re_1", 1000, "failed")
    h = history(
        120,
        1000,
        ("charge.refunded", {"amount_refunded": 1000}, 7),
        ("refund.created", refund("re_1", 1000, "succeeded"), 7),
        ("refund.failed", failed, 7),
        ("charge.updated", {"amount_refunded": 0}, 7),
    )
    assert every_order(h) == {(120, PurchaseStatus.SUCCEEDED)}


def test_partial_disputes_and_refunds_split_the_ledger_by_cause() -> None:
    fold = Fold(history(120, 1000))
    fold.deliver(Sent("refund.created", refund("re_1", 300, "succeeded"), 1))
    fold.deliver(Sent("charge.dispute.created", dispute("needs_response", 700), 2))
    fold.deliver(Sent("charge.dispute.closed", dispute("won", 700, -700, 700), 3))
    assert fold.ledger == [
        (LedgerEntryType.PURCHASE, 120),
        (LedgerEntryType.CLAWBACK, -36),
        (LedgerEntryType.DISPUTE, -84),
        (LedgerEntryType.DISPUTE_REVERSAL, 84),
    ]


def test_a_refund_once_failed_stays_failed_and_a_dispute_once_decided_stays_decided() -> None:
    failed = f.refund_fact(refund("re_1", 5, "failed"), at(0))
    later = f.refund_fact(refund("re_1", 5, "succeeded"), at(86400))
    assert f.merge_refund(failed, later) == f.merge_refund(later, failed) == failed
    lost = f.dispute_fact(dispute("lost", 10, -10), at(0), "usd")
    newer = f.dispute_fact(dispute("under_review", 10, -10, 3), at(86400), "usd")
    merged = f.merge_dispute(lost, newer)
    assert merged == f.merge_dispute(newer, lost)
    assert merged.status == "lost" and merged.funds == {"txn_0": -10, "txn_1": 3}


# --- generated orderings -------------------------------------------------------------------------------


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[History], list[tuple[int, Sent, int]]]:
    """1 to 3 purchases of one customer; their events shuffled together, some delivered again, each with
    how late a retrieval from Stripe sees it."""
    made = [draw(histories(purchase_id=f"pur_{n}")) for n in range(draw(st.integers(1, 3)))]
    sent = [(n, e) for n, h in enumerate(made) for e in h.events]
    shuffle = draw(st.randoms(use_true_random=False))
    order = sent + [shuffle.choice(sent) for _ in range(shuffle.randint(0, 5))]
    shuffle.shuffle(order)
    return made, [(n, e, shuffle.randint(0, 3)) for n, e in order]


@settings(max_examples=2500, deadline=None)
@given(deliveries())
def test_credits_follow_the_funds_whatever_the_order(
    case: tuple[list[History], list[tuple[int, Sent, int]]],
) -> None:
    made, order = case
    folds = [Fold(h) for h in made]
    for n, sent, late in order:
        folds[n].deliver(sent, late)
        folds[n].check()
        # The customer's balance is the sum of the ledger (here: of each purchase's share).
        assert sum(fold.balance for fold in folds) == sum(a for fold in folds for _, a in fold.ledger)
    in_creation_order = []
    for h in made:
        fold = Fold(h)
        for sent in h.events:
            fold.deliver(sent)
        in_creation_order.append(fold.money())
    for h, fold, reference in zip(made, folds, in_creation_order, strict=True):
        assert fold.kept == h.expected_kept, (h, fold.purchase, fold.ledger)
        assert fold.money() == reference
