"""POST/GET /v1/jobs through the functions host: debits, 402, test mode, idempotency, concurrency, lists."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import Project
from tests.support.job_workers import put_priced_types, reprice
from tests.support.jobs import (
    balance,
    held,
    ledger_entries,
    money_markers,
    post_job,
    stored_jobs,
)
from tests.support.platform import ApiClient, create_account, create_api_key

JOB_FIELDS = {
    "job_id",
    "type",
    "status",
    "input",
    "result",
    "error",
    "failure_reason",
    "livemode",
    "cost",
    "reserved_credits",
    "usage",
    "attempts",
    "max_attempts",
    "progress",
    "run_at",
    "created_at",
    "finished_at",
}


def test_live_job_debits_its_cost_once_with_a_ledger_entry(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=5)
    _, key = create_api_key("alice", "live")
    response = post_job(api, key, {"type": "echo", "input": {"hello": "world"}})
    assert response.status_code == 201, response.text
    job = response.json()
    assert set(job) == JOB_FIELDS
    assert job["job_id"].startswith("job_")
    assert job["status"] == "queued"
    assert (job["type"], job["input"], job["livemode"], job["cost"]) == ("echo", {"hello": "world"}, True, 1)
    assert isinstance(job["created_at"], int)
    assert balance("alice") == 4
    [entry] = ledger_entries("alice")
    assert (entry.type.value, entry.amount, entry.balance_after, entry.reference) == (
        "job_debit",
        -1,
        4,
        job["job_id"],
    )
    fetched = api.request("GET", f"/v1/jobs/{job['job_id']}", token=key)
    assert fetched.status_code == 200
    assert fetched.json()["job_id"] == job["job_id"]


def test_job_prices_come_from_the_stored_types(project: Project, api: ApiClient) -> None:
    reprice(api, "echo", 3)
    put_priced_types(api, {"render": 4})
    create_account("alice", credits=10)
    _, key = create_api_key("alice", "live")
    assert post_job(api, key, {"type": "echo", "input": {}}).json()["cost"] == 3
    assert post_job(api, key, held("render")).json()["cost"] == 4
    assert balance("alice") == 3
    unknown = post_job(api, key, {"type": "paint", "input": {}})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "parameter_invalid"
    assert unknown.json()["error"]["param"] == "type"


def test_insufficient_credits_leaves_nothing_behind(project: Project, api: ApiClient) -> None:
    reprice(api, "echo", 3)
    create_account("alice", credits=2)
    _, key = create_api_key("alice", "live")
    response = post_job(api, key, {"type": "echo", "input": {}}, idempotency_key="k-402")
    assert response.status_code == 402
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("insufficient_credits", "insufficient_credits")
    assert stored_jobs() == {}
    assert ledger_entries("alice") == []
    assert money_markers() == []
    assert balance("alice") == 2


def test_test_keys_make_free_test_jobs_seen_only_in_test_mode(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=0)
    _, test_key = create_api_key("alice", "test")
    _, live_key = create_api_key("alice", "live")
    response = post_job(api, test_key, {"type": "echo", "input": {"n": 1}})
    assert response.status_code == 201, response.text
    job = response.json()
    assert (job["livemode"], job["cost"]) == (False, 0)
    assert ledger_entries("alice") == []
    assert balance("alice") == 0
    assert api.request("GET", f"/v1/jobs/{job['job_id']}", token=test_key).status_code == 200
    assert api.request("GET", f"/v1/jobs/{job['job_id']}", token=live_key).status_code == 404
    assert api.request("GET", "/v1/jobs", token=live_key).json()["data"] == []
    assert [j["job_id"] for j in api.request("GET", "/v1/jobs", token=test_key).json()["data"]] == [
        job["job_id"]
    ]


def test_fifty_concurrent_jobs_against_ten_credits(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=10)
    _, key = create_api_key("alice", "live")
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(
            pool.map(lambda i: post_job(api, key, {"type": "echo", "input": {"i": i}}), range(50))
        )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 10, 402: 40}, [r.text for r in responses if r.status_code not in (201, 402)]
    assert balance("alice") == 0
    assert len(stored_jobs("alice")) == 10
    entries = ledger_entries("alice")
    assert len(entries) == 10
    assert sum(e.amount for e in entries) == -10
    assert sorted(e.balance_after for e in entries) == list(range(10))
    created = {r.json()["job_id"] for r in responses if r.status_code == 201}
    assert {e.reference for e in entries} == created


def test_same_idempotency_key_and_body_returns_the_same_job(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=5)
    _, key = create_api_key("alice", "live")
    body = {"type": "echo", "input": {"a": [1, 2], "b": {"c": "d"}}}
    first = post_job(api, key, body, idempotency_key="order-1")
    again = post_job(api, key, {"input": {"b": {"c": "d"}, "a": [1, 2]}, "type": "echo"}, "order-1")
    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["job_id"] == first.json()["job_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert balance("alice") == 4
    assert len(ledger_entries("alice")) == 1
    conflict = post_job(api, key, {"type": "echo", "input": {"a": [2, 1]}}, idempotency_key="order-1")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_in_use"
    other_key = post_job(api, key, body, idempotency_key="order-2")
    assert other_key.status_code == 201
    assert other_key.json()["job_id"] != first.json()["job_id"]
    assert balance("alice") == 3


def test_idempotency_keys_are_scoped_per_user_and_mode(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=5)
    create_account("bob", credits=5)
    _, alice_live = create_api_key("alice", "live")
    _, alice_test = create_api_key("alice", "test")
    _, bob_live = create_api_key("bob", "live")
    body = {"type": "echo", "input": {}}
    ids = {
        post_job(api, k, body, idempotency_key="same").json()["job_id"]
        for k in (alice_live, alice_test, bob_live)
    }
    assert len(ids) == 3
    assert (balance("alice"), balance("bob")) == (4, 4)


def test_concurrent_requests_with_one_idempotency_key_make_one_job(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=5)
    _, key = create_api_key("alice", "live")
    body = {"type": "echo", "input": {"x": 1}}
    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(lambda _: post_job(api, key, body, idempotency_key="retry-me"), range(12)))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["job_id"] for r in responses}) == 1
    assert sum(1 for r in responses if "Idempotent-Replayed" not in r.headers) == 1
    assert len(stored_jobs("alice")) == 1
    assert balance("alice") == 4
    assert len(ledger_entries("alice")) == 1


def test_list_jobs_paginates_newest_first_and_filters_by_status(project: Project, api: ApiClient) -> None:
    # "hold" jobs are held (run_at), so they stay queued; echo jobs complete.
    reprice(api, "echo", 0)
    put_priced_types(api, {"hold": 0})
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "live")
    made = [post_job(api, key, held("hold", {"i": i})).json()["job_id"] for i in range(23)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        path = "/v1/jobs?limit=10" + (f"&starting_after={cursor}" if cursor else "")
        page = api.request("GET", path, token=key).json()
        seen += [j["job_id"] for j in page["data"]]
        pages += 1
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
        assert cursor == seen[-1]
    assert pages == 3
    assert seen == list(reversed(made))
    by_cursor_alias = api.request("GET", f"/v1/jobs?limit=2&cursor={made[5]}", token=key).json()
    assert [j["job_id"] for j in by_cursor_alias["data"]] == [made[4], made[3]]
    default_page = api.request("GET", "/v1/jobs", token=key).json()
    assert len(default_page["data"]) == 10 and default_page["has_more"] is True

    echo = post_job(api, key, {"type": "echo", "input": {}}).json()["job_id"]
    from tests.support.jobs import job_status
    from tests.support.waiting import eventually

    eventually(lambda: job_status(api, key, echo), message="echo job finished")
    completed = api.request("GET", "/v1/jobs?status=completed", token=key).json()
    assert [j["job_id"] for j in completed["data"]] == [echo]
    queued = api.request("GET", "/v1/jobs?status=queued&limit=100", token=key).json()
    assert len(queued["data"]) == 23 and queued["has_more"] is False


def test_list_parameters_are_validated(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=0)
    _, key = create_api_key("alice", "test")
    for query, param in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("limit=-1", "limit"),
        ("status=done", "status"),
        ("starting_after=nope", "starting_after"),
        ("starting_after=job_" + "0" * 24, "starting_after"),
    ]:
        response = api.request("GET", f"/v1/jobs?{query}", token=key)
        assert response.status_code == 400, (query, response.text)
        assert response.json()["error"]["param"] == param


def test_other_users_jobs_are_invisible(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=5)
    create_account("bob", credits=5)
    _, alice = create_api_key("alice", "live")
    _, bob = create_api_key("bob", "live")
    job_id = post_job(api, alice, {"type": "echo", "input": {"secret": 1}}).json()["job_id"]
    response = api.request("GET", f"/v1/jobs/{job_id}", token=bob)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"
    assert api.request("GET", "/v1/jobs", token=bob).json() == {
        "data": [],
        "has_more": False,
        "next_cursor": None,
    }
    cursor = api.request("GET", f"/v1/jobs?starting_after={job_id}", token=bob)
    assert cursor.status_code == 400
    for bad in ("nope", "job_", "..", "job_" + "g" * 24):
        assert api.request("GET", f"/v1/jobs/{bad}", token=bob).status_code == 404


def test_malformed_job_requests_get_clear_400s(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=5)
    _, key = create_api_key("alice", "live")
    cases: list[tuple[Any, str, str]] = [
        ({"input": {}}, "parameter_missing", "type"),
        ({"type": "echo", "input": []}, "parameter_invalid", "input"),
        ({"type": "echo", "input": "x"}, "parameter_invalid", "input"),
        ({"type": "echo", "input": {}, "extra": 1}, "parameter_unknown", "extra"),
        ({"type": "ECHO!", "input": {}}, "parameter_invalid", "type"),
        ({"type": "echo", "input": {"a": [[1]]}}, "parameter_invalid", "input"),
        ({"type": "echo", "input": {"n": 2**70}}, "parameter_invalid", "input"),
        ({"type": "echo", "input": {"": 1}}, "parameter_invalid", "input"),
        ({"type": "echo", "input": {"__name__": 1}}, "parameter_invalid", "input"),
    ]
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(30):
        node["d"] = {}
        node = node["d"]
    cases.append(({"type": "echo", "input": deep}, "parameter_invalid", "input"))
    for body, code, param in cases:
        response = post_job(api, key, body)
        assert response.status_code == 400, (body, response.text)
        assert (response.json()["error"]["code"], response.json()["error"]["param"]) == (code, param)
    raw_cases = [
        b'{"type": "echo", "input": {"x": NaN}}',
        b'{"type": "echo", "input": {"x": "\\ud800"}}',
        b"[1, 2]",
        b"{not json",
    ]
    for raw in raw_cases:
        response = api.request(
            "POST", "/v1/jobs", token=key, data=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (raw, response.text)
    too_long = post_job(api, key, {"type": "echo", "input": {}}, idempotency_key="k" * 256)
    assert too_long.status_code == 400
    assert too_long.json()["error"]["param"] == "Idempotency-Key"
    assert balance("alice") == 5
    assert stored_jobs() == {}


def test_jobs_need_an_api_key(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=5)
    assert api.request("GET", "/v1/jobs").status_code == 401
    token = api.user_token("alice")
    assert api.request("POST", "/v1/jobs", token=token, json={"type": "echo"}).status_code == 401


def test_concurrent_retries_of_a_job_that_spent_the_last_credit_are_replays(
    project: Project, api: ApiClient
) -> None:
    """A retry that reads the balance after the first request spent it must still find the job (201
    replay), not answer 402: its key already made the job."""
    body = {"type": "echo", "input": {"x": 1}}
    for attempt in range(3):  # the race is narrow: a few rounds make it show reliably
        create_account(f"u{attempt}", credits=1)
        _, user_key = create_api_key(f"u{attempt}", "live")
        with ThreadPoolExecutor(max_workers=16) as pool:
            responses = list(
                pool.map(
                    lambda _, k=user_key: post_job(api, k, body, idempotency_key="last-credit"), range(16)
                )
            )
        assert [r.status_code for r in responses] == [201] * 16, [r.text for r in responses]
        assert len({r.json()["job_id"] for r in responses}) == 1
        assert balance(f"u{attempt}") == 0
        assert len(ledger_entries(f"u{attempt}")) == 1
