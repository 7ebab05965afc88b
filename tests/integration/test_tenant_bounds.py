"""Every tenant bounded (issue 26): list pages, account-wide caps, test-data retention and anonymous
traffic, on the real stack, always with a second customer present."""

from __future__ import annotations

from tests.support.platform import ApiClient, create_account, create_api_key

BIG = {"blob": "x" * 60_000}  # near the 64 KiB input bound


def test_job_lists_leave_input_and_result_out_unless_expanded(api: ApiClient) -> None:
    create_account("alice")
    create_account("bob")
    _alice_key_id, alice = create_api_key("alice", "test")
    _bob_key_id, bob = create_api_key("bob", "test")
    created = api.request("POST", "/v1/jobs", token=alice, json={"type": "echo", "input": BIG})
    assert created.status_code == 201, created.text
    assert api.request("POST", "/v1/jobs", token=bob, json={"type": "echo"}).status_code == 201
    job_id = created.json()["job_id"]
    listed = api.request("GET", "/v1/jobs?limit=100", token=alice)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["data"]
    assert item["job_id"] == job_id and "input" not in item and "result" not in item
    assert {"status", "type", "cost", "livemode", "created_at", "error"} <= set(item)
    assert len(listed.content) < 2_000  # the 60 KB input stays out of the page
    expanded = api.request("GET", "/v1/jobs?limit=20&expand[]=data.input&expand[]=data.result", token=alice)
    assert expanded.status_code == 200, expanded.text
    [full] = expanded.json()["data"]
    assert full["input"] == BIG and "result" in full
    only_input = api.request("GET", "/v1/jobs?expand[]=data.input", token=alice).json()["data"][0]
    assert "input" in only_input and "result" not in only_input
    # The single GET still returns everything.
    single = api.request("GET", f"/v1/jobs/{job_id}", token=alice).json()
    assert single["input"] == BIG and "result" in single
    refusals: list[tuple[str, str]] = [
        ("/v1/jobs?expand[]=data.secret", "expand[].0"),
        ("/v1/jobs?limit=21&expand[]=data.input", "limit"),
        ("/v1/jobs?limit=1&limit=2", "limit"),
    ]
    for path, param in refusals:
        response = api.request("GET", path, token=alice)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error"]["param"] == param
    # Bob's list holds his job only, without its input either.
    [bobs] = api.request("GET", "/v1/jobs", token=bob).json()["data"]
    assert bobs["job_id"] != job_id and "input" not in bobs
