"""Helpers for job type and worker tests: operator job types through the admin API, workers as local HTTP
servers (tests/support/webhook_receiver.py) whose received dispatches are verified with `standardwebhooks`,
and the ledger check every money test ends with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import requests

from shared.credits.ledger import CreditChange, apply_credit_change
from shared.models import LedgerEntryType
from shared.workers.job_types import JobTypeInput
from tests.support.jobs import balance, ledger_entries
from tests.support.platform import ApiClient, create_account
from tests.support.webhook_receiver import Received, Scripted
from tests.support.webhooks import verify

ADMIN = "root"


def admin_token(api: ApiClient) -> str:
    return api.user_token(ADMIN, admin=True)


def put_job_type(api: ApiClient, name: str, worker_url: str, **fields: Any) -> dict[str, Any]:
    """Create (or replace) a job type as the operator does; returns the answer (with worker_secret when
    created)."""
    body = {"worker_url": worker_url, "pricing": {"credits": 1}, **fields}
    response = api.request("PUT", f"/v1/admin/job_types/{name}", token=admin_token(api), json=body)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


# Types whose jobs are all held (tests/support/jobs.held) never call their worker: nothing listens here.
UNCALLED_WORKER_URL = "http://127.0.0.1:9/"


def put_priced_types(api: ApiClient, prices: dict[str, int], worker_url: str = UNCALLED_WORKER_URL) -> None:
    """Fixed-price types, for tests whose jobs of them are held (or that only look at creation)."""
    for name, credits in prices.items():
        put_job_type(api, name, worker_url, pricing={"credits": credits})


def reprice(api: ApiClient, name: str, credits: int) -> None:
    """A stored type (the seeded `echo` too) at a new fixed price, its other settings kept, as the operator
    changes it: its admin resource put back with the new price (the secret is kept)."""
    listed = api.request("GET", "/v1/admin/job_types?limit=100", token=admin_token(api)).json()["data"]
    (current,) = [t for t in listed if t["type"] == name]
    body = {k: v for k, v in current.items() if k in JobTypeInput.model_fields}
    response = api.request(
        "PUT",
        f"/v1/admin/job_types/{name}",
        token=admin_token(api),
        json={**body, "pricing": {"credits": credits}},
    )
    assert response.status_code == 200, response.text


def answer(result: dict[str, Any] | None = None, units: float | None = None, **scripted: Any) -> Scripted:
    """A worker's 200: `{"result": ..., "usage": {"units": ...}}`."""
    body: dict[str, Any] = {"result": result if result is not None else {}}
    if units is not None:
        body["usage"] = {"units": units}
    return Scripted(200, {"Content-Type": "application/json"}, body=json.dumps(body).encode(), **scripted)


def refuse(status: int, message: str, **scripted: Any) -> Scripted:
    body = json.dumps({"error": {"message": message}}).encode()
    return Scripted(status, {"Content-Type": "application/json"}, body=body, **scripted)


def dispatch_of(secret: str, request: Received) -> dict[str, Any]:
    """The dispatch a worker received, verified with the standardwebhooks package (raises if it fails)."""
    return verify(secret, request)


def account_with_credits(user_id: str, credits: int) -> None:
    """An account whose credits came through the ledger (an adjustment), so the ledger sums to its balance."""
    create_account(user_id, credits=0)
    if credits:
        apply_credit_change(
            CreditChange(user_id=user_id, amount=credits, type=LedgerEntryType.ADJUSTMENT, description="test")
        )


def assert_ledger_sums_to_balance(user_id: str) -> None:
    entries = ledger_entries(user_id)
    assert sum(e.amount for e in entries) == balance(user_id), [(e.type.value, e.amount) for e in entries]


def dispatcher_process(project: str, job_id: str) -> subprocess.Popen[bytes]:
    """A dispatcher in its own process (run_job's handler for one message), to be killed mid-attempt."""
    code = (
        "import sys\n"
        "from shared.core.clients import project_scope\n"
        "from shared.workers.dispatch import dispatch_job\n"
        "with project_scope(sys.argv[1]):\n"
        "    dispatch_job(sys.argv[2])\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, project, job_id], env=dict(os.environ))


def accepted() -> Scripted:
    """A callback worker's 202: the attempt is taken; its outcome comes later by callback."""
    return Scripted(202, {"Content-Type": "application/json"}, body=b"{}")


def post_callback(url: str, token: str | None, body: Any) -> requests.Response:
    """What a callback worker sends to its dispatch's callback_url."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return requests.post(url, json=body, headers=headers, timeout=30, allow_redirects=False)
