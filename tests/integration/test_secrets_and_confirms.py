"""Smaller production fixes, end to end (docs/reliability.md): a purchase whose confirm Stripe refuses
because another holder already confirmed it answers the PaymentIntent's real status (succeeded, credits
granted), never `failed`; a job type's retired worker secrets are bounded and revocable before their 24 h.
A second customer is present throughout."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from shared.billing import purchases
from shared.billing.stripe_client import stripe_client
from shared.core.clients import firestore_client
from shared.models import JobType, Purchase, PurchaseStatus, utc_now
from shared.workers.job_types import MAX_RETIRED_SECRETS
from tests.conftest import Project
from tests.support.job_workers import account_with_credits, admin_token, answer, dispatch_of, put_job_type
from tests.support.jobs import post_job
from tests.support.platform import ApiClient, create_account, create_api_key
from tests.support.purchases import balance, customer_of, purchase_doc, starter_payment_intent
from tests.support.stripe_flows import add_card
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver


class OtherHolderConfirmsFirst:
    """The real Stripe client, except that right after the purchase's request reads its PaymentIntent,
    another holder of the purchase (a takeover) confirms it: the request's own confirm is then refused by
    Stripe (localstripe answers 400, as Stripe answers payment_intent_unexpected_state)."""

    def __init__(self, client: stripe.StripeClient) -> None:
        self._client = client
        self.v1 = self
        self.payment_intents = self
        self.refused: list[str] = []

    def retrieve(self, intent_id: str, *args: Any, **kwargs: Any) -> Any:
        found = self._client.v1.payment_intents.retrieve(intent_id, *args, **kwargs)
        if found.status == "requires_confirmation":
            self._client.v1.payment_intents.confirm(intent_id)  # the other holder
        return found

    def confirm(self, intent_id: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._client.v1.payment_intents.confirm(intent_id, *args, **kwargs)
        except stripe.InvalidRequestError:
            self.refused.append(intent_id)
            raise

    def create(self, *args: Any, **kwargs: Any) -> Any:
        return self._client.v1.payment_intents.create(*args, **kwargs)


def test_a_refused_confirm_answers_the_intents_real_status(
    project: Project,
    api: ApiClient,
    client: stripe.StripeClient,
    bystander: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create_account("alice")
    card = add_card(api, api.user_token("alice"), client)
    purchase_id = "pur_alice_takeover"
    intent = starter_payment_intent(client, "alice", card["payment_method_id"], purchase_id, pay=False)
    purchase = Purchase(
        user_id="alice",
        package="starter",
        credits=120,
        amount=1000,
        payment_method_id=card["payment_method_id"],
        payment_intent_id=intent["id"],
        created_at=utc_now(),
    )
    firestore_client().collection(Purchase.collection).document(purchase_id).set(purchase.to_firestore())
    racing = OtherHolderConfirmsFirst(stripe_client())
    monkeypatch.setattr(purchases, "stripe_client", lambda: racing)

    purchases._charge(purchase_id, purchase, customer_of("alice"))

    assert racing.refused == [intent["id"]]  # our confirm was refused by Stripe
    stored = purchase_doc(purchase_id)
    assert (stored.status, stored.credits_granted, stored.failure_code) == (
        PurchaseStatus.SUCCEEDED,
        True,
        None,
    )
    assert (balance("alice"), balance(bystander)) == (120, 120)


def test_retired_worker_secrets_are_bounded_and_revocable(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    account_with_credits("alice", 10)
    account_with_credits("bob", 10)
    _, alice = create_api_key("alice", "live")
    admin = admin_token(api)
    put_job_type(api, "paint", receiver.url())
    put_job_type(api, "sculpt", receiver.url())
    for _ in range(MAX_RETIRED_SECRETS + 3):
        rotated = api.request("POST", "/v1/admin/job_types/paint/rotate_secret", token=admin, json={})
        assert rotated.status_code == 200, rotated.text
    current = rotated.json()["worker_secret"]
    stored = JobType.from_firestore(
        firestore_client().collection("job_types").document("paint").get().to_dict()
    )
    assert len(stored.older_secrets) == MAX_RETIRED_SECRETS

    revoked = api.request("POST", "/v1/admin/job_types/paint/revoke_retired_secrets", token=admin, json={})
    assert revoked.status_code == 200, revoked.text
    assert "worker_secret" not in revoked.json()
    stored = JobType.from_firestore(
        firestore_client().collection("job_types").document("paint").get().to_dict()
    )
    assert stored.older_secrets == []
    missing = api.request("POST", "/v1/admin/job_types/nope/revoke_retired_secrets", token=admin, json={})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "resource_missing")
    by_customer = api.request(
        "POST", "/v1/admin/job_types/paint/revoke_retired_secrets", token=api.user_token("bob"), json={}
    )
    assert by_customer.status_code == 403

    # The next dispatch carries the current secret's signature alone.
    receiver.respond(answer({"ok": True}))
    post_job(api, alice, {"type": "paint", "input": {}})
    request = eventually(lambda: receiver.received() or None, message="dispatched")[0]
    dispatch_of(current, request)
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    # Another type's secrets are untouched.
    sculpt = JobType.from_firestore(
        firestore_client().collection("job_types").document("sculpt").get().to_dict()
    )
    assert sculpt.secret.startswith("whsec_")
