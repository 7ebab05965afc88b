"""Auto top-up on the emulators and localstripe (docs/credits.md): one off-session purchase however many
jobs cross the threshold together, never past the monthly limit, a declined card or a missing card turns it
off with disabled_reason (no retry), credits.low once per crossing. A second customer is always there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.billing.auto_top_up import settings_ref
from shared.core.clients import firestore_client
from shared.models import utc_now
from tests.conftest import Project
from tests.support.concurrency import run_concurrently
from tests.support.credit_grants import account, assert_invariants, grant, ledger
from tests.support.job_workers import put_priced_types
from tests.support.jobs import held, post_job
from tests.support.platform import ApiClient, create_account, create_api_key
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
