"""The job lifecycle, enforced here and only here (docs/jobs.md):

    queued -> running -> completed | failed        (an attempt's answer)
    running -> queued                              (the attempt failed; the next is due after a backoff)
    running -> queued                              (the worker said "not now": the attempt does not count)
    queued -> failed                               (expired: no first attempt within queue_timeout_s)
    queued | running -> failed                     (past the job's absolute deadline, whatever held it up)
    queued | running -> canceled                   (the owner canceled it)

Every change is a decision on the job as read (`Decide`), written with a `last_update_time` precondition
from that read, so two writers never both move a job from one state (the loser re-reads and decides again;
no transactions: they collapse under contention on the emulator). A decision of "nothing to do" (a repeated
event, a late worker answer, an attempt that is no longer the job's current one) writes nothing.

Money moves in the same batch as the state (shared/credits/ledger.py, with an exactly-once marker): a job
that fails, expires or is canceled gets its held credits back (`refund:job:{id}`); a metered job that
completes is charged what its usage cost and the rest of its reservation is released (`release:job:{id}`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from google.api_core.exceptions import AlreadyExists, NotFound
from google.cloud import firestore

from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode
from shared.core.retry import RETRYABLE_COMMIT_ERRORS, retry_commit
from shared.core.settings import get_settings
from shared.credits.lease_store import add_return
from shared.credits.ledger import (
    RETRY_CAP_S,
    RETRY_STEP_S,
    CreditChange,
    ReturnTo,
    job_debit_entry_id,
    try_credit_change,
)
from shared.jobs.attempts import (
    MAX_ERROR_LENGTH,
    AttemptOutcome,
    SweepAction,
    Verdict,
    after_failed_attempt,
    deadline_of,
    recovery_grace,
    running_sweep_at,
    settled_cost,
    sweep_action,
)
from shared.jobs.callback_rules import (
    CALLBACK_OVERDUE_MESSAGE,
    ProgressReport,
    callback_overdue,
    cancel_charge,
    canceled_settlement,
    settles_on_reported_units,
)
from shared.jobs.service import job_ref
from shared.models import (
    TERMINAL_JOB_STATUSES,
    AnswerVerdict,
    HeldAnswer,
    Job,
    JobCompletion,
    JobFailure,
    JobStatus,
    LedgerEntryType,
    MeteredPricing,
    utc_now,
)

# Reads and writes of one transition at most: a job's own races are rare; its owner's balance is the busy
# document (every job of the account moves it), so the pauses are the ledger's short ones.
MAX_ATTEMPTS = 100
ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.RUNNING: frozenset(
        {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.QUEUED, JobStatus.CANCELED}
    ),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELED: frozenset(),
}
TERMINAL_STATUSES = TERMINAL_JOB_STATUSES
CANCELED_MESSAGE = "The job was canceled."
LOST_ATTEMPT_MESSAGE = "the attempt did not end by its deadline (its dispatcher stopped)"


class JobNotFound(LookupError):
    pass


class _JobChangedMeanwhile(Exception):
    """The money change was already applied by a twin: the job moved on, decide again from a new read."""


class JobKeptChanging(RuntimeError):
    """The job (or its owner's balance) kept changing for MAX_ATTEMPTS reads and writes."""


RETRY_ON: tuple[type[Exception], ...] = (*RETRYABLE_COMMIT_ERRORS, _JobChangedMeanwhile)


@dataclass(frozen=True)
class JobChange:
    fields: dict[str, Any]
    credit: CreditChange | None = None  # committed in the same batch as `fields`


Decide = Callable[[str, Job, datetime], JobChange | None]


@dataclass(frozen=True)
class TransitionOutcome:
    job: Job
    changed: bool  # False: nothing to do (a repeated event, a late answer)
    held: bool = False  # the answer could not be applied now: it is kept on the job (HeldAnswer)


def can_transition(current: JobStatus, target: JobStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def _read_job(ref: firestore.DocumentReference, job_id: str) -> tuple[Any, Job]:
    snapshot = ref.get()
    if not snapshot.exists:
        raise JobNotFound(job_id)
    return snapshot, Job.from_firestore(snapshot.to_dict())


def change_job(job_id: str, decide: Decide, what: str, now: datetime | None = None) -> TransitionOutcome:
    """Read the job, decide, and write the decision (with its credit change, in one batch) on that read.
    `now` is the time decided on (the current time unless given).

    One retry loop, this one: the ledger's part is a single attempt (`try_credit_change`), and a lost race
    of either the job or the balance means read both again and decide again. Raises JobKeptChanging when
    every attempt lost."""
    ref = job_ref(job_id)
    db = firestore_client()

    def attempt() -> TransitionOutcome:
        snapshot, job = _read_job(ref, job_id)
        change = decide(job_id, job, now or utc_now())
        if change is None:
            return TransitionOutcome(job, changed=False)
        fields = change.fields
        if job.held_answer is not None and "held_answer" not in fields:
            fields = {**fields, "held_answer": None}  # any move ends the attempt the answer was for
        on_read = db.write_option(last_update_time=snapshot.update_time)
        if change.credit is None:
            ref.update(fields, option=on_read)
        elif job.lease_id is not None:
            # A leased job's credits come back through its lease's settlement (a pending return created
            # with the job's change; its id is the marker), never a balance write per job.
            credit = change.credit
            batch = db.batch()
            batch.update(ref, fields, option=on_read)
            add_return(
                batch,
                credit.marker_id or f"return:{job_id}",
                credit.user_id,
                job.lease_id,
                credit.amount,
                credit.type,
                credit.reference,
                credit.description,
            )
            try:
                batch.commit()
            except AlreadyExists:
                raise _JobChangedMeanwhile from None  # returned before: read the job again
        else:
            applied = try_credit_change(
                change.credit, extra_writes=lambda batch, _balance: batch.update(ref, fields, option=on_read)
            )
            if applied.already_applied:
                raise _JobChangedMeanwhile  # the money and the state commit together: read again
            # Usage counts the credits given back from the job's update trigger (credits_given_back), not
            # here: run_job calls operators' URLs and holds no Redis secret.
        return TransitionOutcome(Job.model_validate({**job.model_dump(), **fields}), changed=True)

    return retry_commit(
        attempt,
        what=f"job {job_id} while {what}",
        max_attempts=MAX_ATTEMPTS,
        retry_on=RETRY_ON,
        step=RETRY_STEP_S,
        cap=RETRY_CAP_S,
        gave_up=lambda: JobKeptChanging(f"job {job_id} kept changing while {what}"),
    )


def credits_given_back(job: Job) -> int:
    """What a finished job gave back of its debit: all of it when refunded, a metered job's unused
    reservation when completed (what `_refund` and `_completed` decided; usage counts it apart)."""
    if job.refunded:
        return job.held_credits
    if job.status is JobStatus.COMPLETED and isinstance(job.pricing, MeteredPricing):
        return max(0, job.held_credits - job.cost)
    return 0


def _refund(job_id: str, job: Job) -> CreditChange | None:
    if not job.livemode or job.held_credits <= 0 or job.refunded:
        return None
    return CreditChange(
        user_id=job.user_id,
        amount=job.held_credits,
        type=LedgerEntryType.REFUND,
        reference=job_id,
        description=f"refund of {job.type} job ({job.status.value} -> not completed)",
        marker_id=f"refund:job:{job_id}",
        effect=ReturnTo(debit_entry_id=job_debit_entry_id(job_id)),  # to the grants it came from
    )


def _ended(job_id: str, job: Job, status: JobStatus, now: datetime, **fields: Any) -> JobChange:
    """A move to failed or canceled: the held credits come back in the same batch."""
    refund = _refund(job_id, job)
    ended = {
        "status": status.value,
        "updated_at": now,
        "finished_at": now,
        "sweep_at": None,
        "attempt_deadline": None,
        "next_attempt_at": None,
        **fields,
    }
    if refund is not None:
        ended["refunded"] = True
    return JobChange(ended, refund)


def _illegal(job: Job, target: JobStatus) -> ApiError:
    return ApiError(
        ErrorCode.ILLEGAL_STATE_TRANSITION, f"A {job.status.value} job cannot become {target.value}."
    )


# ---------------------------------------------------------------------------------------------------
# Attempts


def start_attempt(
    job_id: str,
    *,
    ignore_backoff: bool = False,
    runnable: Callable[[Job], bool] | None = None,
    callback_token_hash: str | None = None,
) -> TransitionOutcome:
    """queued -> running as attempt `attempts + 1`, due now (or `ignore_backoff`); `changed=False` when the
    job is not queued, its next attempt is not due yet (another dispatcher has it, or a duplicate), or
    `runnable` says no (its type has no worker). A callback job's attempt stores its token's hash."""

    def decide(_job_id: str, job: Job, now: datetime) -> JobChange | None:
        if job.status is not JobStatus.QUEUED:
            return None
        if runnable is not None and not runnable(job):
            return None
        if not ignore_backoff and job.next_attempt_at is not None and job.next_attempt_at > now:
            return None
        deadline = now + timedelta(seconds=job.timeout_s)
        fields: dict[str, Any] = {
            "status": JobStatus.RUNNING.value,
            "attempts": job.attempts + 1,
            "updated_at": now,
            "attempt_deadline": deadline,
            "sweep_at": min(
                running_sweep_at(deadline, recovery_grace(get_settings().is_production)), deadline_of(job)
            ),
            "next_attempt_at": None,
            "expires_at": None,  # the queue deadline is for the first attempt only
        }
        if job.started_at is None:
            fields["started_at"] = now
        if job.completion is JobCompletion.CALLBACK:
            # The deadline is the callback's: no dispatcher holds the attempt, so no recovery grace.
            fields |= {"sweep_at": deadline, "callback_token_hash": callback_token_hash, "progress": None}
        return JobChange(fields)

    return change_job(job_id, decide, "starting an attempt")


def finish_attempt(job_id: str, attempt: int, outcome: AttemptOutcome) -> TransitionOutcome:
    """Apply attempt `attempt`'s outcome, unless the job moved on meanwhile (canceled, or the attempt was
    counted as lost and another started): a late answer changes nothing.

    When applying it keeps losing races (its owner's balance is busy), the answer is not dropped: it is kept
    on the job (`held_answer`, a write of the job alone) and the job is due to the sweep now, which applies
    it; until then the attempt's deadline cannot make it count as lost."""

    def decide(job_id: str, job: Job, now: datetime) -> JobChange | None:
        if job.status is not JobStatus.RUNNING or job.attempts != attempt:
            return None
        return _outcome_change(job_id, job, outcome, now)

    try:
        return change_job(job_id, decide, f"applying attempt {attempt}")
    except JobKeptChanging:
        return _hold_answer(job_id, attempt, outcome)


def held_answer(attempt: int, outcome: AttemptOutcome, now: datetime) -> HeldAnswer:
    return HeldAnswer(
        attempt=attempt,
        verdict=AnswerVerdict(outcome.verdict.value),
        result=outcome.result,
        units=outcome.units,
        error=outcome.error,
        failure_reason=outcome.failure_reason,
        next_attempt_at=outcome.next_attempt_at,
        received_at=now,
    )


def answer_outcome(answer: HeldAnswer) -> AttemptOutcome:
    return AttemptOutcome(
        Verdict(answer.verdict.value),
        result=answer.result,
        units=answer.units,
        error=answer.error,
        failure_reason=answer.failure_reason,
        next_attempt_at=answer.next_attempt_at,
    )


def _hold_answer(job_id: str, attempt: int, outcome: AttemptOutcome) -> TransitionOutcome:
    """Keep the answer on the job (no money moves: the job document alone, a rarely contended write)."""

    def decide(_job_id: str, job: Job, now: datetime) -> JobChange | None:
        if job.status is not JobStatus.RUNNING or job.attempts != attempt or job.held_answer is not None:
            return None
        answer = held_answer(attempt, outcome, now)
        return JobChange({"held_answer": answer.to_firestore(), "sweep_at": now, "updated_at": now})

    held = change_job(job_id, decide, f"keeping attempt {attempt}'s answer")
    if held.changed:
        logs.warning(
            "job answer held for the sweep: the balance kept changing", job_id=job_id, attempt=attempt
        )
    return TransitionOutcome(held.job, changed=False, held=held.changed)


def _held_change(job_id: str, job: Job, now: datetime) -> JobChange | None:
    """The held answer of the running attempt, applied (None when there is none)."""
    answer = job.held_answer
    if answer is None or job.status is not JobStatus.RUNNING or answer.attempt != job.attempts:
        return None
    return _outcome_change(job_id, job, answer_outcome(answer), now)


def _outcome_change(job_id: str, job: Job, outcome: AttemptOutcome, now: datetime) -> JobChange:
    if outcome.verdict is Verdict.COMPLETED:
        return _completed(job_id, job, outcome, now)
    if outcome.verdict is Verdict.FAILED:
        return _ended(
            job_id,
            job,
            JobStatus.FAILED,
            now,
            error=(outcome.error or "The job failed.")[:MAX_ERROR_LENGTH],
            failure_reason=(outcome.failure_reason or JobFailure.WORKER_ERROR).value,
        )
    due = outcome.next_attempt_at or now
    fields: dict[str, Any] = {
        "status": JobStatus.QUEUED.value,
        "updated_at": now,
        "next_attempt_at": due,
        "attempt_deadline": None,
        # Nothing publishes a retry but the sweep; a job put back after a "not now" waits in its type's
        # line, and the sweep hands it in again at the pause's end in case nothing else woke the type.
        "sweep_at": min(due, deadline_of(job)),
    }
    if outcome.verdict is Verdict.NOT_NOW:
        fields["attempts"] = max(job.attempts - 1, 0)  # the attempt does not count
        fields["error"] = outcome.error
    return JobChange(fields)


def _completed(job_id: str, job: Job, outcome: AttemptOutcome, now: datetime) -> JobChange:
    fields: dict[str, Any] = {
        "status": JobStatus.COMPLETED.value,
        "result": outcome.result if outcome.result is not None else {},
        "updated_at": now,
        "finished_at": now,
        "sweep_at": None,
        "attempt_deadline": None,
    }
    if not isinstance(job.pricing, MeteredPricing):
        return JobChange(fields)
    units = outcome.units or 0.0
    cost = settled_cost(units, job.pricing) if job.livemode else 0
    release = job.held_credits - cost
    fields |= {"usage_units": units, "cost": cost}
    if release <= 0:
        return JobChange(fields)
    credit = CreditChange(
        user_id=job.user_id,
        amount=release,
        type=LedgerEntryType.JOB_RELEASE,
        reference=job_id,
        description=f"{job.type} job used {units:g} {job.pricing.unit}: {cost} of {job.held_credits} reserved",
        marker_id=f"release:job:{job_id}",
        effect=ReturnTo(debit_entry_id=job_debit_entry_id(job_id)),
    )
    return JobChange(fields, credit)


def lose_attempt(job_id: str, now: datetime | None = None) -> TransitionOutcome:
    """The sweep found the job running past its attempt's deadline: its dispatcher died. The attempt counts
    as failed (the next one after the backoff, or failed when it was the last)."""

    def decide(job_id: str, job: Job, now: datetime) -> JobChange | None:
        held = _held_change(job_id, job, now)
        if held is not None:
            return held  # the worker did answer: its answer, not a lost attempt
        if sweep_action(job, now) is not SweepAction.LOST_ATTEMPT:
            return None
        outcome = after_failed_attempt(job.attempts, job.max_attempts, LOST_ATTEMPT_MESSAGE, now)
        return _outcome_change(job_id, job, outcome, now)

    return change_job(job_id, decide, "counting a lost attempt", now)


def expire_job(job_id: str, now: datetime | None = None) -> TransitionOutcome:
    """queued with no attempt past its queue deadline -> failed (expired), refunded."""

    def decide(job_id: str, job: Job, now: datetime) -> JobChange | None:
        if sweep_action(job, now) is not SweepAction.EXPIRE:
            return None
        waited = int((now - job.created_at).total_seconds())
        return _ended(
            job_id,
            job,
            JobStatus.FAILED,
            now,
            error=f"No worker started the job within its queue timeout (waited {waited} s).",
            failure_reason=JobFailure.EXPIRED.value,
        )

    return change_job(job_id, decide, "expiring it", now)


def fail_past_deadline(job_id: str, now: datetime | None = None) -> TransitionOutcome:
    """queued or running past the job's absolute deadline -> failed, refunded (whatever its type)."""

    def decide(job_id: str, job: Job, now: datetime) -> JobChange | None:
        if sweep_action(job, now) is not SweepAction.DEADLINE:
            return None
        return _ended(
            job_id,
            job,
            JobStatus.FAILED,
            now,
            error=f"The job did not end by its deadline ({int(deadline_of(job).timestamp())}); "
            + (f"the last attempt: {job.error}" if job.error else "no attempt finished")[
                : MAX_ERROR_LENGTH // 2
            ],
            failure_reason=JobFailure.DEADLINE_EXCEEDED.value,
        )

    return change_job(job_id, decide, "failing it past its deadline", now)


# A preconditioned write on a read of the job found it changed (or gone) meanwhile.
MOVED_ON: tuple[type[Exception], ...] = (*RETRYABLE_COMMIT_ERRORS, NotFound)


def move_sweep_at(job_id: str, read_at: Any, sweep_at: datetime) -> bool:
    """The sweep handed a due job in again: it looks at it next at `sweep_at` (a precondition on the sweep's
    read: a job that moved on meanwhile keeps what its own move set). False when it moved on."""
    try:
        job_ref(job_id).update(
            {"sweep_at": sweep_at}, option=firestore_client().write_option(last_update_time=read_at)
        )
    except MOVED_ON:
        return False
    return True


def push_back(job_id: str, sweep_at: datetime) -> None:
    """A due job the sweep could not handle (unreadable, or handling it raised): looked at again at
    `sweep_at`, so it never holds up the jobs due behind it."""
    try:
        job_ref(job_id).update({"sweep_at": sweep_at})
    except NotFound:
        pass  # deleted meanwhile: nothing left to look at


def cancel_job(job_id: str) -> TransitionOutcome:
    """queued or running -> canceled; a canceled job: no-op; a finished one: 409. Refunded in full, unless
    the type's cancel_policy is charge_started and the job was running (shared/jobs/callback_rules.py).
    A running job's worker is told (the sweep hands the notice to the dispatchers: `cancel_notice_attempt`)."""

    def decide(job_id: str, job: Job, now: datetime) -> JobChange | None:
        if job.status is JobStatus.CANCELED:
            return None
        held = _held_change(job_id, job, now)
        if held is not None:
            return held  # the work was done before the cancel: it stands (and is paid for)
        if not can_transition(job.status, JobStatus.CANCELED):
            raise ApiError(
                ErrorCode.ILLEGAL_STATE_TRANSITION,
                f"The job is {job.status.value}; only queued or running jobs can be canceled.",
            )
        notice: dict[str, Any] = {}
        if job.status is JobStatus.RUNNING:
            notice = {"cancel_notice_attempt": job.attempts, "sweep_at": now}
        charge = cancel_charge(job)
        if charge.keep == 0 and not charge.settle_later:
            ended = _ended(job_id, job, JobStatus.CANCELED, now, error=CANCELED_MESSAGE)
            return JobChange({**ended.fields, **notice}, ended.credit)
        # Nothing comes back now: a fixed price stays charged; a metered job settles on its worker's units.
        return JobChange(
            {
                "status": JobStatus.CANCELED.value,
                "updated_at": now,
                "finished_at": now,
                "sweep_at": None,
                "attempt_deadline": None,
                "next_attempt_at": None,
                "error": CANCELED_MESSAGE,
                **notice,
            }
        )

    return change_job(job_id, decide, "canceling it")


def settle_canceled(job_id: str, attempt: int, units: float | None) -> TransitionOutcome:
    """The canceled job's worker was told (its answer read, or none came): the notice is done, and a
    metered charge_started job is charged what its reported units cost, the rest released."""

    def decide(job_id: str, job: Job, now: datetime) -> JobChange | None:
        if job.status is not JobStatus.CANCELED or job.cancel_notice_attempt != attempt:
            return None
        fields: dict[str, Any] = {"cancel_notice_attempt": None, "sweep_at": None, "updated_at": now}
        if not settles_on_reported_units(job) or job.refunded or job.usage_units is not None:
            return JobChange(fields)
        cost, reported = canceled_settlement(job, units)
        fields |= {"cost": cost, "usage_units": reported}
        release = job.held_credits - cost
        if release <= 0:
            return JobChange(fields)
        credit = CreditChange(
            user_id=job.user_id,
            amount=release,
            type=LedgerEntryType.JOB_RELEASE,
            reference=job_id,
            description=f"canceled {job.type} job used {reported:g} units: {cost} of {job.held_credits} reserved",
            marker_id=f"release:job:{job_id}",
            effect=ReturnTo(debit_entry_id=job_debit_entry_id(job_id)),  # to the grants it came from
        )
        return JobChange(fields, credit)

    return change_job(job_id, decide, f"settling the cancel of attempt {attempt}")


def fail_overdue_callback(job_id: str, now: datetime | None = None) -> TransitionOutcome:
    """A callback attempt past its deadline without its callback: the attempt failed (the next one after
    the backoff, or the job fails, refunded, when it was the last)."""

    def decide(job_id: str, job: Job, now: datetime) -> JobChange | None:
        held = _held_change(job_id, job, now)
        if held is not None:
            return held  # the callback did come: its answer, not an overdue attempt
        if not callback_overdue(job, now):
            return None
        outcome = after_failed_attempt(job.attempts, job.max_attempts, CALLBACK_OVERDUE_MESSAGE, now)
        return _outcome_change(job_id, job, outcome, now)

    return change_job(job_id, decide, "failing an overdue callback", now)


def report_progress(job_id: str, attempt: int, progress: ProgressReport) -> TransitionOutcome:
    """A callback worker's progress on its running attempt; `changed=False` once the attempt ended."""

    def decide(_job_id: str, job: Job, now: datetime) -> JobChange | None:
        if job.status is not JobStatus.RUNNING or job.attempts != attempt or job.held_answer is not None:
            return None  # an attempt whose answer is held has ended but for its money
        report = {"percent": progress.percent, "message": progress.message, "updated_at": now}
        return JobChange({"progress": report, "updated_at": now})

    return change_job(job_id, decide, f"recording the progress of attempt {attempt}")


# ---------------------------------------------------------------------------------------------------
# Direct moves (a worker that reports by itself, tests driving the lifecycle)


def start_job(job_id: str) -> TransitionOutcome:
    """queued -> running now (whatever the backoff); running already: `changed=False`."""
    outcome = start_attempt(job_id, ignore_backoff=True)
    if not outcome.changed and outcome.job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        raise _illegal(outcome.job, JobStatus.RUNNING)
    return outcome


def _end_running(job_id: str, target: JobStatus, outcome: AttemptOutcome) -> TransitionOutcome:
    def decide(job_id: str, job: Job, now: datetime) -> JobChange | None:
        if job.status is target:
            return None
        if job.status is not JobStatus.RUNNING:
            raise _illegal(job, target)
        return _outcome_change(job_id, job, outcome, now)

    return change_job(job_id, decide, f"moving it to {target.value}")


def complete_job(job_id: str, result: dict[str, Any], units: float | None = None) -> TransitionOutcome:
    return _end_running(job_id, JobStatus.COMPLETED, AttemptOutcome(Verdict.COMPLETED, result, units))


def fail_job(job_id: str, error: str) -> TransitionOutcome:
    failed = AttemptOutcome(Verdict.FAILED, error=error, failure_reason=JobFailure.WORKER_ERROR)
    return _end_running(job_id, JobStatus.FAILED, failed)
