"""The job types' seed against the emulators (shared/workers/catalogue.py): the former system/config.job_costs
migrated into stored types, `echo` seeded like any type, a migrated type without a worker refusing jobs until
the operator gives it one, idempotent; a second customer's jobs unaffected throughout. The decisions are
unit-tested in tests/unit/test_job_catalogue.py."""

from __future__ import annotations

from typing import Any

from shared.core.clients import firestore_client
from shared.models import JobType, SystemConfig
from shared.system.config import config_ref
from shared.workers.catalogue import seed_job_types
from shared.workers.job_types import JobTypeInput, put_job_type
from tests.conftest import Project
from tests.support.job_workers import (
    account_with_credits,
    admin_token,
    answer,
    assert_ledger_sums_to_balance,
    dispatch_of,
    reprice,
)
from tests.support.jobs import balance, job_status, post_job, stored_jobs
from tests.support.platform import ApiClient, create_api_key
from tests.support.waiting import eventually
from tests.support.webhook_receiver import WebhookReceiver


def stored_types() -> dict[str, JobType]:
    return {
        s.id: JobType.from_firestore(s.to_dict())
        for s in firestore_client().collection(JobType.collection).stream()
    }


def test_job_costs_become_stored_types_and_one_without_a_worker_refuses_jobs(
    project: Project, api: ApiClient, receiver: WebhookReceiver
) -> None:
    # A project from before the seed: job_costs in system/config, no `echo` document, and one type the
    # operator had already moved over ("paint", which wins over its job_costs entry).
    firestore_client().collection(JobType.collection).document("echo").delete()
    put_job_type(
        "paint",
        JobTypeInput.model_validate({"worker_url": receiver.url("/paint"), "pricing": {"credits": 4}}),
    )
    legacy = {"job_costs": {"echo": 2, "resize": 3, "paint": 9, "a.b": 1, "neg": -1}, "default_job_cost": 5}
    config_ref().set({**SystemConfig.defaults().to_firestore(), "total_jobs": 7, **legacy})

    report = seed_job_types()
    assert sorted(report.created) == ["echo", "resize"]
    assert report.kept == ["paint"]
    assert set(report.dropped) == {"a.b", "neg"}
    assert report.removed_job_costs is True
    config: dict[str, Any] = config_ref().get().to_dict() or {}
    assert "job_costs" not in config and "default_job_cost" not in config
    assert config["total_jobs"] == 7 and set(config["credit_packages"]) == {
        "starter",
        "popular",
        "pro",
        "mega",
    }
    types = stored_types()
    assert (types["resize"].worker_url, types["resize"].pricing.model_dump()) == (None, {"credits": 3})
    assert types["paint"].pricing.model_dump() == {"credits": 4}
    assert types["echo"].pricing.model_dump() == {"credits": 2}
    assert types["echo"].worker_url == project.function_url("echo_worker")

    # Again: nothing changes (the secrets neither).
    again = seed_job_types()
    assert (again.created, again.kept, again.removed_job_costs) == ([], [], False)
    assert {n: t.secret for n, t in stored_types().items()} == {n: t.secret for n, t in types.items()}

    account_with_credits("alice", 20)
    account_with_credits("bob", 20)
    alice, bob = create_api_key("alice", "live")[1], create_api_key("bob", "live")[1]
    # Bob's echo job runs on the seeded echo at the migrated price, before, during and after.
    bob_first = post_job(api, bob, {"type": "echo", "input": {"n": 1}}).json()
    assert bob_first["cost"] == 2

    refused = post_job(api, alice, {"type": "resize", "input": {}})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["param"]) == ("parameter_invalid", "type")
    assert "no worker" in error["message"]
    assert stored_jobs("alice") == {} and balance("alice") == 20
    for gone in ("a.b", "neg"):
        assert post_job(api, alice, {"type": gone, "input": {}}).status_code == 400

    token = admin_token(api)
    admin_list = {t["type"]: t for t in api.request("GET", "/v1/admin/job_types", token=token).json()["data"]}
    assert set(admin_list) == {"echo", "paint", "resize"}
    assert (admin_list["resize"]["worker_url"], admin_list["resize"]["pricing"]) == (None, {"credits": 3})
    assert all("legacy" not in t for t in admin_list.values())
    offered = api.request("GET", "/v1/job_types", token=bob).json()["data"]
    assert {t["type"] for t in offered} == {"echo", "paint"}  # a type without a worker is not on offer

    # The operator gives it a worker: created (201) with its first secret, shown once; its price kept.
    body = {k: v for k, v in admin_list["resize"].items() if k in JobTypeInput.model_fields}
    given = api.request(
        "PUT", "/v1/admin/job_types/resize", token=token, json={**body, "worker_url": receiver.url("/resize")}
    )
    assert given.status_code == 201, given.text
    secret = given.json()["worker_secret"]
    assert secret.startswith("whsec_") and secret != types["resize"].secret
    receiver.default = answer({"resized": True})
    job = post_job(api, alice, {"type": "resize", "input": {"w": 10}}).json()
    assert job["cost"] == 3
    done = eventually(lambda: job_status(api, alice, job["job_id"]), message="resize job finished")
    assert (done["status"], done["result"]) == ("completed", {"resized": True})
    (request,) = [r for r in receiver.received() if r.path == "/resize"]
    assert dispatch_of(secret, request)["user_id"] == "alice"

    # The operator's changes to echo survive the seed.
    reprice(api, "echo", 7)
    seed_job_types()
    assert stored_types()["echo"].pricing.model_dump() == {"credits": 7}
    bob_done = eventually(lambda: job_status(api, bob, bob_first["job_id"]), message="bob's echo job")
    assert (bob_done["status"], bob_done["result"]) == ("completed", {"n": 1})
    assert (balance("alice"), balance("bob")) == (17, 18)
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_a_deleted_echo_stays_deleted_and_a_project_without_job_costs_gets_echo_at_one_credit(
    project: Project, api: ApiClient
) -> None:
    echo = stored_types()["echo"]  # seeded by the test stack, as `make dev` seeds its project
    assert (echo.pricing.model_dump(), echo.timeout_s, echo.test_jobs.value) == ({"credits": 1}, 10, "worker")
    account_with_credits("alice", 5)
    account_with_credits("bob", 5)
    alice, bob = create_api_key("alice", "live")[1], create_api_key("bob", "live")[1]
    assert post_job(api, bob, {"type": "echo", "input": {}}).status_code == 201
    token = admin_token(api)
    assert api.request("DELETE", "/v1/admin/job_types/echo", token=token).status_code == 200
    assert seed_job_types().created == []
    assert stored_types()["echo"].deleted_at is not None
    refused = post_job(api, alice, {"type": "echo", "input": {}})
    assert (refused.status_code, refused.json()["error"]["param"]) == (400, "type")
    assert (balance("alice"), balance("bob")) == (5, 4)
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)
