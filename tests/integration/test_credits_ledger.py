"""GET /v1/credits/ledger: the caller's credit changes, newest first, paginated, live data only."""

from __future__ import annotations

from shared.credits.ledger import CreditChange, apply_credit_change
from shared.models import LedgerEntryType
from tests.conftest import Project
from tests.support.jobs import post_job
from tests.support.platform import ApiClient, create_account, create_api_key

ENTRY_FIELDS = {"entry_id", "type", "amount", "balance_after", "reference", "description", "created_at"}


def test_ledger_lists_every_change_newest_first(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=0)
    apply_credit_change(CreditChange("alice", 120, LedgerEntryType.PURCHASE, reference="pur_1"))
    _, key = create_api_key("alice", "live")
    jobs = [post_job(api, key, {"type": "echo", "input": {"i": i}}).json()["job_id"] for i in range(3)]
    apply_credit_change(CreditChange("alice", -5, LedgerEntryType.ADJUSTMENT, description="goodwill fix"))
    token = api.user_token("alice")
    response = api.request("GET", "/v1/credits/ledger", token=token)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["has_more"] is False and page["next_cursor"] is None
    rows = page["data"]
    assert all(set(row) == ENTRY_FIELDS for row in rows)
    assert [(r["type"], r["amount"], r["balance_after"], r["reference"]) for r in rows] == [
        ("adjustment", -5, 112, None),
        ("job_debit", -1, 117, jobs[2]),
        ("job_debit", -1, 118, jobs[1]),
        ("job_debit", -1, 119, jobs[0]),
        ("purchase", 120, 120, "pur_1"),
    ]
    assert api.request("GET", "/v1/credits/ledger", token=key).json()["data"] == rows

    seen: list[str] = []
    cursor: str | None = None
    while True:
        path = "/v1/credits/ledger?limit=2" + (f"&starting_after={cursor}" if cursor else "")
        page = api.request("GET", path, token=token).json()
        seen += [r["entry_id"] for r in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == [r["entry_id"] for r in rows]


def test_ledger_is_private_and_live_only(project: Project, api: ApiClient) -> None:
    create_account("alice", credits=3)
    create_account("bob", credits=3)
    _, alice_live = create_api_key("alice", "live")
    _, alice_test = create_api_key("alice", "test")
    post_job(api, alice_live, {"type": "echo", "input": {}})
    alice_rows = api.request("GET", "/v1/credits/ledger", token=alice_live).json()["data"]
    assert len(alice_rows) == 1
    empty = {"data": [], "has_more": False, "next_cursor": None}
    assert api.request("GET", "/v1/credits/ledger", token=alice_test).json() == empty
    bob = api.user_token("bob")
    assert api.request("GET", "/v1/credits/ledger", token=bob).json() == empty
    foreign_cursor = api.request(
        "GET", f"/v1/credits/ledger?starting_after={alice_rows[0]['entry_id']}", token=bob
    )
    assert foreign_cursor.status_code == 400
    assert api.request("GET", "/v1/credits/ledger?limit=500", token=bob).status_code == 400
    assert api.request("GET", "/v1/credits/ledger").status_code == 401
