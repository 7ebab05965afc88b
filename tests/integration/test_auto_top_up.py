"""Auto top-up on the emulators and localstripe (docs/credits.md): one off-session purchase however many
jobs cross the threshold together, never past the monthly limit, a declined card or a missing card turns it
off with disabled_reason (no retry), credits.low once per crossing. A second customer is always there."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import stripe
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.billing.auto_top_up import settings_ref
from shared.core.clients import firestore_client
from shared.models import utc_now
from tests.conftest import Project
from tests.support import stripe_objects as so
from tests.support.concurrency import run_concurrently
from tests.support.credit_grants import account, assert_invariants, grant, ledger
from tests.support.job_workers import put_priced_types
from tests.support.jobs import held, post_job
from tests.support.platform import ApiClient, create_account, create_api_key
from tests.support.purchases import customer_of, purchase_doc, replay, send, starter_payment_intent
from tests.support.stripe_events import EventSender, as_dict, make_event
from tests.support.stripe_flows import DECLINED_ON_CHARGE, add_card
from tests.support.waiting import eventually

ON = {"enabled": True, "threshold": 100, "package": "starter", "monthly_limit_cents": 1000}


def events_of(user_id: str, event_type: str) -> list[dict[str, Any]]:
    query = (
        firestore_client().collection("webhook_events").where(filter=FieldFilter("user_id", "==", user_id))
    )
    return [d.to_dict() or {} for d in query.stream() if (d.to_dict() or {}).get("type") == event_type]


def put(api: ApiClient, user_id: str, body: dict[str, Any]) -> Any:
    return api.request("PUT", "/v1/auto_top_up", token=api.user_token(user_id), json=body)


def state(api: ApiClient, user_id: str) -> dict[str, Any]:
    response = api.request("GET", "/v1/auto_top_up", token=api.user_token(user_id))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_twenty_jobs_crossing_together_make_one_top_up_then_the_monthly_limit_holds(
    project: Project, api: ApiClient, client: stripe.StripeClient
) -> None:
    put_priced_types(api, {"hold": 1, "big": 60})
    for user in ("alice", "bob"):
        create_account(user)
        add_card(api, api.user_token(user), client)
    for refused, param in (
        ({**ON, "threshold": 200}, "package"),  # 120 credits cannot bring 199 back to 200
        ({**ON, "monthly_limit_cents": 999}, "monthly_limit_cents"),
        ({**ON, "package": "nope"}, "package"),
        ({**ON, "threshold": -1}, "threshold"),
    ):
        answer = put(api, "alice", refused)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == param, answer.text
    saved = put(api, "alice", {**ON, "low_balance_threshold": 105})
    assert saved.status_code == 200, saved.text
    assert state(api, "alice") == {
        **ON,
        "low_balance_threshold": 105,
        "disabled_reason": None,
        "month_spent_cents": 0,
        "in_progress": False,
    }
    grant(api, "alice", 110, "paid")
    grant(api, "bob", 110, "paid")
    _, alice = create_api_key("alice", "live")
    _, bob = create_api_key("bob", "live")
    replies = run_concurrently(lambda _: post_job(api, alice, held("hold")), 20)
    # On a loaded machine a request may time out at the client after the platform made the job: count the
    # debits the ledger holds (each created job is one), not the answers.
    assert sum(not isinstance(r, BaseException) and r.status_code == 201 for r in replies) >= 15, replies

    def topped_up_once() -> bool:
        debits = sum(e.type.value == "job_debit" for e in ledger("alice"))
        return debits >= 15 and account("alice").credits == 110 - debits + 120

    eventually(topped_up_once, message="one top-up", timeout=60)
    purchases = [e for e in ledger("alice") if e.type.value == "purchase"]
    assert len(purchases) == 1
    assert state(api, "alice")["month_spent_cents"] == 1000
    eventually(lambda: len(events_of("alice", "auto_top_up.succeeded")) == 1, message="succeeded event")
    assert len(events_of("alice", "credits.low")) == 1
    assert_invariants("alice")

    # The month's limit (one starter) is reached: below the threshold again, after the cooldown, nothing.
    settings_ref("alice").update({"last_attempt_at": utc_now().replace(year=2020)})
    for _ in range(2):
        assert post_job(api, alice, held("big")).status_code == 201
    assert account("alice").credits < 100
    assert [e.type.value for e in ledger("alice")].count("purchase") == 1
    assert state(api, "alice")["month_spent_cents"] == 1000 and state(api, "alice")["enabled"] is True
    # Bob never had auto top-up: his jobs moved nothing of alice's, and he got no top-up.
    post_job(api, bob, held("hold"))
    assert account("bob").credits == 109 and events_of("bob", "auto_top_up.succeeded") == []
    for user in ("alice", "bob"):
        assert_invariants(user)


def test_a_declined_card_or_no_card_turns_auto_top_up_off_without_retrying(
    project: Project, api: ApiClient, client: stripe.StripeClient
) -> None:
    put_priced_types(api, {"hold": 5})
    create_account("carol")
    create_account("dave")
    add_card(api, api.user_token("carol"), client, DECLINED_ON_CHARGE)
    for user in ("carol", "dave"):
        assert put(api, user, ON).status_code == 200
        grant(api, user, 104, "paid")
    _, carol = create_api_key("carol", "live")
    _, dave = create_api_key("dave", "live")
    post_job(api, carol, held("hold"))
    post_job(api, dave, held("hold"))
    eventually(
        lambda: state(api, "carol")["disabled_reason"] == "card_declined", message="declined", timeout=60
    )
    eventually(
        lambda: state(api, "dave")["disabled_reason"] == "no_default_card", message="no card", timeout=60
    )
    for user in ("carol", "dave"):
        now = state(api, user)
        assert (now["enabled"], now["month_spent_cents"], now["in_progress"]) == (False, 0, False)
        [failed] = eventually(_failed_events(user), message="failed event")
        assert failed["payload"]["data"]["object"]["reason"] == now["disabled_reason"]
    # Nothing retries: more debits below the threshold make no new attempt.
    settings_ref("carol").update({"last_attempt_at": utc_now().replace(year=2020)})
    post_job(api, carol, held("hold"))
    assert len(events_of("carol", "auto_top_up.failed")) == 1
    assert [e.type.value for e in ledger("carol")].count("purchase") == 0
    # Turning it on again clears the reason.
    add_card(api, api.user_token("dave"), client)
    assert put(api, "dave", ON).json()["disabled_reason"] is None
    for user in ("carol", "dave"):
        assert_invariants(user)


def _failed_events(user_id: str) -> Callable[[], list[dict[str, Any]] | None]:
    return lambda: events_of(user_id, "auto_top_up.failed") or None


# --- Stripe's own answers, as signed events ------------------------------------------------------------


def _below_threshold(api: ApiClient, user_id: str, client: stripe.StripeClient) -> tuple[str, str]:
    """A customer with a card, 99 credits (below the threshold of 100) and auto top-up turned on after the
    debit, so no attempt was made yet. Returns (card id, API key)."""
    create_account(user_id)
    card = add_card(api, api.user_token(user_id), client)
    grant(api, user_id, 104, "paid")
    _, key = create_api_key(user_id, "live")
    assert post_job(api, key, held("hold")).status_code == 201
    assert put(api, user_id, ON).status_code == 200
    assert account(user_id).credits == 99
    return str(card["payment_method_id"]), key


def _attempt_whose_answer_was_lost(user_id: str, monkeypatch: Any) -> str:
    """The attempt a debit below the threshold makes (shared/billing/auto_top_up.py, run here), its charge
    sent while Stripe could not be reached: it stays in flight with its purchase pending, and only Stripe's
    events can tell how the charge ended. Returns the purchase id."""
    from localdev.emulators import free_port
    from shared.billing.auto_top_up import top_up_if_due
    from shared.core.errors import ApiError
    from shared.core.settings import get_settings

    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    try:
        top_up_if_due(user_id)
        raise AssertionError("the charge should have found Stripe unreachable")
    except ApiError as exc:
        assert exc.status == 502
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    in_flight = state_doc(user_id)["in_flight"]
    assert in_flight is not None
    return "pur_" + str(in_flight).removeprefix("att_")


def state_doc(user_id: str) -> dict[str, Any]:
    return settings_ref(user_id).get().to_dict() or {}


def _unaffected(api: ApiClient, user_id: str) -> None:
    now = state(api, user_id)
    assert (now["enabled"], now["disabled_reason"], now["in_progress"]) == (True, None, False), now
    assert account(user_id).credits == 99 and events_of(user_id, "auto_top_up.failed") == []
    assert_invariants(user_id)


def _turned_off_once(api: ApiClient, user_id: str, key: str, reason: str) -> None:
    """Off with `reason`, nothing paid, the month's count given back, one auto_top_up.failed; a later debit
    below the threshold makes no new attempt."""
    eventually(lambda: state(api, user_id)["disabled_reason"] == reason, message=reason, timeout=60)
    now = state(api, user_id)
    assert (now["enabled"], now["month_spent_cents"], now["in_progress"]) == (False, 0, False), now
    [failed] = eventually(_failed_events(user_id), message="failed event")
    assert failed["payload"]["data"]["object"]["reason"] == reason
    settings_ref(user_id).update({"last_attempt_at": utc_now().replace(year=2020)})
    credits = account(user_id).credits
    assert post_job(api, key, held("hold")).status_code == 201
    assert account(user_id).credits == credits - 5
    assert [e.type.value for e in ledger(user_id)].count("purchase") == 0
    assert len(events_of(user_id, "auto_top_up.failed")) == 1 and state_doc(user_id)["attempts"] == 1
    assert_invariants(user_id)


def test_off_session_failures_told_by_stripes_events_turn_auto_top_up_off_once(
    project: Project, api: ApiClient, client: stripe.StripeClient, events: EventSender, monkeypatch: Any
) -> None:
    """Stripe's answers to an off-session charge, as its signed events: payment_intent.payment_failed with
    card_declined or authentication_required, and payment_intent.requires_action (off-session, no one can
    authenticate). Each ends the attempt the charge's own answer did not: off with its reason, nothing
    paid, auto_top_up.failed once (a replayed event changes nothing)."""
    put_priced_types(api, {"hold": 5})
    _below_threshold(api, "bob", client)  # auto top-up on, never attempted: none of this is his
    cases = (
        ("ann", "payment_intent.payment_failed", "card_declined", "card_declined"),
        ("ben", "payment_intent.payment_failed", "authentication_required", "authentication_required"),
        ("cat", "payment_intent.requires_action", None, "authentication_required"),
    )
    for user_id, event_type, code, reason in cases:
        card_id, key = _below_threshold(api, user_id, client)
        purchase_id = _attempt_whose_answer_was_lost(user_id, monkeypatch)
        assert state(api, user_id)["in_progress"] is True
        local = starter_payment_intent(client, user_id, card_id, purchase_id, pay=False)
        intent = so.payment_intent(local)
        obj = so.payment_failed(intent, code) if code else so.three_d_secure(intent)
        event = send(events, event_type, obj)
        replay(events, event)
        assert purchase_doc(purchase_id).status.value == ("failed" if code else "requires_action")
        _turned_off_once(api, user_id, key, reason)
        replay(events, event)
        assert len(events_of(user_id, "auto_top_up.failed")) == 1
        _unaffected(api, "bob")


def test_a_charge_authenticated_after_its_attempt_failed_counts_against_the_month_once(
    project: Project, api: ApiClient, client: stripe.StripeClient, events: EventSender, monkeypatch: Any
) -> None:
    """Off-session, the charge waited for authentication: the attempt failed (off, the month's count given
    back). The customer then authenticates it and Stripe pays it: the purchase is granted like any, and its
    price counts against the month again, once, however often the events come."""
    put_priced_types(api, {"hold": 5})
    _below_threshold(api, "bob", client)
    card_id, key = _below_threshold(api, "eve", client)
    purchase_id = _attempt_whose_answer_was_lost("eve", monkeypatch)
    local = starter_payment_intent(client, "eve", card_id, purchase_id, pay=False)
    send(events, "payment_intent.requires_action", so.three_d_secure(so.payment_intent(local)))
    _turned_off_once(api, "eve", key, "authentication_required")
    credits = account("eve").credits

    paid = as_dict(client.v1.payment_intents.confirm(local["id"]))
    assert paid["status"] == "succeeded"
    event = send(events, "payment_intent.succeeded", so.payment_intent(paid))
    eventually(lambda: account("eve").credits == credits + 120, message="the late charge's credits")
    eventually(lambda: state(api, "eve")["month_spent_cents"] == 1000, message="counted against the month")
    replay(events, event)
    eventually(lambda: events_of("eve", "auto_top_up.succeeded"), message="succeeded event")
    assert state(api, "eve")["month_spent_cents"] == 1000 and state(api, "eve")["enabled"] is False
    assert account("eve").credits == credits + 120
    assert len(events_of("eve", "auto_top_up.succeeded")) == 1
    assert_invariants("eve")
    _unaffected(api, "bob")


def test_cards_gone_in_stripe_turn_auto_top_up_off(
    project: Project, api: ApiClient, client: stripe.StripeClient, events: EventSender
) -> None:
    """The default card unset (customer.updated) or deleted (payment_method.detached), applied from Stripe's
    signed events: the next crossing finds no card (no_default_card). The customer deleted in Stripe before
    its event arrived: Stripe refuses the charge (card_deleted); the customer.deleted event that follows
    changes nothing more."""
    put_priced_types(api, {"hold": 5})
    _below_threshold(api, "bob", client)

    _, dora = _below_threshold(api, "dora", client)
    customer = so.customer(as_dict(client.v1.customers.retrieve(customer_of("dora"))))
    customer["invoice_settings"]["default_payment_method"] = None
    send(events, "customer.updated", customer, int(time.time()) + 1)  # after the card was registered

    card_of_eve, eve = _below_threshold(api, "eve", client)
    detached = {**as_dict(client.v1.payment_methods.detach(card_of_eve)), "customer": None}
    event = make_event(
        "payment_method.detached",
        detached,
        created=int(time.time()) + 1,
        previous_attributes={"customer": customer_of("eve")},
    )
    assert events.send(event).status_code == 200

    _, fay = _below_threshold(api, "fay", client)
    lost = as_dict(client.v1.customers.retrieve(customer_of("fay")))
    client.v1.customers.delete(lost["id"])  # its customer.deleted event has not arrived yet

    for key in (dora, eve, fay):  # each debit below the threshold makes an attempt
        assert post_job(api, key, held("hold")).status_code == 201
    _turned_off_once(api, "dora", dora, "no_default_card")
    _turned_off_once(api, "eve", eve, "no_default_card")
    _turned_off_once(api, "fay", fay, "card_deleted")
    send(events, "customer.deleted", {**so.customer(lost), "deleted": True})
    assert len(events_of("fay", "auto_top_up.failed")) == 1
    assert [e.type.value for e in ledger("fay")].count("purchase") == 0
    _unaffected(api, "bob")
