"""firestore.rules, checked on the emulator as real signed-in users (REST + unsigned ID tokens).

Data is seeded with the server client (which bypasses rules), then read and written the way a client app
would. One project for the module: every write attempt here must be refused, so the seed never changes
(the last test checks that it did not).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from localdev.stack import Stack
from localdev.wiring import clear_firestore
from shared import models as m
from shared.core.clients import close_project_clients, firestore_client, project_scope
from tests.support.firestore_rest import ClientFirestore, load_rules, query_documents
from tests.support.model_samples import samples
from tests.support.tokens import id_token

ALICE = "alice"
BOB = "bob"

# Collections a user reads their own documents of (by `user_id`), and the dashboard lists.
OWNED: tuple[type[m.FirestoreModel], ...] = (
    m.PaymentMethod,
    m.Job,
    m.LedgerEntry,
    m.Purchase,
    m.WebhookDelivery,
)
# Collections holding a `user_id` that no client may read, not even its owner.
SERVER_ONLY_OWNED: tuple[type[m.FirestoreModel], ...] = (
    m.ApiKey,  # key_hash
    m.WebhookEndpoint,  # secret
    m.WebhookEvent,
    m.FoundingSlot,
    m.UsageDay,  # read through GET /v1/usage only
)


def mine(model: type[m.FirestoreModel]) -> str:
    return f"{model.collection}/{ALICE}_1"


def theirs(model: type[m.FirestoreModel]) -> str:
    return f"{model.collection}/{BOB}_1"


# The admin, with the server's record of it (admins/root): the rules honour the claim only with it.
ADMIN = "root"
# Every other collection the server writes: one document each (the model's sample; `user_id`, where the
# model has one, is alice's, so even an owner is shown to read nothing). Job types hold worker secrets.
SERVER_ONLY_DOCUMENTS: dict[str, type[m.FirestoreModel]] = {
    "system/config": m.SystemConfig,
    "system/reconciliation": m.ReconciliationState,
    "system/counter_check": m.CounterCheckState,
    "counter_shards/shard_0": m.CounterShard,
    "usage_totals/platform": m.UsageTotals,
    "processed_events/marker_1": m.ProcessedEvent,
    f"admins/{ADMIN}": m.AdminGrant,
    **{
        f"{model.collection}/doc_1": model
        # Every model has a sample (tests/unit/test_models.py holds that): each is seeded.
        for model in samples()
        if model not in (*OWNED, *SERVER_ONLY_OWNED, m.Account, m.SystemConfig, m.CounterShard)
        and model not in (m.UsageTotals, m.ProcessedEvent, m.AdminGrant)
    },
}
# What an admin (with its record) reads; nothing else of SERVER_ONLY_DOCUMENTS.
ADMIN_READABLE = ("system/config", "counter_shards/shard_0")

# Every seeded document, each a path a client might try to read or overwrite.
EVERY_DOCUMENT: tuple[str, ...] = (
    f"users/{ALICE}",
    f"users/{BOB}",
    *(mine(model) for model in OWNED + SERVER_ONLY_OWNED),
    *(theirs(model) for model in OWNED + SERVER_ONLY_OWNED),
    *SERVER_ONLY_DOCUMENTS,
)


@dataclass(frozen=True)
class RulesProject:
    id: str
    firestore_host: str

    def as_user(self, uid: str, **claims: Any) -> ClientFirestore:
        return ClientFirestore(self.firestore_host, self.id, id_token(self.id, uid, **claims))

    def anonymous(self) -> ClientFirestore:
        return ClientFirestore(self.firestore_host, self.id, None)


def _unsampled_document(model: type[m.FirestoreModel]) -> m.FirestoreModel:
    """The documents of `system` not in ALL_MODELS (no sample): each a valid state of its model."""
    if model is m.CounterCheckState:
        return m.CounterCheckState(repaired_at=m.utc_now(), repaired={"jobs_total": 1})
    return model()


def _seed() -> dict[str, dict[str, Any]]:
    """Write one document per collection and owner; returns path -> stored data."""
    sample = samples()
    seeded: dict[str, dict[str, Any]] = {}
    for uid in (ALICE, BOB):
        seeded[f"users/{uid}"] = sample[m.Account].to_firestore()
        for model in OWNED + SERVER_ONLY_OWNED:
            seeded[f"{model.collection}/{uid}_1"] = (
                sample[model].model_copy(update={"user_id": uid}).to_firestore()
            )
    for path, model in SERVER_ONLY_DOCUMENTS.items():
        document = sample[model] if model in sample else _unsampled_document(model)
        if "user_id" in type(document).model_fields:
            document = document.model_copy(update={"user_id": ALICE})
        seeded[path] = document.to_firestore()
    # Every collection of the models is seeded: a new one is checked here without a line of this file.
    collections = {path.split("/")[0] for path in seeded}
    assert collections == {model.collection for model in sample} | {"system"}
    assert set(seeded) == set(EVERY_DOCUMENT)
    batch = firestore_client().batch()
    for path, data in seeded.items():
        batch.set(firestore_client().document(path), data)
    batch.commit()
    return seeded


@pytest.fixture(scope="module")
def rules_project(stack: Stack) -> Iterator[RulesProject]:
    # No triggers are wired to this project: seeding users must not start sign-up side effects.
    project_id = f"demo-r{uuid.uuid4().hex[:12]}"
    load_rules(stack.firestore_host, project_id)
    with project_scope(project_id):
        _seed()
    yield RulesProject(project_id, stack.firestore_host)
    clear_firestore(stack.firestore_host, project_id)
    close_project_clients(project_id)


def assert_denied(response: Any) -> None:
    assert response.status_code == 403, (response.status_code, response.text)
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"


# ---------------------------------------------------------------------------------------------------
# Reads of single documents


def test_a_user_reads_their_own_account(rules_project: RulesProject) -> None:
    response = rules_project.as_user(ALICE).get(f"users/{ALICE}")
    assert response.status_code == 200, response.text
    assert response.json()["fields"]["credits"] == {"integerValue": "-5"}


@pytest.mark.parametrize("model", OWNED, ids=lambda model: model.collection)
def test_a_user_reads_their_own_documents(rules_project: RulesProject, model: type[m.FirestoreModel]) -> None:
    response = rules_project.as_user(ALICE).get(mine(model))
    assert response.status_code == 200, response.text
    assert response.json()["fields"]["user_id"] == {"stringValue": ALICE}


def test_a_user_cannot_read_another_account(rules_project: RulesProject) -> None:
    assert_denied(rules_project.as_user(ALICE).get(f"users/{BOB}"))
    assert_denied(rules_project.as_user(ALICE, admin=True).get(f"users/{BOB}"))


@pytest.mark.parametrize("model", OWNED, ids=lambda model: model.collection)
def test_a_user_cannot_read_another_users_documents(
    rules_project: RulesProject, model: type[m.FirestoreModel]
) -> None:
    assert_denied(rules_project.as_user(ALICE).get(theirs(model)))


def test_reading_a_missing_document_is_denied_rather_than_revealed(rules_project: RulesProject) -> None:
    # A 404 would tell the caller that nobody owns this id; the rules cannot know the owner, so: denied.
    assert_denied(rules_project.as_user(ALICE).get("jobs/no_such_job"))


@pytest.mark.parametrize("model", SERVER_ONLY_OWNED, ids=lambda model: model.collection)
def test_server_only_documents_are_unreadable_even_by_their_owner_and_admins(
    rules_project: RulesProject, model: type[m.FirestoreModel]
) -> None:
    assert_denied(rules_project.as_user(ALICE).get(mine(model)))
    assert_denied(rules_project.as_user(ALICE, admin=True).get(mine(model)))
    assert_denied(rules_project.as_user(ALICE).query(model.collection, where=[("user_id", "EQUAL", ALICE)]))


def test_markers_are_unreadable(rules_project: RulesProject) -> None:
    assert_denied(rules_project.as_user(ALICE).get("processed_events/marker_1"))
    assert_denied(rules_project.as_user(ALICE, admin=True).get("processed_events/marker_1"))


@pytest.mark.parametrize("path", list(SERVER_ONLY_DOCUMENTS))
def test_no_signed_in_user_reads_a_server_only_document(rules_project: RulesProject, path: str) -> None:
    collection = path.split("/")[0]
    readers = [rules_project.as_user(ALICE), rules_project.as_user(ALICE, admin=True)]
    if path not in ADMIN_READABLE:
        readers.append(rules_project.as_user(ADMIN, admin=True))
    for reader in readers:
        assert_denied(reader.get(path))
        assert_denied(reader.query(collection))
        assert_denied(reader.list_documents(collection))
        assert_denied(reader.query(collection, where=[("user_id", "EQUAL", ALICE)]))


def test_a_demoted_admins_old_token_opens_nothing(rules_project: RulesProject) -> None:
    # The token still says admin (it keeps its claims for up to an hour); the server's record is gone.
    demoted = rules_project.as_user("former-admin", admin=True)
    admin = rules_project.as_user(ADMIN, admin=True)
    for path in ADMIN_READABLE:
        assert admin.get(path).status_code == 200
        assert_denied(demoted.get(path))
    assert_denied(demoted.query("counter_shards"))


def test_only_admins_read_system_config_and_counter_shards(rules_project: RulesProject) -> None:
    admin = rules_project.as_user(ADMIN, admin=True)
    assert admin.get("system/config").status_code == 200
    assert admin.get("counter_shards/shard_0").status_code == 200
    assert query_documents(admin.query("counter_shards")) == ["counter_shards/shard_0"]
    for user in (
        rules_project.as_user(ALICE),
        rules_project.as_user(ALICE, admin=False),
        rules_project.as_user(ALICE, admin="true"),  # a string is not the boolean claim
    ):
        assert_denied(user.get("system/config"))
        assert_denied(user.get("counter_shards/shard_0"))
        assert_denied(user.query("counter_shards"))
    # Admin reads stop at system/config: other documents of `system` are not opened by the claim.
    assert_denied(admin.get("system/other"))


def test_signed_out_callers_read_nothing(rules_project: RulesProject) -> None:
    anonymous = rules_project.anonymous()
    for path in EVERY_DOCUMENT:
        assert_denied(anonymous.get(path))
    for model in OWNED:
        assert_denied(anonymous.query(model.collection, where=[("user_id", "EQUAL", ALICE)]))


# ---------------------------------------------------------------------------------------------------
# List queries: allowed only when constrained to the caller's own documents


@pytest.mark.parametrize("model", OWNED, ids=lambda model: model.collection)
def test_a_list_filtered_on_the_callers_user_id_is_allowed(
    rules_project: RulesProject, model: type[m.FirestoreModel]
) -> None:
    alice = rules_project.as_user(ALICE)
    assert query_documents(alice.query(model.collection, where=[("user_id", "EQUAL", ALICE)])) == [
        mine(model)
    ]
    newest_first = alice.query(model.collection, where=[("user_id", "EQUAL", ALICE)], order_by="created_at")
    assert query_documents(newest_first) == [mine(model)]


@pytest.mark.parametrize("model", OWNED, ids=lambda model: model.collection)
def test_a_list_not_constrained_to_the_caller_is_denied(
    rules_project: RulesProject, model: type[m.FirestoreModel]
) -> None:
    alice = rules_project.as_user(ALICE)
    assert_denied(alice.query(model.collection))
    assert_denied(alice.list_documents(model.collection))
    assert_denied(alice.query(model.collection, where=[("user_id", "EQUAL", BOB)]))
    assert_denied(alice.query(model.collection, where=[("user_id", "IN", [ALICE, BOB])]))
    assert_denied(alice.query(model.collection, where=[("user_id", "NOT_EQUAL", BOB)]))
    assert_denied(alice.query(model.collection, where=[("created_at", "GREATER_THAN", "")]))


def test_accounts_cannot_be_listed(rules_project: RulesProject) -> None:
    alice = rules_project.as_user(ALICE)
    assert_denied(alice.list_documents("users"))
    assert_denied(alice.query("users"))
    assert_denied(alice.query("users", where=[("credits", "GREATER_THAN", 0)]))


def test_collection_group_queries_are_denied(rules_project: RulesProject) -> None:
    # No rule matches `{path=**}/jobs/{id}`: even the owner filter does not open collection-group queries.
    alice = rules_project.as_user(ALICE)
    assert_denied(alice.query("jobs", where=[("user_id", "EQUAL", ALICE)], all_descendants=True))


# ---------------------------------------------------------------------------------------------------
# Writes: clients write nothing, anywhere


def _new_document(path: str) -> dict[str, Any]:
    return {
        "user_id": ALICE,
        "credits": 1_000_000,
        "status": "active",
        "maintenance_mode": False,
        "path": path,
    }


@pytest.mark.parametrize("path", EVERY_DOCUMENT)
def test_every_client_write_to_existing_documents_is_denied(rules_project: RulesProject, path: str) -> None:
    for client in (
        rules_project.as_user(ALICE),
        rules_project.as_user(ALICE, admin=True),
        rules_project.anonymous(),
    ):
        assert_denied(client.update(path, {"user_id": ALICE, "credits": 1_000_000}))
        assert_denied(client.delete(path))


@pytest.mark.parametrize(
    "collection",
    [
        "users",
        *(model.collection for model in OWNED + SERVER_ONLY_OWNED),
        "processed_events",
        "system",
        "counter_shards",
    ],
)
def test_clients_cannot_create_documents(rules_project: RulesProject, collection: str) -> None:
    # `users/alice_new` is the signed-in user's own id: self-service account creation goes through the API.
    document_id = "alice_new" if collection != "system" else "config2"
    for client in (
        rules_project.as_user("alice_new"),
        rules_project.as_user("alice_new", admin=True),
        rules_project.anonymous(),
    ):
        assert_denied(client.create(collection, document_id, _new_document(collection)))


def test_clients_cannot_touch_balances_counters_or_switches(rules_project: RulesProject) -> None:
    alice = rules_project.as_user(ALICE)
    admin = rules_project.as_user("root", admin=True)
    assert_denied(alice.commit_increment(f"users/{ALICE}", "credits", 1000))
    assert_denied(admin.commit_increment(f"users/{ALICE}", "credits", 1000))
    assert_denied(admin.commit_increment("counter_shards/shard_0", "total_users", 1))
    assert_denied(admin.update("system/config", {"maintenance_mode": False}))


def test_the_seed_is_unchanged_after_every_attempt(rules_project: RulesProject) -> None:
    with project_scope(rules_project.id):
        stored = {snapshot.reference.path for snapshot in _all_documents()}
        alice = firestore_client().document(f"users/{ALICE}").get().to_dict() or {}
    assert stored == set(EVERY_DOCUMENT)
    assert alice["credits"] == -5


def _all_documents() -> list[Any]:
    client = firestore_client()
    return [doc for collection in client.collections() for doc in collection.stream()]
