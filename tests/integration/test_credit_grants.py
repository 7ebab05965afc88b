"""Credit grants on the emulators (docs/credits.md): operator grants and their idempotency, the spending
order, expiry (unspendable at once, swept once), void, refunds back to the grants they came from (expired
again in the same batch), the sign-up grant, a purchase's refund after its credits were partly spent, and
both invariants after every step of a generated history. A second customer is always there."""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any

import stripe
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from shared.credits.granting import expire_due_grants
from shared.models import utc_now
from tests.conftest import Project
from tests.support import stripe_objects as so
from tests.support.credit_grants import account, assert_invariants, grant, grant_docs, ledger, listed
from tests.support.job_workers import put_priced_types
from tests.support.jobs import held, post_job
from tests.support.platform import ApiClient, create_account, create_api_key
from tests.support.purchases import granted, refunded_in_stripe, send
from tests.support.stripe_events import EventSender
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver
from tests.support.webhooks import stored_event


def admin(api: ApiClient) -> str:
    return api.user_token("root", admin=True)


def cancel(api: ApiClient, key: str, job_id: str) -> None:
    response = api.request("POST", f"/v1/jobs/{job_id}/cancel", token=key)
    assert response.status_code == 200 and response.json()["status"] == "canceled", response.text


def test_admin_grants_are_idempotent_spent_in_order_listed_and_voided(
    project: Project, api: ApiClient
) -> None:
    put_priced_types(api, {"hold": 2})
    create_account("alice")
    create_account("bob")
    _, alice = create_api_key("alice", "live")
    _, alice_test = create_api_key("alice", "test")
    _, bob = create_api_key("bob", "live")
    bob_grant = grant(api, "bob", 7, "paid")
    path = "/v1/admin/users/alice/credit_grants"
    soon = int(time.time()) + 86400
    promo = {"amount": 5, "category": "promotional", "name": "Trial", "expires_at": soon}

    def post(body: Any, key: str | None = "g-1", token: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key is not None else {}
        return api.request("POST", path, token=token or admin(api), json=body, headers=headers)

    assert post(promo, token=api.user_token("alice")).json()["error"]["code"] == "admin_required"
    assert post(promo, key=None).json()["error"]["param"] == "Idempotency-Key"
    for bad, param in (
        ({**promo, "amount": 0}, "amount"),
        ({**promo, "category": "gift"}, "category"),
        ({**promo, "priority": 101}, "priority"),
        ({**promo, "expires_at": int(time.time()) - 5}, "expires_at"),
        ({**promo, "name": " "}, "name"),
        ({**promo, "extra": 1}, "extra"),
    ):
        refused = post(bad)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == param, (bad, refused.text)
    assert (
        api.request(
            "POST",
            "/v1/admin/users/nobody/credit_grants",
            token=admin(api),
            json=promo,
            headers={"Idempotency-Key": "g-1"},
        ).status_code
        == 404
    )
    first = post(promo)
    assert first.status_code == 201, first.text
    trial = first.json()
    assert (trial["remaining"], trial["status"], trial["priority"], trial["expires_at"]) == (
        5,
        "active",
        50,
        soon,
    )
    replayed = post(promo)
    assert replayed.status_code == 200 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == trial
    assert post({**promo, "amount": 6}).json()["error"]["code"] == "idempotency_key_in_use"
    paid = post({"amount": 10, "category": "paid", "name": "Invoice 31"}, key="g-2").json()
    urgent = post({"amount": 1, "category": "paid", "name": "First", "priority": 0}, key="g-3").json()
    assert account("alice").credits == 16
    assert_invariants("alice")

    # priority 0 first, then the soonest expiry (the trial), then the never-expiring paid grant.
    jobs = [post_job(api, alice, held("hold")).json()["job_id"] for _ in range(4)]
    assert [(-sum(e.allocations.values()) if e.allocations else 0) for e in ledger("alice")[-4:]] == [2] * 4
    grants = listed(api, alice)
    assert (grants[urgent["grant_id"]]["remaining"], grants[urgent["grant_id"]]["status"]) == (0, "depleted")
    assert (grants[trial["grant_id"]]["remaining"], grants[trial["grant_id"]]["status"]) == (0, "depleted")
    assert grants[paid["grant_id"]]["remaining"] == 8
    assert set(grants) == {urgent["grant_id"], trial["grant_id"], paid["grant_id"]}
    assert listed(api, api.user_token("alice")) == grants
    assert listed(api, alice_test) == {}
    assert set(listed(api, bob)) == {bob_grant["grant_id"]}
    assert_invariants("alice")

    # Void: promotional only; a depleted trial is voided, and the credits a refund brings back to it are
    # voided again in the same batch.
    void = f"/v1/admin/credit_grants/{paid['grant_id']}/void"
    assert api.request("POST", void, token=admin(api)).status_code == 409
    assert (
        api.request("POST", f"/v1/admin/credit_grants/{bob_grant['grant_id']}/void", token=alice).status_code
        == 403
    )
    assert (
        api.request(
            "POST", "/v1/admin/credit_grants/grt_000000000000000000000000/void", token=admin(api)
        ).status_code
        == 404
    )
    voided = api.request("POST", f"/v1/admin/credit_grants/{trial['grant_id']}/void", token=admin(api))
    assert voided.status_code == 200 and voided.json()["status"] == "voided", voided.text
    again = api.request("POST", f"/v1/admin/credit_grants/{trial['grant_id']}/void", token=admin(api))
    assert again.json() == voided.json()
    for job_id in jobs[:2]:  # the first took 1 (urgent) + 1 (trial), the second 2 from the trial
        cancel(api, alice, job_id)
    types = [(e.type.value, e.amount) for e in ledger("alice")[-4:]]
    assert types == [("refund", 2), ("void", -1), ("refund", 2), ("void", -2)], types
    assert account("alice").credits == 9  # 8 paid + the urgent grant's 1 back
    assert_invariants("alice")
    assert_invariants("bob")
    assert account("bob").credits == 7


def test_an_expired_grant_is_unspendable_at_once_and_swept_once(project: Project, api: ApiClient) -> None:
    put_priced_types(api, {"hold": 3})
    create_account("alice")
    create_account("bob")
    _, alice = create_api_key("alice", "live")
    bob_trial = grant(api, "bob", 5, expires_at=int(time.time()) + 3600)
    trial = grant(api, "alice", 5, expires_at=int(time.time()) + 3600)
    job = post_job(api, alice, held("hold")).json()["job_id"]  # 3 from the trial
    assert account("alice").credits == 2
    for user, expired in (("alice", trial), ("bob", bob_trial)):
        _expire_now(user, expired["grant_id"])  # as time would: its expires_at is now in the past
    refused = post_job(api, alice, held("hold"))
    assert refused.status_code == 402 and "expired" in refused.json()["error"]["message"], refused.text
    assert account("alice").credits == 2  # not swept yet: the balance still shows them
    assert_invariants("alice")
    # The job is refunded after expiry: its credits go back to the trial and expire again, same batch.
    cancel(api, alice, job)
    assert [(e.type.value, e.amount) for e in ledger("alice")[-2:]] == [("refund", 3), ("expiry", -3)]
    assert account("alice").credits == 2
    assert_invariants("alice")
    swept = expire_due_grants()
    assert set(swept) >= {trial["grant_id"], bob_trial["grant_id"]}
    assert expire_due_grants() == [] or trial["grant_id"] not in expire_due_grants()
    assert [(e.type.value, e.amount) for e in ledger("alice")[-1:]] == [("expiry", -2)]
    assert sum(1 for e in ledger("alice") if e.type.value == "expiry") == 2
    assert account("alice").credits == 0 and account("bob").credits == 0
    assert grant_docs("alice")[trial["grant_id"]].status.value == "expired"
    for user in ("alice", "bob"):
        assert_invariants(user)


def test_signup_grant_once_per_new_account(project: Project, api: ApiClient) -> None:
    create_account("old")
    put = api.request(
        "PUT", "/v1/admin/signup_grant", token=admin(api), json={"credits": 50, "expires_in_days": 7}
    )
    assert put.status_code == 200 and put.json() == {"credits": 50, "expires_in_days": 7}, put.text
    assert (
        api.request(
            "PUT", "/v1/admin/signup_grant", token=api.user_token("x"), json={"credits": 1}
        ).status_code
        == 403
    )
    assert (
        api.request("PUT", "/v1/admin/signup_grant", token=admin(api), json={"credits": -1}).status_code
        == 400
    )
    token = api.user_token("carol")
    created = api.request("POST", "/v1/account", token=token)
    assert created.status_code == 201 and created.json()["credits"] == 50, created.text
    assert api.request("POST", "/v1/account", token=token).status_code == 200
    [signup] = listed(api, token).values()
    assert (signup["category"], signup["source"], signup["remaining"]) == ("promotional", "signup", 50)
    assert signup["expires_at"] is not None and signup["expires_at"] - time.time() > 6.9 * 86400
    assert account("carol").credits == 50 and account("old").credits == 0
    assert_invariants("carol")
    off = api.request(
        "PUT", "/v1/admin/signup_grant", token=admin(api), json={"credits": 0, "expires_in_days": 0}
    )
    assert off.json() == {"credits": 0, "expires_in_days": 0}
    late = api.user_token("dave")
    assert api.request("POST", "/v1/account", token=late).json()["credits"] == 0
    assert listed(api, late) == {}


def test_refund_of_a_partly_spent_purchase_takes_its_grant_first_then_leaves_a_debt(
    project: Project, api: ApiClient, client: stripe.StripeClient, events: EventSender, bystander: str
) -> None:
    put_priced_types(api, {"big": 100})
    purchase_id, intent, _charge = granted(api, client, events, "ann")  # 120 credits, a paid grant
    promo = grant(api, "ann", 30, priority=90)  # spent last
    _, key = create_api_key("ann", "live")
    post_job(api, key, held("big"))  # 100 from the purchase's grant
    assert account("ann").credits == 50
    assert_invariants("ann")
    now = int(time.time())
    # $5 of $10 refunded: 60 credits go; the purchase's grant holds 20, the promotional 30 pay the rest,
    # 10 are a debt.
    send(events, "refund.created", refunded_in_stripe(client, intent, 500, now - 5)[0], now - 5)
    assert account("ann").credits == -10 and account("ann").debt == 10
    clawback = ledger("ann")[-1]
    assert clawback.type.value == "clawback" and clawback.amount == -60
    assert (clawback.allocations or {}).get(promo["grant_id"]) == -30
    assert listed(api, key)[promo["grant_id"]]["status"] == "depleted"
    refused = post_job(api, key, held("big"))
    assert refused.status_code == 402
    assert_invariants("ann")
    # Credits that arrive pay the debt first, promotional ones too.
    topped = grant(api, "ann", 25)
    assert topped["remaining"] == 15 and account("ann").credits == 15 and account("ann").debt == 0
    assert_invariants("ann")
    assert_invariants(bystander)
    assert account(bystander).credits == 120
    _ = (purchase_id, so)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.one_of(
            st.tuples(
                st.just("grant"), st.integers(1, 6), st.sampled_from(["paid", "promotional"]), st.booleans()
            ),
            st.tuples(st.just("job"), st.integers(0, 3)),
            st.tuples(st.just("cancel"), st.integers(0, 5)),
            st.tuples(st.just("expire"), st.integers(0, 5)),
            st.tuples(st.just("void"), st.integers(0, 5)),
            st.tuples(st.just("take"), st.integers(1, 8)),
        ),
        min_size=3,
        max_size=8,
    )
)
# Promotional credits while a debt exists (docs/credits.md): they pay it first, jobs answer 402 meanwhile,
# the rest keeps its expiry clock; refunds into an expired grant and a paid grant that paid a debt.
@example(
    [
        ("take", 5),
        ("grant", 3, "promotional", True),
        ("job", 1),
        ("grant", 6, "promotional", True),
        ("job", 2),
        ("expire", 1),
        ("void", 1),
        ("cancel", 0),
    ]
)
@example(
    [
        ("grant", 4, "paid", False),
        ("job", 3),
        ("take", 6),
        ("grant", 2, "promotional", False),
        ("cancel", 0),
        ("grant", 5, "promotional", True),
        ("job", 1),
        ("void", 2),
    ]
)
def test_invariants_after_every_step_of_a_generated_history(
    project: Project, api: ApiClient, history: list[tuple[Any, ...]]
) -> None:
    user = "h" + secrets.token_hex(4)
    create_account(user)
    create_account(user + "-other")
    grant(api, user + "-other", 3)
    put_priced_types(api, {"hold": 1, "hold2": 2, "hold3": 3, "free": 0})
    _, key = create_api_key(user, "live")
    jobs: list[str] = []
    grants: list[dict[str, Any]] = []
    for step in history:
        op = step[0]
        if op == "grant":
            _, amount, category, expiring = step
            fields = {"expires_at": int(time.time()) + 3600} if expiring else {}
            grants.append(grant(api, user, amount, category, **fields))
        elif op == "job":
            job_type = ["free", "hold", "hold2", "hold3"][step[1]]
            response = post_job(api, key, held(job_type))
            assert response.status_code in (201, 402), response.text
            if response.status_code == 201:
                jobs.append(response.json()["job_id"])
        elif op == "cancel" and jobs:
            cancel(api, key, jobs.pop(step[1] % len(jobs)))
        elif op == "expire" and grants:
            target = grants[step[1] % len(grants)]
            if target["expires_at"] is not None:
                _expire_now(user, target["grant_id"])
                expire_due_grants()
        elif op == "void" and grants:
            target = grants[step[1] % len(grants)]
            api.request("POST", f"/v1/admin/credit_grants/{target['grant_id']}/void", token=admin(api))
        elif op == "take":
            response = api.request(
                "POST",
                f"/v1/admin/users/{user}/credit_adjustments",
                token=admin(api),
                json={"amount": -step[1], "reason": "correction"},
                headers={"Idempotency-Key": secrets.token_hex(8)},
            )
            assert response.status_code == 201, response.text
        assert_invariants(user)
    assert account(user + "-other").credits == 3
    assert_invariants(user + "-other")


