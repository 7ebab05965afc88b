"""Credit leases on the real stack: a busy customer's burst of paid jobs is admitted from leases (a job is one
create(), the balance is written per lease), cancellations come back through the settlements, and once the
burst is over every lease is settled: credits == sum(ledger), nothing held, and the balance is what was
there less what the jobs that were not refunded reserved. A second customer, creating jobs one at a
time, keeps the exact per-job path throughout."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from shared.core.clients import firestore_client
from shared.models import Account, CreditLease, CreditReturn, JobStatus
from tests.conftest import Project
from tests.support.jobs import ledger_entries, post_job, stored_jobs
from tests.support.platform import ApiClient, create_account, create_api_key
from tests.support.waiting import eventually

BURST = 80
KEYS = 4  # each key's 100 jobs in flight: the burst is the account's, not one key's
THREADS = 6
START_CREDITS = 10_000


def account(user_id: str) -> Account:
    return Account.from_firestore(firestore_client().collection("users").document(user_id).get().to_dict())


def settled(user_id: str) -> Account | None:
    """The account once nothing is held and no return waits (None until then)."""
    current = account(user_id)
    returns = (
        firestore_client().collection(CreditReturn.collection).where("user_id", "==", user_id).limit(1).get()
    )
    return current if current.held == 0 and not current.leases and not returns else None


def create_with_retry(api: ApiClient, key: str, n: int) -> str:
    deadline = time.monotonic() + 120
    while True:
        response = post_job(api, key, {"type": "echo", "input": {"n": n}}, idempotency_key=f"burst-{n}")
        if response.status_code in (200, 201, 202):
            return str(response.json()["job_id"])
        assert response.status_code in (429, 503), response.text  # the platform asked to retry later
        assert time.monotonic() < deadline, response.text
        time.sleep(min(float(response.headers.get("Retry-After", "0.2")), 1.0))


def test_a_burst_is_admitted_from_leases_and_settles_exactly(project: Project, api: ApiClient) -> None:
    create_account("busy", credits=START_CREDITS)
    create_account("quiet", credits=100)
    keys = [create_api_key("busy", "live")[1] for _ in range(KEYS)]
    _, quiet_key = create_api_key("quiet", "live")

    with ThreadPoolExecutor(THREADS) as pool:
        job_ids = list(pool.map(lambda n: create_with_retry(api, keys[n % KEYS], n), range(BURST)))
        # Cancel every fifth job at once: those still queued or running are refunded (a pending return,
        # folded in by a settlement), the others completed first.
        list(
            pool.map(
                lambda n: api.request("POST", f"/v1/jobs/{job_ids[n]}/cancel", token=keys[n % KEYS], json={}),
                range(0, BURST, 5),
            )
        )
    quiet_jobs = [post_job(api, quiet_key, {"type": "echo", "input": {}}).json()["job_id"] for _ in range(3)]

    busy = eventually(lambda: settled("busy"), timeout=90, message="every lease settled")
    jobs = stored_jobs("busy")
    assert sorted(jobs) == sorted(set(job_ids))
    leased = [job for job in jobs.values() if job.lease_id is not None]
    assert len(leased) >= BURST // 2, "the burst was admitted from leases"
    lease_ids = {job.lease_id for job in leased}
    assert len(lease_ids) <= BURST // 8, f"{len(lease_ids)} leases for {len(leased)} jobs"
    assert not firestore_client().collection(CreditLease.collection).where("user_id", "==", "busy").get()

    entries = ledger_entries("busy")
    # The account was written with its credits directly (no purchase entry): the ledger starts from them.
    assert busy.credits == START_CREDITS + sum(e.amount for e in entries)
    kept = sum(job.held_credits for job in jobs.values() if not job.refunded)
    assert busy.credits == START_CREDITS - kept, "nothing minted or lost"
    refunded = [job for job in jobs.values() if job.refunded]
    assert all(job.status is JobStatus.CANCELED for job in refunded)
    debits = [e for e in entries if e.type.value == "job_debit"]
    assert len(debits) >= len(lease_ids) + BURST - len(leased)  # one per lease, one per exact-path job

    references = [e.reference for e in debits]
    assert len(references) == len(set(references)), "a lease or job charged twice"
    quiet = account("quiet")
    assert quiet.held == 0 and quiet.credits == 100 - 3
    quiet_refs = {e.reference for e in ledger_entries("quiet")}
    assert set(quiet_jobs) <= quiet_refs, "the quiet customer's jobs each wrote its own debit"
