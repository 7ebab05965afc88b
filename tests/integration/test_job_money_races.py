"""A job transition and its money in one retry loop (the caller's), and a worker's answer that outlives a lost
race: when the owner's balance keeps changing under every attempt, the answer is kept on the job and applied
later (by the sweep's look at the job, or by a cancel), never replaced by a refund. The races are real: a
second writer changes the account document between the ledger's read and its commit, on the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from shared.accounts.service import account_ref
from shared.credits import ledger
from shared.jobs import lifecycle
from shared.jobs.attempts import AttemptOutcome, SweepAction, Verdict, sweep_action
from shared.jobs.callback_rules import ProgressReport
from shared.jobs.service import job_ref, new_job_id
from shared.models import Job, JobCompletion, JobStatus, LedgerEntryType, MeteredPricing, utc_now
from tests.conftest import Project
from tests.support.job_workers import account_with_credits, assert_ledger_sums_to_balance
from tests.support.jobs import balance, ledger_entries
from tests.support.platform import ApiClient, create_api_key

PRICING = MeteredPricing(credits_per_unit=2, max_credits=100, unit="second")


def running_metered_job(user_id: str, key_id: str) -> str:
    """A live metered job in its first attempt, its reservation debited through the ledger."""
    job_id = new_job_id()
    ledger.apply_credit_change(
        ledger.CreditChange(user_id, -100, LedgerEntryType.JOB_DEBIT, reference=job_id)
    )
    now = utc_now()
    job = Job(
        user_id=user_id,
        key_id=key_id,
        type="transcribe",
        status=JobStatus.RUNNING,
        input={"audio": "x"},
        livemode=True,
        reserved_credits=100,
        pricing=PRICING,
        attempts=1,
        attempt_deadline=now + timedelta(seconds=300),
        sweep_at=now + timedelta(seconds=305),
        created_at=now,
        started_at=now,
    )
    job_ref(job_id).create(job.to_firestore())
    return job_id


class Contention:
    """While `busy`, every ledger attempt of a job transition loses its race: the account changes after the
    ledger read it and before its batch commits (a real second writer). `attempts` counts the attempts."""

    def __init__(self) -> None:
        self.busy = True
        self.attempts = 0

    def try_credit_change(
        self, change: ledger.CreditChange, extra_writes: Any = None
    ) -> ledger.AppliedChange:
        def meanwhile(batch: Any, balance_after: int) -> None:
            if self.busy:
                account_ref(change.user_id).update({"updated_at": utc_now()})  # the other writer
            if extra_writes is not None:
                extra_writes(batch, balance_after)

        self.attempts += 1
        return ledger.try_credit_change(change, meanwhile)


@pytest.fixture
def busy_balance(monkeypatch: pytest.MonkeyPatch) -> Iterator[Contention]:
    contention = Contention()
    monkeypatch.setattr(lifecycle, "try_credit_change", contention.try_credit_change)
    monkeypatch.setattr(lifecycle, "MAX_ATTEMPTS", 4)
    yield contention


def test_one_retry_loop_and_a_held_answer_applied_by_the_sweep(
    project: Project, busy_balance: Contention
) -> None:
    account_with_credits("alice", 150)
    account_with_credits("bob", 150)
    alice_key, _ = create_api_key("alice", "live")
    bob_key, _ = create_api_key("bob", "live")
    job_id = running_metered_job("alice", alice_key)
    bystander = running_metered_job("bob", bob_key)
    answer = AttemptOutcome(Verdict.COMPLETED, result={"text": "done"}, units=7.3)

    outcome = lifecycle.finish_attempt(job_id, 1, answer)

    # One loop: the transition's 4 attempts, each one ledger attempt (not 4 x the ledger's own 200).
    assert busy_balance.attempts == lifecycle.MAX_ATTEMPTS == 4
    assert (outcome.changed, outcome.held) == (False, True)
    stored = Job.from_firestore(job_ref(job_id).get().to_dict())
    assert stored.status is JobStatus.RUNNING and stored.held_answer is not None
    assert (stored.held_answer.attempt, stored.held_answer.result) == (1, {"text": "done"})
    assert stored.sweep_at is not None and stored.sweep_at <= utc_now()
    assert sweep_action(stored, utc_now()) is SweepAction.LOST_ATTEMPT  # the sweep looks at it now
    assert balance("alice") == 50  # no money moved yet

    # The balance calms down: the sweep's look at the job applies the answer, not a lost attempt.
    busy_balance.busy = False
    applied = lifecycle.lose_attempt(job_id)
    assert applied.changed
    done = Job.from_firestore(job_ref(job_id).get().to_dict())
    assert (done.status, done.result, done.cost, done.refunded, done.held_answer) == (
        JobStatus.COMPLETED,
        {"text": "done"},
        15,
        False,
        None,
    )
    assert balance("alice") == 135  # 150 - 100 reserved + 85 released
    kinds = sorted((e.type.value, e.amount) for e in ledger_entries("alice") if e.reference == job_id)
    assert kinds == [("job_debit", -100), ("job_release", 85)]
    # Applied once: a second look changes nothing.
    assert not lifecycle.lose_attempt(job_id).changed
    # The other tenant's job and money are untouched.
    other = Job.from_firestore(job_ref(bystander).get().to_dict())
    assert (other.status, other.held_answer, balance("bob")) == (JobStatus.RUNNING, None, 50)
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_a_cancel_applies_a_held_answer_instead_of_refunding(
    project: Project, api: ApiClient, busy_balance: Contention
) -> None:
    account_with_credits("alice", 150)
    account_with_credits("bob", 150)
    alice_key, alice = create_api_key("alice", "live")
    bob_key, bob = create_api_key("bob", "live")
    job_id = running_metered_job("alice", alice_key)
    bystander = running_metered_job("bob", bob_key)
    held = lifecycle.finish_attempt(job_id, 1, AttemptOutcome(Verdict.COMPLETED, result={"n": 1}, units=1))
    assert held.held
    busy_balance.busy = False

    # The worker did the work before the cancel: the job completes and is paid, not refunded.
    canceled = api.request("POST", f"/v1/jobs/{job_id}/cancel", token=alice)
    assert canceled.status_code == 200, canceled.text
    assert (canceled.json()["status"], canceled.json()["result"], canceled.json()["cost"]) == (
        "completed",
        {"n": 1},
        2,
    )
    assert balance("alice") == 148
    # bob's cancel of his own job (no answer held) refunds it as before.
    other = api.request("POST", f"/v1/jobs/{bystander}/cancel", token=bob)
    assert (other.status_code, other.json()["status"], balance("bob")) == (200, "canceled", 150)
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)


def test_a_callback_jobs_held_answer_outlives_its_deadline(
    project: Project, busy_balance: Contention
) -> None:
    account_with_credits("alice", 150)
    account_with_credits("bob", 150)
    alice_key, _ = create_api_key("alice", "live")
    bob_key, _ = create_api_key("bob", "live")
    job_id = running_metered_job("alice", alice_key)
    overdue_other = running_metered_job("bob", bob_key)
    for each in (job_id, overdue_other):
        job_ref(each).update({"completion": JobCompletion.CALLBACK.value})
    held = lifecycle.finish_attempt(job_id, 1, AttemptOutcome(Verdict.COMPLETED, result={"n": 1}, units=5))
    assert held.held
    # The attempt answered: a later progress report of it is not recorded (and does not drop the answer).
    assert not lifecycle.report_progress(job_id, 1, ProgressReport(percent=50, message="half")).changed
    busy_balance.busy = False

    # Past the attempt's deadline the sweep's overdue-callback rule applies the held answer, not a failure.
    later = utc_now() + timedelta(seconds=400)
    assert lifecycle.fail_overdue_callback(job_id, now=later).changed
    done = Job.from_firestore(job_ref(job_id).get().to_dict())
    assert (done.status, done.result, done.cost, done.held_answer) == (
        JobStatus.COMPLETED,
        {"n": 1},
        10,
        None,
    )
    assert balance("alice") == 140  # 150 - 100 reserved + 90 released
    # bob's overdue callback job, with no answer held, fails its attempt as before.
    assert lifecycle.fail_overdue_callback(overdue_other, now=later).changed
    other = Job.from_firestore(job_ref(overdue_other).get().to_dict())
    assert other.status is not JobStatus.COMPLETED and other.held_answer is None
    for user in ("alice", "bob"):
        assert_ledger_sums_to_balance(user)
