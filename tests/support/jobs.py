"""Helpers for job and ledger tests: direct reads of the project's Firestore and small HTTP shortcuts."""

from __future__ import annotations

import time
from typing import Any

import requests
from google.cloud.firestore import FieldFilter

from shared.core.clients import firestore_client
from shared.jobs.service import job_ref
from shared.models import Account, Job, LedgerEntry, ProcessedEvent
from shared.system.config import config_ref, seed_system_config
from tests.support.platform import ApiClient


def balance(user_id: str) -> int:
    snapshot = firestore_client().collection(Account.collection).document(user_id).get()
    return int((snapshot.to_dict() or {})["credits"])


def ledger_entries(user_id: str) -> list[LedgerEntry]:
    query = (
        firestore_client()
        .collection(LedgerEntry.collection)
        .where(filter=FieldFilter("user_id", "==", user_id))
    )
    return [LedgerEntry.from_firestore(s.to_dict()) for s in query.stream()]


def stored_jobs(user_id: str | None = None) -> dict[str, Job]:
    query: Any = firestore_client().collection(Job.collection)
    if user_id is not None:
        query = query.where(filter=FieldFilter("user_id", "==", user_id))
    return {s.id: Job.from_firestore(s.to_dict()) for s in query.stream()}


def marker_exists(marker_id: str) -> bool:
    return bool(firestore_client().collection(ProcessedEvent.collection).document(marker_id).get().exists)


def money_markers() -> list[str]:
    """Exactly-once markers of balance changes (the users trigger adds its own counting markers meanwhile)."""
    ids = [s.id for s in firestore_client().collection(ProcessedEvent.collection).stream()]
    return [i for i in ids if not i.startswith(("count-", "founding:"))]


# Long enough that nothing dispatches or sweeps a held job during a test; run_at allows at most 7 days.
HELD_FOR_S = 86_400


def held(job_type: str, job_input: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of a job that waits a day (`run_at`): its credits are held from creation, and no dispatcher
    or sweep touches it, so the test drives it (cancel, the lifecycle functions, the sweep at a time)."""
    return {"type": job_type, "input": job_input or {}, "run_at": int(time.time()) + HELD_FOR_S}


def due_now(job_id: str) -> None:
    """A held job as if its run_at had come: the next dispatch of it (in-process, in the test) starts it."""
    job_ref(job_id).update({"next_attempt_at": None})


def set_lease_min_rate(rate: float) -> None:
    """Leases from `rate` paid jobs/s of one customer (system/config), before the project's first job: this
    machine's stack creates far fewer jobs a second than the production default asks."""
    seed_system_config()
    config_ref().update({"credit_lease_min_rate": rate})


def post_job(api: ApiClient, key: str, body: Any, idempotency_key: str | None = None) -> requests.Response:
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
    return api.request("POST", "/v1/jobs", token=key, json=body, headers=headers)


def job_status(api: ApiClient, key: str, job_id: str) -> dict[str, Any] | None:
    response = api.request("GET", f"/v1/jobs/{job_id}", token=key)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job if job["status"] in ("completed", "failed") else None