def _expire_now(user_id: str, grant_id: str) -> None:
    """Move a grant's expiry to the past, on the balance document and the grant's, as time would."""
    from shared.core.clients import firestore_client

    past = utc_now() - timedelta(seconds=1)
    db = firestore_client()
    doc = db.collection("credit_grants").document(grant_id)
    if (doc.get().to_dict() or {}).get("status") != "active":
        return
    batch = db.batch()
    batch.update(doc, {"expires_at": past})
    batch.update(db.collection("users").document(user_id), {f"grants.{grant_id}.expires_at": past})
    batch.commit()


def test_credit_grant_expiring_is_sent_once_seven_days_before_to_the_subscribed_endpoint(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    """credit_grant.expiring: the sweep's pass sends it for an active grant expiring within 7 days, once
    (a second pass, or the minutely sweep in the host, sends nothing more), signed as every webhook
    (verified with the standardwebhooks package); a grant further out waits for its own 7 days; another
    customer's grants are neither told about nor changed."""
    from shared.webhooks.account_events import notify_expiring_grants

    secrets_of: dict[str, str] = {}
    for user in ("ann", "bob"):
        create_account(user)
        subscribed = api.request(
            "PUT",
            "/v1/webhook",
            token=api.user_token(user),
            json={"url": receiver.url(f"/{user}"), "events": ["credit_grant.expiring"]},
        )
        assert subscribed.status_code == 201, subscribed.text
        secrets_of[user] = subscribed.json()["secret"]
    now = int(time.time())
    soon = grant(api, "ann", 10, "promotional", name="trial", expires_at=now + 3 * 86400)
    later = grant(api, "ann", 4, "promotional", name="later", expires_at=now + 7 * 86400 + 3600)
    grant(api, "ann", 5, "paid", name="never")
    bobs = grant(api, "bob", 6, "promotional", name="bob's", expires_at=now + 20 * 86400)
    grant(api, "bob", 2, "paid", name="bob's paid")
    bob_before = {g: (d["remaining"], d["status"]) for g, d in listed(api, api.user_token("bob")).items()}

    def delivered(user: str) -> list[dict[str, Any]]:
        return [
            Webhook(secrets_of[user]).verify(r.body, r.headers)
            for r in receiver.received()
            if r.path == f"/{user}"
        ]

    notify_expiring_grants()
    notify_expiring_grants()
    [first] = eventually(lambda: delivered("ann") or None, message="credit_grant.expiring", timeout=60)
    assert first["type"] == "credit_grant.expiring" and first["livemode"] is True
    told = first["data"]["object"]
    assert (told["grant_id"], told["remaining"], told["status"]) == (soon["grant_id"], 10, "active")
    assert told["expires_at"] == soon["expires_at"]

    # An hour and a bit later, the second grant is within its 7 days: told once, the first not again.
    an_hour_on = utc_now() + timedelta(hours=1, minutes=1)
    notify_expiring_grants(an_hour_on)
    notify_expiring_grants(an_hour_on)
    eventually(lambda: len(delivered("ann")) == 2, message="the later grant's notice", timeout=60)
    [second] = delivered("ann")[1:]
    assert second["data"]["object"]["grant_id"] == later["grant_id"]
    expiring = [e for e in events_of("ann") if e["type"] == "credit_grant.expiring"]
    assert sorted(e["payload"]["data"]["object"]["grant_id"] for e in expiring) == sorted(
        [soon["grant_id"], later["grant_id"]]
    )
    eventually(
        lambda: all(e.status.value == "delivered" for e in map(stored_event, (first["id"], second["id"]))),
        message="both delivered",
    )
    assert len(delivered("ann")) == 2
    # Told, not taken: the grants are still active and whole.
    shown = listed(api, api.user_token("ann"))
    assert [shown[g["grant_id"]]["remaining"] for g in (soon, later)] == [10, 4]
    assert account("ann").credits == 19
    # Bob's grant expires in 20 days: nothing was sent to him, and nothing of his changed.
    assert (
        delivered("bob") == [] and [e for e in events_of("bob") if e["type"] == "credit_grant.expiring"] == []
    )
    assert grant_docs("bob")[bobs["grant_id"]].expiring_notified is False
    assert {
        g: (d["remaining"], d["status"]) for g, d in listed(api, api.user_token("bob")).items()
    } == bob_before
    for user in ("ann", "bob"):
        assert_invariants(user)


def events_of(user_id: str) -> list[dict[str, Any]]:
    from google.cloud.firestore_v1.base_query import FieldFilter

    from shared.core.clients import firestore_client

    query = (
        firestore_client().collection("webhook_events").where(filter=FieldFilter("user_id", "==", user_id))
    )
    return [d.to_dict() or {} for d in query.stream()]
