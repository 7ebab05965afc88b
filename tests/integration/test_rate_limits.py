"""Rate limits, RateLimit header fields, key overrides, the in-flight job cap and usage metering, on the real
stack (functions host, emulators, redis-server), always with a second customer present."""

from __future__ import annotations

import json
import re
from typing import Any

from shared.core.clients import firestore_client, publish
from shared.core.function_registry import USAGE_FLUSH_TOPIC
from shared.keys.limits import Limiter
from shared.models import ApiKey, Job, JobStatus, utc_now
from tests.conftest import Project
from tests.support.concurrency import map_concurrently
from tests.support.job_workers import reprice
from tests.support.jobs import balance, job_status
from tests.support.platform import create_account, create_api_key
from tests.support.waiting import eventually

POLICY = re.compile(r'^"(key|user)";q=(\d+);w=1$')
REMAINING = re.compile(r'^"(key|user)";r=(\d+);t=(\d+)$')


def new_key(api: Any, user: str, **body: Any) -> dict[str, Any]:
    response = api.request("POST", "/v1/api_keys", token=api.user_token(user), json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def whoami(api: Any, key: str) -> Any:
    return api.request("GET", "/v1/whoami", token=key)


def test_every_key_response_carries_the_rate_limit_fields(api: Any) -> None:
    create_account("alice")
    test_key = new_key(api, "alice")
    live_key = new_key(api, "alice", environment="live")
    assert test_key["rate_limit"] == 25 and test_key["rate_limit_override"] is None
    assert live_key["rate_limit"] == 100 and live_key["max_jobs_in_flight"] == 100
    assert test_key["max_jobs_in_flight"] == 20
    for key, quota in ((test_key["key"], 25), (live_key["key"], 100)):
        response = whoami(api, key)
        assert response.status_code == 200
        assert response.headers["RateLimit-Policy"] == f'"key";q={quota};w=1'
        match = REMAINING.match(response.headers["RateLimit"])
        assert match and match.group(1) == "key" and int(match.group(2)) < quota
        # An error after authentication carries them too.
        missing = api.request("GET", "/v1/jobs/job_" + "0" * 24, token=key)
        assert missing.status_code == 404
        assert POLICY.match(missing.headers["RateLimit-Policy"])
    # Signed-in calls have a per-user limit.
    listed = api.request("GET", "/v1/api_keys", token=api.user_token("alice"))
    assert listed.headers["RateLimit-Policy"] == '"user";q=100;w=1'
    # Unauthenticated and badly authenticated calls have none.
    assert "RateLimit" not in api.request("GET", "/v1/health").headers
    assert "RateLimit" not in whoami(api, "sk_test_" + "x" * 40).headers


def test_over_the_limit_answers_429_and_other_keys_are_untouched(api: Any) -> None:
    create_account("alice")
    create_account("bob")
    slow = new_key(api, "alice", rate_limit=2)
    other_own = new_key(api, "alice")
    bobs = new_key(api, "bob")
    statuses = [whoami(api, slow["key"]) for _ in range(8)]
    refused = [r for r in statuses if r.status_code == 429]
    assert refused, [r.status_code for r in statuses]
    assert sum(r.status_code == 200 for r in statuses) >= 2
    body = refused[0].json()["error"]
    assert body["type"] == "rate_limit_error" and body["code"] == "rate_limited"
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert refused[0].headers["RateLimit-Policy"] == '"key";q=2;w=1'
    assert refused[0].headers["RateLimit"].startswith('"key";r=0;')
    # The same user's other key and another customer's key are not slowed down.
    for key in (other_own["key"], bobs["key"]):
        assert [whoami(api, key).status_code for _ in range(5)] == [200] * 5


def test_patch_renames_and_changes_the_limit(api: Any) -> None:
    create_account("alice")
    key = new_key(api, "alice", name="first")
    token = api.user_token("alice")
    response = api.request(
        "PATCH", f"/v1/api_keys/{key['key_id']}", token=token, json={"name": "batch", "rate_limit": 7}
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "batch"
    assert response.json()["rate_limit"] == 7 and response.json()["rate_limit_override"] == 7
    assert whoami(api, key["key"]).headers["RateLimit-Policy"] == '"key";q=7;w=1'
    response = api.request("PATCH", f"/v1/api_keys/{key['key_id']}", token=token, json={"rate_limit": None})
    assert response.json()["rate_limit"] == 25 and response.json()["name"] == "batch"
    # Rolling keeps the override unless the roll names another.
    api.request("PATCH", f"/v1/api_keys/{key['key_id']}", token=token, json={"rate_limit": 9})
    rolled = api.request("POST", f"/v1/api_keys/{key['key_id']}/roll", token=token, json={"expires_in": 60})
    assert rolled.status_code == 201 and rolled.json()["rate_limit"] == 9
    rolled_again = api.request(
        "POST", f"/v1/api_keys/{rolled.json()['key_id']}/roll", token=token, json={"rate_limit": 3}
    )
    assert rolled_again.json()["rate_limit"] == 3


def test_bad_limit_input_is_refused_and_changes_nothing(api: Any) -> None:
    create_account("alice")
    create_account("bob")
    key = new_key(api, "alice", name="keep")
    bobs = new_key(api, "bob", name="bobs")
    token = api.user_token("alice")
    path = f"/v1/api_keys/{key['key_id']}"
    cases: list[tuple[str, Any, int, str]] = [
        (path, {"rate_limit": 0}, 400, "parameter_invalid"),
        (path, {"rate_limit": 1001}, 400, "parameter_invalid"),
        (path, {"rate_limit": "5"}, 400, "parameter_invalid"),
        (path, {"rate_limit": 2.5}, 400, "parameter_invalid"),
        (path, {"limit": 5}, 400, "parameter_unknown"),
        (path, {}, 400, "parameter_missing"),
        ("/v1/api_keys/key_doesnotexist", {"rate_limit": 5}, 404, "resource_missing"),
        (f"/v1/api_keys/{bobs['key_id']}", {"rate_limit": 5}, 404, "resource_missing"),
    ]
    for target, body, status, code in cases:
        response = api.request("PATCH", target, token=token, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"] == code
    assert api.request("PATCH", path, token=key["key"], json={"rate_limit": 5}).status_code == 403
    response = api.request("POST", "/v1/api_keys", token=token, json={"rate_limit": 5000})
    assert response.status_code == 400 and response.json()["error"]["param"] == "rate_limit"
    stored = {
        s.id: ApiKey.from_firestore(s.to_dict())
        for s in firestore_client().collection(ApiKey.collection).stream()
    }
    assert len(stored) == 2
    assert stored[key["key_id"]].name == "keep" and stored[key["key_id"]].rate_limit is None
    assert stored[bobs["key_id"]].name == "bobs" and stored[bobs["key_id"]].rate_limit is None


def _seed_running_jobs(user_id: str, key_id: str, count: int) -> None:
    batch = firestore_client().batch()
    for number in range(count):
        job = Job(
            user_id=user_id,
            key_id=key_id,
            type="echo",
            status=JobStatus.RUNNING,
            livemode=False,
            created_at=utc_now(),
            started_at=utc_now(),
        )
        ref = firestore_client().collection(Job.collection).document(f"job_{number:024x}{key_id[-4:]}")
        batch.set(ref, job.to_firestore())
    batch.commit()


def test_jobs_in_flight_are_capped_per_key(api: Any) -> None:
    create_account("alice")
    create_account("bob")
    busy_id, busy = create_api_key("alice", "test")
    other_id, other = create_api_key("alice", "test")
    _bob_id, bobs = create_api_key("bob", "test")
    _seed_running_jobs("alice", busy_id, 20)
    response = api.request("POST", "/v1/jobs", token=busy, json={"type": "echo"})
    assert response.status_code == 429, response.text
    assert response.json()["error"] == {
        "type": "rate_limit_error",
        "code": "too_many_jobs_in_flight",
        "message": response.json()["error"]["message"],
    }
    assert response.headers["Retry-After"] == "1"
    assert "RateLimit-Policy" in response.headers
    for key in (other, bobs):
        assert api.request("POST", "/v1/jobs", token=key, json={"type": "echo"}).status_code == 201
    jobs = firestore_client().collection(Job.collection).stream()
    assert sum(1 for s in jobs if (s.to_dict() or {})["key_id"] == busy_id) == 20
    assert other_id != busy_id


def _usage(api: Any, token: str, query: str = "") -> Any:
    return api.request("GET", "/v1/usage" + query, token=token)


def test_usage_is_metered_per_key_and_flushed_each_tick(api: Any) -> None:
    create_account("alice", credits=100)
    create_account("bob")
    alice_id, alice = create_api_key("alice", "live")
    bob_id, bob = create_api_key("bob", "test")
    for _ in range(3):
        assert whoami(api, alice).status_code == 200
    assert api.request("POST", "/v1/jobs", token=alice, json={"type": "echo"}).status_code == 201
    assert whoami(api, bob).status_code == 200
    token = api.user_token("alice")

    def flushed() -> dict[str, Any] | None:
        # Requests served from an instance's token lease reach the store within a few seconds, and the
        # store reaches Firestore at the next tick: tick until both happened.
        publish(USAGE_FLUSH_TOPIC, json.dumps({}).encode())
        body = dict(_usage(api, token).json())
        return body if body["totals"]["requests"] >= 4 else None

    body = eventually(flushed, message="usage flushed")
    today = utc_now().date().isoformat()
    assert body["to"] == today
    assert body["data"] == [
        {
            "date": today,
            "key_id": alice_id,
            "livemode": True,
            "requests": 4,
            "rate_limited": 0,
            "jobs_created": 1,
            "credits_spent": body["data"][0]["credits_spent"],
        }
    ]
    assert body["data"][0]["credits_spent"] > 0  # a live echo job costs credits
    # The key itself may read its owner's usage; a filter by key works; bob sees only his.
    by_key = _usage(api, alice, f"?key_id={alice_id}&from={today}&to={today}")
    assert by_key.status_code == 200
    # This read is itself a request of the key: a tick still in flight from `flushed` may store it before
    # the read runs, so it may see itself counted (5), never anything else.
    [row] = by_key.json()["data"]
    assert row["requests"] in (4, 5)
    assert {**row, "requests": 4} == body["data"][0]
    bob_token = api.user_token("bob")  # signed in: reading usage with his key would count as usage
    eventually(lambda: _usage(api, bob_token).json()["totals"]["requests"] == 1, message="bob's usage")
    assert [d["key_id"] for d in _usage(api, bob_token).json()["data"]] == [bob_id]
    # Admin totals add every customer's usage (alice's 4, her key's read of usage, bob's 1); repeated
    # ticks never count anything twice.
    admin = api.user_token("root", admin=True)

    def admin_totals() -> dict[str, int]:
        publish(USAGE_FLUSH_TOPIC, b"{}")
        return dict(api.request("GET", "/v1/admin/stats", token=admin).json()["usage"])

    eventually(lambda: admin_totals()["requests"] >= 6, message="admin totals")
    totals = admin_totals()
    assert totals == {
        "requests": 6,
        "rate_limited": 0,
        "jobs_created": 1,
        "credits_spent": totals["credits_spent"],
    }
    assert _usage(api, token).json()["totals"]["requests"] == 5


def test_refunded_job_debits_come_off_credits_spent(api: Any) -> None:
    """A live job that fails is refunded: usage shows only the credits that stayed spent, for its key and
    day, in the owner's totals and the admin's."""
    reprice(api, "echo", 3)
    create_account("alice", credits=100)
    create_account("bob", credits=100)
    alice_id, alice = create_api_key("alice", "live")
    _, bob = create_api_key("bob", "live")
    kept = api.request("POST", "/v1/jobs", token=alice, json={"type": "echo", "input": {}})
    failing = api.request("POST", "/v1/jobs", token=alice, json={"type": "echo", "input": {"fail": True}})
    assert kept.status_code == 201 and failing.status_code == 201, failing.text
    assert api.request("POST", "/v1/jobs", token=bob, json={"type": "echo", "input": {}}).status_code == 201
    failed_id = failing.json()["job_id"]
    eventually(lambda: job_status(api, alice, failed_id), message="the failing job finished")
    eventually(lambda: balance("alice") == 97, message="its debit refunded")
    token, admin = api.user_token("alice"), api.user_token("root", admin=True)

    def flushed() -> dict[str, Any] | None:
        publish(USAGE_FLUSH_TOPIC, b"{}")
        body = dict(_usage(api, token).json())
        stats = api.request("GET", "/v1/admin/stats", token=admin).json()["usage"]
        settled = body["totals"]["jobs_created"] == 2 and stats["jobs_created"] == 3
        return {"owner": body, "admin": stats} if settled and body["totals"]["credits_spent"] <= 3 else None

    seen = eventually(flushed, message="usage flushed with the refund")
    [row] = seen["owner"]["data"]
    assert (row["key_id"], row["jobs_created"], row["credits_spent"]) == (alice_id, 2, 3)
    assert seen["owner"]["totals"]["credits_spent"] == 3
    assert seen["admin"]["credits_spent"] == 6  # alice's 3 kept, bob's 3


def test_usage_input_is_checked(api: Any) -> None:
    create_account("alice")
    create_account("bob")
    bob_key_id, _bob = create_api_key("bob", "test")
    token = api.user_token("alice")
    cases = [
        ("?from=2026-13-01", 400, "parameter_invalid"),
        ("?from=yesterday", 400, "parameter_invalid"),
        ("?from=2026-02-02&to=2026-02-01", 400, "parameter_invalid"),
        ("?from=2025-01-01&to=2026-01-01", 400, "parameter_invalid"),
        ("?key_id=key_nothere", 404, "resource_missing"),
        (f"?key_id={bob_key_id}", 404, "resource_missing"),
        ("?since=2026-01-01", 400, "parameter_unknown"),
    ]
    for query, status, code in cases:
        response = _usage(api, token, query)
        assert response.status_code == status, (query, response.text)
        assert response.json()["error"]["code"] == code
    assert _usage(api, "").status_code == 401
    empty = _usage(api, token, "?from=2026-01-01&to=2026-01-31").json()
    assert empty == {
        "data": [],
        "has_more": False,
        "next_cursor": None,
        "totals": {"requests": 0, "rate_limited": 0, "jobs_created": 0, "credits_spent": 0},
        "from": "2026-01-01",
        "to": "2026-01-31",
    }


def test_openapi_shows_the_limits(api: Any) -> None:
    document = api.request("GET", "/v1/openapi.json").json()
    whoami_op = document["paths"]["/v1/whoami"]["get"]
    assert {"RateLimit-Policy", "RateLimit"} <= set(whoami_op["responses"]["200"]["headers"])
    assert "Retry-After" in whoami_op["responses"]["429"]["headers"]
    assert "patch" in document["paths"]["/v1/api_keys/{key_id}"]
    assert "get" in document["paths"]["/v1/usage"]
    assert (
        "too_many_jobs_in_flight" in document["paths"]["/v1/jobs"]["post"]["responses"]["429"]["description"]
    )


def test_a_burst_on_one_instance_is_never_refused_below_the_limit(project: Project) -> None:
    # 50 requests at once on one instance, limit 100/s: requests that find the lease empty wait for the one
    # fetching it, so none is refused while this instance holds tokens (against the real redis-server).
    limiter = Limiter()
    decisions = map_concurrently(lambda _: limiter.take("key:burst", 100, "key"), range(50), threads=50)
    assert all(d is not None and d.allowed for d in decisions), decisions
    other = Limiter().take("key:other", 100, "key")  # another key's bucket is untouched
    assert other is not None and other.allowed and other.remaining >= 90


def test_customers_only_lower_limits_and_an_admin_raises_them(api: Any) -> None:
    create_account("alice")
    create_account("bob")
    token = api.user_token("alice")
    key = new_key(api, "alice")  # test key: default 25/s
    bobs = new_key(api, "bob", environment="live")
    path = f"/v1/api_keys/{key['key_id']}"
    raised = [
        api.request("POST", "/v1/api_keys", token=token, json={"rate_limit": 26}),
        api.request("POST", "/v1/api_keys", token=token, json={"environment": "live", "rate_limit": 101}),
        api.request("PATCH", path, token=token, json={"rate_limit": 1000}),
        api.request("POST", f"{path}/roll", token=token, json={"rate_limit": 26}),
    ]
    for response in raised:
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "admin_required" and error["param"] == "rate_limit"
        assert "ask support" in error["message"] and "/v1/admin/api_keys/" in error["message"]
    # Lowering, and back up to the default, are the customer's own.
    assert api.request("PATCH", path, token=token, json={"rate_limit": 5}).json()["rate_limit"] == 5
    assert api.request("PATCH", path, token=token, json={"rate_limit": 25}).json()["rate_limit"] == 25
    # An administrator raises alice's key (not bob's); alice may then lower it, not raise it past the grant.
    admin = api.user_token("root", admin=True)
    admin_path = f"/v1/admin/api_keys/{key['key_id']}"
    assert api.request("PATCH", admin_path, token=token, json={"rate_limit": 300}).status_code == 403
    granted = api.request("PATCH", admin_path, token=admin, json={"rate_limit": 300})
    assert granted.status_code == 200, granted.text
    assert granted.json()["rate_limit"] == 300 and granted.json()["key_id"] == key["key_id"]
    assert whoami(api, key["key"]).headers["RateLimit-Policy"] == '"key";q=300;w=1'
    assert api.request("PATCH", path, token=token, json={"rate_limit": 200}).status_code == 200
    assert api.request("PATCH", path, token=token, json={"rate_limit": 300}).status_code == 403
    assert whoami(api, bobs["key"]).headers["RateLimit-Policy"] == '"key";q=100;w=1'
    missing = api.request("PATCH", "/v1/admin/api_keys/key_nothere", token=admin, json={"rate_limit": 5})
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "key_id"
    bad = api.request("PATCH", admin_path, token=admin, json={"rate_limit": 1001})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "rate_limit"
    stored = firestore_client().collection(ApiKey.collection).document(bobs["key_id"]).get().to_dict()
    assert (stored or {}).get("rate_limit") is None


def test_usage_is_paged_and_a_test_key_sees_test_usage_only(api: Any) -> None:
    create_account("alice", credits=100)
    create_account("bob")
    live_id, live = create_api_key("alice", "live")
    test_id, test = create_api_key("alice", "test")
    other_test_id, other_test = create_api_key("alice", "test")
    _bob_id, bob = create_api_key("bob", "test")
    for key in (live, live, test, other_test, bob):
        assert whoami(api, key).status_code == 200
    token = api.user_token("alice")

    def flushed() -> dict[str, Any] | None:
        publish(USAGE_FLUSH_TOPIC, b"{}")
        body = dict(_usage(api, token).json())
        return body if body["totals"]["requests"] >= 4 and len(body["data"]) == 3 else None

    everything = eventually(flushed, message="usage flushed")
    assert {row["key_id"]: row["livemode"] for row in everything["data"]} == {
        live_id: True,
        test_id: False,
        other_test_id: False,
    }
    # A test key sees test keys' usage only: no live key id, requests or credits.
    as_test = _usage(api, test).json()
    assert {row["key_id"] for row in as_test["data"]} == {test_id, other_test_id}
    assert all(row["livemode"] is False for row in as_test["data"])
    assert as_test["totals"]["requests"] < everything["totals"]["requests"]
    assert as_test["totals"]["credits_spent"] == 0
    hidden = _usage(api, test, f"?key_id={live_id}")
    assert hidden.status_code == 404 and hidden.json()["error"]["param"] == "key_id"
    # Pages are bounded by limit; totals add up each page's rows.
    first = _usage(api, token, "?limit=2").json()
    assert len(first["data"]) == 2 and first["has_more"] is True and first["next_cursor"]
    second = _usage(api, token, f"?limit=2&starting_after={first['next_cursor']}").json()
    assert len(second["data"]) == 1 and second["has_more"] is False and second["next_cursor"] is None
    assert {r["key_id"] for r in first["data"] + second["data"]} == {live_id, test_id, other_test_id}
    # (The test key's own reads above are requests too, and a late tick may have counted them since.)
    assert first["totals"]["requests"] + second["totals"]["requests"] >= everything["totals"]["requests"]
    assert _usage(api, token, "?limit=1001").status_code == 400
    # Bob's usage never appears; a cursor naming a document of his is refused.
    bob_day = first["next_cursor"].replace(first["data"][-1]["key_id"], _bob_id)
    assert _usage(api, token, f"?starting_after={bob_day}").status_code == 400
