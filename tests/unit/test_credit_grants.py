"""The pure core of credit grants (shared/credits/grants.py): spending order, debits across grants, expiry,
void, returns to the grants a debit took from, take-backs and debt, and both invariants after every step."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.credits.grants import (
    AddGrant,
    Change,
    CreditState,
    EntryKind,
    Plan,
    PurchaseCredits,
    RemoveGrant,
    ReturnCredits,
    Shortfall,
    Spend,
    TakeBack,
    migrated_remaining,
    plan_change,
    spending_order,
)
from shared.models import GrantBalance, GrantCategory, GrantStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def grant(
    remaining: int,
    *,
    category: GrantCategory = GrantCategory.PAID,
    priority: int = 50,
    age_s: int = 0,
    expires_in_s: int | None = None,
) -> GrantBalance:
    return GrantBalance(
        remaining=remaining,
        category=category,
        priority=priority,
        effective_at=T0 - timedelta(seconds=age_s),
        expires_at=None if expires_in_s is None else T0 + timedelta(seconds=expires_in_s),
    )


grants_strategy = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3),
    st.builds(
        grant,
        st.integers(0, 50),
        category=st.sampled_from(list(GrantCategory)),
        priority=st.integers(0, 100),
        age_s=st.integers(0, 1000),
        expires_in_s=st.none() | st.integers(-100, 1000),
    ),
    max_size=8,
)


def test_order_priority_then_soonest_expiry_then_promotional_then_oldest() -> None:
    grants = {
        "late_priority": grant(1, priority=60, expires_in_s=1),
        "never": grant(1),
        "soon": grant(1, expires_in_s=10),
        "sooner": grant(1, expires_in_s=5),
        "paid_old": grant(1, age_s=100),
        "promo_new": grant(1, category=GrantCategory.PROMOTIONAL),
        "first": grant(1, priority=0),
    }
    assert spending_order(grants) == [
        "first",
        "sooner",
        "soon",
        "promo_new",
        "paid_old",
        "never",
        "late_priority",
    ]


@given(grants_strategy, st.randoms())
def test_order_does_not_depend_on_map_order(grants: dict[str, GrantBalance], rnd: random.Random) -> None:
    items = list(grants.items())
    rnd.shuffle(items)
    assert spending_order(dict(items)) == spending_order(grants)


def check_invariants(before: CreditState, plan: Plan) -> None:
    """balance moves by the entries' sum; each entry's allocations and debt explain it; no grant below 0."""
    assert plan.state.balance == before.balance + plan.amount
    assert all(g.remaining > 0 for g in plan.state.grants.values())
    assert plan.state.debt >= 0
    for grant_id in plan.state.grants:
        assert plan.statuses.get(grant_id, GrantStatus.ACTIVE) is GrantStatus.ACTIVE
    for entry in plan.entries[1:]:
        assert sum(entry.allocations.values()) == entry.amount  # expiry/void: grants only, never debt


@given(grants_strategy, st.integers(0, 400), st.booleans())
def test_spend_takes_in_order_from_spendable_grants_only(
    grants: dict[str, GrantBalance], amount: int, allow_debt: bool
) -> None:
    state = CreditState(grants)
    try:
        plan = plan_change(state, Spend(amount, allow_debt=allow_debt), T0)
    except Shortfall:
        assert not allow_debt and amount > state.spendable(T0)
        return
    check_invariants(state, plan)
    (entry,) = plan.entries
    assert entry.amount == -amount
    assert all(grants[g].spendable(T0) for g in entry.allocations)
    # In order: every grant before the last one taken from is emptied.
    order = [g for g in spending_order(grants) if grants[g].spendable(T0)]
    taken = [g for g in order if g in entry.allocations]
    if taken:
        for g in order[: order.index(taken[-1])]:
            assert -entry.allocations.get(g, 0) == grants[g].remaining
    assert plan.state.debt == max(0, amount - max(state.spendable(T0), 0))


def test_expired_grant_is_never_spent_even_before_the_sweep() -> None:
    state = CreditState({"old": grant(10, expires_in_s=0), "new": grant(5)})
    with pytest.raises(Shortfall):
        plan_change(state, Spend(6), T0)
    plan = plan_change(state, Spend(5), T0)
    assert plan.entries[0].allocations == {"new": -5}
    assert plan.statuses == {"new": GrantStatus.DEPLETED}


def test_remove_grant_is_one_expiry_entry_of_what_is_left() -> None:
    state = CreditState({"g": grant(7, expires_in_s=-1), "h": grant(3)})
    plan = plan_change(state, RemoveGrant("g", GrantStatus.EXPIRED), T0)
    assert [(e.kind, e.amount, e.allocations) for e in plan.entries] == [(EntryKind.EXPIRY, -7, {"g": -7})]
    assert plan.statuses == {"g": GrantStatus.EXPIRED}
    assert plan.state.balance == 3


def test_return_to_a_grant_expired_meanwhile_expires_again_in_the_same_change() -> None:
    state = CreditState({"h": grant(3)})
    known = {"g": (grant(0, expires_in_s=-1), GrantStatus.EXPIRED)}
    plan = plan_change(state, ReturnCredits(4, {"g": 4}, known), T0)
    assert [(e.kind, e.amount) for e in plan.entries] == [(EntryKind.CHANGE, 4), (EntryKind.EXPIRY, -4)]
    assert plan.state.balance == 3 and "g" not in plan.state.grants


def test_return_to_an_expired_grant_not_swept_yet_expires_again_too() -> None:
    state = CreditState({"g": grant(2, expires_in_s=-1)})
    plan = plan_change(state, ReturnCredits(3, {"g": 3}), T0)
    assert [(e.kind, e.amount) for e in plan.entries] == [(EntryKind.CHANGE, 3), (EntryKind.EXPIRY, -3)]
    assert plan.state.grants["g"].remaining == 2 and plan.statuses == {}


def test_return_to_a_depleted_grant_makes_it_active_again() -> None:
    known = {"g": (grant(0, expires_in_s=100), GrantStatus.DEPLETED)}
    plan = plan_change(CreditState({}), ReturnCredits(4, {"g": 4}, known), T0)
    assert plan.state.grants["g"].remaining == 4
    assert plan.statuses == {"g": GrantStatus.ACTIVE}


def test_partial_return_goes_to_the_grants_taken_from_last() -> None:
    grants = {"a": grant(5, priority=1), "b": grant(5, priority=2)}
    debit = plan_change(CreditState(grants), Spend(8), T0)
    assert debit.entries[0].allocations == {"a": -5, "b": -3}
    taken = {g: -a for g, a in debit.entries[0].allocations.items()}
    known = {"a": (grants["a"].model_copy(update={"remaining": 0}), GrantStatus.DEPLETED)}
    plan = plan_change(debit.state, ReturnCredits(2, taken, known), T0)
    assert plan.entries[0].allocations == {"b": 2}


@given(grants_strategy, st.integers(1, 100), st.integers(0, 100))
def test_take_back_starts_with_the_purchase_grant_and_leaves_a_debt_for_the_rest(
    grants: dict[str, GrantBalance], amount: int, own: int
) -> None:
    grants = {**grants, "pur": grant(own)}
    state = CreditState(grants)
    plan = plan_change(state, TakeBack("pur", amount), T0)
    check_invariants(state, plan)
    allocations = plan.entries[0].allocations
    assert -allocations.get("pur", 0) == min(own, amount)
    if plan.state.debt:
        assert not any(g.spendable(T0) for g in plan.state.grants.values())


@given(st.integers(1, 100), st.integers(1, 100), st.sampled_from(list(GrantCategory)))
def test_credits_arriving_while_in_debt_pay_it_first(debt: int, amount: int, category: GrantCategory) -> None:
    """Promotional credits too: a debt and spendable credits never exist together (docs/credits.md)."""
    state = CreditState({}, debt=debt)
    plan = plan_change(state, AddGrant("new", grant(amount, category=category)), T0)
    check_invariants(state, plan)
    assert plan.state.debt == max(0, debt - amount)
    assert plan.state.balance == amount - debt
    assert plan.entries[0].allocations == ({"new": amount - debt} if amount > debt else {})
    if amount <= debt:
        assert plan.statuses == {"new": GrantStatus.DEPLETED}


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("grant"),
            st.integers(1, 50),
            st.sampled_from(list(GrantCategory)),
            st.none() | st.integers(1, 50),
        ),
        st.tuples(st.just("spend"), st.integers(0, 60), st.booleans()),
        st.tuples(st.just("return"), st.integers(0, 10)),
        st.tuples(st.just("take_back"), st.integers(1, 60)),
        st.tuples(st.just("expire"), st.integers(0, 10)),
        st.tuples(st.just("void"), st.integers(0, 10)),
        st.tuples(st.just("tick"), st.integers(1, 30)),
    ),
    max_size=40,
)


@given(operations)
def test_invariants_over_any_history(history: list[tuple[Any, ...]]) -> None:
    """balance == sum(ledger) and balance == sum(remaining of active grants) - debt after every step, with
    the grants' documents (status, remaining) kept the way shared/credits/ledger.py keeps them."""
    now = T0
    state = CreditState({})
    ledger = 0
    docs: dict[str, tuple[GrantBalance, GrantStatus]] = {}
    debits: list[tuple[dict[str, int], tuple[str, ...]]] = []
    for step in history:
        op = step[0]
        change: Change | None = None
        if op == "grant":
            _, amount, category, expires = step
            grant_id = f"g{len(docs)}"
            new = GrantBalance(
                remaining=int(amount),
                category=category,
                effective_at=now,
                expires_at=None if expires is None else now + timedelta(seconds=int(expires)),
            )
            docs[grant_id] = (new, GrantStatus.ACTIVE)
            change = AddGrant(grant_id, new)
        elif op == "spend":
            change = Spend(int(step[1]), allow_debt=bool(step[2]))
        elif op == "return" and debits:
            taken, order = debits.pop(int(step[1]) % len(debits))
            known = {g: docs[g] for g in taken if g not in state.grants}
            change = ReturnCredits(sum(taken.values()), taken, known, order)
        elif op == "take_back" and docs:
            change = TakeBack(sorted(docs)[0], int(step[1]))
        elif op in ("expire", "void") and docs:
            grant_id = sorted(docs)[int(step[1]) % len(docs)]
            balance, status = docs[grant_id]
            if op == "expire" and status is GrantStatus.ACTIVE and balance.expired(now):
                change = RemoveGrant(grant_id, GrantStatus.EXPIRED)
            elif (
                op == "void"
                and balance.category is GrantCategory.PROMOTIONAL
                and status is not GrantStatus.EXPIRED
            ):
                change = RemoveGrant(grant_id, GrantStatus.VOIDED)
        elif op == "tick":
            now += timedelta(seconds=int(step[1]))
        if change is None:
            continue
        try:
            plan = plan_change(state, change, now)
        except Shortfall:
            continue
        check_invariants(state, plan)
        if isinstance(change, Spend) and plan.entries[0].allocations:
            taken = {g: -a for g, a in plan.entries[0].allocations.items()}
            debits.append((taken, tuple(spending_order({g: state.grants[g] for g in taken}))))
        for grant_id, status in plan.statuses.items():
            balance = plan.state.grants.get(grant_id) or docs[grant_id][0].model_copy(update={"remaining": 0})
            docs[grant_id] = (balance, status)
        ledger += plan.amount
        state = plan.state
        assert state.balance == ledger
        active = {g for g, (_, status) in docs.items() if status is GrantStatus.ACTIVE}
        assert active == set(state.grants)
        assert state.balance == sum(state.grants[g].remaining for g in active) - state.debt


def test_migration_keeps_the_newest_purchases_credits() -> None:
    purchases = [
        PurchaseCredits("old", 100, T0),
        PurchaseCredits("new", 50, T0 + timedelta(days=1)),
    ]
    assert migrated_remaining(120, purchases) == ({"new": 50, "old": 70}, 0, 0)
    assert migrated_remaining(200, purchases) == ({"new": 50, "old": 100}, 50, 0)
    assert migrated_remaining(-20, purchases) == ({"new": 0, "old": 0}, 0, 20)
